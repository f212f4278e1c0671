// SearchTrace: what one search did, counted as it runs, and the EXPLAIN
// (ANALYZE) report made of it and of the plan.
#ifndef SEMDB_SRC_SEARCH_SEARCH_TRACE_H_
#define SEMDB_SRC_SEARCH_SEARCH_TRACE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "semdb/search_explanation.h"
#include "semdb/options.h"
#include "src/query_planner.h"
#include "src/search/search_view.h"

namespace semdb {

struct FilterEstimate;  // src/search/filter_estimate.h

struct SearchTrace {
  std::string strategy_run;
  int rounds = 0;           // index searches
  int64_t fetched = 0;      // results the index returned
  int64_t checked = 0;      // metadata records checked against the filter
  int64_t listed = 0;       // matches listed for a selector or a scan
  int64_t compared = 0;     // vectors scanned (an id selector may skip scoring some)
  std::string fallback;
  double estimate_ms = 0, search_ms = 0, documents_ms = 0;
};

// Writes the EXPLAIN part known before running into `explain`: the query
// (`options`, with the keyword weight `hybrid` and fusion `depth`), the
// collection, the planner's input `in` with the filter's `estimate` (null
// without a filter) and the recall `curve` it used (may be null), and the
// chosen `plan`.
void ExplainPlan(const SearchView& view, const SearchOptions& options, double hybrid, int depth,
                 const PlannerInput& in, const FilterEstimate* estimate,
                 const RecallCurve* curve, const QueryPlan& plan, SearchExplanation* explain);

// The EXPLAIN ANALYZE part: what `trace` counted, for a search that
// returned `hits` hits in `total_ms`.
SearchExplanation::Analysis AnalysisOf(const SearchTrace& trace, int64_t hits, double total_ms);

}  // namespace semdb

#endif  // SEMDB_SRC_SEARCH_SEARCH_TRACE_H_
