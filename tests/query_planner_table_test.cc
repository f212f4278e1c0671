// PlanQuery, the pure function behind every search's strategy, on a table
// of inputs: which strategy wins, which are infeasible and why, and the
// knobs an ANN search gets. The expected choices follow from the cost
// model's terms (src/query_planner.cc) by orders of magnitude, not from
// exact cost figures, so that a retuned constant does not break them
// unless it changes a decision.
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "src/query_planner.h"

namespace semdb {
namespace {

IndexLayout Flat() { return {}; }
IndexLayout Hnsw() { return {.kind = IndexLayout::Kind::kHnsw}; }
IndexLayout Ivf() { return {.kind = IndexLayout::Kind::kIvf}; }

PlannerInput Input(IndexLayout layout, int64_t live, int dimension = 128) {
  PlannerInput in;
  in.layout = layout;
  in.live = live;
  in.dimension = dimension;
  in.k = 10;
  return in;
}

PlannerInput Filtered(PlannerInput in, double selectivity) {
  in.has_filter = true;
  in.selectivity = selectivity;
  in.estimated_matches = static_cast<int64_t>(selectivity * in.live);
  return in;
}

PlannerInput WithExactCandidates(PlannerInput in, int64_t candidates) {
  in.candidates_known = in.candidates_exact = in.filter_covered = true;
  in.candidates = candidates;
  return in;
}

const StrategyCost& CostOf(const QueryPlan& plan, SearchStrategy s) {
  for (const StrategyCost& c : plan.costs) {
    if (c.strategy == s) return c;
  }
  FAIL("no cost for " << StrategyName(s));
  return plan.costs.front();
}

struct Row {
  std::string name;
  PlannerInput input;
  SearchStrategy expected;
  // Strategies the plan must mark infeasible, with a word of the reason.
  std::vector<std::pair<SearchStrategy, std::string>> infeasible;
};

TEST_CASE("PlanQuery picks the cheapest feasible strategy", "[planner][plan-table]") {
  PlannerInput exact_only = Input(Hnsw(), 1'000'000);
  exact_only.recall_target = 1.0;
  const std::vector<Row> rows = {
      {"flat, unfiltered: exact scan; ANN and filter strategies do not apply",
       Input(Flat(), 100'000), SearchStrategy::kExactScan,
       {{SearchStrategy::kAnn, "flat"},
        {SearchStrategy::kFilteredScan, "no filter"},
        {SearchStrategy::kAnnPostFilter, "no filter"}}},
      {"flat, 50 exact candidates of 100k: scan just those",
       WithExactCandidates(Filtered(Input(Flat(), 100'000), 0.0005), 50),
       SearchStrategy::kFilteredScan,
       {{SearchStrategy::kAnn, "flat"}, {SearchStrategy::kAnnPostFilter, "flat"}}},
      {"HNSW, 1M unfiltered: one graph walk beats a million distances",
       Input(Hnsw(), 1'000'000), SearchStrategy::kAnn,
       {{SearchStrategy::kFilteredScan, "no filter"}}},
      {"HNSW, recall_target 1: exact only", exact_only, SearchStrategy::kExactScan,
       {{SearchStrategy::kAnn, "recall_target 1"},
        {SearchStrategy::kAnnPostFilter, "no filter"}}},
      {"HNSW, 1M, half match an unindexed filter: over-fetch and post-filter",
       Filtered(Input(Hnsw(), 1'000'000), 0.5), SearchStrategy::kAnnPostFilter, {}},
      {"HNSW, 10k, one in 10k matches: post-filtering would fetch everything",
       WithExactCandidates(Filtered(Input(Hnsw(), 10'000), 0.0001), 1),
       SearchStrategy::kFilteredScan,
       {{SearchStrategy::kAnnPostFilter, "would fetch"}}},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      absl::StatusOr<QueryPlan> plan = PlanQuery(row.input, SearchStrategy::kAuto);
      INFO(row.name);
      REQUIRE(plan.ok());
      INFO(SearchExplanation{.plan = plan->Explain()}.ToJson()["plan"].dump(2));
      CHECK(plan->strategy == row.expected);
      CHECK(plan->reason.starts_with("cheapest estimate"));
      CHECK(CostOf(*plan, plan->strategy).feasible);
      for (const auto& [strategy, why] : row.infeasible) {
        const StrategyCost& c = CostOf(*plan, strategy);
        CHECK_FALSE(c.feasible);
        CHECK(c.note.find(why) != std::string::npos);
      }
    }
  }
}

TEST_CASE("PlanQuery: forced strategies and the knobs ANN searches get", "[planner][plan-table]") {
  SECTION("a forced strategy is used, a filter strategy without a filter is refused") {
    absl::StatusOr<QueryPlan> plan =
        PlanQuery(Input(Hnsw(), 1'000'000), SearchStrategy::kExactScan);
    REQUIRE(plan.ok());
    CHECK(plan->strategy == SearchStrategy::kExactScan);
    CHECK(plan->reason == "forced");
    for (SearchStrategy s : {SearchStrategy::kFilteredScan, SearchStrategy::kAnnPostFilter}) {
      absl::StatusOr<QueryPlan> refused = PlanQuery(Input(Hnsw(), 1000), s);
      CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(std::string(refused.status().message()).find("needs a filter") != std::string::npos);
    }
  }
  SECTION("IVF nprobe doubles above recall 0.95 and quadruples above 0.99") {
    struct KnobRow {
      double recall_target;
      int nprobe;
    };
    for (const KnobRow& r : std::vector<KnobRow>{{0.9, 32}, {0.95, 32}, {0.99, 64}, {0.999, 128}}) {
      PlannerInput in = Input(Ivf(), 1'000'000);
      in.recall_target = r.recall_target;
      INFO("recall_target " << r.recall_target);
      CHECK(KnobsFor(in, in.k).nprobe == r.nprobe);
    }
  }
  SECTION("HNSW ef_search: the layout's, widened for over-fetching; the user's as given") {
    PlannerInput in = Input(Hnsw(), 1'000'000);
    CHECK(KnobsFor(in, 10).ef_search == 64);
    CHECK(KnobsFor(in, 100).ef_search == 200);
    in.user_knobs.ef_search = 100;
    CHECK(KnobsFor(in, 10).ef_search == 100);
    absl::StatusOr<QueryPlan> plan = PlanQuery(in, SearchStrategy::kAuto);
    REQUIRE(plan.ok());
    CHECK(plan->strategy == SearchStrategy::kAnn);
    CHECK(plan->knobs.ef_search == 100);
  }
}

}  // namespace
}  // namespace semdb
