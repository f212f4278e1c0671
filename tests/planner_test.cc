// The query planner end to end: every strategy forced and chosen, filtered
// searches returning k hits whenever k documents match, the field index
// answering filters exactly as a metadata scan does, hybrid fusion,
// EXPLAIN output and bad options.
#include <map>
#include <set>

#include "catch2/catch.hpp"
#include "semdb/database.h"
#include "test_data.h"
#include "vector_data.h"

namespace semdb {
namespace {

using testing::ClusteredVectors;
using testing::ExactTopK;
using testing::RecallOf;
using testing::TempDir;

constexpr int kDim = 64;
constexpr int kRows = 30000;

nlohmann::json RowMetadata(int i) {
  return {{"row", i},
          {"bucket", i % 1000},  // 0.1% per value
          {"fifty", i % 50},     // 2%
          {"twenty", i % 20},    // 5%
          {"tenth", i % 10},     // 10%
          {"half", i % 2 == 0 ? "even" : "odd"},  // not indexed
          {"score", (i % 200) / 10.0 - 10},       // -10 .. 9.9
          {"tags", {i % 3 == 0 ? "three" : "other", i % 7 == 0 ? "seven" : "other"}}};
}

Filter F(const std::string& text) {
  absl::StatusOr<Filter> f = Filter::Parse(text);
  INFO(text << ": " << f.status().message());
  REQUIRE(f.ok());
  return *f;
}

// A database with one HNSW collection of kRows clustered vectors whose
// metadata fields bucket, fifty, tenth, row and score are indexed.
struct Fixture {
  TempDir dir;
  std::unique_ptr<Database> db;
  std::shared_ptr<Collection> c;
  // Tight clusters: a low intrinsic dimension, like real embeddings, on
  // which HNSW's defaults reach high recall.
  // The queries are 20 more points of the same distribution.
  std::vector<float> data = ClusteredVectors(kRows + 20, kDim, 64, 21, 0.3f);
  std::vector<float> queries{data.end() - 20 * kDim, data.end()};
  std::vector<nlohmann::json> metadata;

  explicit Fixture(const std::string& index = "hnsw m=16 ef_construction=80") {
    db = *Database::Open(dir.path());
    data.resize(static_cast<size_t>(kRows) * kDim);
    auto made = db->CreateCollection(
        "c", {.embedder = "vectors dim=64", .index = index,
              .indexed_fields = {"bucket", "fifty", "twenty", "tenth", "row", "score", "tags"}});
    REQUIRE(made.ok());
    c = *made;
    std::vector<Document> docs;
    for (int i = 0; i < kRows; ++i) metadata.push_back(RowMetadata(i));
    for (int i = 0; i < kRows; ++i) {
      docs.push_back({.id = std::to_string(i),
                      .metadata = metadata[i],
                      .vector = {data.begin() + i * kDim, data.begin() + (i + 1) * kDim}});
    }
    REQUIRE(c->InsertBatch(std::move(docs)).ok());
  }
  absl::Span<const float> query(int q) const { return {queries.data() + q * kDim, kDim}; }

  std::vector<Hit> Search(int q, SearchOptions o) const {
    absl::StatusOr<std::vector<Hit>> hits = c->SearchVector(query(q), o);
    INFO(hits.status().message());
    REQUIRE(hits.ok());
    return *std::move(hits);
  }
  nlohmann::json Explain(int q, SearchOptions o, bool analyze = false) const {
    absl::StatusOr<SearchExplanation> e = c->ExplainVector(query(q), o, analyze);
    INFO(e.status().message());
    REQUIRE(e.ok());
    return e->ToJson();
  }
  // Recall@k of a filtered search against brute force over matching rows.
  double Recall(int q, const SearchOptions& o) const {
    std::vector<int64_t> found;
    std::vector<Hit> hits = Search(q, o);
    REQUIRE(static_cast<int>(hits.size()) == o.k);
    for (const Hit& h : hits) {
      REQUIRE(o.filter->Matches(h.metadata));
      found.push_back(std::stoll(h.id));
    }
    auto keep = [&](int64_t row) { return o.filter->Matches(metadata[row]); };
    return RecallOf(found, ExactTopK(data, kDim, query(q).data(), o.k, keep));
  }
};

const SearchStrategy kAll[] = {SearchStrategy::kExactScan, SearchStrategy::kFilteredScan,
                               SearchStrategy::kAnn, SearchStrategy::kAnnPostFilter};

TEST_CASE("every strategy, forced, answers filters with k matching hits", "[planner]") {
  Fixture fx;
  struct Case {
    const char* filter;
    int matches;
  };
  for (Case c : {Case{"bucket = 7", 30}, Case{"fifty = 3", 600}, Case{"tenth = 3", 3000},
                 Case{"half = 'even'", 15000}, Case{"row < 22500 AND NOT tenth = 1", 20250},
                 Case{"bucket IN (1, 2) AND half = 'odd'", 30}}) {
    for (SearchStrategy s : kAll) {
      INFO(c.filter << " forced " << static_cast<int>(s));
      SearchOptions o{.k = 10, .filter = F(c.filter), .strategy = s};
      double recall = 0;
      for (int q = 0; q < 4; ++q) recall += fx.Recall(q, o) / 4;
      INFO("recall " << recall);
      const bool exact = s == SearchStrategy::kExactScan || s == SearchStrategy::kFilteredScan;
      // HNSW with a selector at low selectivity walks a graph of mostly
      // rejected nodes and loses recall (at 0.1% the planner avoids it,
      // next test case; bench/ measures it).
      REQUIRE(recall >= (exact ? 1.0 : c.matches <= 30 ? 0.8 : c.matches <= 600 ? 0.85 : 0.895));
      REQUIRE(fx.Explain(0, o)["estimates"]["estimated_matches"].get<double>() ==
              Approx(c.matches).epsilon(0.35));
    }
  }
  // Fewer matches than k: all of them, whatever the strategy.
  for (SearchStrategy s : kAll) {
    SearchOptions o{.k = 50, .filter = F("bucket = 7"), .strategy = s};
    std::vector<Hit> hits = fx.Search(0, o);
    REQUIRE(hits.size() == 30);
    REQUIRE(fx.Search(0, {.k = 5, .filter = F("bucket = 1000"), .strategy = s}).empty());
  }
}

TEST_CASE("post-filtering retries with a larger k, then falls back to an exact scan",
          "[planner]") {
  Fixture fx;
  // The 15 rows farthest from the query: the over-fetch planned from their
  // count (fetch k / selectivity) holds none of them, so it must grow.
  std::vector<std::pair<float, int>> by_distance;
  for (int i = 0; i < kRows; ++i) {
    float dot = 0;
    for (int j = 0; j < kDim; ++j) dot += fx.data[i * kDim + j] * fx.query(1)[j];
    by_distance.emplace_back(dot, i);
  }
  std::sort(by_distance.begin(), by_distance.end());
  std::string far = "row IN (";
  for (int i = 0; i < 15; ++i) far += (i ? ", " : "") + std::to_string(by_distance[i].second);
  SearchOptions o{.k = 10, .filter = F(far + ")"), .strategy = SearchStrategy::kAnnPostFilter};
  nlohmann::json e = fx.Explain(1, o, true);
  INFO(e.dump(1));
  REQUIRE(e["analyze"]["hits"] == 10);
  REQUIRE(e["analyze"]["index_searches"].get<int>() > 1);
  REQUIRE(fx.Recall(1, o) == 1.0);
  // A filter matching nothing the index returns first: the fallback scan.
  SearchOptions none{.k = 10, .filter = F("row >= 29995"), .strategy = SearchStrategy::kAnnPostFilter};
  REQUIRE(fx.Search(1, none).size() == 5);
}

TEST_CASE("the planner chooses by selectivity, index and recall target", "[planner]") {
  Fixture fx;
  auto chosen = [&](SearchOptions o) {
    nlohmann::json e = fx.Explain(0, o);
    // The choice is the cheapest feasible strategy.
    double best = 1e300;
    std::string best_name;
    for (const auto& [name, c] : e["plan"]["costs"].items()) {
      if (c["feasible"] && c["cost_us"].get<double>() < best) {
        best = c["cost_us"];
        best_name = name;
      }
    }
    INFO(e.dump(1));
    REQUIRE(e["plan"]["strategy"] == best_name);
    return e["plan"]["strategy"].get<std::string>();
  };
  CHECK(chosen({.k = 10}) == "ann");
  CHECK(chosen({.k = 10, .filter = F("bucket = 7")}) == "filtered_scan");
  // Exact with an id selector: FAISS skips rejected vectors unscored, which
  // beats a graph walk widened for 2% selectivity at this size.
  CHECK(chosen({.k = 10, .filter = F("fifty = 3")}) == "exact_scan");
  CHECK(chosen({.k = 10, .filter = F("half = 'even'")}) == "ann_post_filter");
  CHECK(chosen({.k = 10, .filter = F("tenth < 9")}) == "ann_post_filter");
  // Exact only.
  CHECK(chosen({.k = 10, .recall_target = 1.0}) == "exact_scan");
  CHECK(chosen({.k = 10, .filter = F("half = 'even'"), .recall_target = 1.0}) == "exact_scan");
  // A higher recall target widens the search.
  REQUIRE(fx.Explain(0, {.k = 10, .recall_target = 0.99})["plan"]["knobs"]["ef_search"] == 128);
  REQUIRE(fx.Explain(0, {.k = 10})["plan"]["knobs"]["ef_search"] == 64);
  REQUIRE(fx.Explain(0, {.k = 10, .knobs = {.ef_search = 40}})["plan"]["knobs"]["ef_search"] == 40);
}

TEST_CASE("a quantized HNSW index favours ANN with an id selector", "[planner]") {
  // SQ8 codes cannot be scanned exactly: an exact scan reads the stored
  // vectors, which makes the graph walk with a selector the cheapest at 5%.
  Fixture fx("hnsw m=16 ef_construction=80 sq8=true");
  SearchOptions o{.k = 10, .filter = F("twenty = 3")};
  nlohmann::json e = fx.Explain(0, o);
  INFO(e.dump(1));
  REQUIRE(e["plan"]["strategy"] == "ann");
  REQUIRE(e["plan"]["knobs"]["ef_search"].get<int>() > 64);  // widened for the selector
  REQUIRE(e["plan"]["costs"]["exact_scan"]["note"] ==
          "every stored vector (the index keeps codes)");
  double recall = 0;
  for (int q = 0; q < 4; ++q) recall += fx.Recall(q, o) / 4;
  INFO("recall " << recall);
  REQUIRE(recall >= 0.9);
  // Forced exact scan reads the stored vectors: exact.
  o.strategy = SearchStrategy::kExactScan;
  REQUIRE(fx.Recall(0, o) == 1.0);
}

TEST_CASE("a flat collection plans exact strategies only", "[planner]") {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  auto c = *db->CreateCollection("f", {.embedder = "vectors dim=64", .indexed_fields = {"n"}});
  std::vector<float> data = ClusteredVectors(20000, 64, 8, 5);
  std::vector<Document> docs;
  for (int i = 0; i < 20000; ++i) {
    docs.push_back({.id = std::to_string(i), .metadata = {{"n", i}},
                    .vector = {data.begin() + i * 64, data.begin() + (i + 1) * 64}});
  }
  REQUIRE(c->InsertBatch(std::move(docs)).ok());
  absl::Span<const float> q(data.data(), 64);
  auto plan = [&](const std::string& filter) {
    SearchOptions o{.k = 10};
    if (!filter.empty()) o.filter = F(filter);
    return c->ExplainVector(q, o)->ToJson().at("plan");
  };
  REQUIRE(plan("")["strategy"] == "exact_scan");
  REQUIRE_FALSE(plan("")["costs"]["ann"]["feasible"]);
  REQUIRE(plan("n < 5")["strategy"] == "filtered_scan");
  REQUIRE(plan("n >= 5")["strategy"] == "exact_scan");
}

TEST_CASE("the field index answers filters exactly as reading the metadata does",
          "[planner][filter]") {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  const std::vector<std::string> fields = {"n", "s", "tags", "flag", "maybe"};
  auto indexed = *db->CreateCollection("i", {.embedder = "vectors dim=2", .indexed_fields = fields});
  auto plain = *db->CreateCollection("p", {.embedder = "vectors dim=2"});
  auto meta = [](int i) {
    nlohmann::json m = {{"n", i % 2 ? (i - 50) * 0.5 : (i - 50)},
                        {"s", std::string(1, static_cast<char>('a' + i % 5)) + (i % 4 ? "x" : "")},
                        {"tags", {i % 3, "t" + std::to_string(i % 4)}},
                        {"flag", i % 6 == 0}};
    if (i % 9 == 0) m["maybe"] = nullptr;
    if (i % 11 == 0) m["maybe"] = "zero\0byte";
    if (i % 13 == 0) m.erase("n");
    return m;
  };
  for (auto& c : {indexed, plain}) {
    std::vector<Document> docs;
    for (int i = 0; i < 100; ++i) {
      docs.push_back({.id = std::to_string(i), .metadata = meta(i),
                      .vector = {1.0f, static_cast<float>(i)}});
    }
    REQUIRE(c->InsertBatch(std::move(docs)).ok());
  }
  // The index follows upserts and deletes.
  for (auto& c : {indexed, plain}) {
    REQUIRE(c->Upsert({.id = "5", .metadata = {{"n", 1000}, {"s", "zz"}}, .vector = {1, 5}}).ok());
    REQUIRE(c->Delete("6").ok());
  }
  const float q[] = {1, 0.3f};
  for (const char* text :
       {"n = 0", "n = -10", "n < -20", "n <= -20", "n > 10.5", "n >= 10.5", "n = 1000",
        "s = 'bx'", "s > 'c'", "s < 'b'", "s >= 'bx' AND s <= 'd'", "tags = 2", "tags = 't3'",
        "tags IN (0, 't1')", "flag = true", "flag = false", "maybe = null", "maybe EXISTS",
        "n EXISTS", "maybe = 'zero\\u0000byte'", "n > 0 AND s = 'a'", "n < 0 OR flag = true",
        "tags = 1 AND NOT s = 'c'", "NOT n EXISTS", "n != 0", "tags < 3", "flag > false",
        "n = '0'"}) {
    INFO(text);
    Filter f = F(text);
    std::set<std::string> want, got;
    std::vector<Hit> scanned = *plain->SearchVector(q, {.k = 200, .filter = f});
    for (const Hit& h : scanned) want.insert(h.id);
    SearchOptions o{.k = 200, .filter = f, .strategy = SearchStrategy::kFilteredScan};
    std::vector<Hit> from_index = *indexed->SearchVector(q, o);
    for (const Hit& h : from_index) got.insert(h.id);
    REQUIRE(got == want);
  }
  REQUIRE(db->CreateCollection("bad", {.embedder = "vectors dim=2", .indexed_fields = {"a.b"}})
              .status()
              .code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(db->CreateCollection("bad", {.embedder = "vectors dim=2", .indexed_fields = {"a", "a"}})
              .status()
              .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("hybrid search fuses the vector and keyword rankings (RRF when asked)",
          "[planner][hybrid]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  auto db = *Database::Open(dir.path());
  auto lee = *db->CreateCollection("lee", {.indexed_fields = {"line"}});
  std::vector<Document> docs;
  int line = 0;
  for (const std::string& text : testing::ReadLines(testing::SharedData("gensim/lee_background.cor"))) {
    ++line;
    docs.push_back({.id = std::to_string(line), .text = text, .metadata = {{"line", line}}});
  }
  REQUIRE(lee->InsertBatch(std::move(docs)).ok());
  const std::string query = "bushfires near Sydney homes";
  auto ranking = [&](std::optional<double> w, std::optional<Filter> f = std::nullopt) {
    absl::StatusOr<std::vector<Hit>> hits = lee->Search(query, {.k = 60, .filter = f, .hybrid = w});
    INFO(hits.status().message());
    REQUIRE(hits.ok());
    return *std::move(hits);
  };
  std::vector<Hit> vec = ranking(0.0), kw = ranking(1.0), mixed = ranking(0.3);
  REQUIRE(kw.size() == 60);
  // Keyword-only ranking holds the articles with the query's words.
  REQUIRE(kw[0].text.find("ushfire") != std::string::npos);
  // The fused scores recomputed from the two rankings (depth 60 >= 4k).
  std::map<std::string, double> expected;
  for (size_t r = 0; r < vec.size(); ++r) expected[vec[r].id] += 0.7 / (60 + r + 1);
  for (size_t r = 0; r < kw.size(); ++r) expected[kw[r].id] += 0.3 / (60 + r + 1);
  std::vector<std::pair<double, std::string>> order;
  for (const auto& [id, s] : expected) order.emplace_back(-s, id);
  std::sort(order.begin(), order.end());
  std::vector<Hit> top10 =
      *lee->Search(query, {.k = 10, .hybrid = 0.3, .fusion = FusionMethod::kRrf});
  // k=10 fuses depth max(4k, 60) = 60 on each side, as the k=60 rankings.
  for (size_t i = 0; i < 10; ++i) {
    INFO(i);
    REQUIRE(top10[i].score == Approx(-order[i].first).epsilon(1e-5));
  }
  REQUIRE(mixed[0].score >= mixed[1].score);
  // Filters apply to both sides.
  std::vector<Hit> filtered = ranking(0.5, F("line > 150"));
  REQUIRE(filtered.size() == 60);
  for (const Hit& h : filtered) REQUIRE(h.metadata["line"] > 150);
  nlohmann::json e = lee->Explain(query, {.k = 5, .hybrid = 0.5}, true)->ToJson();
  REQUIRE(e["hybrid"]["keyword_weight"] == 0.5);
  REQUIRE(e["hybrid"]["keyword_hits"].get<int>() > 0);

  // Bad hybrid use.
  REQUIRE(lee->Search(query, {.hybrid = 1.5}).status().code() ==
          absl::StatusCode::kInvalidArgument);
  auto v = *db->CreateCollection("v", {.embedder = "vectors dim=2"});
  REQUIRE(v->Insert({.id = "a", .text = "words", .vector = {1, 0}}).ok());
  const float q[] = {1, 0};
  REQUIRE(v->SearchVector(q, {.hybrid = 0.5}).status().code() ==
          absl::StatusCode::kInvalidArgument);
  auto old = *db->CreateCollection("nokw", {.keyword_index = false});
  REQUIRE(old->Insert({.text = "bushfires near sydney"}).ok());
  REQUIRE(old->Search("bushfires", {.hybrid = 0.5}).status().code() ==
          absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("EXPLAIN shows the plan and estimates, and ANALYZE what happened", "[planner][explain]") {
  Fixture fx;
  SearchOptions o{.k = 10, .filter = F("fifty = 3 AND half = 'odd'")};
  nlohmann::json plan_only = fx.Explain(2, o);
  INFO(plan_only.dump(1));
  REQUIRE(plan_only["query"]["filter"] == "fifty = 3 AND half = \"odd\"");
  REQUIRE(plan_only["collection"]["live"] == kRows);
  REQUIRE(plan_only["collection"]["index"] == "hnsw ef_construction=80 m=16");
  REQUIRE(plan_only["estimates"]["candidates"] == 600);
  REQUIRE_FALSE(plan_only["estimates"]["field_index_covers_filter"]);
  REQUIRE(plan_only["estimates"]["source"].get<std::string>().starts_with("field index (600 candidates"));
  for (const char* s : {"exact_scan", "filtered_scan", "ann", "ann_post_filter"}) {
    REQUIRE(plan_only["plan"]["costs"].contains(s));
  }
  REQUIRE_FALSE(plan_only.contains("analyze"));
  nlohmann::json analyzed = fx.Explain(2, o, true);
  INFO(analyzed.dump(1));
  REQUIRE(analyzed["analyze"]["hits"] == 10);
  REQUIRE(analyzed["analyze"]["ms"]["total"].get<double>() > 0);
  REQUIRE(analyzed["analyze"]["strategy_run"] == analyzed["plan"]["strategy"]);

  // Bad options.
  auto code = [&](SearchOptions bad) { return fx.c->SearchVector(fx.query(0), bad).status().code(); };
  REQUIRE(code({.recall_target = 0}) == absl::StatusCode::kInvalidArgument);
  REQUIRE(code({.recall_target = 1.5}) == absl::StatusCode::kInvalidArgument);
  REQUIRE(code({.strategy = SearchStrategy::kFilteredScan}) == absl::StatusCode::kInvalidArgument);
  REQUIRE(code({.strategy = SearchStrategy::kAnnPostFilter}) == absl::StatusCode::kInvalidArgument);
  REQUIRE(code({.knobs = {.nprobe = -1}}) == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("IVF collections plan with nprobe", "[planner]") {
  Fixture fx("ivf nlist=64 nprobe=8");
  nlohmann::json e = fx.Explain(0, {.k = 10});
  REQUIRE(e["collection"]["index"] == "ivf nlist=64 nprobe=8");
  REQUIRE(e["plan"]["knobs"]["nprobe"] == 8);
  for (SearchStrategy s : kAll) {
    SearchOptions o{.k = 10, .filter = F("fifty = 3"), .strategy = s};
    REQUIRE(fx.Search(3, o).size() == 10);
    REQUIRE(fx.Recall(3, o) >= 0.8);
  }
}


// The recall target reaches the plan: on a small index of overlapping
// clusters (where HNSW's and IVF's default widths miss neighbours), every
// target's plan meets it at each selectivity, against brute force over the
// matching rows, and a higher target never gets a narrower search.
TEST_CASE("filtered plans meet the recall target they are asked for", "[planner][recall]") {
  constexpr int kN = 20000, kD = 64, kQ = 20;
  std::vector<float> data = ClusteredVectors(kN + kQ, kD, 200, 31, 1.2f);
  const std::vector<float> queries(data.end() - kQ * kD, data.end());
  data.resize(static_cast<size_t>(kN) * kD);
  for (const char* index : {"hnsw m=16 ef_construction=40", "ivf nlist=128 nprobe=2"}) {
    TempDir dir;
    auto db = *Database::Open(dir.path());
    auto c = *db->CreateCollection(
        "c", {.embedder = "vectors dim=64", .index = index, .indexed_fields = {"bucket"}});
    std::vector<Document> docs;
    for (int i = 0; i < kN; ++i) {
      docs.push_back({.id = std::to_string(i), .metadata = {{"bucket", i % 1000}},
                      .vector = {data.begin() + i * kD, data.begin() + (i + 1) * kD}});
    }
    REQUIRE(c->InsertBatch(std::move(docs)).ok());
    // The curve is measured when the index is saved (here by the
    // checkpoint), never by a search.
    REQUIRE(c->Checkpoint().ok());
    std::set<std::string> strategies;
    for (int threshold : {10, 100, 500, 900}) {
      const Filter filter = F("bucket < " + std::to_string(threshold));
      int previous_width = 0;
      for (double target : {0.9, 0.95, 0.99}) {
        SearchOptions o{.k = 10, .filter = filter, .recall_target = target};
        absl::StatusOr<SearchExplanation> explained = c->ExplainVector({queries.data(), kD}, o);
        REQUIRE(explained.ok());
        const nlohmann::json e = explained->ToJson();
        const nlohmann::json& plan = e["plan"];
        INFO(index << ", bucket < " << threshold << ", target " << target << ": " << e.dump(1));
        REQUIRE(e["estimates"].contains("recall_calibration"));
        strategies.insert(plan["strategy"].get<std::string>());
        if (plan["strategy"] == "ann" || plan["strategy"] == "ann_post_filter") {
          const int width = plan["knobs"].value("ef_search", 0) + plan["knobs"].value("nprobe", 0);
          CHECK(width >= previous_width);
          previous_width = width;
          // IVF reads its curve at the ranks of the filtered top k: for
          // 0.9 at broad filters, a narrow nprobe (the 128 lists searched
          // exhaustively would be an exact scan).
          if (plan["knobs"].contains("nprobe") && threshold >= 500 && target == 0.9) {
            CHECK(width <= 32);
          }
        }
        double recall = 0;
        for (int q = 0; q < kQ; ++q) {
          absl::Span<const float> query(queries.data() + q * kD, kD);
          std::vector<Hit> hits = *c->SearchVector(query, o);
          REQUIRE(hits.size() == 10);
          std::vector<int64_t> found;
          for (const Hit& h : hits) found.push_back(std::stoll(h.id));
          recall += RecallOf(found, ExactTopK(data, kD, query.data(), 10, [&](int64_t row) {
                               return row % 1000 < threshold;
                             })) / kQ;
        }
        INFO("recall " << recall);
        CHECK(recall >= target);
      }
    }
    // Not every cell fell back on an exact scan: the ANN strategies ran.
    INFO(index);
    CHECK((strategies.contains("ann") || strategies.contains("ann_post_filter")));
  }
}

}  // namespace
}  // namespace semdb

namespace semdb {
namespace {

// The recall calibration runs off the query path: a filtered search before
// any curve exists is answered at once with a conservative plan (the
// widest width) and correct hits; the checkpoint measures the curve; a
// reopen reads it back instead of measuring again.
TEST_CASE("the recall curve is measured by saves, not searches, and kept", "[planner][recall]") {
  constexpr int kN = 5000, kD = 32;
  std::vector<float> data = ClusteredVectors(kN + 1, kD, 50, 41, 0.8f);
  const std::vector<float> query(data.end() - kD, data.end());
  data.resize(static_cast<size_t>(kN) * kD);
  for (const char* index : {"hnsw m=16 ef_construction=40", "ivf nlist=64 nprobe=2"}) {
    INFO(index);
    TempDir dir;
    const Filter filter = F("bucket < 500");
    const SearchOptions o{.k = 10, .filter = filter, .recall_target = 0.95};
    auto exact_top = [&] {
      return ExactTopK(data, kD, query.data(), 10, [](int64_t row) { return row % 1000 < 500; });
    };
    auto explain = [&](Collection& c) {
      absl::StatusOr<SearchExplanation> e = c.ExplainVector({query.data(), kD}, o);
      REQUIRE(e.ok());
      return e->ToJson();
    };
    nlohmann::json measured;
    {
      auto db = *Database::Open(dir.path());
      auto c = *db->CreateCollection(
          "c", {.embedder = "vectors dim=32", .index = index, .indexed_fields = {"bucket"}});
      std::vector<Document> docs;
      for (int i = 0; i < kN; ++i) {
        docs.push_back({.id = std::to_string(i), .metadata = {{"bucket", i % 1000}},
                        .vector = {data.begin() + i * kD, data.begin() + (i + 1) * kD}});
      }
      REQUIRE(c->InsertBatch(std::move(docs)).ok());
      // HNSW: no curve yet (5,000 writes stay below the save interval):
      // the plan does not wait for one, and its hits are the exact ones.
      // IVF: its training rebuilt and saved the index, which measured it.
      const bool ivf = std::string(index).starts_with("ivf");
      const nlohmann::json before = explain(*c);
      INFO(before.dump(1));
      CHECK(before["estimates"].contains("recall_calibration") == ivf);
      for (const auto& [name, cost] : before["plan"]["costs"].items()) {
        if (name == "ann" || name == "ann_post_filter") {
          CHECK((cost["note"].get<std::string>().find("not measured yet") != std::string::npos) ==
                !ivf);
        }
      }
      std::vector<Hit> hits = *c->SearchVector({query.data(), kD}, o);
      REQUIRE(hits.size() == 10);
      std::vector<int64_t> found;
      for (const Hit& h : hits) found.push_back(std::stoll(h.id));
      CHECK(RecallOf(found, exact_top()) == 1.0);

      REQUIRE(c->Checkpoint().ok());
      measured = explain(*c)["estimates"]["recall_calibration"];
      INFO(measured.dump());
      REQUIRE(measured.is_object());
      CHECK(measured["index_size"] == kN);
      CHECK(measured["samples"].get<int>() > 0);
    }
    // Reopened: the same curve (its measuring time too), read back.
    auto db = *Database::Open(dir.path());
    auto c = *db->GetCollection("c");
    CHECK(explain(*c)["estimates"]["recall_calibration"] == measured);
  }
}

}  // namespace
}  // namespace semdb
