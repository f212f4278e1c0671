// Options that reach the embedders: the word-vector cache folder.
#include <filesystem>

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

}  // namespace
}  // namespace semdb
