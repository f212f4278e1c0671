#include "index/ivf_scan.h"

#include "faiss/IndexIVFFlat.h"
#include "faiss/impl/IDSelector.h"
#include "faiss/invlists/InvertedLists.h"
#include "faiss/utils/Heap.h"
#include "index/inner_product.h"

namespace semdb {

void ScanIvfLists(const faiss::IndexIVFFlat& ivf, const float* query, const int64_t* lists,
                  size_t nprobe, int k, const faiss::IDSelector* sel, float* scores,
                  int64_t* ids) {
  using Heap = faiss::CMin<float, int64_t>;
  const InnerProductFn ip = BestInnerProduct();
  const size_t d = ivf.d;
  faiss::heap_heapify<Heap>(k, scores, ids);
  for (size_t p = 0; p < nprobe; ++p) {
    if (lists[p] < 0) continue;  // fewer lists than nprobe
    const size_t list = static_cast<size_t>(lists[p]);
    const size_t size = ivf.invlists->list_size(list);
    if (size == 0) continue;
    faiss::InvertedLists::ScopedCodes codes(ivf.invlists, list);
    faiss::InvertedLists::ScopedIds list_ids(ivf.invlists, list);
    const float* rows = reinterpret_cast<const float*>(codes.get());
    for (size_t j = 0; j < size; ++j) {
      if (sel != nullptr && !sel->is_member(list_ids[j])) continue;
      const float v = ip(query, rows + j * d, d);
      if (Heap::cmp(scores[0], v)) faiss::heap_replace_top<Heap>(k, scores, ids, v, list_ids[j]);
    }
  }
  faiss::heap_reorder<Heap>(k, scores, ids);
}

}  // namespace semdb
