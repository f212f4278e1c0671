// The collection's operations on sets of documents (GetBatch, List,
// Count and DeleteMatching by filter), metadata updates and Embed, on the
// Lee corpus with real RocksDB, FAISS and TF-IDF; expectations come from
// the input data, not from semdb.
#include <algorithm>
#include <cmath>

#include "catch2/catch.hpp"
#include "semdb/database.h"
#include "test_data.h"
#include "test_database.h"

namespace semdb {
namespace {

using testing::HitIds;
using testing::MakeCollection;
using testing::OpenDb;
using testing::TempDir;

constexpr char kLee[] = "gensim/lee_background.cor";

// Lee article i (1-based) has id "lee-i", metadata {"line": i, "tens": i / 10,
// "half": "first"|"second"}.
std::vector<Document> LeeDocuments() {
  return testing::LeeDocuments([](int line) -> nlohmann::json {
    return {{"line", line}, {"tens", line / 10}, {"half", line <= 150 ? "first" : "second"}};
  });
}

Filter MustParse(std::string_view text) {
  absl::StatusOr<Filter> f = Filter::Parse(text);
  REQUIRE(f.ok());
  return *std::move(f);
}

std::vector<std::string> Ids(const std::vector<Document>& docs) {
  std::vector<std::string> ids;
  for (const Document& d : docs) ids.push_back(d.id);
  return ids;
}


std::vector<std::string> LeeIds(int first, int last) {
  std::vector<std::string> ids;
  for (int i = first; i <= last; ++i) ids.push_back("lee-" + std::to_string(i));
  return ids;
}

TEST_CASE("get several ids, list pages and count and delete by filter", "[documents]") {
  SEMDB_REQUIRE_SHARED_DATA(kLee);
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto lee = MakeCollection(*db, "lee", {.indexed_fields = {"half"}});
  std::vector<Document> docs = LeeDocuments();
  REQUIRE(docs.size() == 300);
  REQUIRE(lee->InsertBatch(docs).ok());

  // Several ids, in the order asked; a missing one is skipped.
  absl::StatusOr<std::vector<Document>> got =
      lee->GetBatch({"lee-7", "nosuch", "lee-2", "lee-300"});
  REQUIRE(got.ok());
  REQUIRE(Ids(*got) == std::vector<std::string>{"lee-7", "lee-2", "lee-300"});
  REQUIRE((*got)[0].text == docs[6].text);
  REQUIRE((*got)[1].metadata == docs[1].metadata);

  // Pages in insertion order.
  absl::StatusOr<std::vector<Document>> page = lee->List({.offset = 10, .limit = 5});
  REQUIRE(page.ok());
  REQUIRE(Ids(*page) == LeeIds(11, 15));
  REQUIRE((*page)[4].text == docs[14].text);
  REQUIRE(lee->List({})->size() == 300);
  REQUIRE(lee->List({.offset = 298})->size() == 2);
  REQUIRE(lee->List({.offset = 400})->empty());
  REQUIRE(lee->List({.limit = 0})->empty());
  REQUIRE(lee->List({.offset = -1}).status().code() == absl::StatusCode::kInvalidArgument);

  // Filtered: an indexed field and a field without an index.
  page = lee->List({.filter = MustParse("half = \"second\" AND tens = 20"), .limit = 100});
  REQUIRE(page.ok());
  REQUIRE(Ids(*page) == LeeIds(200, 209));
  REQUIRE(*lee->Count(MustParse("half = \"first\"")) == 150);
  REQUIRE(*lee->Count(MustParse("line <= 25 OR line > 290")) == 35);
  REQUIRE(*lee->Count(MustParse("nosuch EXISTS")) == 0);

  // Delete by filter: exactly the matches, in one write.
  absl::StatusOr<int64_t> deleted = lee->DeleteMatching(MustParse("tens = 3"));
  REQUIRE(deleted.ok());
  REQUIRE(*deleted == 10);
  REQUIRE(lee->Count() == 290);
  REQUIRE(lee->GetBatch(LeeIds(30, 39))->empty());
  REQUIRE(*lee->Count(MustParse("half = \"first\"")) == 140);
  REQUIRE(*lee->DeleteMatching(MustParse("tens = 3")) == 0);
  SearchOptions o{.k = 300, .strategy = SearchStrategy::kExactScan};
  absl::StatusOr<std::vector<Hit>> hits = lee->Search("police said", o);
  REQUIRE(hits.ok());
  for (const Hit& h : *hits) REQUIRE(h.metadata["tens"] != 3);
}

TEST_CASE("metadata updates keep the field and keyword indexes and survive a reopen",
          "[documents]") {
  SEMDB_REQUIRE_SHARED_DATA(kLee);
  TempDir dir;
  std::vector<Document> docs = LeeDocuments();
  std::vector<std::string> before;
  {
    auto db = OpenDb(dir.path());
    auto lee = MakeCollection(*db, "lee", {.indexed_fields = {"half", "topic"}});
    REQUIRE(lee->InsertBatch(docs).ok());
    before = HitIds(*lee->Search("bushfires", {.k = 10}));

    // An unknown id: NotFound, and nothing of the batch is written.
    std::vector<nlohmann::json> metas = {{{"topic", "fire"}}, {{"topic", "fire"}}};
    absl::Status s = lee->UpdateMetadata({"lee-34", "nosuch"}, metas);
    REQUIRE(s.code() == absl::StatusCode::kNotFound);
    REQUIRE(*lee->Count(MustParse("topic = \"fire\"")) == 0);
    REQUIRE(lee->UpdateMetadata({"lee-34"}, metas).code() == absl::StatusCode::kInvalidArgument);
    REQUIRE(lee->UpdateMetadata({"lee-34", "lee-34"}, metas).code() ==
            absl::StatusCode::kInvalidArgument);
    std::vector<nlohmann::json> bad = {nlohmann::json::array({1})};
    REQUIRE(lee->UpdateMetadata({"lee-34"}, bad).code() == absl::StatusCode::kInvalidArgument);

    // The bushfire articles of the README get a topic; lee-1 moves halves.
    std::vector<std::string> fire_ids = {"lee-1", "lee-9", "lee-34"};
    std::vector<nlohmann::json> fire = {{{"topic", "fire"}, {"half", "second"}},
                                        {{"topic", "fire"}, {"half", "first"}},
                                        {{"topic", "fire"}, {"half", "first"}}};
    REQUIRE(lee->UpdateMetadata(fire_ids, fire).ok());
    REQUIRE(lee->Get("lee-1")->metadata == fire[0]);
    REQUIRE(lee->Get("lee-1")->text == docs[0].text);
    REQUIRE(lee->Count() == 300);
  }
  auto db = OpenDb(dir.path());
  auto lee = *db->GetCollection("lee");
  // Vectors and keyword postings are unchanged: the same search results.
  REQUIRE(HitIds(*lee->Search("bushfires", {.k = 10})) == before);
  absl::StatusOr<std::vector<Hit>> keyword = lee->Search("bushfires", {.k = 3, .hybrid = 1.0});
  REQUIRE(keyword.ok());
  REQUIRE(!keyword->empty());
  // The field index agrees with the new metadata, whichever strategy runs.
  for (SearchStrategy strategy : {SearchStrategy::kFilteredScan, SearchStrategy::kExactScan,
                                  SearchStrategy::kAnn}) {
    absl::StatusOr<std::vector<Hit>> hits = lee->Search(
        "bushfires", {.k = 10, .filter = MustParse("topic = \"fire\""), .strategy = strategy});
    INFO(hits.status().message());
    REQUIRE(hits.ok());
    std::vector<std::string> ids = HitIds(*hits);
    std::sort(ids.begin(), ids.end());
    REQUIRE(ids == std::vector<std::string>{"lee-1", "lee-34", "lee-9"});
  }
  REQUIRE(*lee->Count(MustParse("half = \"first\"")) == 149);
  absl::StatusOr<std::vector<Hit>> second = lee->Search(
      "bushfires", {.k = 300, .filter = MustParse("half = \"second\""),
               .strategy = SearchStrategy::kFilteredScan});
  REQUIRE(second.ok());
  REQUIRE(second->size() == 151);
}

TEST_CASE("chunked collections list, update and delete whole documents", "[documents]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(*db, "c", {.chunking = "sentences max_chars=60",
                                     .indexed_fields = {"kind"}});
  const std::string a =
      "Aristotle was a Greek philosopher. He tutored Alexander the Great. He wrote on "
      "logic, biology and ethics.";
  const std::string b = "Markets fell sharply on Monday. Investors sold their shares.";
  REQUIRE(c->InsertBatch({{.id = "a", .text = a, .metadata = {{"kind", "bio"}}},
                          {.id = "b", .text = b, .metadata = {{"kind", "news"}}}})
              .ok());
  REQUIRE(c->Info().passages > 2);
  absl::StatusOr<std::vector<Document>> all = c->List({});
  REQUIRE(all.ok());
  REQUIRE(Ids(*all) == std::vector<std::string>{"a", "b"});
  REQUIRE((*all)[0].text == a);
  REQUIRE(*c->Count(MustParse("kind = \"bio\"")) == 1);

  std::vector<nlohmann::json> metas = {{{"kind", "philosophy"}}};
  REQUIRE(c->UpdateMetadata({"a"}, metas).ok());
  REQUIRE(c->Get("a")->metadata == metas[0]);
  absl::StatusOr<std::vector<Hit>> hits =
      c->Search("tutored Alexander", {.k = 10, .filter = MustParse("kind = \"philosophy\"")});
  REQUIRE(hits.ok());
  REQUIRE(!hits->empty());
  for (const Hit& h : *hits) {
    REQUIRE(h.id == "a");
    REQUIRE(h.metadata == metas[0]);
  }
  REQUIRE(*c->Count(MustParse("kind = \"bio\"")) == 0);

  const int64_t passages = c->Info().passages;
  REQUIRE(*c->DeleteMatching(MustParse("kind = \"philosophy\"")) == 1);
  REQUIRE(c->Count() == 1);
  REQUIRE(c->Info().passages < passages);
  REQUIRE(Ids(*c->List({})) == std::vector<std::string>{"b"});
}

TEST_CASE("Embed gives the vectors that search uses", "[documents]") {
  SEMDB_REQUIRE_SHARED_DATA(kLee);
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto lee = MakeCollection(*db, "lee");
  REQUIRE(lee->Embed(std::vector<std::string_view>{"bushfires"}).status().code() ==
          absl::StatusCode::kFailedPrecondition);  // no fit yet
  std::vector<Document> docs = LeeDocuments();
  REQUIRE(lee->InsertBatch(docs).ok());
  const int dim = lee->Info().dimension;
  std::vector<std::string_view> texts = {"bushfires near Sydney", docs[41].text,
                                         "qqqzzz xxyyz"};
  absl::StatusOr<std::vector<float>> v = lee->Embed(texts);
  REQUIRE(v.ok());
  REQUIRE(v->size() == 3 * static_cast<size_t>(dim));
  double norm = 0;
  for (int i = 0; i < dim; ++i) norm += (*v)[i] * (*v)[i];
  REQUIRE(std::abs(norm - 1) < 1e-4);
  // No known word: a zero vector.
  REQUIRE(std::all_of(v->begin() + 2 * dim, v->end(), [](float x) { return x == 0; }));
  // The query's embedding searched as a vector gives the text search's
  // vector side (a text search also fuses a keyword ranking by default).
  absl::StatusOr<std::vector<Hit>> by_text = lee->Search(texts[0], {.k = 10, .hybrid = 0.0});
  absl::StatusOr<std::vector<Hit>> by_vector =
      lee->SearchVector(absl::MakeConstSpan(v->data(), dim), {.k = 10});
  REQUIRE(by_text.ok());
  REQUIRE(by_vector.ok());
  REQUIRE(HitIds(*by_text) == HitIds(*by_vector));
  // A stored document's embedding finds the document itself.
  by_vector = lee->SearchVector(absl::MakeConstSpan(v->data() + dim, dim), {.k = 1});
  REQUIRE(by_vector.ok());
  REQUIRE((*by_vector)[0].id == "lee-42");
  REQUIRE((*by_vector)[0].score > 0.999f);

  auto vectors = MakeCollection(*db, "v", {.embedder = "vectors dim=3"});
  REQUIRE(vectors->Embed(texts).status().code() == absl::StatusCode::kFailedPrecondition);
  std::string bad = "ok \xff";
  REQUIRE(lee->Embed(std::vector<std::string_view>{bad}).status().code() ==
          absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the document operations of a dropped collection return NotFound", "[documents]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(*db, "c");
  REQUIRE(c->Insert({.id = "a", .text = "some words here"}).ok());
  REQUIRE(db->DropCollection("c").ok());
  const Filter all = MustParse("x EXISTS OR NOT x EXISTS");
  REQUIRE(c->GetBatch({"a"}).status().code() == absl::StatusCode::kNotFound);
  REQUIRE(c->GetBatch({}).status().code() == absl::StatusCode::kNotFound);
  REQUIRE(c->List({}).status().code() == absl::StatusCode::kNotFound);
  REQUIRE(c->Count(all).status().code() == absl::StatusCode::kNotFound);
  REQUIRE(c->DeleteMatching(all).status().code() == absl::StatusCode::kNotFound);
  std::vector<nlohmann::json> metas = {nlohmann::json::object()};
  REQUIRE(c->UpdateMetadata({"a"}, metas).code() == absl::StatusCode::kNotFound);
  REQUIRE(c->Embed(std::vector<std::string_view>{"words"}).status().code() ==
          absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace semdb
