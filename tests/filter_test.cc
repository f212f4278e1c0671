#include "semdb/filter.h"

#include "catch2/catch.hpp"

namespace semdb {
namespace {

bool Match(const std::string& filter, const nlohmann::json& meta) {
  absl::StatusOr<Filter> f = Filter::Parse(filter);
  INFO(filter << ": " << f.status().message());
  REQUIRE(f.ok());
  return f->Matches(meta);
}

TEST_CASE("filters compare JSON values by type", "[filter]") {
  const nlohmann::json m = {{"year", 2001}, {"score", 0.5}, {"topic", "fire"},
                            {"draft", false}, {"tags", {"a", "b"}},
                            {"author", {{"name", "Lee"}}}, {"none", nullptr}};
  REQUIRE(Match("year = 2001", m));
  REQUIRE(Match("year == 2001.0", m));
  REQUIRE_FALSE(Match("year = '2001'", m));  // a string is not a number
  REQUIRE(Match("year >= 2000 AND year < 2002", m));
  REQUIRE(Match("score > 0.25", m));
  REQUIRE(Match("score <= 5e-1", m));
  REQUIRE(Match("topic = \"fire\"", m));
  REQUIRE(Match("topic > 'apple' AND topic < 'zebra'", m));
  REQUIRE(Match("topic != 'flood'", m));
  REQUIRE(Match("draft = false", m));
  REQUIRE(Match("none = null", m));
  REQUIRE(Match("tags = 'b'", m));  // array membership
  REQUIRE_FALSE(Match("tags = 'c'", m));
  REQUIRE(Match("author.name = 'Lee'", m));
  REQUIRE(Match("topic IN ('flood', 'fire')", m));
  REQUIRE(Match("topic NOT IN ('flood', 'storm')", m));
  REQUIRE(Match("year IN (1999, 2001)", m));
  REQUIRE(Match("topic EXISTS AND NOT missing EXISTS", m));
}

TEST_CASE("missing fields make comparisons false", "[filter]") {
  const nlohmann::json m = {{"a", 1}};
  REQUIRE_FALSE(Match("b = 1", m));
  REQUIRE_FALSE(Match("b != 1", m));
  REQUIRE_FALSE(Match("b < 1", m));
  REQUIRE(Match("NOT b = 1", m));
  REQUIRE_FALSE(Match("a < 'x'", m));  // number vs string: not ordered
}

TEST_CASE("AND binds tighter than OR and NOT tighter than both", "[filter]") {
  const nlohmann::json m = {{"a", 1}, {"b", 2}, {"c", 3}};
  REQUIRE(Match("a = 9 AND b = 9 OR c = 3", m));
  REQUIRE_FALSE(Match("a = 9 AND (b = 9 OR c = 3)", m));
  REQUIRE(Match("NOT a = 9 AND b = 2", m));
  REQUIRE(Match("not (a = 1 and b = 9) or c = 0", m));  // keywords in any case
}

TEST_CASE("ToString round-trips through Parse", "[filter]") {
  for (const char* text :
       {"year >= 2000 AND (topic = \"fire\" OR topic IN (\"flood\", \"storm\"))",
        "NOT (a = 1 AND b = 2)", "x EXISTS", "`odd field` = 1", "a != null OR b < -1.5"}) {
    absl::StatusOr<Filter> f = Filter::Parse(text);
    REQUIRE(f.ok());
    absl::StatusOr<Filter> again = Filter::Parse(f->ToString());
    INFO(f->ToString());
    REQUIRE(again.ok());
    REQUIRE(again->ToString() == f->ToString());
  }
  REQUIRE(Filter::Parse("a = 1 AND b = 'x'")->ToString() == "a = 1 AND b = \"x\"");
}

// Found by fuzz_filter: strings with control characters, and field names
// with backticks, printed and read back.
TEST_CASE("strings and field names with special characters round-trip", "[filter]") {
  Filter f = Filter::Compare(Filter::Op::kEq, "odd `name\\", std::string("nul\0 tab\t\"q\"", 13));
  absl::StatusOr<Filter> again = Filter::Parse(f.ToString());
  INFO(f.ToString());
  REQUIRE(again.ok());
  REQUIRE(again->field == f.field);
  REQUIRE(again->value == f.value);
  REQUIRE(Filter::Parse("a = \"caf\\u00e9\"")->value == "caf\u00e9");
  REQUIRE(Filter::Parse("a = \"bad \\q escape\"").status().message().find(
              "invalid double-quoted string") != std::string::npos);
  // Found by fuzz_filter: invalid UTF-8 is refused, not printed later.
  REQUIRE(Filter::Parse("tags = 'b\xff\x01'").status().message() ==
          "filter: invalid UTF-8 at byte 9");
  REQUIRE(Filter::Compare(Filter::Op::kEq, "a", "b\xff").ToString() == "a = \"b\xEF\xBF\xBD\"");
}

TEST_CASE("malformed filters are errors naming the position", "[filter]") {
  auto error = [](const std::string& text) {
    absl::StatusOr<Filter> f = Filter::Parse(text);
    REQUIRE_FALSE(f.ok());
    return std::string(f.status().message());
  };
  REQUIRE(error("") == "filter: empty filter");
  REQUIRE(error("year >") == "filter: expected a value at position 7 in 'year >'");
  REQUIRE(error("year = fire") ==
          "filter: expected a value; quote strings: 'fire' at position 8 in 'year = fire'");
  REQUIRE(error("(a = 1") == "filter: expected ')' at position 7 in '(a = 1'");
  REQUIRE(error("a = 1 b = 2").find("unexpected 'b'") != std::string::npos);
  REQUIRE(error("a = 'open").find("unterminated quote") != std::string::npos);
  REQUIRE(error("a ~ 1").find("unexpected character '~'") != std::string::npos);
  REQUIRE(error("a IN 1, 2").find("expected '(' after IN") != std::string::npos);
  REQUIRE(error("AND = 1").find("expected a field name") != std::string::npos);
  REQUIRE(error("a = 1 AND").find("expected a field name, got the end") != std::string::npos);
}

}  // namespace
}  // namespace semdb
