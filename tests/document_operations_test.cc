// Everyday document operations through the C++ API, with real RocksDB,
// FAISS and TF-IDF (issue 18): generated ids, pages with cursors, metadata
// merges, get-or-create, export/import round trips, batch searches against
// single searches, and the rule for caller vectors in text collections.
// Expectations come from the input data, not from semdb.
#include <cstring>
#include <fstream>
#include <random>

#include "catch2/catch.hpp"
#include "semdb/database.h"
#include "semdb/export.h"
#include "semdb/import.h"
#include "storage/records.h"
#include "test_data.h"
#include "test_database.h"

namespace semdb {
namespace {

using testing::HitIds;
using testing::MakeCollection;
using testing::OpenDb;
using testing::SharedData;
using testing::TempDir;

absl::StatusCode code(const absl::Status& s) { return s.code(); }

std::vector<Document> LeeDocuments(int n) {
  return testing::LeeDocuments(
      [](int line) -> nlohmann::json { return {{"line", line}, {"odd", line % 2 == 1}}; }, n);
}


// Batch answers equal single answers: the same ids in the same order, the
// same texts, and scores equal within float rounding (a batched FAISS call
// scores by a matrix product).
void RequireSameAnswers(const std::vector<Hit>& batch, const std::vector<Hit>& single) {
  REQUIRE(HitIds(batch) == HitIds(single));
  for (size_t i = 0; i < batch.size(); ++i) {
    REQUIRE(batch[i].text == single[i].text);
    REQUIRE(batch[i].metadata == single[i].metadata);
    REQUIRE(std::abs(batch[i].score - single[i].score) <= 1e-5f);
  }
}

// The same stored records: ids, texts, metadata as serialized, and the
// bytes of the vectors (empty in collections that embed their texts).
void RequireSameRecords(const std::vector<Document>& a, const std::vector<Document>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].id == b[i].id);
    REQUIRE(a[i].text == b[i].text);
    REQUIRE(a[i].metadata.dump() == b[i].metadata.dump());
    REQUIRE(a[i].vector.size() == b[i].vector.size());
    REQUIRE(std::memcmp(a[i].vector.data(), b[i].vector.data(),
                        a[i].vector.size() * sizeof(float)) == 0);
  }
}

Filter MustParse(std::string_view text) {
  absl::StatusOr<Filter> f = Filter::Parse(text);
  REQUIRE(f.ok());
  return *std::move(f);
}

TEST_CASE("generated ids are _1, _2, ... without gaps, and never take a user's id",
          "[documents][ids]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto chunked = MakeCollection(*db, "c", {.chunking = "sentences max_chars=40"});
  // Three documents of several passages each: ids stay consecutive.
  std::vector<std::string> ids = chunked
                                     ->InsertBatch({{.text = "One sentence here. Another one "
                                                             "follows it. And a third one."},
                                                    {.text = "Short. Also short. Short again."},
                                                    {.id = "_4", .text = "A user's own id."},
                                                    {.text = "Last one. Really the last."}})
                                     .value();
  REQUIRE(ids == std::vector<std::string>{"_1", "_2", "_4", "_3"});
  REQUIRE(chunked->Insert({.text = "After the user's _4."}).value() == "_5");
  REQUIRE(chunked->Info().passages > 5);

  // The counter survives a reopen.
  db.reset();
  db = OpenDb(dir.path());
  REQUIRE(db->GetCollection("c").value()->Insert({.text = "After reopening."}).value() == "_6");
}

TEST_CASE("a folder import, then a CSV with ids 1 and 2, both succeed", "[documents][ids]") {
  SEMDB_REQUIRE_SHARED_DATA("mixed-folder");
  TempDir dir;
  auto db = OpenDb(dir / "db");
  auto c = MakeCollection(*db, "mixed");
  absl::StatusOr<ImportReport> folder = ImportPath(*c, SharedData("mixed-folder"), {});
  REQUIRE(folder.ok());
  REQUIRE(folder->documents >= 20);
  const std::string csv = dir / "ids.csv";
  std::ofstream(csv) << "id,text\n1,Bushfires near Sydney\n2,The bank raised rates\n";
  absl::StatusOr<ImportReport> ids = ImportPath(*c, csv, {});
  REQUIRE(ids.ok());
  INFO((ids->problems.empty() ? "" : ids->problems[0].reason));
  REQUIRE(ids->documents == 2);
  REQUIRE(ids->skipped == 0);
  REQUIRE(c->Get("1").value().text == "Bushfires near Sydney");
  REQUIRE(c->Get("2").value().text == "The bank raised rates");
}

TEST_CASE("counters written before generated ids existed still decode", "[documents][ids]") {
  Counters old;
  old.next_label = 12;
  old.live_docs = 3;
  Counters decoded = Counters::Decode(old.Encode()).value();
  REQUIRE(decoded.next_generated_id == 1);
  REQUIRE(decoded.next_label == 12);
  Counters current = old;
  current.next_generated_id = 40;
  decoded = Counters::Decode(current.Encode()).value();
  REQUIRE(decoded.next_generated_id == 40);
  REQUIRE(decoded.documents == 0);
  REQUIRE(decoded.live_docs == 3);
}

TEST_CASE("pages with cursors visit every document once, in storage order",
          "[documents][pages]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(*db, "lee");
  REQUIRE(c->InsertBatch(LeeDocuments(95)).ok());
  for (const char* where : {"", "odd = true"}) {
    std::vector<std::string> seen;
    ListOptions options{.limit = 10};
    if (*where) options.filter = MustParse(where);
    int pages = 0;
    do {
      DocumentPage page = c->ListPage(options).value();
      ++pages;
      for (const Document& d : page.documents) seen.push_back(d.id);
      options.cursor = page.next_cursor;
    } while (!options.cursor.empty());
    std::vector<std::string> expected;
    for (int i = 1; i <= 95; ++i) {
      if (!*where || i % 2 == 1) expected.push_back("lee-" + std::to_string(i));
    }
    REQUIRE(seen == expected);
    REQUIRE(pages == static_cast<int>((expected.size() + 9) / 10));
  }
  // A cursor does not shift when documents before it are deleted.
  DocumentPage first = c->ListPage({.limit = 10}).value();
  REQUIRE(c->DeleteBatch({"lee-1", "lee-2", "lee-3"}).value() == 3);
  DocumentPage second = c->ListPage({.limit = 1, .cursor = first.next_cursor}).value();
  REQUIRE(second.documents.at(0).id == "lee-11");
  REQUIRE(code(c->ListPage({.cursor = "not a cursor"}).status()) ==
          absl::StatusCode::kInvalidArgument);
}

TEST_CASE("metadata merges (RFC 7386) or is replaced, and filters see the change",
          "[documents][update]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(*db, "m", {.embedder = "vectors dim=3", .indexed_fields = {"year"}});
  REQUIRE(c->InsertBatch({{.id = "a", .metadata = {{"year", 2001}, {"tag", "x"},
                                                    {"nested", {{"p", 1}, {"q", 2}}}},
                           .vector = {1, 0, 0}},
                          {.id = "b", .metadata = {{"year", 2001}}, .vector = {0, 1, 0}}})
              .ok());
  const std::string ids[] = {"a"};
  const nlohmann::json patch[] = {{{"year", 2005}, {"tag", nullptr}, {"nested", {{"q", 3}}}}};
  REQUIRE(c->MergeMetadata(ids, patch).ok());
  REQUIRE(c->Get("a").value().metadata ==
          nlohmann::json{{"year", 2005}, {"nested", {{"p", 1}, {"q", 3}}}});
  REQUIRE(c->Count(MustParse("year = 2005")).value() == 1);
  REQUIRE(c->Count(MustParse("year = 2001")).value() == 1);
  const nlohmann::json replacement[] = {{{"only", true}}};
  REQUIRE(c->UpdateMetadata(ids, replacement).ok());
  REQUIRE(c->Get("a").value().metadata == nlohmann::json{{"only", true}});
  // The vector stays as it was.
  REQUIRE(c->Get("a").value().vector == std::vector<float>{1, 0, 0});
  const std::string unknown[] = {"nosuch"};
  REQUIRE(code(c->MergeMetadata(unknown, patch)) == absl::StatusCode::kNotFound);
}

// A metadata update changes no vector and logs no index operation; the
// filter estimates searches plan with were once cached until the log moved,
// so a search after the update planned with the matches before it.
TEST_CASE("a metadata update renews the filter estimates searches plan with",
          "[documents][update]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(*db, "e", {.embedder = "vectors dim=2"});
  constexpr int kDocs = 40;
  std::vector<Document> docs;
  std::vector<std::string> ids;
  for (int i = 0; i < kDocs; ++i) {
    ids.push_back("d" + std::to_string(i));
    docs.push_back({.id = ids.back(), .metadata = {{"tag", "a"}},
                    .vector = {1, static_cast<float>(i)}});
  }
  REQUIRE(c->InsertBatch(std::move(docs)).ok());
  // "tag" is not indexed: the estimate comes from a sample of the metadata.
  auto estimated_matches = [&] {
    absl::StatusOr<SearchExplanation> e =
        c->ExplainVector(std::vector<float>{1, 0}, {.k = 5, .filter = MustParse("tag = 'b'")});
    INFO(e.status().message());
    REQUIRE(e.ok());
    return e->estimates.estimated_matches;
  };
  // No sampled document matches: half a match, rounded up.
  REQUIRE(estimated_matches() == 1);
  std::vector<nlohmann::json> tag_b(kDocs, {{"tag", "b"}});
  REQUIRE(c->UpdateMetadata(ids, tag_b).ok());
  REQUIRE(estimated_matches() == kDocs);
  REQUIRE(c->Count(MustParse("tag = 'b'")).value() == kDocs);
}

TEST_CASE("get-or-create returns the collection of the same spec, refuses another",
          "[documents][get_or_create]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto created = db->GetOrCreateCollection("v", {.embedder = "vectors dim=4", .index = "flat",
                                                 .indexed_fields = {"year"}});
  REQUIRE(created.ok());
  auto again = db->GetOrCreateCollection("v", {.embedder = "vectors dim=4",
                                               .indexed_fields = {"year"}});
  REQUIRE(again.ok());
  REQUIRE(again->get() == created->get());
  auto other = db->GetOrCreateCollection("v", {.embedder = "vectors dim=8", .index = "hnsw"});
  REQUIRE(code(other.status()) == absl::StatusCode::kFailedPrecondition);
  const std::string message(other.status().message());
  INFO(message);
  REQUIRE(message.find("embedder 'vectors dim=4', not 'vectors dim=8'") != std::string::npos);
  REQUIRE(message.find("index 'flat', not 'hnsw'") != std::string::npos);
  REQUIRE(message.find("indexed fields [year], not []") != std::string::npos);
  // A tfidf collection matches a spec that names only some parameters.
  REQUIRE(db->GetOrCreateCollection("t", {.embedder = "tfidf dim=32"}).ok());
  REQUIRE(db->GetOrCreateCollection("t", {.embedder = "tfidf dim=32"}).ok());
  REQUIRE(db->GetOrCreateCollection("t", {.embedder = "tfidf dim=64"}).status().code() ==
          absl::StatusCode::kFailedPrecondition);
  REQUIRE(db->ListCollections().size() == 2);
}

TEST_CASE("export then import restores the stored records byte for byte",
          "[documents][export]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  auto db = OpenDb(dir / "db");

  SECTION("a vectors collection: ids, texts, metadata and vectors") {
    auto source = MakeCollection(*db, "src", {.embedder = "vectors dim=16"});
    std::mt19937 rng(7);
    std::normal_distribution<float> normal;
    std::vector<Document> docs = LeeDocuments(60);
    for (size_t i = 0; i < docs.size(); ++i) {
      for (int j = 0; j < 16; ++j) docs[i].vector.push_back(normal(rng));
      docs[i].metadata["weight"] = 0.1 * static_cast<double>(i) + 1e-9;
      docs[i].metadata["tags"] = {"a", nlohmann::json::object({{"deep", {1.5, nullptr}}})};
      if (i % 7 == 0) docs[i].text = "";  // a vectors collection allows empty texts
    }
    REQUIRE(source->InsertBatch(docs).ok());
    const std::string file = dir / "src.jsonl";
    std::ofstream out(file);
    REQUIRE(ExportJsonLines(source, out, {.vectors = true}).value() == 60);
    out.close();
    auto target = MakeCollection(*db, "dst", {.embedder = "vectors dim=16"});
    absl::StatusOr<ImportReport> report = ImportPath(*target, file, {});
    REQUIRE(report.ok());
    REQUIRE(report->documents == 60);
    REQUIRE(report->skipped == 0);
    RequireSameRecords(source->List().value(), target->List().value());
  }

  SECTION("a text collection: ids, texts and metadata; vectors are the model's") {
    auto source = MakeCollection(*db, "text");
    REQUIRE(source->InsertBatch(LeeDocuments(40)).ok());
    const std::string file = dir / "text.jsonl";
    std::ofstream out(file);
    REQUIRE(ExportJsonLines(source, out, {.filter = MustParse("odd = true"), .vectors = true})
                .value() == 20);
    out.close();
    // The exported vectors are the model's (Embed) of each text.
    std::ifstream in(file);
    std::string line;
    REQUIRE(std::getline(in, line));
    nlohmann::json first = nlohmann::json::parse(line);
    const std::string first_text = first["text"];
    const std::string_view text[] = {first_text};
    std::vector<float> model = source->Embed(text).value();
    REQUIRE(first["vector"].get<std::vector<float>>() == model);
    auto target = MakeCollection(*db, "text2");
    REQUIRE(ImportPath(*target, file, {}).value().documents == 20);
    RequireSameRecords(source->List({.filter = MustParse("odd = true")}).value(),
                       target->List().value());
  }
}

TEST_CASE("batch searches answer as the same searches one by one", "[documents][batch]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  auto db = OpenDb(dir.path());
  const std::vector<std::string> queries = {
      "bushfires near Sydney", "the stock market fell", "cricket match in Australia",
      "fire", "police arrested a man", "zzzunknownword", "Afghanistan Taliban war",
      "the government announced a new budget"};

  SECTION("text queries: one embedding call, one index call without filter or keywords") {
    auto lee = MakeCollection(*db, "lee", {.embedder = "tfidf dim=64"});
    REQUIRE(lee->InsertBatch(LeeDocuments(300)).ok());
    for (const SearchOptions& options :
         {SearchOptions{.k = 7, .hybrid = 0.0}, SearchOptions{.k = 5},
          SearchOptions{.k = 5, .filter = MustParse("odd = true")},
          SearchOptions{.k = 3, .hybrid = 1.0}}) {
      std::vector<std::vector<Hit>> batch = lee->SearchBatch(queries, options).value();
      REQUIRE(batch.size() == queries.size());
      for (size_t q = 0; q < queries.size(); ++q) {
        INFO(queries[q]);
        RequireSameAnswers(batch[q], lee->Search(queries[q], options).value());
      }
    }
    const std::string empty_query[] = {"fire", "  "};
    REQUIRE(code(lee->SearchBatch(empty_query).status()) == absl::StatusCode::kInvalidArgument);
  }

  for (const char* index : {"flat", "ivf nlist=16 nprobe=4", "hnsw m=16"}) {
    SECTION(std::string("vector queries, ") + index) {
      auto v = MakeCollection(*db, "v", {.embedder = "vectors dim=24", .index = index});
      std::mt19937 rng(11);
      std::normal_distribution<float> normal;
      std::vector<Document> docs;
      for (int i = 0; i < 1500; ++i) {
        Document d{.id = "v" + std::to_string(i), .metadata = {{"i", i}}};
        for (int j = 0; j < 24; ++j) d.vector.push_back(normal(rng));
        docs.push_back(std::move(d));
      }
      REQUIRE(v->InsertBatch(docs).ok());
      std::vector<float> rows;
      for (int q = 0; q < 50; ++q) {
        for (int j = 0; j < 24; ++j) rows.push_back(normal(rng));
      }
      for (const SearchOptions& options :
           {SearchOptions{.k = 10}, SearchOptions{.k = 4, .filter = MustParse("i < 300")}}) {
        std::vector<std::vector<Hit>> batch = v->SearchVectorBatch(rows, options).value();
        REQUIRE(batch.size() == 50);
        for (size_t q = 0; q < 50; ++q) {
          RequireSameAnswers(
              batch[q],
              v->SearchVector(absl::MakeConstSpan(rows).subspan(q * 24, 24), options).value());
        }
      }
      const float ragged[] = {1, 2, 3};
      REQUIRE(code(v->SearchVectorBatch(ragged).status()) == absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST_CASE("a text collection takes caller vectors only when they are its model's",
          "[documents][vectors]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto lee = MakeCollection(*db, "lee", {.embedder = "tfidf dim=32"});
  // Before the first fit there is no model to check a vector against.
  REQUIRE(code(lee->Insert({.text = "bushfires", .vector = std::vector<float>(32, 1.0f)})
                   .status()) == absl::StatusCode::kFailedPrecondition);
  REQUIRE(lee->InsertBatch(LeeDocuments(200)).ok());
  const int dim = lee->Info().dimension;
  const std::string text = "Bushfires burn near Sydney as firefighters battle the flames";
  const std::string_view texts[] = {text};
  std::vector<float> model = lee->Embed(texts).value();

  // Queries: a vector of the model's dimension (e.g. from Embed) is used.
  std::vector<Hit> by_vector = lee->SearchVector(model, {.k = 5}).value();
  REQUIRE(HitIds(by_vector) == HitIds(lee->Search(text, {.k = 5, .hybrid = 0.0}).value()));
  std::vector<float> wrong_size(dim + 1, 1.0f);
  REQUIRE(code(lee->SearchVector(wrong_size).status()) == absl::StatusCode::kInvalidArgument);

  // Inserts: the model's vector of the text is accepted, another refused.
  REQUIRE(lee->Insert({.id = "own", .text = text, .vector = model}).ok());
  std::vector<float> other = model;
  std::reverse(other.begin(), other.end());
  absl::Status refused = lee->Insert({.id = "other", .text = text, .vector = other}).status();
  REQUIRE(code(refused) == absl::StatusCode::kInvalidArgument);
  REQUIRE(std::string(refused.message()).find("not the collection model's vector") !=
          std::string::npos);
  REQUIRE(code(lee->Insert({.id = "short", .text = text, .vector = wrong_size}).status()) ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(code(lee->Get("other").status()) == absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace semdb
