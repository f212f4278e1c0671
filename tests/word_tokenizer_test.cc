#include "embedders/word_tokenizer.h"
#include "text/utf8.h"

#include "catch2/catch.hpp"

namespace semdb {
namespace {

std::vector<std::string> Words(std::string_view text, WordTokenizerOptions o = {}) {
  absl::StatusOr<std::vector<std::string>> w = TokenizeWords(text, o);
  REQUIRE(w.ok());
  return *w;
}

TEST_CASE("words split on non-word characters like scikit-learn", "[tokenizer]") {
  REQUIRE(Words("Hello, World! It's a test_case 42x.") ==
          std::vector<std::string>{"hello", "world", "it", "test_case", "42x"});
  REQUIRE(Words("").empty());
  REQUIRE(Words(" \t\n").empty());
  WordTokenizerOptions keep_short;
  keep_short.min_length = 1;
  REQUIRE(Words("a b", keep_short) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("Unicode text is normalized and case folded", "[tokenizer]") {
  REQUIRE(Words("Straße ÉCOLE naïve") ==
          std::vector<std::string>{"strasse", "école", "naïve"});
  // Decomposed e + combining acute composes to the same word.
  REQUIRE(Words("e\xCC\x81" "cole") == Words("\xC3\xA9" "cole"));
  // NFKC: the fi ligature becomes "fi".
  REQUIRE(Words("\xEF\xAC\x81nance") == std::vector<std::string>{"finance"});
  REQUIRE(Words("東京 в Москве") ==
          std::vector<std::string>{"東京", "москве"});
  WordTokenizerOptions keep_case;
  keep_case.lowercase = false;
  REQUIRE(Words("Paris", keep_case) == std::vector<std::string>{"Paris"});
}

TEST_CASE("invalid UTF-8 is an error naming the offset", "[tokenizer]") {
  absl::StatusOr<std::vector<std::string>> w =
      TokenizeWords("ok \xC3\x28 bad", WordTokenizerOptions{});
  REQUIRE_FALSE(w.ok());
  REQUIRE(w.status().message() == "invalid UTF-8 at byte 3");
  REQUIRE(ValidateUtf8("fine ünïcode").ok());
  REQUIRE_FALSE(ValidateUtf8("\xff").ok());
  REQUIRE_FALSE(ValidateUtf8("\xED\xA0\x80").ok());  // a UTF-16 surrogate
}

}  // namespace
}  // namespace semdb
