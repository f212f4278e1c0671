// The subword models of Hugging Face's tokenizer.json ("model"): WordPiece,
// BPE (byte-level or character-level) and Unigram, each turning one
// pre-tokenized word into token ids exactly as the `tokenizers` library does
// (tests/golden/tokenizers holds its outputs).
#ifndef SEMDB_EMBEDDERS_SUBWORD_MODELS_H_
#define SEMDB_EMBEDDERS_SUBWORD_MODELS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "embedders/subword_tokenizer.h"
#include "nlohmann/json.hpp"

namespace semdb {

// Token text to id.
using TokenIds = absl::flat_hash_map<std::string, int32_t>;

// Greedy longest-match-first; a word longer than max_input_chars_per_word,
// or with any piece missing, is the unknown token.
struct WordPieceModel {
  TokenIds vocab;
  std::string continuing_prefix = "##";
  int max_input_chars_per_word = 100;
  int max_token_chars = 0;  // longest vocabulary entry, prefix included
  int32_t unk_id = -1;
};

// Merges applied lowest rank first (leftmost on ties) to the characters of a
// word; characters missing from the vocabulary become byte tokens
// (byte_fallback), the unknown token (several in a row fused into one when
// fuse_unk), or nothing when there is no unknown token.
struct BpeModel {
  TokenIds vocab;
  // (left id, right id) -> (rank, merged id), keyed as left << 32 | right.
  absl::flat_hash_map<uint64_t, std::pair<int32_t, int32_t>> merges;
  std::string continuing_prefix, end_of_word_suffix;
  int32_t unk_id = -1;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;  // a word that is a token is that token
};

// The segmentation of highest total log-probability (Viterbi); a character
// no piece covers is the unknown token, scored min score - 10, and runs of
// unknown tokens are fused; byte_fallback spells an unknown run as <0xXX>.
struct UnigramModel {
  TokenIds vocab;
  std::vector<double> scores;  // by id
  int max_piece_chars = 0;
  int32_t unk_id = -1;
  double unk_score = 0;
  bool byte_fallback = false;
};

using SubwordModel = std::variant<WordPieceModel, BpeModel, UnigramModel>;

// Reads tokenizer.json's "model" object; `tokens` receives each id's text.
// `source` names the file in errors.
absl::StatusOr<SubwordModel> ParseSubwordModel(const nlohmann::json& model,
                                               const std::string& source,
                                               std::vector<std::string>* tokens);

// "WordPiece", "BPE" or "Unigram".
const char* SubwordModelType(const SubwordModel& model);

// Appends the ids of `word` (UTF-8) and, for each, the bytes of `word` it
// spells to `spans` (as the library: an unknown token spans what it
// replaces, a byte-fallback token the character or unknown run it spells);
// `unknown` counts the unknown tokens appended.
void TokenizeWord(const SubwordModel& model, std::string_view word, std::vector<int32_t>* ids,
                  std::vector<TokenOffsets>* spans, int32_t* unknown);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_SUBWORD_MODELS_H_
