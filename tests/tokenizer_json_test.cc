// TokenizerJson against Hugging Face's tokenizers library: the tokenizer.json
// files and golden encodings of tests/golden/tokenizers, written by
// make_tokenizer_goldens.js (npm package `tokenizers`).
#include "embedders/tokenizer_json.h"

#include <string>
#include <vector>

#include "catch2/catch.hpp"
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

// Every golden text gives the library's ids, with and without truncation to
// 16 ids.
void CheckGolden(const std::string& kind) {
  const std::unique_ptr<TokenizerJson> t = Load(kind);
  const nlohmann::json golden = nlohmann::json::parse(testing::ReadFile(GoldenDir(kind) + "/golden.json"));
  int cases = 0, mismatches = 0;
  std::string report;
  for (const nlohmann::json& c : golden.at("cases")) {
    ++cases;
    const std::string text = c.at("text");
    const auto want = c.at("ids").get<std::vector<int32_t>>();
    const auto want_16 = c.at("truncated_16").get<std::vector<int32_t>>();
    absl::StatusOr<EncodedText> e = t->Encode(text, 1 << 20);
    absl::StatusOr<EncodedText> e16 = t->Encode(text, 16);
    REQUIRE(e.ok());
    REQUIRE(e16.ok());
    CHECK(e16->truncated == (want.size() > 16));
    if (e->ids != want || e16->ids != want_16) {
      std::vector<std::string> got;
      for (int32_t id : e->ids) got.push_back(t->token(id));
      if (++mismatches <= 8) {
        report += nlohmann::json(text).dump() + "\n got  " + nlohmann::json(got).dump() +
                  "\n want " + c.at("tokens").dump() + "\n";
      }
    }
  }
  INFO(kind << ": " << mismatches << " of " << cases << " texts differ\n" << report);
  CHECK(cases == 65);
  CHECK(mismatches == 0);
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
  j["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", ""}};
  absl::StatusOr<std::unique_ptr<TokenizerJson>> pre = TokenizerJson::FromJson(j, "x.json");
  CHECK(pre.status().code() == absl::StatusCode::kUnimplemented);
  CHECK(std::string(pre.status().message()).find("Precompiled") != std::string::npos);
  CHECK(TokenizerJson::FromJson(nlohmann::json::object(), "x.json").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(TokenizerJson::FromFile("/nonexistent/tokenizer.json").status().code() ==
        absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace semdb
