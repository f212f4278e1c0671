// Plan execution: the planner's input for a search (src/query_planner.h
// chooses the strategy, a pure function), and the run of the chosen plan
// against the vector index, with its retries and fallbacks: an ANN search
// that returns fewer than k hits is retried wider once, then answered by
// an exact scan of the matches; post-filtering fetches deeper up to
// kMaxRounds times, then falls back to an exact scan with a selector.
#ifndef SEMDB_SRC_SEARCH_PLAN_EXECUTION_H_
#define SEMDB_SRC_SEARCH_PLAN_EXECUTION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "semdb/options.h"
#include "semdb/vector_index.h"
#include "src/query_planner.h"
#include "src/search/filter_estimate.h"
#include "src/search/search_trace.h"
#include "src/search/search_view.h"

namespace semdb {

// Post-filtering and ANN retries grow the search this many times at most,
// by this factor each time.
inline constexpr int kMaxPlanRounds = 4;
inline constexpr int kPlanGrowth = 4;

// The planner's input for a search of `depth` results over view.index,
// without filter.
PlannerInput PlannerInputFor(const SearchView& view, const SearchOptions& options, int depth);

// The knobs of an ANN search retried because it returned too few hits: a
// wider walk or more probed lists (a knob left to the index stays so).
IndexSearchKnobs WidenedKnobs(const IndexSearchKnobs& knobs);

// The next round of post-filtering after one that fetched `fetch` results
// with `knobs` and kept fewer than k: fetch kPlanGrowth times deeper (at
// most `index_size`), with a walk at least that wide and more probed lists.
struct PostFilterRound {
  int fetch = 0;
  IndexSearchKnobs knobs;
};
PostFilterRound NextPostFilterRound(const PostFilterRound& last, int64_t index_size);

// Runs `plan` for `query` (normalized) with options.k results and
// options.filter, whose estimate is `estimate` (null without a filter).
absl::StatusOr<std::vector<IndexHit>> RunPlan(const SearchView& view, absl::Span<const float> query,
                                              const SearchOptions& options, const QueryPlan& plan,
                                              const FilterEstimate* estimate, SearchTrace* trace);

}  // namespace semdb

#endif  // SEMDB_SRC_SEARCH_PLAN_EXECUTION_H_
