// TokenizerJson against Hugging Face's tokenizers library: the tokenizer.json
// files and golden encodings of tests/golden/tokenizers, written by
// make_tokenizer_goldens.js (npm package `tokenizers`): ids and offsets of
// every text, whole and truncated to 16 ids. The goldens' offsets are code
// points, as the Node binding reports them; EncodedText's are bytes: the
// test converts.
#include "embedders/tokenizer_json.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "catch2/catch.hpp"
#include "embedders/wordpiece_tokenizer.h"
#include "text/utf8.h"
#include "nlohmann/json.hpp"
#include "test_data.h"

namespace semdb {
namespace {

std::string GoldenDir(const std::string& kind) {
  return std::string(SEMDB_SOURCE_DIR) + "/tests/golden/tokenizers/" + kind;
}

std::unique_ptr<TokenizerJson> Load(const std::string& kind) {
  absl::StatusOr<std::unique_ptr<TokenizerJson>> t =
      TokenizerJson::FromFile(GoldenDir(kind) + "/tokenizer.json");
  INFO(t.status().ToString());
  REQUIRE(t.ok());
  return *std::move(t);
}

// The golden [start, end) code-point offsets of `text` as byte offsets.
std::vector<TokenOffsets> ByteOffsets(const std::string& text, const nlohmann::json& offsets) {
  std::u32string cps;
  REQUIRE(DecodeUtf8(text, &cps).ok());
  std::vector<int32_t> byte_at{0};  // of each code point, and the end
  for (char32_t c : cps) {
    std::string utf8;
    AppendUtf8(c, &utf8);
    byte_at.push_back(byte_at.back() + static_cast<int32_t>(utf8.size()));
  }
  std::vector<TokenOffsets> out;
  for (const nlohmann::json& o : offsets) {
    out.push_back({byte_at.at(o.at(0).get<size_t>()), byte_at.at(o.at(1).get<size_t>())});
  }
  return out;
}

std::string Show(const std::vector<TokenOffsets>& offsets) {
  nlohmann::json j = nlohmann::json::array();
  for (const TokenOffsets& o : offsets) j.push_back({o.begin, o.end});
  return j.dump();
}

// Every golden text gives the library's ids and offsets, with and without
// truncation to 16 ids (texts where `compared` is false are skipped and
// counted). Returns the number of texts compared.
template <typename Compared = bool (*)(const nlohmann::json&)>
int CheckGoldenWith(const SubwordTokenizer& t, const std::string& kind, int texts,
                    Compared compared = [](const nlohmann::json&) { return true; }) {
  const nlohmann::json golden = nlohmann::json::parse(testing::ReadFile(GoldenDir(kind) + "/golden.json"));
  int cases = 0, checked = 0, mismatches = 0;
  std::string report;
  for (const nlohmann::json& c : golden.at("cases")) {
    ++cases;
    if (!compared(c)) continue;
    ++checked;
    const std::string text = c.at("text");
    const auto want = c.at("ids").get<std::vector<int32_t>>();
    const auto want_16 = c.at("truncated_16").get<std::vector<int32_t>>();
    const std::vector<TokenOffsets> want_offsets = ByteOffsets(text, c.at("offsets"));
    const std::vector<TokenOffsets> want_offsets_16 = ByteOffsets(text, c.at("truncated_16_offsets"));
    absl::StatusOr<EncodedText> e = t.Encode(text, 1 << 20);
    absl::StatusOr<EncodedText> e16 = t.Encode(text, 16);
    REQUIRE(e.ok());
    REQUIRE(e16.ok());
    CHECK(e16->truncated == (want.size() > 16));
    CHECK(e->offsets.size() == e->ids.size());
    if (e->ids != want || e16->ids != want_16 || e->offsets != want_offsets ||
        e16->offsets != want_offsets_16) {
      if (++mismatches <= 8) {
        report += nlohmann::json(text).dump() + "\n tokens  " + c.at("tokens").dump() +
                  "\n got ids " + nlohmann::json(e->ids).dump() + "\n want    " + c.at("ids").dump() +
                  "\n got offsets " + Show(e->offsets) + "\n want        " + Show(want_offsets) +
                  "\n got truncated offsets " + Show(e16->offsets) + "\n want " +
                  Show(want_offsets_16) + "\n";
      }
    }
  }
  INFO(kind << ": " << mismatches << " of " << checked << " texts differ\n" << report);
  CHECK(cases == texts);
  CHECK(mismatches == 0);
  return checked;
}

// The golden files hold 65 texts (74 for xlmr_precompiled).
void CheckGolden(const std::string& kind, int texts = 65) {
  CheckGoldenWith(*Load(kind), kind, texts);
}

TEST_CASE("tokenizer.json WordPiece with BertNormalizer matches the tokenizers library") {
  CheckGolden("wordpiece_uncased");
  CheckGolden("wordpiece_cased");
}

TEST_CASE("tokenizer.json WordPiece with a normalizer Sequence and Whitespace matches") {
  CheckGolden("wordpiece_sequence");
}

TEST_CASE("tokenizer.json byte-level BPE with RobertaProcessing matches the tokenizers library") {
  CheckGolden("bpe_byte_level");
}

TEST_CASE("tokenizer.json Unigram with Metaspace and NFKC matches the tokenizers library") {
  CheckGolden("unigram_metaspace");
}

// A SentencePiece model converted as Hugging Face converts XLM-R's:
// Precompiled (nmt_nfkc) then Replace, Metaspace, Unigram, the <s> $A </s>
// template; the texts add full-width forms, grapheme clusters of 6 bytes and
// more, ZWJ sequences, controls and compatibility characters.
TEST_CASE("tokenizer.json Unigram with SentencePiece's Precompiled normalizer matches") {
  CheckGolden("xlmr_precompiled", 74);
}

// tokenizer.json as BertTokenizerFast writes it for the test model's
// vocab.txt (a folder with only tokenizer.json runs on it).
TEST_CASE("tokenizer.json of the test BERT model matches the tokenizers library") {
  CheckGolden("bert_tiny");
}

// The vocab.txt tokenizer follows the original reference, which ran on
// Python's character tables: where those and the library's Rust ones read a
// text alike (same ids), the offsets are the library's too.
TEST_CASE("vocab.txt WordPiece gives the tokenizers library's offsets") {
  WordPieceOptions options;
  options.max_input_chars_per_word = 100;  // as BertTokenizerFast
  absl::StatusOr<WordPieceTokenizer> t = WordPieceTokenizer::FromFile(
      std::string(SEMDB_SOURCE_DIR) + "/tests/data/bert_tiny/vocab.txt", options);
  REQUIRE(t.ok());
  const int compared = CheckGoldenWith(*t, "bert_tiny", 65, [&](const nlohmann::json& c) {
    absl::StatusOr<EncodedText> e = t->Encode(c.at("text").get<std::string>(), 1 << 20);
    return e.ok() && e->ids == c.at("ids").get<std::vector<int32_t>>();
  });
  // The four texts read differently: [CLS]/[MASK] inside a text (2; the
  // reference has no added tokens), Greek capital sigma (Python lower-cases
  // a final one to U+03C2, Rust never) and private-use characters (the
  // reference keeps them).
  CHECK(compared == 61);
}

TEST_CASE("tokenizer.json: a damaged precompiled_charsmap is an error or plain text, never a crash") {
  nlohmann::json j = nlohmann::json::parse(testing::ReadFile(GoldenDir("xlmr_precompiled") + "/tokenizer.json"));
  nlohmann::json& pre = j["normalizer"]["normalizers"][0];
  for (const char* bad : {"", "not base64!", "AAAA", "/////w=="}) {  // empty, undecodable, no trie, too long
    pre["precompiled_charsmap"] = bad;
    absl::StatusOr<std::unique_ptr<TokenizerJson>> t = TokenizerJson::FromJson(j, "x.json");
    INFO(bad);
    CHECK(t.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(t.status().message()).find("precompiled_charsmap") != std::string::npos);
  }
  // A trie of units pointing anywhere: lookups stay inside the arrays.
  std::string bytes = std::string("\x10\0\0\0", 4) + std::string(16, '\xFF') + "x";
  std::string encoded;
  absl::Base64Escape(bytes, &encoded);
  pre["precompiled_charsmap"] = encoded;
  absl::StatusOr<std::unique_ptr<TokenizerJson>> t = TokenizerJson::FromJson(j, "x.json");
  REQUIRE(t.ok());
  CHECK((*t)->Encode("any text \xC3\xA9", 64).ok());
}

TEST_CASE("tokenizer.json: counts, truncation and bad input") {
  const std::unique_ptr<TokenizerJson> t = Load("wordpiece_uncased");
  absl::StatusOr<EncodedText> e = t->Encode("hello \xF0\x9F\x98\x80 world", 64);
  REQUIRE(e.ok());
  CHECK(e->unknown_tokens == 1);  // the emoji
  CHECK(e->tokens == static_cast<int32_t>(e->ids.size()) - 2);
  CHECK(!e->truncated);
  CHECK(t->Encode("bad \xC3 byte", 64).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(t->Encode("text", 2).status().code() == absl::StatusCode::kInvalidArgument);

  nlohmann::json j = nlohmann::json::parse(testing::ReadFile(GoldenDir("unigram_metaspace") + "/tokenizer.json"));
  j["normalizer"] = {{"type", "ByteLevel"}};
  absl::StatusOr<std::unique_ptr<TokenizerJson>> unknown = TokenizerJson::FromJson(j, "x.json");
  CHECK(unknown.status().code() == absl::StatusCode::kUnimplemented);
  CHECK(std::string(unknown.status().message()).find("ByteLevel") != std::string::npos);
  CHECK(TokenizerJson::FromJson(nlohmann::json::object(), "x.json").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(TokenizerJson::FromFile("/nonexistent/tokenizer.json").status().code() ==
        absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace semdb
