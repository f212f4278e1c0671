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

TEST_CASE("ASCII text takes a fast path that splits as the Unicode path does",
          "[tokenizer]") {
  // Every ASCII character, inside and between words; the same text with a
  // trailing non-ASCII word of one code point (dropped by min_length 2)
  // takes the general path, through utf8proc.
  std::string text;
  for (int c = 0; c < 128; ++c) {
    text += "Ab";
    text += static_cast<char>(c);
    text += "x9_Z ";
  }
  text += "THE Quick_brown fox, 1984 jumps; a I ok";
  for (bool lowercase : {true, false}) {
    for (int min_length : {1, 2, 3}) {
      WordTokenizerOptions o;
      o.lowercase = lowercase;
      o.min_length = min_length;
      std::vector<std::string> general = Words(text + " \u00e9", o);
      if (min_length == 1) general.pop_back();  // the one-code-point word
      INFO("lowercase " << lowercase << " min_length " << min_length);
      REQUIRE(Words(text, o) == general);
    }
  }
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
