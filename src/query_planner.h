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
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "index/index_layout.h"
#include "semdb/options.h"
#include "semdb/search_explanation.h"

namespace semdb {

// Recall@depth of an index's ANN search at one width (ef_search for HNSW,
// nprobe for IVF), measured against its exact search
// (src/recall_calibration.h).
struct RecallSample {
  int depth = 0;
  int width = 0;
  double recall = 0;
};

struct RecallCurve {
  std::vector<RecallSample> samples;  // by depth, then width, ascending
  int queries = 0;                    // sample queries measured
  int64_t index_size = 0;             // vectors in the index when measured
  double ms = 0;                      // time the measurement took
  // The index measured: its spec and the model generation of its vectors
  // (src/search/recall_curve_cache.h keeps a curve for that index only).
  std::string index_spec;
  uint32_t generation = 0;
};

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
  // The index's measured recall (empty: not measured). With a filter and
  // no user knobs, the ANN strategies get the narrowest width whose
  // recall at the depth they must reach meets recall_target.
  std::vector<RecallSample> recall_curve;
  // The index gets a measured curve but has none yet (it is measured when
  // the index is saved): the ANN strategies then take the widest width of
  // the calibration's ladder (ef_search 16 x their depth, nprobe nlist),
  // which meets any target, and the planner picks among them by cost.
  bool calibration_pending = false;
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

// The narrowest width (ef_search or nprobe) of `layout`'s index whose
// recall@depth on `curve` reaches `recall_target` with a margin for the
// sample's error; between and beyond the measured depths, interpolated
// and extrapolated in proportion (conservatively). nullopt when the curve
// is empty or never reaches the target at the depths measured.
std::optional<int> WidthForRecall(const std::vector<RecallSample>& curve,
                                  const IndexLayout& layout, double depth,
                                  double recall_target);

}  // namespace semdb

#endif  // SEMDB_SRC_QUERY_PLANNER_H_
