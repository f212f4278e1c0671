// Metadata filters: boolean conditions on a document's JSON metadata.
//
// Text form (the shell's `--where`, the HTTP API's "filter"):
//   year >= 2000 AND (topic = "fire" OR topic IN ("flood", "storm"))
//   NOT draft = true        source EXISTS        author.name = 'Lee'
// Fields are top-level keys, or dotted paths into nested objects. Keywords
// are case-insensitive. Comparisons follow JSON types: numbers compare
// numerically, strings lexicographically (by bytes), booleans and null by
// equality; a comparison with a missing field or a value of another type is
// false (so NOT of it is true).
#ifndef SEMDB_FILTER_H_
#define SEMDB_FILTER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace semdb {

struct Filter {
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kExists, kAnd, kOr, kNot };

  Op op = Op::kAnd;
  std::string field;                // comparisons, IN and EXISTS
  nlohmann::json value;             // a scalar; an array for IN
  std::vector<Filter> children;     // AND, OR (two or more), NOT (one)

  // Builders for programs that construct filters directly.
  static Filter Compare(Op op, std::string field, nlohmann::json value);
  static Filter In(std::string field, std::vector<nlohmann::json> values);
  static Filter Exists(std::string field);
  static Filter And(std::vector<Filter> children);
  static Filter Or(std::vector<Filter> children);
  static Filter Not(Filter child);

  // Parses the text form; errors name the position of the problem.
  static absl::StatusOr<Filter> Parse(std::string_view text);

  // True when `metadata` (a JSON object) satisfies the filter.
  bool Matches(const nlohmann::json& metadata) const;

  // The text form, parseable by Parse.
  std::string ToString() const;
};

}  // namespace semdb

#endif  // SEMDB_FILTER_H_
