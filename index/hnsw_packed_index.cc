#include "index/hnsw_packed_index.h"

#include <omp.h>

#include <vector>

#include "faiss/impl/FaissAssert.h"
#include "index/hnsw_build.h"
#include "index/hnsw_search.h"
#include "index/inner_product.h"

namespace semdb {

PackedHnsw::PackedHnsw(int dim, int m) : faiss::IndexHNSW(new PackedStorage(dim, 2 * m), m) {
  own_fields = true;
  // Level 0's slots are in the blocks: FAISS's layout keeps none.
  std::vector<int>& cum = hnsw.cum_nneighbor_per_level;
  const int level0_width = cum[1];
  FAISS_THROW_IF_NOT(level0_width == level0().width());
  for (size_t l = 1; l < cum.size(); ++l) cum[l] -= level0_width;
}

void PackedHnsw::add(idx_t n, const float* x) {
  FAISS_THROW_IF_NOT(n >= 0);
  if (n == 0) return;
  storage->add(n, x);
  ntotal = storage->ntotal;
  BuildHnsw(hnsw, level0(), BestInnerProduct(), omp_get_max_threads());
}

void PackedHnsw::search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                        const faiss::SearchParameters* params) const {
  FAISS_THROW_IF_NOT(k > 0);
  HnswQuery q;
  q.k = static_cast<int>(k);
  q.ef = hnsw.efSearch;
  q.faiss_stop_rule = true;
  if (params != nullptr) {
    const auto* p = dynamic_cast<const faiss::SearchParametersHNSW*>(params);
    FAISS_THROW_IF_NOT_MSG(p != nullptr, "params type invalid");
    q.ef = p->efSearch;
    q.sel = p->sel;
  }
  // The portable kernel sums in FAISS's order: FAISS's scores, bit for bit.
  const InnerProductFn ip = InnerProductKernel(SimdLevel::kPortable);
  for (idx_t i = 0; i < n; ++i) {
    q.vector = x + i * d;
    SearchHnswPacked(hnsw, level0(), ip, q, distances + i * k, labels + i * k);
  }
}

}  // namespace semdb
