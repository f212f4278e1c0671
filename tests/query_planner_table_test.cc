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
#include "src/search/recall_curve_cache.h"

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


// A measured HNSW curve (src/recall_calibration.h) in the shape real ones
// have: recall grows with ef at each depth, and a deeper search needs a
// wider list.
std::vector<RecallSample> HnswCurve() {
  return {{10, 10, 0.80},   {10, 15, 0.90},   {10, 20, 0.94},   {10, 30, 0.97},
          {10, 40, 0.99},   {10, 60, 0.996},  {10, 80, 1.0},    {40, 40, 0.85},
          {40, 60, 0.93},   {40, 80, 0.96},   {40, 120, 0.985}, {40, 160, 0.997},
          {40, 240, 1.0},   {160, 160, 0.90}, {160, 240, 0.95}, {160, 320, 0.97},
          {160, 480, 0.99}, {160, 640, 0.996}, {160, 960, 0.999}};
}

TEST_CASE("the recall target reaches the plan through the measured recall",
          "[planner][plan-table]") {
  const IndexLayout hnsw = Hnsw();
  SECTION("WidthForRecall: the narrowest measured width with a margin, interpolated") {
    const std::vector<RecallSample> curve = HnswCurve();
    // Target 0.9 needs 0.95 measured; 0.95 needs 0.975; 0.99 needs 0.995.
    CHECK(WidthForRecall(curve, hnsw, 10, 0.9) == 30);
    CHECK(WidthForRecall(curve, hnsw, 10, 0.95) == 40);
    CHECK(WidthForRecall(curve, hnsw, 10, 0.99) == 60);
    CHECK(WidthForRecall(curve, hnsw, 40, 0.99) == 160);
    // Shallower than measured: the first depth's width.
    CHECK(WidthForRecall(curve, hnsw, 4, 0.95) == 40);
    // Between 10 and 40 (log-log): 40 at 10, 120 at 40 -> 40 sqrt(3) at 20.
    CHECK(WidthForRecall(curve, hnsw, 20, 0.95) == 70);
    // Deeper than measured: in proportion (640 at 160 -> 1280 at 320).
    CHECK(WidthForRecall(curve, hnsw, 320, 0.99) == 1280);
    // Never measured that high at depth 160: no width.
    CHECK_FALSE(WidthForRecall(curve, hnsw, 100, 0.999).has_value());
    CHECK_FALSE(WidthForRecall({}, hnsw, 10, 0.9).has_value());
    // IVF widths are nprobe, capped at nlist.
    IndexLayout ivf = Ivf();
    ivf.nlist = 64;
    const std::vector<RecallSample> ivf_curve = {{10, 1, 0.7}, {10, 2, 0.9}, {10, 4, 0.97},
                                                 {10, 8, 1.0}};
    CHECK(WidthForRecall(ivf_curve, ivf, 10, 0.9) == 4);
    CHECK(WidthForRecall(ivf_curve, ivf, 10, 0.95) == 8);
    CHECK(WidthForRecall(ivf_curve, ivf, 1000, 0.95) == 64);
  }
  SECTION("each target gets its own width; an unreachable one leaves only exact strategies") {
    PlannerInput in = Filtered(Input(hnsw, 1'000'000), 0.5);
    in.recall_curve = HnswCurve();
    int previous = 0;
    for (double target : {0.9, 0.95, 0.99}) {
      in.recall_target = target;
      absl::StatusOr<QueryPlan> plan = PlanQuery(in, SearchStrategy::kAuto);
      REQUIRE(plan.ok());
      INFO("target " << target << ": " << SearchExplanation{.plan = plan->Explain()}.ToJson()["plan"].dump(1));
      CHECK(plan->strategy == SearchStrategy::kAnnPostFilter);
      // fetch 1.25 k / 0.5 + 10 = 35, between the depths 10 and 40.
      CHECK(plan->fetch_k == 35);
      CHECK(plan->knobs.ef_search > previous);
      CHECK(CostOf(*plan, SearchStrategy::kAnnPostFilter).note.find("(measured)") !=
            std::string::npos);
      previous = plan->knobs.ef_search;
    }
    CHECK(*WidthForRecall(in.recall_curve, hnsw, 35, 0.99) == previous);
    // The selector walk reaches as deep at the same target.
    absl::StatusOr<QueryPlan> forced = PlanQuery(in, SearchStrategy::kAnn);
    REQUIRE(forced.ok());
    CHECK(forced->knobs.ef_search == previous);
    // At 10% both must reach depth 135, where 0.999 was never
    // measured: ANN cannot promise it.
    in = Filtered(Input(hnsw, 1'000'000), 0.1);
    in.recall_curve = HnswCurve();
    in.recall_target = 0.999;
    absl::StatusOr<QueryPlan> plan = PlanQuery(in, SearchStrategy::kAuto);
    REQUIRE(plan.ok());
    CHECK(plan->strategy == SearchStrategy::kExactScan);
    for (SearchStrategy s : {SearchStrategy::kAnn, SearchStrategy::kAnnPostFilter}) {
      CHECK_FALSE(CostOf(*plan, s).feasible);
      CHECK(CostOf(*plan, s).note.find("measured recall") != std::string::npos);
    }
  }
  SECTION("a query's own ef_search overrides the measured width") {
    PlannerInput in = Filtered(Input(hnsw, 1'000'000), 0.5);
    in.recall_curve = HnswCurve();
    in.recall_target = 0.99;
    in.user_knobs.ef_search = 50;
    absl::StatusOr<QueryPlan> plan = PlanQuery(in, SearchStrategy::kAnnPostFilter);
    REQUIRE(plan.ok());
    CHECK(plan->knobs.ef_search == 50);
  }
  SECTION("IVF reads its curve at the ranks of the filtered top k, k / selectivity") {
    IndexLayout ivf = Ivf();
    ivf.nlist = 256;
    PlannerInput in = Filtered(Input(ivf, 100'000), 0.1);
    // The curve bench/filtered_bench's data gave (100k x 128, nlist 256).
    in.recall_curve = {{10, 32, 0.9396},   {10, 64, 0.9646},  {10, 128, 0.9833},
                       {10, 256, 1.0},     {40, 32, 0.9219},  {40, 64, 0.9542},
                       {40, 128, 0.9797},  {40, 256, 1.0},    {160, 64, 0.8671},
                       {160, 128, 0.9583}, {160, 256, 1.0}};
    in.recall_target = 0.9;
    absl::StatusOr<QueryPlan> plan = PlanQuery(in, SearchStrategy::kAnnPostFilter);
    REQUIRE(plan.ok());
    // Fetch 135 (1.25 k / s + 10), read at depth 100: 64 lists at 40, 128
    // at 160 -> 64 sqrt(2.5); at depth 135 it would be 64 sqrt(3.375).
    CHECK(plan->fetch_k == 135);
    CHECK(plan->knobs.nprobe == 102);
    CHECK(*WidthForRecall(in.recall_curve, ivf, 135, 0.9) == 118);
  }
  SECTION("without a curve yet, the widest width: no search waits for a measurement") {
    PlannerInput in = Filtered(Input(hnsw, 1'000'000), 0.5);
    in.calibration_pending = true;
    absl::StatusOr<QueryPlan> plan = PlanQuery(in, SearchStrategy::kAnnPostFilter);
    REQUIRE(plan.ok());
    CHECK(plan->knobs.ef_search == 16 * 35);
    CHECK(CostOf(*plan, SearchStrategy::kAnnPostFilter).note.find("not measured yet") !=
          std::string::npos);
    IndexLayout ivf = Ivf();
    in = Filtered(Input(ivf, 1'000'000), 0.5);
    in.calibration_pending = true;
    plan = PlanQuery(in, SearchStrategy::kAnn);
    REQUIRE(plan.ok());
    CHECK(plan->knobs.nprobe == ivf.nlist);
  }
}

TEST_CASE("a recall curve reads back as stored and a damaged one reads as none", "[planner][plan-table]") {
  RecallCurve curve{.samples = {{10, 20, 0.9}, {10, 40, 0.99}, {40, 80, 0.95}},
                    .queries = 48,
                    .index_size = 5000,
                    .ms = 12.5,
                    .index_spec = "hnsw m=16",
                    .generation = 3};
  std::optional<RecallCurve> back = DecodeRecallCurve(EncodeRecallCurve(curve));
  REQUIRE(back.has_value());
  CHECK(back->index_spec == "hnsw m=16");
  CHECK(back->generation == 3);
  CHECK(back->index_size == 5000);
  CHECK(back->queries == 48);
  CHECK(back->ms == 12.5);
  REQUIRE(back->samples.size() == 3);
  CHECK((back->samples[2].depth == 40 && back->samples[2].width == 80 &&
         back->samples[2].recall == 0.95));
  CHECK_FALSE(DecodeRecallCurve("").has_value());
  CHECK_FALSE(DecodeRecallCurve("{not json").has_value());
  CHECK_FALSE(DecodeRecallCurve(R"({"index": "hnsw", "samples": [[1, 2]]})").has_value());
}

}  // namespace
}  // namespace semdb
