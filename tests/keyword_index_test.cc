// The BM25 keyword index on a real RocksDB store against the textbook
// formula computed by tests/golden/make_bm25_golden.py.
#include "src/keyword_index.h"

#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "test_data.h"

namespace semdb {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::TestData;

constexpr uint32_t kCid = 7;

void RequireScores(const KeywordIndex& index, const std::string& query,
                   const nlohmann::json& expected) {
  INFO(query);
  absl::StatusOr<std::vector<IndexHit>> hits = index.Search(query, 0, nullptr);
  REQUIRE(hits.ok());
  REQUIRE(hits->size() == expected.size());
  for (size_t i = 0; i < hits->size(); ++i) {
    const IndexHit& h = (*hits)[i];
    const std::string doc = std::to_string(h.label - 100);
    INFO("document " << doc);
    REQUIRE(expected.contains(doc));
    REQUIRE(h.score == Approx(expected[doc].get<double>()).epsilon(1e-5));
    if (i > 0) REQUIRE((*hits)[i - 1].score >= h.score);  // best first
  }
}

TEST_CASE("BM25 scores match the textbook formula, before and after a removal", "[keyword]") {
  const nlohmann::json golden =
      nlohmann::json::parse(ReadFile(TestData("golden/bm25_golden.json")));
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir / "store", {});
  REQUIRE(store.ok());
  KeywordIndex index(store->get(), kCid);
  // Another collection's postings must not leak into this one.
  KeywordIndex other(store->get(), kCid + 1);
  {
    StoreBatch batch(**store);
    KeywordIndex::Update update(index);
    uint64_t label = 100;
    for (const auto& text : golden["corpus"]) {
      REQUIRE(update.Add(label++, text.get<std::string>()).ok());
    }
    REQUIRE(update.Finish(batch).ok());
    KeywordIndex::Update noise(other);
    REQUIRE(noise.Add(1, "sydney sydney market rain bushfires").ok());
    REQUIRE(noise.Finish(batch).ok());
    REQUIRE((*store)->Write(batch, false).ok());
  }
  REQUIRE(index.GetTotals()->documents == 12);
  for (const auto& q : golden["queries"]) RequireScores(index, q["query"], q["scores"]);

  // k and a label filter.
  absl::StatusOr<std::vector<IndexHit>> top = index.Search("sydney", 2, nullptr);
  REQUIRE(top->size() == 2);
  REQUIRE(top->front().label == 111);  // "Sydney" three times
  LabelPredicate even = [](uint64_t label) { return label % 2 == 0; };
  std::vector<IndexHit> even_hits = *index.Search("sydney rain market", 0, &even);
  REQUIRE_FALSE(even_hits.empty());
  for (const IndexHit& h : even_hits) REQUIRE(h.label % 2 == 0);
  REQUIRE(index.Search("zyzzyva", 5, nullptr)->empty());

  const int removed = golden["removed"];
  {
    StoreBatch batch(**store);
    KeywordIndex::Update update(index);
    REQUIRE(update.Remove(100 + removed, golden["corpus"][removed].get<std::string>()).ok());
    REQUIRE(update.Finish(batch).ok());
    REQUIRE((*store)->Write(batch, false).ok());
  }
  REQUIRE(index.GetTotals()->documents == 11);
  for (const auto& q : golden["queries"]) {
    RequireScores(index, q["query"], q["scores_after_removal"]);
  }
}

}  // namespace
}  // namespace semdb
