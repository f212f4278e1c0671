// Options that reach the embedders: the word-vector cache folder, and the
// threads of their parallel loops.
#include <filesystem>
#include <fstream>
#include <thread>

#include "catch2/catch.hpp"
#include "semdb/database.h"
#include "test_data.h"
#include "test_database.h"

namespace semdb {
namespace {

using testing::SharedData;
using testing::TempDir;

// The caches in `dir` (recursively), by file name.
std::vector<std::string> CacheFiles(const std::string& dir) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.path().extension() == ".wvcache") out.push_back(e.path().filename().string());
  }
  return out;
}

TEST_CASE("Options::cache_dir holds the word-vector caches", "[options]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/test_glove.txt");
  TempDir dir, home, cache;
  // Neither $HOME nor $XDG_CACHE_HOME may receive the cache.
  const std::string saved_home = std::getenv("HOME") ? std::getenv("HOME") : "";
  setenv("HOME", home.path().c_str(), 1);
  unsetenv("XDG_CACHE_HOME");
  {
    std::unique_ptr<Database> db =
        testing::OpenDb(dir / "db", {.cache_dir = cache / "vectors"});
    absl::StatusOr<std::shared_ptr<Collection>> c = db->CreateCollection(
        "g", {.embedder = "glove path=" + SharedData("gensim/test_glove.txt")});
    INFO(c.status());
    REQUIRE(c.ok());
    REQUIRE((*c)->Insert({.text = "the king and the queen"}).ok());
  }
  setenv("HOME", saved_home.c_str(), 1);
  CHECK(CacheFiles(cache / "vectors").size() == 1);
  CHECK(CacheFiles(home.path()).empty());
  CHECK(CacheFiles(dir / "db").empty());
}

TEST_CASE("without Options::cache_dir the caches go to the database's cache folder",
          "[options]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/test_glove.txt");
  TempDir dir;
  std::unique_ptr<Database> db = testing::OpenDb(dir / "db");
  REQUIRE(db->CreateCollection(
                "g", {.embedder = "glove path=" + SharedData("gensim/test_glove.txt")})
              .ok());
  CHECK(CacheFiles(dir / "db/cache").size() == 1);
}

TEST_CASE("Options::threads: a bad count is refused, any count gives the same results",
          "[options][thread_pool]") {
  TempDir dir;
  for (int bad : {-1, 100000}) {
    absl::StatusOr<std::unique_ptr<Database>> db =
        Database::Open(dir / ("bad" + std::to_string(bad)), {.threads = bad});
    INFO(db.status());
    CHECK(absl::IsInvalidArgument(db.status()));
    CHECK_THAT(std::string(db.status().message()), Catch::Contains("threads must be 0"));
  }
  // Enough documents that the TF-IDF fit and the embedding split their
  // loops (ParallelFor), on a pool of one thread and on one of three.
  std::vector<Document> docs;
  for (int i = 0; i < 600; ++i) {
    docs.push_back({.id = std::to_string(i),
                    .text = "report " + std::to_string(i % 50) + " on fires near town " +
                            std::to_string(i % 13) + " and floods by river " +
                            std::to_string(i % 7)});
  }
  std::vector<std::vector<Hit>> answers;
  for (int threads : {1, 3}) {
    std::unique_ptr<Database> db =
        testing::OpenDb(dir / ("db" + std::to_string(threads)), {.threads = threads});
    absl::StatusOr<std::shared_ptr<Collection>> c =
        db->CreateCollection("c", {.embedder = "tfidf dim=32"});
    REQUIRE(c.ok());
    REQUIRE((*c)->InsertBatch(docs).ok());
    absl::StatusOr<std::vector<Hit>> hits = (*c)->Search("fires near town 3", {.k = 10});
    REQUIRE(hits.ok());
    REQUIRE(hits->size() == 10);
    answers.push_back(*std::move(hits));
  }
  // (Documents tie on this query, so the ids of equal scores may come in
  // either order; the scores may not differ.)
  for (size_t i = 0; i < answers[0].size(); ++i) {
    CHECK(answers[0][i].score == Approx(answers[1][i].score).margin(1e-5));
  }
}

// The threads of this process named "semdb-pool" (the pools' workers).
int PoolThreads() {
  int n = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    n += name == "semdb-pool";
  }
  return n;
}

TEST_CASE("Options::threads sizes the database's pool, which closes with it",
          "[options][thread_pool]") {
  TempDir dir;
  const int before = PoolThreads();
  {
    std::unique_ptr<Database> db = testing::OpenDb(dir / "five", {.threads = 5});
    // The caller runs ranges too: five threads are four workers.
    CHECK(PoolThreads() == before + 4);
    absl::StatusOr<std::shared_ptr<Collection>> c =
        db->CreateCollection("c", {.embedder = "tfidf dim=8"});
    REQUIRE(c.ok());
    CHECK((*c)->Stats().threads == 5);
    CHECK((*c)->Stats().ToJson()["threads"] == 5);
  }
  CHECK(PoolThreads() == before);
  std::unique_ptr<Database> db = testing::OpenDb(dir / "default");
  absl::StatusOr<std::shared_ptr<Collection>> c =
      db->CreateCollection("c", {.embedder = "tfidf dim=8"});
  REQUIRE(c.ok());
  CHECK((*c)->Stats().threads ==
        std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
}

}  // namespace
}  // namespace semdb
