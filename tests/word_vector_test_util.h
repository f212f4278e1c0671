// Helpers shared by the word-vector tests.
#ifndef SEMDB_TESTS_WORD_VECTOR_TEST_UTIL_H_
#define SEMDB_TESTS_WORD_VECTOR_TEST_UTIL_H_

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "embedders/word_vector_loader.h"
#include "test_data.h"

namespace semdb::testing {

// Opens `path` with its cache in `cache_dir`; the test fails on error.
inline LoadedWordVectors LoadOk(const std::string& path, WordVectorKind kind,
                                const std::string& cache_dir,
                                BinaryChoice binary = BinaryChoice::kAuto,
                                WordVectorModels* shared = nullptr) {
  absl::StatusOr<LoadedWordVectors> loaded =
      LoadWordVectors(WordVectorSource{path, kind, binary, cache_dir}, shared);
  INFO(path << ": " << loaded.status().ToString());
  REQUIRE(loaded.ok());
  return *std::move(loaded);
}

// The rows of a text vector file, parsed naively here (split on spaces,
// strtof) to check the streaming reader against; first vector of a word wins.
inline std::map<std::string, std::vector<float>> NaiveTextVectors(const std::string& path) {
  std::map<std::string, std::vector<float>> out;
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string x; fields >> x;) f.push_back(x);
    if (first && f.size() == 2) {  // "count dim" header
      first = false;
      continue;
    }
    first = false;
    if (f.size() < 2) continue;
    std::vector<float> v;
    for (size_t i = 1; i < f.size(); ++i) v.push_back(std::strtof(f[i].c_str(), nullptr));
    out.emplace(f[0], std::move(v));
  }
  return out;
}

// The values of a vector printed by fastText (5 significant digits).
inline std::vector<std::string> SplitPrinted(const std::string& printed) {
  std::istringstream in(printed);
  std::vector<std::string> out;
  for (std::string x; in >> x;) out.push_back(x);
  return out;
}

// Half a unit in the last digit of a number as printed ("-1.0113" -> 5e-5,
// "0.0070258" -> 5e-8, "1.2e-05" -> 5e-7): a float that rounds to the printed
// text is at most this far from it.
inline double HalfUnitOfLastDigit(const std::string& printed) {
  const size_t e = printed.find_first_of("eE");
  const std::string mantissa = printed.substr(0, e);
  const int exponent = e == std::string::npos ? 0 : std::stoi(printed.substr(e + 1));
  const size_t dot = mantissa.find('.');
  const int decimals = dot == std::string::npos ? 0 : static_cast<int>(mantissa.size() - dot - 1);
  return 0.5 * std::pow(10.0, exponent - decimals);
}

// A float as fastText prints it (operator<< of fasttext::Vector:
// std::setprecision(5), default float format).
inline std::string PrintedLikeFastText(float value) {
  std::ostringstream out;
  out << std::setprecision(5) << value;
  return out.str();
}

// How far a float may be from a value fastText printed with 5 significant
// digits: 1e-5, or the printing's own rounding (at most 5e-5 of the value)
// where that is larger, i.e. for |value| >= 0.2.
inline double PrintedTolerance(double printed) {
  return std::max(1e-5, 5.0001e-5 * std::abs(printed));
}

}  // namespace semdb::testing

#endif  // SEMDB_TESTS_WORD_VECTOR_TEST_UTIL_H_
