// The exact scans: the top k of a query by inner product over the stored
// vectors of a list of labels, or over every live vector (through the
// index when it keeps full vectors, from storage when it keeps compressed
// codes).
#ifndef SEMDB_SRC_SEARCH_EXACT_SCAN_H_
#define SEMDB_SRC_SEARCH_EXACT_SCAN_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "semdb/vector_index.h"
#include "src/search/search_trace.h"
#include "src/search/search_view.h"

namespace semdb {

// Keeps the k best hits offered (RanksBefore order).
class TopK {
 public:
  explicit TopK(int k) : k_(k) {}
  void Offer(uint64_t label, float score);
  // The hits kept, best first.
  std::vector<IndexHit> Take();

 private:
  int k_;
  std::vector<IndexHit> heap_;  // worst on top
};

// Exact top k over the stored vectors of `labels`.
absl::StatusOr<std::vector<IndexHit>> ScanLabels(const SearchView& view,
                                                 absl::Span<const float> query, int k,
                                                 const std::vector<uint64_t>& labels,
                                                 SearchTrace* trace);

// Exact top k over every live vector accepted by `predicate` (every one
// when null).
absl::StatusOr<std::vector<IndexHit>> ExactScan(const SearchView& view,
                                                absl::Span<const float> query, int k,
                                                const LabelPredicate* predicate,
                                                SearchTrace* trace);

}  // namespace semdb

#endif  // SEMDB_SRC_SEARCH_EXACT_SCAN_H_
