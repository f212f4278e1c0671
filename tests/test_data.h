// Where tests find their data: tests/data in the repository, and the shared
// reference data beside the repository (../shared/data). Tests that need the
// shared data are skipped (ctest shows "Skipped") when it is absent.
#ifndef SEMDB_TESTS_TEST_DATA_H_
#define SEMDB_TESTS_TEST_DATA_H_

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "catch2/catch.hpp"

namespace semdb::testing {

inline std::string SharedData(const std::string& relative) {
  return std::string(SEMDB_SHARED_DATA) + "/" + relative;
}

inline std::string TestData(const std::string& relative) {
  return std::string(SEMDB_TEST_DATA) + "/" + relative;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The non-empty lines of a file.
inline std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// A fresh, empty directory removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "semdb-test-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace semdb::testing

// Skips a test case visibly: prints why and ends the process with exit
// code 77, which ctest reports as a skip (SKIP_RETURN_CODE, tests/
// CMakeLists.txt; ctest runs each case in its own process). Catch2 v2 has
// no skip of its own, and returning would count as a pass.
#define SEMDB_SKIP(message)                                                  \
  do {                                                                       \
    std::cerr << "SKIPPED: " << message << std::endl;                        \
    std::exit(77);                                                           \
  } while (0)

// Skips the test case when the shared reference data is missing.
#define SEMDB_REQUIRE_SHARED_DATA(relative)                                  \
  do {                                                                       \
    if (!std::filesystem::exists(::semdb::testing::SharedData(relative))) {  \
      SEMDB_SKIP("shared data " << (relative) << " not found");              \
    }                                                                        \
  } while (0)

#endif  // SEMDB_TESTS_TEST_DATA_H_
