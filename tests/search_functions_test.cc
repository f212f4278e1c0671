// The pure functions of the search path (src/search/), on tables of inputs
// with the expected outputs worked out by hand: the filter-estimate
// arithmetic and its cache, the retry and fallback steps of plan execution,
// the choice of hits (one passage per document), the batch decision, the
// score kind, and the top-k heap of the exact scans.
#include <optional>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "src/search/batch_search.h"
#include "src/search/exact_scan.h"
#include "src/search/filter_estimate.h"
#include "src/search/hit_assembly.h"
#include "src/search/plan_execution.h"
#include "src/search/search_driver.h"

namespace semdb {
namespace {

TEST_CASE("Filter estimate arithmetic, by hand", "[search]") {
  struct Row {
    int64_t candidates;
    int64_t step;  // every step-th candidate is checked
  };
  for (const Row& r : std::vector<Row>{{0, 1}, {1, 1}, {199, 1}, {200, 1}, {399, 1},
                                       {400, 2}, {1000, 5}, {5000, 25}}) {
    INFO("candidates " << r.candidates);
    REQUIRE(CandidateSampleStep(r.candidates) == r.step);
  }
  struct Sample {
    int64_t candidates, checked, passed, matches;
  };
  // ceil(candidates * passed / checked); nothing checked: no matches.
  for (const Sample& s : std::vector<Sample>{{0, 0, 0, 0},
                                             {1000, 200, 50, 250},
                                             {1000, 200, 0, 0},
                                             {1000, 200, 200, 1000},
                                             {10, 3, 1, 4},  // 3.33 -> 4
                                             {5000, 200, 1, 25}}) {
    INFO(s.candidates << " candidates, " << s.passed << " of " << s.checked);
    REQUIRE(MatchesFromCandidateSample(s.candidates, s.checked, s.passed) == s.matches);
  }
  struct Selectivity {
    int found, passed;
    double selectivity;
  };
  // passed / found, half a match when none passed, 1 without a sample.
  for (const Selectivity& s : std::vector<Selectivity>{
           {0, 0, 1.0}, {256, 0, 0.5 / 256}, {256, 1, 1.0 / 256}, {256, 128, 0.5}, {4, 4, 1.0}}) {
    INFO(s.passed << " of " << s.found);
    REQUIRE(SelectivityFromSample(s.found, s.passed) == Approx(s.selectivity));
  }
}

TEST_CASE("Filter estimate cache is valid for one collection version", "[search]") {
  FilterEstimateCache cache;
  FilterEstimate e;
  e.matches = 7;
  REQUIRE(cache.Find(1, "a") == nullptr);
  cache.Insert(1, "a", e);
  REQUIRE(cache.Find(1, "a") != nullptr);
  REQUIRE(cache.Find(1, "a")->matches == 7);
  REQUIRE(cache.Find(1, "b") == nullptr);
  // A later version empties it ...
  REQUIRE(cache.Find(2, "a") == nullptr);
  // ... and an estimate made at the earlier one is not kept.
  cache.Insert(1, "a", e);
  REQUIRE(cache.Find(2, "a") == nullptr);
  // Past its capacity the cache starts over.
  for (size_t i = 0; i < FilterEstimateCache::kCapacity; ++i) {
    cache.Insert(2, std::to_string(i), e);
  }
  REQUIRE(cache.Find(2, "0") != nullptr);
  cache.Insert(2, "one more", e);
  REQUIRE(cache.Find(2, "0") == nullptr);
  REQUIRE(cache.Find(2, "one more") != nullptr);
}

TEST_CASE("ANN retries widen the knobs the plan set", "[search]") {
  struct Row {
    IndexSearchKnobs in, out;
  };
  for (const Row& r : std::vector<Row>{
           {{.nprobe = 0, .ef_search = 0}, {.nprobe = 0, .ef_search = 0}},
           {{.nprobe = 0, .ef_search = 40}, {.nprobe = 0, .ef_search = 160}},
           {{.nprobe = 8, .ef_search = 0}, {.nprobe = 32, .ef_search = 0}},
           {{.nprobe = 2, .ef_search = 16}, {.nprobe = 8, .ef_search = 64}}}) {
    const IndexSearchKnobs got = WidenedKnobs(r.in);
    INFO("nprobe " << r.in.nprobe << " ef_search " << r.in.ef_search);
    REQUIRE(got.nprobe == r.out.nprobe);
    REQUIRE(got.ef_search == r.out.ef_search);
    REQUIRE(got.exact == r.in.exact);
  }
}

TEST_CASE("Post-filtering rounds fetch deeper up to the index size", "[search]") {
  struct Row {
    PostFilterRound last;
    int64_t index_size;
    PostFilterRound next;
  };
  for (const Row& r : std::vector<Row>{
           // HNSW: the walk at least as wide as the fetch.
           {{.fetch = 40, .knobs = {.ef_search = 64}}, 100000, {.fetch = 160, .knobs = {.ef_search = 160}}},
           {{.fetch = 40, .knobs = {.ef_search = 500}}, 100000, {.fetch = 160, .knobs = {.ef_search = 500}}},
           // IVF: 4 times the lists.
           {{.fetch = 100, .knobs = {.nprobe = 4}}, 100000, {.fetch = 400, .knobs = {.nprobe = 16}}},
           // Capped by the index size; knobs left to the index stay so.
           {{.fetch = 300, .knobs = {}}, 1000, {.fetch = 1000, .knobs = {}}}}) {
    const PostFilterRound got = NextPostFilterRound(r.last, r.index_size);
    INFO("fetch " << r.last.fetch << " of " << r.index_size);
    REQUIRE(got.fetch == r.next.fetch);
    REQUIRE(got.knobs.ef_search == r.next.knobs.ef_search);
    REQUIRE(got.knobs.nprobe == r.next.knobs.nprobe);
  }
}

std::optional<LabelDirectory::Entry> Passage(const std::string& parent, uint32_t index) {
  return LabelDirectory::Entry{PassageId(parent, index),
                               PassageLocation{.parent = parent, .index = index, .count = 3}};
}

std::optional<LabelDirectory::Entry> Document(const std::string& id) {
  return LabelDirectory::Entry{id, std::nullopt};
}

TEST_CASE("Hits chosen: the first k present, one passage per document", "[search]") {
  const std::vector<std::optional<LabelDirectory::Entry>> entries = {
      Passage("a", 0), Passage("a", 2), std::nullopt, Passage("b", 1),
      Document("c"),   Passage("b", 0), Document("d")};
  struct Row {
    int k;
    bool one_per_parent;
    std::vector<size_t> chosen;
  };
  for (const Row& r : std::vector<Row>{{10, false, {0, 1, 3, 4, 5, 6}},
                                       {10, true, {0, 3, 4, 6}},
                                       {3, false, {0, 1, 3}},
                                       {3, true, {0, 3, 4}},
                                       {1, true, {0}},
                                       {0, false, {}}}) {
    INFO("k " << r.k << " one_per_parent " << r.one_per_parent);
    REQUIRE(ChooseHits(entries, r.k, r.one_per_parent) == r.chosen);
  }
  REQUIRE(ChooseHits({}, 10, true).empty());
}

TEST_CASE("Which queries share one index call", "[search]") {
  SearchOptions plain;
  SearchOptions filtered;
  filtered.filter = *Filter::Parse("year = 2020");
  SearchOptions grouped;
  grouped.one_per_parent = true;
  struct Row {
    const SearchOptions* options;
    double hybrid;
    bool chunked;
    bool batchable;
  };
  for (const Row& r : std::vector<Row>{{&plain, 0, false, true},
                                       {&plain, 0, true, true},
                                       {&plain, 0.3, false, false},
                                       {&plain, 1, false, false},
                                       {&filtered, 0, false, false},
                                       {&grouped, 0, false, true},
                                       {&grouped, 0, true, false}}) {
    INFO("hybrid " << r.hybrid << " chunked " << r.chunked);
    REQUIRE(Batchable(*r.options, r.hybrid, r.chunked) == r.batchable);
  }
}

TEST_CASE("Score kind of a search", "[search]") {
  struct Row {
    double hybrid;
    FusionMethod fusion;
    ScoreKind kind;
  };
  for (const Row& r : std::vector<Row>{{0, FusionMethod::kConvex, ScoreKind::kCosine},
                                       {0, FusionMethod::kRrf, ScoreKind::kCosine},
                                       {0.3, FusionMethod::kConvex, ScoreKind::kFusion},
                                       {0.3, FusionMethod::kRrf, ScoreKind::kRankFusion},
                                       {1, FusionMethod::kConvex, ScoreKind::kKeyword},
                                       {1, FusionMethod::kRrf, ScoreKind::kRankFusion}}) {
    INFO("hybrid " << r.hybrid);
    REQUIRE(ScoreKindOf(r.hybrid, r.fusion) == r.kind);
  }
}

TEST_CASE("TopK keeps the k best in ranking order", "[search]") {
  TopK top(3);
  const std::vector<IndexHit> offered = {{1, 0.1f}, {2, 0.9f}, {3, 0.5f},
                                         {4, 0.9f}, {5, 0.2f}, {6, 0.7f}};
  for (const IndexHit& h : offered) top.Offer(h.label, h.score);
  const std::vector<IndexHit> got = top.Take();
  // 0.9 twice (smaller label first), then 0.7.
  REQUIRE(got.size() == 3);
  REQUIRE(got[0].label == 2);
  REQUIRE(got[1].label == 4);
  REQUIRE(got[2].label == 6);
}

}  // namespace
}  // namespace semdb
