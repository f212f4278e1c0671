// Chunked collections through the library API: passages with offsets,
// parents, neighbours, one passage per parent, atomic replace and delete,
// reopen after a crash, and what stays as it was for unchunked collections.
#include <sys/wait.h>
#include <unistd.h>

#include "catch2/catch.hpp"
#include "semdb/database.h"
#include "storage/records.h"
#include "test_data.h"
#include "test_database.h"

namespace semdb {
namespace {

using testing::MakeCollection;
using testing::OpenDb;
using testing::SharedData;
using testing::TempDir;

std::vector<Hit> MustSearch(const Collection& c, std::string_view query, SearchOptions o = {}) {
  absl::StatusOr<std::vector<Hit>> hits = c.Search(query, o);
  INFO(std::string(query) << ": " << hits.status().message());
  REQUIRE(hits.ok());
  return *std::move(hits);
}

// Every hit's passage is the stated byte range of its parent's text.
void CheckOffsets(const Collection& c, const std::vector<Hit>& hits) {
  for (const Hit& h : hits) {
    REQUIRE(h.passage.has_value());
    const std::string parent = c.Get(h.id).value().text;
    REQUIRE(h.passage->end <= static_cast<int64_t>(parent.size()));
    REQUIRE(parent.substr(h.passage->begin, h.passage->end - h.passage->begin) == h.text);
    REQUIRE(h.passage->index < h.passage->count);
  }
}

// Two long texts of encyclopedic prose, as two documents.
std::vector<Document> Para2Para() {
  return {{.id = "p1",
           .text = testing::ReadFile(SharedData("gensim/para2para_text1.txt")),
           .metadata = {{"part", 1}}},
          {.id = "p2",
           .text = testing::ReadFile(SharedData("gensim/para2para_text2.txt")),
           .metadata = {{"part", 2}}}};
}

// The sentence of `text` containing `words`.
std::string SentenceWith(const std::string& text, const std::string& words) {
  const size_t at = text.find(words);
  REQUIRE(at != std::string::npos);
  const size_t begin = text.rfind(". ", at);
  const size_t end = text.find('.', at);
  return text.substr(begin == std::string::npos ? 0 : begin + 2,
                     end - (begin == std::string::npos ? 0 : begin + 2));
}

TEST_CASE("a chunked collection searches passages and returns their place in the document",
          "[passages]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/para2para_text1.txt");
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(*db, "prose", {.embedder = "tfidf dim=64", .chunking = "chars size=400 overlap=80"});
  REQUIRE(c->Info().chunking == "chars overlap=80 size=400");
  std::vector<Document> docs = Para2Para();
  REQUIRE(c->InsertBatch(docs).ok());
  REQUIRE(c->Count() == 2);
  const CollectionInfo info = c->Info();
  REQUIRE(info.documents == 2);
  REQUIRE(info.passages > 50);
  REQUIRE(c->Stats().passages == info.passages);
  REQUIRE(c->Stats().chunking == "chars overlap=80 size=400");

  // Get gives the document as inserted.
  Document p1 = c->Get("p1").value();
  REQUIRE(p1.text == docs[0].text);
  REQUIRE(p1.metadata["part"] == 1);
  REQUIRE(p1.stats.tokens > 1000);

  // A sentence of each document finds a passage of that document that
  // contains it (or most of it, when it straddles two passages).
  for (const Document& d : docs) {
    const size_t middle = d.text.size() / 2;
    const std::string sentence = SentenceWith(d.text, d.text.substr(d.text.find(' ', middle) + 1, 12));
    INFO(sentence);
    std::vector<Hit> hits = MustSearch(*c, sentence, {.k = 3});
    REQUIRE(hits[0].id == d.id);
    REQUIRE(hits[0].metadata["part"] == d.metadata["part"]);
    REQUIRE(hits[0].passage->begin <= static_cast<int64_t>(d.text.find(sentence)) + 200);
    REQUIRE(hits[0].passage->end >= static_cast<int64_t>(d.text.find(sentence)));
    CheckOffsets(*c, hits);
  }

  // Neighbours: the passages around the hit, in order, with offsets.
  std::vector<Hit> hits = MustSearch(*c, "population of the city", {.k = 5, .neighbors = 2, .include_parent = true});
  CheckOffsets(*c, hits);
  for (const Hit& h : hits) {
    REQUIRE(h.parent_text == c->Get(h.id).value().text);
    const int first = std::max(0, h.passage->index - 2);
    const int last = std::min(h.passage->count - 1, h.passage->index + 2);
    REQUIRE(static_cast<int>(h.neighbors.size()) == last - first);
    int expected = first;
    for (const Passage& n : h.neighbors) {
      if (expected == h.passage->index) ++expected;
      REQUIRE(n.info.index == expected++);
      REQUIRE(n.info.count == h.passage->count);
      REQUIRE(h.parent_text->substr(n.info.begin, n.info.end - n.info.begin) == n.text);
    }
    // Overlapping neighbours join into one stretch of the document.
    const int64_t begin = h.neighbors.empty() ? h.passage->begin
                                              : std::min(h.passage->begin, h.neighbors.front().info.begin);
    const int64_t end = h.neighbors.empty() ? h.passage->end
                                            : std::max(h.passage->end, h.neighbors.back().info.end);
    REQUIRE(JoinedContext(h) == h.parent_text->substr(begin, end - begin));
  }

  // Filters apply to the parent's metadata.
  for (const Hit& h : MustSearch(*c, "population of the city", {.k = 20, .filter = Filter::Parse("part = 2").value()})) {
    REQUIRE(h.id == "p2");
  }
}

TEST_CASE("one passage per parent still returns k documents when k match", "[passages]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(*db, "dedupe", {.embedder = "tfidf dim=16", .chunking = "sentences max_chars=80"});
  std::string volcano;
  for (int i = 0; i < 40; ++i) {
    volcano += "Molten lava erupted from the volcano crater number " + std::to_string(i) + ". ";
  }
  REQUIRE(c->InsertBatch({{.id = "volcano", .text = volcano},
                          {.id = "cooking", .text = "Boil the pasta in salted water. Stir the "
                                                    "tomato sauce slowly. A volcano cake with "
                                                    "cream is dessert."},
                          {.id = "garden", .text = "Plant the tulips in autumn. Water the "
                                                   "roses every morning."}})
              .ok());
  REQUIRE(c->Info().passages == 40 + 2 + 1);  // cooking packs two sentences
  std::vector<Hit> plain = MustSearch(*c, "volcano lava", {.k = 43});
  REQUIRE(plain.size() == 43);
  REQUIRE(plain[0].id == "volcano");
  // The best "cooking" passage ranks below many volcano passages, so that
  // one passage per parent must fetch more than its first 4 x k.
  size_t cooking_rank = 0;
  while (plain[cooking_rank].id != "cooking") ++cooking_rank;
  REQUIRE(cooking_rank >= 8);
  std::vector<Hit> deduped = MustSearch(*c, "volcano lava", {.k = 2, .one_per_parent = true});
  REQUIRE(deduped.size() == 2);
  REQUIRE(deduped[0].id == "volcano");
  REQUIRE(deduped[0].score == plain[0].score);
  REQUIRE(deduped[1].id == "cooking");
  REQUIRE(deduped[1].text == plain[cooking_rank].text);
  REQUIRE(deduped[1].score == plain[cooking_rank].score);
  // Fewer documents than k: all of them, once each.
  std::vector<Hit> all = MustSearch(*c, "volcano lava water", {.k = 10, .one_per_parent = true});
  REQUIRE(all.size() == 3);
}

TEST_CASE("upsert and delete replace or remove all of a document's passages at once",
          "[passages]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/para2para_text1.txt");
  TempDir dir;
  std::vector<Document> docs = Para2Para();
  int64_t passages_before = 0;
  {
    auto db = OpenDb(dir.path());
    // HNSW: its saved file plus the log replay are tested below (a flat
    // index is not saved, src/index_files.h).
    auto c = MakeCollection(*db, "prose",
                            {.index = "hnsw", .chunking = "sentences max_chars=120"});
    REQUIRE(c->InsertBatch(docs).ok());
    passages_before = c->Info().passages;
    REQUIRE(c->Insert({.id = "p1", .text = "again"}).status().code() ==
            absl::StatusCode::kAlreadyExists);
    const size_t p2_passages =
        MustSearch(*c, "city", {.k = kMaxK, .filter = Filter::Parse("part = 2").value()}).size();
    REQUIRE(p2_passages > 10);

    // Two sentences that do not fit one passage together.
    const std::string first =
        "Wood is a hard and fibrous structural tissue found in the stems and roots of trees "
        "and of other woody plants.";
    REQUIRE(first.size() > 100);
    REQUIRE(c->Upsert({.id = "p1", .text = first + " Dry wood burns well in a stove.",
                       .metadata = {{"part", 3}}})
                .ok());
    REQUIRE(c->Count() == 2);
    REQUIRE(c->Info().passages == static_cast<int64_t>(p2_passages) + 2);
    REQUIRE(c->Refit().ok());  // so that the model knows the new words
    REQUIRE(MustSearch(*c, "city", {.k = kMaxK, .filter = Filter::Parse("part = 1").value()})
                .empty());
    std::vector<Hit> p1 =
        MustSearch(*c, "wood", {.k = kMaxK, .filter = Filter::Parse("part = 3").value()});
    REQUIRE(p1.size() == 2);
    std::sort(p1.begin(), p1.end(),
              [](const Hit& a, const Hit& b) { return a.passage->index < b.passage->index; });
    REQUIRE(p1[0].text == first);
    REQUIRE(p1[1].text == "Dry wood burns well in a stove.");
    REQUIRE(p1[1].passage->index == 1);
    REQUIRE(p1[1].passage->count == 2);
    CheckOffsets(*c, p1);

    // Deleting the parent deletes every passage; ids that are not there are
    // ignored by DeleteBatch and NotFound for Delete.
    REQUIRE(c->DeleteBatch({"p2", "nosuch", "p2"}).value() == 1);
    REQUIRE(c->Delete("p2").code() == absl::StatusCode::kNotFound);
    REQUIRE(c->Get("p2").status().code() == absl::StatusCode::kNotFound);
    REQUIRE(c->Count() == 1);
    REQUIRE(c->Info().passages == 2);
    for (const Hit& h : MustSearch(*c, "wood tissue", {.k = 100})) REQUIRE(h.id == "p1");
  }
  // A crash after more writes: the log replays passages like documents.
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto db = Database::Open(dir.path());
    if (!db.ok()) _exit(3);
    auto c = (*db)->GetCollection("prose");
    if (!(*c)->Insert(docs[1], {.sync = true}).ok()) _exit(4);
    if (!(*c)->Delete("p1", {.sync = true}).ok()) _exit(5);
    _exit(0);  // no checkpoint at close
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WEXITSTATUS(status) == 0);
  auto db = OpenDb(dir.path());
  auto c = db->GetCollection("prose").value();
  INFO(c->Stats().ToJson().dump());
  REQUIRE(c->Count() == 1);
  REQUIRE(c->Info().passages < passages_before);
  REQUIRE(c->Stats().index_origin.starts_with("loaded from its saved file"));
  REQUIRE(c->Get("p2").value().text == docs[1].text);
  std::vector<Hit> hits = MustSearch(*c, "Berlin", {.k = 5, .neighbors = 1});
  REQUIRE(!hits.empty());
  for (const Hit& h : hits) REQUIRE(h.id == "p2");
  CheckOffsets(*c, hits);
  // A refit re-embeds the passages.
  REQUIRE(c->Refit().ok());
  REQUIRE(MustSearch(*c, "Berlin", {.k = 5})[0].id == "p2");
}

TEST_CASE("chunking errors, and unchunked collections are unchanged", "[passages]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto code = [](const auto& r) { return r.status().code(); };
  REQUIRE(code(db->CreateCollection("x", {.chunking = "words"})) ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(code(db->CreateCollection("x", {.embedder = "vectors dim=2", .chunking = "chars"})) ==
          absl::StatusCode::kInvalidArgument);
  auto chunked = MakeCollection(*db, "chunked", {.chunking = "tokens size=8 overlap=2"});
  // U+3000 IDEOGRAPHIC SPACE is white space too.
  REQUIRE(chunked->Insert({.text = "\u3000\u3000"}).status().code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(chunked->Insert({.id = "a", .text = "alpha beta gamma delta epsilon zeta eta theta iota kappa"})
              .ok());
  REQUIRE(chunked->Info().passages == 2);
  // Generated ids skip ids in use.
  REQUIRE(chunked->Insert({.id = "4", .text = "user chosen id"}).ok());
  absl::StatusOr<std::string> generated = chunked->Insert({.text = "generated id text"});
  REQUIRE(generated.ok());
  REQUIRE(*generated != "4");
  REQUIRE(chunked->Get(*generated).value().text == "generated id text");
  REQUIRE(code(chunked->Search("alpha", {.neighbors = kMaxNeighbors + 1})) ==
          absl::StatusCode::kInvalidArgument);

  // Unchunked: passage options change nothing, hits carry no passage.
  auto plain = MakeCollection(*db, "plain", {});
  REQUIRE(plain->Info().chunking == "none");
  REQUIRE(plain->InsertBatch({{.id = "1", .text = "cats and dogs"}, {.id = "2", .text = "dogs bark"}})
              .ok());
  REQUIRE(plain->Info().passages == 2);
  std::vector<Hit> hits =
      MustSearch(*plain, "dogs", {.k = 2, .one_per_parent = true, .neighbors = 3, .include_parent = true});
  REQUIRE(hits.size() == 2);
  for (const Hit& h : hits) {
    REQUIRE_FALSE(h.passage.has_value());
    REQUIRE(h.neighbors.empty());
    REQUIRE_FALSE(h.parent_text.has_value());
  }
  REQUIRE_FALSE(plain->Stats().ToJson().contains("passages"));
}

TEST_CASE("records of unchunked collections encode as before", "[passages][storage]") {
  CollectionRecord c{7, "news", "tfidf", "flat", 3, 64, 1000, 1700000000};
  REQUIRE(c.Encode().find("chunking") == std::string::npos);
  c.chunking = "chars overlap=200 size=1000";
  REQUIRE(CollectionRecord::Decode(c.Encode())->chunking == c.chunking);
  // An old record has no chunking: none.
  REQUIRE(CollectionRecord::Decode(
              R"({"id":1,"name":"a","embedder":"tfidf","index":"flat","generation":0,)"
              R"("dimension":0,"fitted_docs":0,"created":0})")
              ->chunking == "none");
  Counters k{12, 99, 5, 1234, 56};
  REQUIRE(k.Encode() == "\x0c\x63\x05\xd2\x09\x38");  // five varints, as before
  k.documents = 3;
  REQUIRE(Counters::Decode(k.Encode())->documents == 3);

  DocumentRecord passage{PassageId("doc", 2), "text", PassageLocation{"doc", 2, 5, 10, 14}};
  absl::StatusOr<DocumentRecord> decoded = DocumentRecord::Decode(passage.Encode());
  REQUIRE(decoded.ok());
  REQUIRE(decoded->id == std::string("doc\x1f" "2"));
  REQUIRE(decoded->passage == passage.passage);
  const std::string bytes = passage.Encode();
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    REQUIRE(DocumentRecord::Decode(bytes.substr(0, cut)).status().code() ==
            absl::StatusCode::kDataLoss);
  }
  ParentRecord parent{"{\"a\":1}", {5, 6, 300}};
  REQUIRE(ParentRecord::Decode(parent.Encode())->passage_labels == parent.passage_labels);
  REQUIRE(ParentRecord::Decode("\x01\x00\xff").status().code() == absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace semdb
