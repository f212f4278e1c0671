#include "index/flat_scan.h"

#include "faiss/IndexFlat.h"
#include "faiss/impl/IDSelector.h"
#include "faiss/utils/distances.h"
#include "faiss/utils/Heap.h"
#include "index/inner_product.h"

namespace semdb {

void ScanRows(const float* rows, size_t row_floats, int64_t count, int dim,
              const float* queries, int64_t n, int k, const faiss::IDSelector* sel,
              float* scores, int64_t* positions) {
  using Heap = faiss::CMin<float, int64_t>;
  const InnerProductFn ip = BestInnerProduct();
  const size_t d = static_cast<size_t>(dim);
  for (int64_t q = 0; q < n; ++q) {
    float* s = scores + q * k;
    int64_t* p = positions + q * k;
    faiss::heap_heapify<Heap>(k, s, p);
    for (int64_t i = 0; i < count; ++i) {
      if (sel != nullptr && !sel->is_member(i)) continue;
      const float v = ip(queries + q * d, rows + static_cast<size_t>(i) * row_floats, d);
      if (Heap::cmp(s[0], v)) faiss::heap_replace_top<Heap>(k, s, p, v, i);
    }
    faiss::heap_reorder<Heap>(k, s, p);
  }
}

void SearchFlatOrFaiss(const faiss::Index& index, const float* queries, int64_t n, int k,
                       const faiss::IDSelector* sel, float* scores, int64_t* positions) {
  const auto* flat = dynamic_cast<const faiss::IndexFlat*>(&index);
  if (flat != nullptr && flat->metric_type == faiss::METRIC_INNER_PRODUCT &&
      n < faiss::distance_compute_blas_threshold) {
    ScanRows(reinterpret_cast<const float*>(flat->codes.data()), flat->d, flat->ntotal, flat->d,
             queries, n, k, sel, scores, positions);
    return;
  }
  faiss::SearchParameters params;
  params.sel = const_cast<faiss::IDSelector*>(sel);
  index.search(n, queries, k, scores, positions, sel != nullptr ? &params : nullptr);
}

}  // namespace semdb
