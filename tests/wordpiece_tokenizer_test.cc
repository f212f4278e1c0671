#include "embedders/wordpiece_tokenizer.h"

#include <fstream>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "test_data.h"

namespace semdb {
namespace {

using testing::SharedData;

constexpr char kVocab[] = "wordpiece/bert-base-uncased-vocab.txt";
constexpr char kGolden[] = "wordpiece/golden.jsonl";

WordPieceTokenizer ReferenceTokenizer() {
  WordPieceOptions options;
  options.max_input_chars_per_word = 200;  // google-research/bert's default
  absl::StatusOr<WordPieceTokenizer> t =
      WordPieceTokenizer::FromFile(SharedData(kVocab), options);
  REQUIRE(t.ok());
  return *std::move(t);
}

std::vector<int32_t> Ids(const WordPieceTokenizer& t, const std::string& text) {
  std::vector<int32_t> ids;
  absl::Status s = t.Tokenize(text, &ids);
  REQUIRE(s.ok());
  return ids;
}

std::vector<std::string> Pieces(const WordPieceTokenizer& t, const std::string& text) {
  std::vector<std::string> out;
  for (int32_t id : Ids(t, text)) out.push_back(t.token(id));
  return out;
}

TEST_CASE("WordPiece matches the reference tokenizer on every golden string") {
  SEMDB_REQUIRE_SHARED_DATA(kGolden);
  const WordPieceTokenizer t = ReferenceTokenizer();
  std::ifstream in(SharedData(kGolden), std::ios::binary);
  REQUIRE(in.good());
  int records = 0, mismatches = 0;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    const std::string text = j.at("text");
    const auto want_tokens = j.at("tokens").get<std::vector<std::string>>();
    const auto want_ids = j.at("ids").get<std::vector<int32_t>>();
    ++records;
    const std::vector<int32_t> ids = Ids(t, text);
    std::vector<std::string> tokens;
    for (int32_t id : ids) tokens.push_back(t.token(id));
    if (ids != want_ids || tokens != want_tokens) {
      if (++mismatches <= 10) {
        UNSCOPED_INFO("mismatch on " << nlohmann::json(text).dump() << ": got "
                                     << nlohmann::json(tokens).dump() << ", want "
                                     << nlohmann::json(want_tokens).dump());
      }
    }
  }
  CHECK(records == 3445);
  CHECK(mismatches == 0);
}

TEST_CASE("WordPiece reproduces the reference's documented surprises") {
  SEMDB_REQUIRE_SHARED_DATA(kVocab);
  const WordPieceTokenizer t = ReferenceTokenizer();
  using V = std::vector<std::string>;
  CHECK(Pieces(t, "[CLS]") == V{"[", "cl", "##s", "]"});
  CHECK(Pieces(t, "##ing") == V{"#", "#", "ing"});
  CHECK(Pieces(t, "hello\xF0\x9F\x98\x80") == V{"[UNK]"});
  CHECK(Pieces(t, "hello \xF0\x9F\x98\x80") == V{"hello", "[UNK]"});
  CHECK(Pieces(t, "ab\xE2\x80\x8B" "cd") == Pieces(t, "abcd"));  // U+200B dropped
  CHECK(Pieces(t, "ab\xE2\x80\xA8" "cd") == V{"ab", "cd"});      // U+2028 separates
  CHECK(Pieces(t, "\xCE\x91\xCE\xA3-\xCE\x92") == V{"\xCE\xB1", "##\xCF\x82", "-", "\xCE\xB2"});
  CHECK(Pieces(t, "\xCE\x91\xCE\xA3.\xCE\x92") == V{"\xCE\xB1", "##\xCF\x83", ".", "\xCE\xB2"});
  CHECK(Pieces(t, "10\xE2\x82\xAC") == V{"10", "##\xE2\x82\xAC"});
  // The word-length limit counts code points after accent stripping.
  std::string e_acute, long_word;
  for (int i = 0; i < 200; ++i) e_acute += "e\xCC\x81";
  for (int i = 0; i < 201; ++i) long_word += "e";
  CHECK(Pieces(t, e_acute) != V{"[UNK]"});
  CHECK(Pieces(t, long_word) == V{"[UNK]"});
}

TEST_CASE("BasicTokenize cleans, lower-cases, strips accents and splits punctuation") {
  absl::StatusOr<WordPieceTokenizer> t =
      WordPieceTokenizer::FromTokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]"}, {}, "test");
  REQUIRE(t.ok());
  absl::StatusOr<std::vector<std::string>> words =
      t->BasicTokenize("H\xC3\xA9llo,\tWORLD!\xE4\xB8\xAD\xE6\x96\x87 a\x01" "b");
  REQUIRE(words.ok());
  CHECK(*words == std::vector<std::string>{"hello", ",", "world", "!", "\xE4\xB8\xAD",
                                           "\xE6\x96\x87", "ab"});
}

TEST_CASE("WordPiece honours the word-length limit it is given") {
  SEMDB_REQUIRE_SHARED_DATA(kVocab);
  WordPieceOptions options;
  options.max_input_chars_per_word = 100;
  absl::StatusOr<WordPieceTokenizer> t = WordPieceTokenizer::FromFile(SharedData(kVocab), options);
  REQUIRE(t.ok());
  CHECK(Pieces(*t, std::string(100, 'a')) != std::vector<std::string>{"[UNK]"});
  CHECK(Pieces(*t, std::string(101, 'a')) == std::vector<std::string>{"[UNK]"});
}

TEST_CASE("WordPiece without lower-casing keeps case and accents") {
  WordPieceOptions options;
  options.lower_case = false;
  options.strip_accents = false;
  absl::StatusOr<WordPieceTokenizer> t = WordPieceTokenizer::FromTokens(
      {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "Caf\xC3\xA9", "caf", "##e", "!"}, options, "test");
  REQUIRE(t.ok());
  CHECK(Pieces(*t, "Caf\xC3\xA9!") == std::vector<std::string>{"Caf\xC3\xA9", "!"});
  CHECK(Pieces(*t, "caf\xC3\xA9") == std::vector<std::string>{"[UNK]"});
}

TEST_CASE("WordPiece frames, truncates and counts") {
  SEMDB_REQUIRE_SHARED_DATA(kVocab);
  const WordPieceTokenizer t = ReferenceTokenizer();
  absl::StatusOr<EncodedText> e = t.Encode("hello world", 8);
  REQUIRE(e.ok());
  CHECK(e->ids == std::vector<int32_t>{101, 7592, 2088, 102});
  CHECK(e->offsets == std::vector<TokenOffsets>{{0, 0}, {0, 5}, {6, 11}, {0, 0}});
  CHECK_FALSE(e->truncated);
  e = t.Encode("one two three four five six seven", 5);
  REQUIRE(e.ok());
  CHECK(e->ids == std::vector<int32_t>{101, 2028, 2048, 2093, 102});
  CHECK(e->offsets == std::vector<TokenOffsets>{{0, 0}, {0, 3}, {4, 7}, {8, 13}, {0, 0}});
  CHECK(e->truncated);
  CHECK(e->tokens == 7);
  e = t.Encode("", 8);
  REQUIRE(e.ok());
  CHECK(e->ids == std::vector<int32_t>{101, 102});
  CHECK(e->tokens == 0);
  CHECK_FALSE(t.Encode("x", 1).ok());
}

TEST_CASE("WordPiece offsets are bytes of the original text through cleaning and accents") {
  SEMDB_REQUIRE_SHARED_DATA(kVocab);
  const WordPieceTokenizer t = ReferenceTokenizer();
  // "Cafe\u0301" (a combining accent, stripped: outside the offsets, as in
  // the library), a dropped control, two CJK ideographs made words, then
  // U+0130 lower-cased to two characters.
  const std::string text = "Cafe\xCC\x81\x01 \xE4\xB8\xAD\xE6\x96\x87 \xC4\xB0t";
  std::vector<int32_t> ids;
  std::vector<TokenOffsets> offsets;
  REQUIRE(t.Tokenize(text, &ids, &offsets).ok());
  std::vector<std::string> sliced;
  for (const TokenOffsets& o : offsets) sliced.push_back(text.substr(o.begin, o.end - o.begin));
  CHECK(Pieces(t, text) == std::vector<std::string>{"cafe", "\xE4\xB8\xAD", "\xE6\x96\x87", "it"});
  CHECK(sliced == std::vector<std::string>{"Cafe", "\xE4\xB8\xAD", "\xE6\x96\x87", "\xC4\xB0t"});
}

TEST_CASE("WordPiece rejects invalid UTF-8 and bad vocabularies") {
  SEMDB_REQUIRE_SHARED_DATA(kVocab);
  const WordPieceTokenizer t = ReferenceTokenizer();
  std::vector<int32_t> ids;
  for (const char* bad : {"abc\xFF", "\xC3", "\xED\xA0\x80", "\xC0\xAF"}) {
    absl::Status s = t.Tokenize(bad, &ids);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(s.message()).find("UTF-8") != std::string::npos);
  }
  absl::StatusOr<WordPieceTokenizer> missing =
      WordPieceTokenizer::FromFile("/nonexistent/vocab.txt", {});
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  absl::StatusOr<WordPieceTokenizer> no_unk =
      WordPieceTokenizer::FromTokens({"[PAD]", "[CLS]", "[SEP]", "a"}, {}, "v.txt");
  REQUIRE_FALSE(no_unk.ok());
  CHECK(std::string(no_unk.status().message()).find("[UNK]") != std::string::npos);
  CHECK_FALSE(WordPieceTokenizer::FromTokens({"[UNK]", "\xFF"}, {}, "v.txt").ok());
}

}  // namespace
}  // namespace semdb
