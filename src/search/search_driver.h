// The search driver: one query from plan to hits. Estimates the filter,
// looks up the index's recall curve, plans (src/query_planner.h, pure),
// and runs the plan (plan_execution.h) with the keyword ranking fused in
// for hybrid search, fetching deeper while one passage per document leaves
// fewer than k documents; then assembles the hits (hit_assembly.h). With
// EXPLAIN, reports the plan (search_trace.h) and, with ANALYZE, the run.
#ifndef SEMDB_SRC_SEARCH_SEARCH_DRIVER_H_
#define SEMDB_SRC_SEARCH_SEARCH_DRIVER_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "semdb/document.h"
#include "semdb/options.h"
#include "semdb/search_explanation.h"
#include "src/search/search_view.h"

namespace semdb {

// What the scores of a search with keyword weight `hybrid` (0: vector
// only) fused by `fusion` are.
ScoreKind ScoreKindOf(double hybrid, FusionMethod fusion);

// The hits for `query` (normalized, view.record.dimension wide) with
// `options` (validated); `text` is the query text for hybrid search (empty
// for vector queries). view.index must be set. With `explain`, the plan
// and estimates are written there and, unless `analyze`, nothing runs (no
// hits); with `analyze`, the run is reported too.
absl::StatusOr<std::vector<Hit>> RunSearch(const SearchView& view, absl::Span<const float> query,
                                           const SearchOptions& options, std::string_view text,
                                           SearchExplanation* explain, bool analyze);

}  // namespace semdb

#endif  // SEMDB_SRC_SEARCH_SEARCH_DRIVER_H_
