// The library API end to end on real RocksDB, FAISS and the TF-IDF
// embedder: documents, search, reopen, refit, deletes and bad input.
#include "semdb/database.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "index/index_factory.h"
#include "semdb/import.h"
#include "src/index_files.h"
#include "test_data.h"
#include "test_database.h"

namespace semdb {
namespace {

using testing::HitIds;
using testing::MakeCollection;
using testing::OpenDb;
using testing::TempDir;

std::vector<Document> LeeDocuments() {
  return testing::LeeDocuments([](int line) -> nlohmann::json {
    return {{"line", line}, {"half", line <= 150 ? "first" : "second"}};
  });
}


std::vector<Hit> MustSearch(const Collection& c, std::string_view query, SearchOptions o = {}) {
  absl::StatusOr<std::vector<Hit>> hits = c.Search(query, o);
  INFO(hits.status().message());
  REQUIRE(hits.ok());
  return *std::move(hits);
}

TEST_CASE("a bushfire query finds the bushfire articles, and survives a reopen", "[database]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  std::vector<Hit> before;
  {
    auto db = OpenDb(dir.path());
    auto lee = MakeCollection(*db, "lee");
    REQUIRE(lee->InsertBatch(LeeDocuments()).ok());
    REQUIRE(lee->Count() == 300);
    before = MustSearch(*lee, "bushfires", {.k = 10});
    REQUIRE(before.size() == 10);
    // The top hits are about fires.
    int about_fire = 0;
    for (int i = 0; i < 5; ++i) {
      if (before[i].text.find("fire") != std::string::npos) ++about_fire;
    }
    INFO(before[0].text);
    REQUIRE(about_fire >= 4);
    REQUIRE(before[0].score > before[9].score);
    REQUIRE(before[0].metadata.contains("line"));
  }
  auto db = OpenDb(dir.path());
  absl::StatusOr<std::shared_ptr<Collection>> lee = db->GetCollection("lee");
  REQUIRE(lee.ok());
  REQUIRE((*lee)->Count() == 300);
  // A flat index is built from the stored vectors, not saved (index_files.h).
  REQUIRE((*lee)->Stats().index_origin ==
          "rebuilt from 300 stored vectors (a flat index is built at open)");
  REQUIRE(std::filesystem::is_empty(dir / "indexes"));
  std::vector<Hit> after =
      MustSearch(**lee, "bushfires", {.k = 10});
  REQUIRE(HitIds(after) == HitIds(before));
  for (size_t i = 0; i < after.size(); ++i) REQUIRE(after[i].score == before[i].score);
}

TEST_CASE("get, upsert and delete change what search returns", "[database]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(*db, "notes");
  REQUIRE(c->InsertBatch({{.id = "a", .text = "the cat sat on the warm mat"},
                          {.id = "b", .text = "dogs chase cats around the garden"},
                          {.id = "c", .text = "stock markets fell sharply on monday"},
                          {.id = "d", .text = "investors sold shares as markets dropped"}})
              .ok());
  absl::StatusOr<Document> a = c->Get("a");
  REQUIRE(a.ok());
  REQUIRE(a->text == "the cat sat on the warm mat");
  REQUIRE(a->stats.tokens > 0);

  REQUIRE(MustSearch(*c, "markets", {.k = 1})[0].id != "a");
  // Insert refuses an existing id and writes nothing of the batch.
  absl::StatusOr<std::vector<std::string>> dup =
      c->InsertBatch({{.id = "e", .text = "new"}, {.id = "a", .text = "again"}});
  REQUIRE(dup.status().code() == absl::StatusCode::kAlreadyExists);
  REQUIRE(c->Get("e").status().code() == absl::StatusCode::kNotFound);
  REQUIRE(c->Count() == 4);

  // Upsert replaces the text and metadata.
  REQUIRE(c->Upsert({.id = "a", .text = "markets rallied and shares rose",
                     .metadata = {{"v", 2}}}).ok());
  REQUIRE(c->Count() == 4);
  REQUIRE(c->Get("a")->metadata["v"] == 2);
  std::vector<Hit> markets = MustSearch(*c, "markets shares", {.k = 4});
  REQUIRE(std::find(HitIds(markets).begin(), HitIds(markets).end(), "a") != HitIds(markets).end());

  REQUIRE(c->Delete("c").ok());
  REQUIRE(c->Delete("c").code() == absl::StatusCode::kNotFound);
  REQUIRE(c->Count() == 3);
  for (const Hit& h : MustSearch(*c, "markets fell sharply", {.k = 10})) REQUIRE(h.id != "c");
  REQUIRE(c->Get("c").status().code() == absl::StatusCode::kNotFound);

  // Generated ids are unique and skip ids the user took.
  REQUIRE(c->Insert({.id = "6", .text = "a user chose the id six"}).ok());
  absl::StatusOr<std::vector<std::string>> ids =
      c->InsertBatch({{.text = "generated one"}, {.text = "generated two"}});
  REQUIRE(ids.ok());
  REQUIRE((*ids)[0] != (*ids)[1]);
  REQUIRE((*ids)[0] != "6");
  REQUIRE((*ids)[1] != "6");
  REQUIRE(c->Get((*ids)[1])->text == "generated two");
}

TEST_CASE("filtered search returns k matching hits whenever k exist", "[database][filter]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto lee = MakeCollection(*db, "lee");
  REQUIRE(lee->InsertBatch(LeeDocuments()).ok());

  auto search = [&](const std::string& filter, int k) {
    absl::StatusOr<Filter> f = Filter::Parse(filter);
    REQUIRE(f.ok());
    return MustSearch(*lee, "government minister says", {.k = k, .filter = *f});
  };
  std::vector<Hit> ranged = search("line >= 100 AND line < 110", 10);
  REQUIRE(ranged.size() == 10);
  for (const Hit& h : ranged) {
    REQUIRE(h.metadata["line"] >= 100);
    REQUIRE(h.metadata["line"] < 110);
  }
  REQUIRE(search("line >= 100 AND line < 110", 50).size() == 10);
  std::vector<Hit> either = search("line = 3 OR line = 250 OR half = 'nothing'", 5);
  REQUIRE(either.size() == 2);
  for (const Hit& h : search("half = 'second' AND NOT line > 160", 20)) {
    REQUIRE(h.metadata["line"] >= 151);
    REQUIRE(h.metadata["line"] <= 160);
  }
  REQUIRE(search("line IN (1, 2, 3)", 10).size() == 3);
  REQUIRE(search("missing_field = 1", 10).empty());
  REQUIRE(search("missing_field EXISTS", 10).empty());
  // Vector scores (cosines) of a filtered search equal those of the
  // unfiltered one. (Fused scores are normalized over each ranking, so they
  // depend on what the filter lets through.)
  absl::StatusOr<Filter> range = Filter::Parse("line >= 100 AND line < 110");
  std::vector<Hit> vector_ranged =
      MustSearch(*lee, "government minister says", {.k = 10, .filter = *range, .hybrid = 0});
  std::vector<Hit> all = MustSearch(*lee, "government minister says", {.k = 300, .hybrid = 0});
  for (const Hit& h : vector_ranged) {
    auto it = std::find_if(all.begin(), all.end(), [&](const Hit& x) { return x.id == h.id; });
    REQUIRE(it != all.end());
    REQUIRE(it->score == h.score);
  }
}

TEST_CASE("collections of caller-supplied vectors", "[database]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto v = MakeCollection(*db, "vecs", {.embedder = "vectors dim=3", .index = "flat"});
  REQUIRE(v->InsertBatch({{.id = "x", .text = "x axis", .vector = {2, 0, 0}},
                          {.id = "y", .vector = {0, 5, 0}},
                          {.id = "xy", .vector = {1, 1, 0}}})
              .ok());
  float query[] = {1, 0.1f, 0};
  absl::StatusOr<std::vector<Hit>> hits = v->SearchVector(query, {.k = 3});
  REQUIRE(hits.ok());
  REQUIRE(HitIds(*hits) == std::vector<std::string>{"x", "xy", "y"});
  REQUIRE((*hits)[0].score == Approx(1 / std::sqrt(1.01)).epsilon(1e-5));
  REQUIRE(v->Get("y")->vector == std::vector<float>{0, 1, 0});  // stored normalized

  auto code = [](const absl::Status& s) { return s.code(); };
  REQUIRE(code(v->Insert({.id = "bad", .vector = {1, 2}}).status()) ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(code(v->Insert({.id = "nan", .vector = {NAN, 0, 0}}).status()) ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(code(v->Insert({.id = "inf", .vector = {INFINITY, 0, 0}}).status()) ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(code(v->Insert({.id = "zero", .vector = {0, 0, 0}}).status()) ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(code(v->Insert({.id = "none", .text = "no vector"}).status()) ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(code(v->Search("text query").status()) == absl::StatusCode::kFailedPrecondition);
  float wrong[] = {1, 2};
  REQUIRE(code(v->SearchVector(wrong).status()) == absl::StatusCode::kInvalidArgument);
  float nan_query[] = {NAN, 1, 1};
  REQUIRE(code(v->SearchVector(nan_query).status()) == absl::StatusCode::kInvalidArgument);
  REQUIRE(v->Count() == 3);

  // A text collection takes a caller's vector only when it is its model's
  // (document_operations_test): before its first fit none can be checked.
  auto t = MakeCollection(*db, "texts");
  REQUIRE(code(t->Insert({.text = "hello world", .vector = {1, 2, 3}}).status()) ==
          absl::StatusCode::kFailedPrecondition);
}

// Bytes of the files in `dir` whose extension is `ext`.
uintmax_t BytesOf(const std::filesystem::path& dir, const std::string& ext) {
  uintmax_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ext) total += e.file_size();
  }
  return total;
}

TEST_CASE("a clean close leaves no log to replay, and refits drop replaced vectors from disk",
          "[database][storage]") {
  TempDir dir;
  std::vector<Document> docs;
  for (int i = 0; i < 400; ++i) {
    docs.push_back({.id = "d" + std::to_string(i),
                    .text = "document " + std::to_string(i) + " about topic " +
                            std::to_string(i % 17) + " and subject " + std::to_string(i % 5)});
  }
  {
    auto db = OpenDb(dir.path());
    auto c = MakeCollection(*db, "c", {.embedder = "tfidf lsa=true dim=32", .index = "flat"});
    REQUIRE(c->InsertBatch(docs).ok());
    // Refit repeatedly: without reclaiming, each model generation's vectors
    // would stay in the table files until some later compaction.
    for (int i = 0; i < 6; ++i) REQUIRE(c->Refit().ok());
    const uintmax_t tables = BytesOf(dir / "store", ".sst");
    // 400 vectors of 32 floats are 51 KB; seven generations 358 KB.
    REQUIRE(tables < 300 * 1024);
  }
  REQUIRE(BytesOf(dir / "store", ".log") == 0);
  auto db = OpenDb(dir.path());
  REQUIRE((*db->GetCollection("c"))->Count() == 400);
}

TEST_CASE("a close after writes past the memtable budget leaves no WAL file, in each of 10 runs",
          "[database][storage][reopen]") {
  // 24 MB of vectors, past the 16 MiB memtable budget: RocksDB flushes
  // families while the writes go on, as in a text import, where closes
  // used to leave the WAL files of those writes (store.cc, RetireWalFiles).
  constexpr int kRows = 24000, kDim = 256;
  std::vector<Document> docs;
  for (int i = 0; i < kRows; ++i) {
    std::vector<float> v(kDim);
    for (int j = 0; j < kDim; ++j) v[j] = std::sin(i * 0.37f + j * 1.3f);
    docs.push_back({.id = std::to_string(i), .vector = std::move(v)});
  }
  for (int run = 0; run < 10; ++run) {
    INFO("run " << run);
    TempDir dir;
    {
      auto db = OpenDb(dir.path());
      auto c = MakeCollection(*db, "v", {.embedder = "vectors dim=256"});
      REQUIRE(c->InsertBatch(docs).ok());
    }
    for (const auto& e : std::filesystem::directory_iterator(dir / "store")) {
      INFO(e.path());
      if (e.path().extension() == ".log") REQUIRE(e.file_size() <= 4096);
    }
    REQUIRE((*OpenDb(dir.path())->GetCollection("v"))->Count() == kRows);
  }
}

TEST_CASE("refit makes a new model version and keeps search working", "[database][refit]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto lee = MakeCollection(*db, "lee", {.embedder = "tfidf dim=64"});
  std::vector<Document> docs = LeeDocuments();
  // Fits at 10, 20, 40, 80 and 160 documents: doubling. 300 < 2 x 160.
  std::vector<uint32_t> versions;
  size_t inserted = 0;
  for (size_t n : {10, 10, 20, 40, 80, 140}) {
    std::vector<Document> batch(docs.begin() + inserted, docs.begin() + inserted + n);
    inserted += n;
    REQUIRE(lee->InsertBatch(std::move(batch)).ok());
    versions.push_back(lee->Info().model_version);
  }
  REQUIRE(versions == std::vector<uint32_t>{1, 2, 3, 4, 5, 5});
  REQUIRE(lee->Stats().fitted_documents == 160);
  REQUIRE(lee->Stats().next_refit_at == 320);
  REQUIRE(lee->Refit().ok());
  REQUIRE(lee->Info().model_version == 6);
  REQUIRE(lee->Stats().fitted_documents == 300);
  REQUIRE(lee->Info().dimension == 64);
  std::vector<Hit> before = MustSearch(*lee, "cricket test match", {.k = 5});
  REQUIRE(lee->Refit().ok());
  REQUIRE(lee->Info().model_version == 7);
  // Same corpus, same deterministic fit: same answers.
  std::vector<Hit> after = MustSearch(*lee, "cricket test match", {.k = 5});
  REQUIRE(HitIds(after) == HitIds(before));

  // The vectors collection has nothing to refit.
  auto v = MakeCollection(*db, "v", {.embedder = "vectors dim=2"});
  REQUIRE(v->Refit().code() == absl::StatusCode::kFailedPrecondition);
}

// Runs `body` in a child process. The body ends with _exit so that no
// destructor runs (no index save at close): what a crash leaves behind.
//
// abseil's run-time deadlock detection (on in Debian's build) takes one
// global lock in Mutex operations; a parent thread holding it at the fork
// would leave the child's first lock spinning forever (seen once: a child
// stuck in Store::~Store). It is a debug aid (lock order is checked at
// compile time), so it is turned off before forking.
void InCrashingChild(const std::function<void()>& body) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    body();
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

// In a crashing child: opens the database at `dir`, inserts Lee articles
// 201-250 into collection "lee" (which holds the first 200), deletes
// lee-1 and replaces lee-2's text, each write synced: 53 logged operations
// (the upsert is a removal and an add).
void CrashAfterLeeWrites(const std::string& dir, const std::vector<Document>& docs) {
  InCrashingChild([&] {
    auto db = Database::Open(dir);
    if (!db.ok()) _exit(3);
    auto lee = (*db)->GetCollection("lee");
    for (int i = 200; i < 250; ++i) {
      if (!(*lee)->Insert(docs[i], {.sync = true}).ok()) _exit(4);
    }
    if (!(*lee)->Delete("lee-1", {.sync = true}).ok()) _exit(5);
    if (!(*lee)->Upsert({.id = "lee-2", .text = "replaced text about cricket"},
                        {.sync = true}).ok()) {
      _exit(6);
    }
    _exit(0);
  });
}

TEST_CASE("reopen catches the saved index up from the log, or rebuilds it", "[database][reopen]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  std::vector<Document> docs = LeeDocuments();
  {
    auto db = OpenDb(dir.path());
    // HNSW: flat indexes are not saved (the test below).
    auto lee = MakeCollection(*db, "lee", {.index = "hnsw"});
    REQUIRE(lee->InsertBatch({docs.begin(), docs.begin() + 200}).ok());
  }  // clean close: index saved
  CrashAfterLeeWrites(dir.path(), docs);
  {
    auto db = OpenDb(dir.path());
    auto lee = *db->GetCollection("lee");
    REQUIRE(lee->Count() == 249);
    const std::string origin = lee->Stats().index_origin;
    INFO(origin);
    REQUIRE(origin == "loaded from its saved file, 53 logged operations replayed");
    REQUIRE(lee->Get("lee-1").status().code() == absl::StatusCode::kNotFound);
    REQUIRE(lee->Get("lee-2")->text == "replaced text about cricket");
    for (const Hit& h : MustSearch(*lee, docs[0].text, {.k = 300})) REQUIRE(h.id != "lee-1");
    REQUIRE(MustSearch(*lee, docs[220].text, {.k = 1})[0].id == "lee-221");
  }
  // A corrupted saved index is detected by its checksum and rebuilt.
  for (const auto& e : std::filesystem::directory_iterator(dir / "indexes")) {
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('\x5a');
  }
  {
    auto db = OpenDb(dir.path());
    auto lee = *db->GetCollection("lee");
    const std::string origin = lee->Stats().index_origin;
    INFO(origin);
    REQUIRE(origin.starts_with("rebuilt from 249 stored vectors"));
    REQUIRE(origin.find("checksum") != std::string::npos);
    REQUIRE(MustSearch(*lee, docs[220].text, {.k = 1})[0].id == "lee-221");
  }
  // A missing one too.
  std::filesystem::remove_all(dir / "indexes");
  std::filesystem::create_directory(dir / "indexes");
  auto db = OpenDb(dir.path());
  auto lee = *db->GetCollection("lee");
  REQUIRE(lee->Stats().index_origin.starts_with("rebuilt from 249"));
}

TEST_CASE("index_files: a flat index is never saved: open builds it from the stored vectors, "
          "after a crash too, and removes a file an older version saved",
          "[database][reopen]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  std::vector<Document> docs = LeeDocuments();
  {
    auto db = OpenDb(dir.path());
    auto lee = MakeCollection(*db, "lee");  // flat, the default
    REQUIRE(lee->InsertBatch({docs.begin(), docs.begin() + 200}).ok());
  }
  REQUIRE(std::filesystem::is_empty(dir / "indexes"));
  CrashAfterLeeWrites(dir.path(), docs);
  const std::string built = "rebuilt from 249 stored vectors (a flat index is built at open)";
  std::vector<Hit> before;
  uint32_t model_version = 0;
  int dimension = 0;
  {
    auto db = OpenDb(dir.path());
    auto lee = *db->GetCollection("lee");
    REQUIRE(lee->Stats().index_origin == built);
    for (const Hit& h : MustSearch(*lee, docs[0].text, {.k = 300})) REQUIRE(h.id != "lee-1");
    REQUIRE(MustSearch(*lee, docs[220].text, {.k = 1})[0].id == "lee-221");
    before = MustSearch(*lee, "bushfires", {.k = 10});
    model_version = lee->Info().model_version;
    dimension = lee->Info().dimension;
  }
  REQUIRE(std::filesystem::is_empty(dir / "indexes"));
  // What an older version left: the flat index saved as a file (here an
  // empty one, which would be refused if it were read) of collection 1,
  // the database's first.
  std::unique_ptr<VectorIndex> flat = CreateVectorIndex(Spec{"flat", {}}, dimension).value();
  REQUIRE(SaveIndex(*flat, dir / "indexes", 1, model_version, 251).ok());
  REQUIRE(!std::filesystem::is_empty(dir / "indexes"));
  auto db = OpenDb(dir.path());
  auto lee = *db->GetCollection("lee");
  REQUIRE(lee->Stats().index_origin == built);
  REQUIRE(std::filesystem::is_empty(dir / "indexes"));
  const std::vector<Hit> after = MustSearch(*lee, "bushfires", {.k = 10});
  REQUIRE(HitIds(after) == HitIds(before));
  for (size_t i = 0; i < after.size(); ++i) REQUIRE(after[i].score == before[i].score);
}

// Bytes in RocksDB's write-ahead log files: what the next open replays.
uint64_t WalBytes(const std::filesystem::path& db_dir) {
  uint64_t bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(db_dir / "store")) {
    if (e.path().extension() == ".log") bytes += e.file_size();
  }
  return bytes;
}

constexpr int kImportRows = 600, kImportDim = 16;

std::vector<float> ImportVector(int i) {
  std::vector<float> v(kImportDim);
  for (int j = 0; j < kImportDim; ++j) v[j] = std::sin(i * 0.37f + j * 1.3f) + (j == i % kImportDim);
  return v;
}

// Hidden: run only by the test below, in a fresh process (this binary
// re-executed: RocksDB's background threads, which a flush needs, do not
// survive a fork). Writes collection "w" through InsertBatch alone (its
// index is never saved), imports SEMDB_IMPORT_FILE into collection "v",
// then kills itself: what a crash right after an import leaves.
TEST_CASE("importing writer", "[.]") {
  const char* dir = getenv("SEMDB_IMPORT_DIR");
  if (dir == nullptr) return;
  auto db = Database::Open(dir);
  if (!db.ok()) _exit(3);
  const CollectionSpec spec{.embedder = "vectors dim=16", .index = "hnsw"};
  auto w = (*db)->CreateCollection("w", spec);
  if (!w.ok()) _exit(4);
  std::vector<Document> docs;
  for (int i = 0; i < kImportRows; ++i) docs.push_back({.id = std::to_string(i), .vector = ImportVector(i)});
  if (!(*w)->InsertBatch(std::move(docs)).ok()) _exit(5);
  auto v = (*db)->CreateCollection("v", spec);
  if (!v.ok()) _exit(6);
  absl::StatusOr<ImportReport> r = ImportPath(**v, getenv("SEMDB_IMPORT_FILE"), {.batch_size = 100});
  if (!r.ok() || r->documents != kImportRows || !r->problems.empty()) _exit(7);
  kill(getpid(), SIGKILL);
}

TEST_CASE("the first reopen after an import replays nothing, even after a crash",
          "[database][reopen]") {
  TempDir dir;
  // An exported-shape JSON Lines file (semdb/export.h) of the vectors.
  const std::string file = dir / "vectors.jsonl";
  {
    std::ofstream out(file);
    for (int i = 0; i < kImportRows; ++i) {
      out << nlohmann::json{{"id", std::to_string(i)}, {"text", ""}, {"metadata", {{"i", i}}},
                            {"vector", ImportVector(i)}}
                 .dump()
          << "\n";
    }
  }
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    setenv("SEMDB_IMPORT_DIR", (dir / "db").c_str(), 1);
    setenv("SEMDB_IMPORT_FILE", file.c_str(), 1);
    const char* argv[] = {"database_test", "importing writer", nullptr};
    execv("/proc/self/exe", const_cast<char**>(argv));
    _exit(127);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  INFO("exit status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);

  // Nothing for RocksDB to replay, nothing for the index log either.
  REQUIRE(WalBytes(dir / "db") == 0);
  auto db = OpenDb(dir / "db");
  auto v = *db->GetCollection("v");
  REQUIRE(v->Count() == kImportRows);
  REQUIRE(v->Stats().index_origin == "loaded from its saved file, 0 logged operations replayed");
  // The collection written by InsertBatch alone replays its whole log.
  auto w = *db->GetCollection("w");
  REQUIRE(w->Count() == kImportRows);
  REQUIRE(w->Stats().index_origin == "loaded from its saved file, 600 logged operations replayed");
  // The loaded index answers: imported vectors find themselves.
  for (int i = 0; i < kImportRows; i += 37) {
    absl::StatusOr<std::vector<Hit>> hits = v->SearchVector(ImportVector(i), {.k = 1});
    REQUIRE(hits.ok());
    REQUIRE(hits->at(0).id == std::to_string(i));
  }
}

TEST_CASE("a second open of the same database is refused as locked", "[database]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  absl::StatusOr<std::unique_ptr<Database>> second = Database::Open(dir.path());
  REQUIRE(second.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(std::string(second.status().message()).find("locked") != std::string::npos);
  // From another process too.
  InCrashingChild([&] {
    absl::StatusOr<std::unique_ptr<Database>> other = Database::Open(dir.path());
    _exit(other.status().code() == absl::StatusCode::kFailedPrecondition ? 0 : 7);
  });
}

TEST_CASE("collections: create, list, drop, names and specs", "[database]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto code = [](const auto& r) { return r.status().code(); };
  REQUIRE(code(db->CreateCollection("bad name")) == absl::StatusCode::kInvalidArgument);
  REQUIRE(code(db->CreateCollection("")) == absl::StatusCode::kInvalidArgument);
  REQUIRE(code(db->CreateCollection(std::string(65, 'x'))) == absl::StatusCode::kInvalidArgument);
  REQUIRE(code(db->CreateCollection("x", {.embedder = "nosuch"})) ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(code(db->CreateCollection("x", {.embedder = "tfidf dim=abc"})) ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(code(db->CreateCollection("x", {.index = "nosuch"})) ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(code(db->CreateCollection("x", {.embedder = "vectors"})) ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(db->ListCollections().empty());

  auto a = MakeCollection(*db, "a");
  REQUIRE(a->Info().embedder == "tfidf");
  REQUIRE(code(db->CreateCollection("a")) == absl::StatusCode::kAlreadyExists);
  REQUIRE(a->Insert({.id = "1", .text = "some words to search"}).ok());
  MakeCollection(*db, "b", {.embedder = "tfidf dim=32"});
  REQUIRE(db->ListCollections().size() == 2);
  REQUIRE(db->GetCollection("b").value()->Info().embedder == "tfidf dim=32");

  REQUIRE(db->DropCollection("a").ok());
  REQUIRE(code(db->GetCollection("a")) == absl::StatusCode::kNotFound);
  REQUIRE(db->DropCollection("a").code() == absl::StatusCode::kNotFound);
  // The old handle is inert, not dangling.
  REQUIRE(code(a->Get("1")) == absl::StatusCode::kNotFound);
  REQUIRE(code(a->Search("words")) == absl::StatusCode::kNotFound);
  // Recreated under the same name, it is empty.
  auto again = MakeCollection(*db, "a");
  REQUIRE(again->Count() == 0);
  REQUIRE(code(again->Get("1")) == absl::StatusCode::kNotFound);
}

TEST_CASE("collection handles used after their database closed report it", "[database][lifetime]") {
  TempDir dir;
  std::shared_ptr<Collection> text, passages, vectors;
  {
    auto db = OpenDb(dir.path());
    text = MakeCollection(*db, "text");
    passages = MakeCollection(*db, "passages", {.chunking = "sentences"});
    vectors = MakeCollection(*db, "vectors", {.embedder = "vectors dim=2"});
    REQUIRE(text->Insert({.id = "a", .text = "fires near the city"}).ok());
    REQUIRE(passages->Insert({.id = "p", .text = "One sentence. And another one."}).ok());
    REQUIRE(vectors->Insert({.id = "v", .vector = {1, 0}}).ok());
  }
  auto closed = [&](const absl::Status& s) {
    INFO(s.ToString());
    REQUIRE(s.code() == absl::StatusCode::kFailedPrecondition);
    REQUIRE(std::string(s.message()) == "database '" + dir.path() + "' is closed");
  };
  // A document each collection would accept.
  auto valid = [&](const Collection& c, const std::string& id) {
    return c.name() == "vectors" ? Document{.id = id, .vector = {0, 1}}
                                 : Document{.id = id, .text = "more words"};
  };
  for (const std::shared_ptr<Collection>& c : {text, passages, vectors}) {
    closed(c->Get("a").status());
    closed(c->Insert(valid(*c, "b")).status());
    closed(c->Upsert(valid(*c, "a")));
    closed(c->Delete("a"));
    closed(c->DeleteBatch({"a", "p", "v"}).status());
    closed(c->Search("fires").status());
    closed(c->SearchVector(std::vector<float>{1, 0}).status());
    closed(c->Explain("fires").status());
    closed(c->ExplainVector(std::vector<float>{1, 0}).status());
    closed(c->Refit());
    closed(c->Checkpoint());
    closed(c->SetIndex("flat"));
    closed(c->NearestWords("fire", 3).status());
    closed(c->Similarity("fires", "city").status());
    closed(c->GetBatch(std::vector<std::string>{"a", "p", "v"}).status());
    closed(c->List().status());
    closed(c->Count(Filter::Parse("x = 1").value()).status());
    closed(c->DeleteMatching(Filter::Parse("x = 1").value()).status());
    closed(c->UpdateMetadata(std::vector<std::string>{"a"},
                             std::vector<nlohmann::json>{{{"x", 1}}}));
    closed(c->Embed(std::vector<std::string_view>{"fires"}).status());
    REQUIRE(c->Stats().error == "database '" + dir.path() + "' is closed");
    REQUIRE(c->Stats().threads == 0);  // the database's pool is gone
    REQUIRE(c->Count() == 1);
    REQUIRE(c->Info().documents == 1);
  }
  // Nothing was lost or changed, and the database can be opened again.
  auto db = OpenDb(dir.path());
  REQUIRE(db->GetCollection("text").value()->Get("a")->text == "fires near the city");
  REQUIRE(db->GetCollection("passages").value()->Count() == 1);
  REQUIRE(db->GetCollection("vectors").value()->Get("v")->vector == std::vector<float>{1, 0});
}

TEST_CASE("bad documents and queries get clear errors and change nothing", "[database][bad-input]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(*db, "c");
  REQUIRE(c->Insert({.id = "keep", .text = "a document that must survive"}).ok());
  auto message = [](const absl::Status& s) { return std::string(s.message()); };

  absl::Status s = c->Insert({.text = "bad \xC3\x28 bytes"}).status();
  REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(message(s) == "document 1: text: invalid UTF-8 at byte 4");
  REQUIRE(message(c->Insert({.text = "  \n "}).status()) == "document 1: text is empty");
  REQUIRE(c->Insert({.text = "x", .metadata = nlohmann::json::array()}).status().code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(c->Insert({.id = std::string(513, 'i'), .text = "long id"}).status().code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(c->Insert({.id = "bad\nid", .text = "x"}).status().code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(c->InsertBatch({{.id = "d", .text = "one"}, {.id = "d", .text = "two"}})
              .status()
              .code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(c->Upsert({.text = "no id"}).code() == absl::StatusCode::kInvalidArgument);
  std::string huge((64 << 20) + 1, 'a');
  REQUIRE(message(c->Insert({.text = huge}).status()).find("limit is 64 MiB") !=
          std::string::npos);

  REQUIRE(c->Search("").status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(c->Search("document", {.k = 0}).status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(c->Search("document", {.k = kMaxK + 1}).status().code() ==
          absl::StatusCode::kInvalidArgument);
  // Words the model does not know: the keyword answer (here none), not an error.
  REQUIRE(c->Search("zzzyzx qqqwv").value().empty());
  REQUIRE(c->Search("survive \xff").status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(c->Search("document", {.k = 5}).value().size() == 1);

  REQUIRE(c->Count() == 1);
  REQUIRE(c->Get("keep")->text == "a document that must survive");
}

TEST_CASE("an empty collection answers with no hits", "[database]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(*db, "empty");
  REQUIRE(c->Search("anything").value().empty());
  REQUIRE(c->Count() == 0);
  REQUIRE(c->Info().dimension == 0);
  // A blank query is refused as a full collection refuses it, not
  // answered with no hits.
  for (const char* blank : {"", "  \n "}) {
    INFO('"' << blank << '"');
    REQUIRE(c->Search(blank).status() == absl::InvalidArgumentError("the query is empty"));
    REQUIRE(c->Explain(blank).status() == absl::InvalidArgumentError("the query is empty"));
    REQUIRE(c->SearchBatch({std::string(blank)}).status() ==
            absl::InvalidArgumentError("query 1 is empty"));
  }
}

}  // namespace
}  // namespace semdb
