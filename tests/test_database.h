// Opening databases and creating collections in tests: the step must
// succeed, and a failure shows the status message.
#ifndef SEMDB_TESTS_TEST_DATABASE_H_
#define SEMDB_TESTS_TEST_DATABASE_H_

#include <memory>
#include <string>

#include "catch2/catch.hpp"
#include "semdb/database.h"

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

}  // namespace semdb::testing

#endif  // SEMDB_TESTS_TEST_DATABASE_H_
