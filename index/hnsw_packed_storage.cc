#include "index/hnsw_packed_storage.h"

#include <cstring>

#include "faiss/impl/DistanceComputer.h"
#include "faiss/impl/FaissAssert.h"
#include "faiss/utils/distances.h"
#include "index/flat_scan.h"

namespace semdb {
namespace {

// Inner products with the stored vectors, by FAISS's kernel.
struct PackedSimilarity : faiss::DistanceComputer {
  const PackedLevel0& level0;
  const size_t dim;
  const float* query = nullptr;

  explicit PackedSimilarity(const PackedLevel0& l) : level0(l), dim(static_cast<size_t>(l.dim())) {}
  void set_query(const float* x) override { query = x; }
  float operator()(idx_t i) override {
    return faiss::fvec_inner_product(query, level0.vector(static_cast<int32_t>(i)), dim);
  }
  float symmetric_dis(idx_t i, idx_t j) override {
    return faiss::fvec_inner_product(level0.vector(static_cast<int32_t>(i)),
                                     level0.vector(static_cast<int32_t>(j)), dim);
  }
};

}  // namespace

PackedStorage::PackedStorage(int dim, int width)
    : faiss::Index(dim, faiss::METRIC_INNER_PRODUCT), level0(dim, width) {}

void PackedStorage::add(idx_t n, const float* x) {
  level0.Append(x, static_cast<size_t>(n));
  ntotal = static_cast<idx_t>(level0.size());
}

void PackedStorage::reset() {
  level0.Resize(0);
  ntotal = 0;
}

void PackedStorage::search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                           const faiss::SearchParameters* params) const {
  FAISS_THROW_IF_NOT(k > 0);
  ScanRows(ntotal > 0 ? level0.vector(0) : nullptr, level0.row_floats(), ntotal, d, x, n,
           static_cast<int>(k),
           params != nullptr ? params->sel : nullptr, distances, labels);
}

void PackedStorage::reconstruct(idx_t key, float* recons) const {
  FAISS_THROW_IF_NOT(key >= 0 && key < ntotal);
  std::memcpy(recons, level0.vector(static_cast<int32_t>(key)), sizeof(float) * d);
}

faiss::DistanceComputer* PackedStorage::get_distance_computer() const {
  return new PackedSimilarity(level0);
}

}  // namespace semdb
