// Filter matching and estimation: whether an entry's metadata matches a
// filter, how many entries a filter matches before searching (from the
// field index, or from a sample of the metadata), cached per collection
// version, and the list of every match for the strategies that need it.
#ifndef SEMDB_SRC_SEARCH_FILTER_ESTIMATE_H_
#define SEMDB_SRC_SEARCH_FILTER_ESTIMATE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "semdb/filter.h"
#include "src/field_index.h"
#include "src/search/search_trace.h"
#include "src/search/search_view.h"

namespace semdb {

// What is known of a filter's matches before searching.
struct FilterEstimate {
  double selectivity = 1;
  int64_t matches = 0;
  std::string source;
  std::optional<FieldCandidates> candidates;  // from the field index, <= cap
  bool covered = false;                        // the field index lists all matches
};

// The estimates of one collection, valid for one version of it (see
// SearchView::estimate_version): a lookup at another version empties the
// cache. Thread-safe; at most kCapacity filters are kept.
class FilterEstimateCache {
 public:
  static constexpr size_t kCapacity = 256;

  // The estimate of the filter whose text is `text`, or null.
  std::shared_ptr<const FilterEstimate> Find(uint64_t version, const std::string& text)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Keeps `estimate`, made at `version`, unless the collection has moved on
  // since (a lookup saw a later version).
  void Insert(uint64_t version, const std::string& text, const FilterEstimate& estimate)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, std::shared_ptr<const FilterEstimate>> estimates_
      ABSL_GUARDED_BY(mu_);
};

// The estimate arithmetic (pure). Of `candidates` field-index candidates,
// every CandidateSampleStep(candidates)-th is checked; `passed` of the
// `checked` matched: the matches expected among all of them.
int64_t CandidateSampleStep(int64_t candidates);
int64_t MatchesFromCandidateSample(int64_t candidates, int64_t checked, int64_t passed);
// `passed` of `found` sampled documents matched: the selectivity, with half
// a match when none was seen (rare filters are not free), 1 without sample.
double SelectivityFromSample(int found, int passed);

// Whether the stored metadata of entry `label` matches `filter` (false for
// an entry that is gone).
absl::StatusOr<bool> MatchesFilter(const SearchView& view, uint64_t label, const Filter& filter);

// The estimate of `filter`, from the cache or computed.
absl::StatusOr<FilterEstimate> EstimateFilter(const SearchView& view, const Filter& filter);

// Every label matching `filter`, sorted; `estimate` is EstimateFilter's.
// Counts the metadata checked and the matches listed in `trace`.
absl::StatusOr<std::vector<uint64_t>> ListMatches(const SearchView& view, const Filter& filter,
                                                  const FilterEstimate& estimate,
                                                  SearchTrace* trace);

}  // namespace semdb

#endif  // SEMDB_SRC_SEARCH_FILTER_ESTIMATE_H_
