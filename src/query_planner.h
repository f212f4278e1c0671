// The query planner: for one search, estimates what each strategy would
// cost and picks the cheapest that can reach the requested recall.
//
// Costs are in estimated microseconds on one core, from per-operation
// constants (a distance computation, a RocksDB vector or metadata read, a
// field-index key) and the collection's size, index layout and the filter's
// estimated selectivity. They need only rank strategies, not predict
// latency; bench/ measures how well the choice does.
#ifndef SEMDB_SRC_QUERY_PLANNER_H_
#define SEMDB_SRC_QUERY_PLANNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "index/index_layout.h"
#include "semdb/options.h"
#include "semdb/search_explanation.h"

namespace semdb {

struct PlannerInput {
  int64_t live = 0;
  int dimension = 0;
  int k = 10;
  double recall_target = 0.95;
  IndexLayout layout;          // of the index being served (flat until trained)
  bool exact_capable = true;   // the index can compare with full vectors
  IndexSearchKnobs user_knobs;  // as the query gave them
  // The filter, if any, and what is known of its matches.
  bool has_filter = false;
  double selectivity = 1.0;      // estimated fraction of live documents matching
  int64_t estimated_matches = 0;
  // A list of (a superset of) the matches from the field index, at hand.
  bool candidates_known = false;
  bool candidates_exact = false;
  int64_t candidates = 0;
  // The field index can list every match (so an id selector is cheap).
  bool filter_covered = false;
};

struct StrategyCost {
  SearchStrategy strategy;
  bool feasible = true;
  double cost_us = 0;
  std::string note;  // why infeasible, or what the cost is made of
};

struct QueryPlan {
  SearchStrategy strategy = SearchStrategy::kExactScan;
  std::string reason;
  IndexSearchKnobs knobs;  // what the index search uses
  int fetch_k = 0;         // results asked of the index (over-fetch for post-filtering)
  std::vector<StrategyCost> costs;

  // As EXPLAIN shows it (costs rounded to 0.1 us).
  SearchExplanation::Plan Explain() const;
};

// The plan for `input`; `forced` other than kAuto is used if it applies
// (InvalidArgument for a filter strategy without a filter).
absl::StatusOr<QueryPlan> PlanQuery(const PlannerInput& input, SearchStrategy forced);

// The knobs for an ANN search returning `fetch_k` results: the user's, or
// the layout's defaults scaled for the recall target, widened so that the
// search can return fetch_k results.
IndexSearchKnobs KnobsFor(const PlannerInput& input, int fetch_k);

}  // namespace semdb

#endif  // SEMDB_SRC_QUERY_PLANNER_H_
