// Opening databases and creating collections in tests: the step must
// succeed, and a failure shows the status message. Also the Lee corpus as
// documents, and the ids of hits.
#ifndef SEMDB_TESTS_TEST_DATABASE_H_
#define SEMDB_TESTS_TEST_DATABASE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "semdb/database.h"
#include "test_data.h"

namespace semdb::testing {

inline std::unique_ptr<Database> OpenDb(const std::string& path, Options options = {}) {
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(path, options);
  INFO(db.status().message());
  REQUIRE(db.ok());
  return *std::move(db);
}

inline std::shared_ptr<Collection> MakeCollection(Database& db, const std::string& name,
                                                  CollectionSpec spec = {}) {
  absl::StatusOr<std::shared_ptr<Collection>> c = db.CreateCollection(name, spec);
  INFO(c.status().message());
  REQUIRE(c.ok());
  return *c;
}

// The Lee corpus (shared data; a visible skip without it): article i
// (1-based) as document "lee-i" with the metadata metadata(i); the first
// `limit` articles, or all with -1.
inline std::vector<Document> LeeDocuments(
    const std::function<nlohmann::json(int line)>& metadata, int limit = -1) {
  std::vector<Document> docs;
  for (const std::string& text : ReadLines(SharedData("gensim/lee_background.cor"))) {
    if (static_cast<int>(docs.size()) == limit) break;
    const int line = static_cast<int>(docs.size()) + 1;
    docs.push_back({.id = "lee-" + std::to_string(line), .text = text, .metadata = metadata(line)});
  }
  return docs;
}

// The ids of `hits`, in order.
inline std::vector<std::string> HitIds(const std::vector<Hit>& hits) {
  std::vector<std::string> ids;
  for (const Hit& h : hits) ids.push_back(h.id);
  return ids;
}

}  // namespace semdb::testing

#endif  // SEMDB_TESTS_TEST_DATABASE_H_
