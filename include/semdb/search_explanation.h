// SearchExplanation: what Collection::Explain reports about a search (the
// shell's `explain [analyze] search`, the HTTP "explain" option, Python's
// explain_text / explain_vector): the plan, the estimates behind it, the
// cost of each strategy and, with analyze, what the search did.
#ifndef SEMDB_SEARCH_EXPLANATION_H_
#define SEMDB_SEARCH_EXPLANATION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "nlohmann/json.hpp"

namespace semdb {

struct SearchExplanation {
  // Set when there was nothing to plan ("none: " and why); the other fields
  // are then empty.
  std::string no_plan;

  // The query as the search saw it.
  struct Query {
    int k = 0;
    double recall_target = 0;
    std::string filter;        // empty: none
    double hybrid = 0;         // the keyword ranking's weight; 0: vectors only
    std::string strategy;      // forced strategy; empty: chosen by the planner
  } query;

  struct CollectionFacts {
    int64_t live = 0;              // vectors in the index
    std::string index;             // the index served (e.g. flat until trained)
    std::string configured_index;  // the collection's index spec
  } collection;

  struct Estimates {
    double selectivity = 1;        // estimated fraction of documents matching
    int64_t estimated_matches = 0;
    // With a filter: how the estimate was made, whether the field indexes
    // cover the filter, and the candidates they listed (if they did).
    std::string source;            // empty without a filter
    bool field_index_covers_filter = false;
    std::optional<int64_t> candidates;
    // A filtered ANN search's width comes from the index's measured recall
    // curve (README, "Filters, field indexes and the query planner"): how
    // it was measured.
    struct RecallCalibration {
      int64_t queries = 0;     // stored vectors searched for
      int64_t index_size = 0;  // vectors in the index when measured
      int64_t samples = 0;     // (depth, width, recall) points
      double ms = 0;           // time the measurement took, rounded
    };
    std::optional<RecallCalibration> recall_calibration;
  } estimates;

  struct Cost {
    bool feasible = true;
    double cost_us = 0;  // estimated, rounded to 0.1; for feasible strategies
    std::string note;    // why infeasible, or what the cost is made of
  };
  struct Plan {
    std::string strategy;
    std::string reason;
    int fetch_k = 0;    // results asked of the index
    int nprobe = 0;     // IVF lists probed; 0: not an IVF search
    int ef_search = 0;  // HNSW beam width; 0: not an HNSW search
    std::map<std::string, Cost> costs;  // by strategy name
  } plan;

  // Searches with a keyword ranking fused in.
  struct Hybrid {
    double keyword_weight = 0;
    std::string fusion;
    int depth = 0;                        // ranks fused from each side
    std::optional<int64_t> keyword_hits;  // with analyze
  };
  std::optional<Hybrid> hybrid;

  // With analyze: what the search did.
  struct Analysis {
    std::string strategy_run;
    int64_t index_searches = 0;
    int64_t index_results = 0;
    int64_t filter_checks = 0;
    int64_t matches_listed = 0;
    int64_t vectors_scanned = 0;
    std::string fallback;  // empty: none
    int64_t hits = 0;
    double plan_ms = 0, search_ms = 0, documents_ms = 0, total_ms = 0;
  };
  std::optional<Analysis> analysis;

  // Why the search differs from the one asked for (e.g. answered by the
  // keyword ranking alone); empty: it does not.
  std::string note;

  // The JSON of the API (README, "EXPLAIN"): "query", "collection",
  // "estimates", "plan", and "hybrid", "analyze", "note" when set; or
  // {"plan": no_plan}.
  nlohmann::json ToJson() const;
};

}  // namespace semdb

#endif  // SEMDB_SEARCH_EXPLANATION_H_
