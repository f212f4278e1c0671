#include "src/search/exact_scan.h"

#include <algorithm>
#include <optional>

namespace semdb {
namespace {

float Dot(absl::Span<const float> a, const std::vector<float>& b) {
  float s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

void TopK::Offer(uint64_t label, float score) {
  IndexHit h{label, score};
  if (static_cast<int>(heap_.size()) < k_) {
    heap_.push_back(h);
    std::push_heap(heap_.begin(), heap_.end(), RanksBefore);
  } else if (RanksBefore(h, heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), RanksBefore);
    heap_.back() = h;
    std::push_heap(heap_.begin(), heap_.end(), RanksBefore);
  }
}

std::vector<IndexHit> TopK::Take() {
  std::sort(heap_.begin(), heap_.end(), RanksBefore);
  return std::move(heap_);
}

absl::StatusOr<std::vector<IndexHit>> ScanLabels(const SearchView& view,
                                                 absl::Span<const float> query, int k,
                                                 const std::vector<uint64_t>& labels,
                                                 SearchTrace* trace) {
  TopK top(k);
  constexpr size_t kChunk = 4096;
  std::vector<std::optional<VectorRecord>> vectors;
  for (size_t begin = 0; begin < labels.size(); begin += kChunk) {
    absl::Span<const uint64_t> chunk =
        absl::MakeConstSpan(labels).subspan(begin, std::min(kChunk, labels.size() - begin));
    if (absl::Status s = view.store.MultiGetVectors(view.collection_id, view.record.generation,
                                                    view.record.vector_encoding, chunk,
                                                    &vectors);
        !s.ok()) {
      return s;
    }
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (!vectors[i] || vectors[i]->values.size() != query.size()) continue;
      top.Offer(chunk[i], Dot(query, vectors[i]->values));
      ++trace->compared;
    }
  }
  return top.Take();
}

absl::StatusOr<std::vector<IndexHit>> ExactScan(const SearchView& view,
                                                absl::Span<const float> query, int k,
                                                const LabelPredicate* predicate,
                                                SearchTrace* trace) {
  const VectorIndex& index = *view.index;
  trace->compared += index.size();
  if (index.can_search_exactly()) {
    ++trace->rounds;
    absl::StatusOr<std::vector<IndexHit>> found =
        index.Search(query, k, {.exact = true}, predicate);
    if (found.ok()) trace->fetched += static_cast<int64_t>(found->size());
    return found;
  }
  // The index keeps compressed codes: read the stored vectors.
  TopK top(k);
  absl::Status s = view.store.ScanVectors(
      view.collection_id, view.record.generation, view.record.vector_encoding,
      [&](uint64_t label, VectorRecord& v) -> absl::Status {
        if (v.values.size() == query.size() && (predicate == nullptr || (*predicate)(label))) {
          top.Offer(label, Dot(query, v.values));
        }
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return top.Take();
}

}  // namespace semdb
