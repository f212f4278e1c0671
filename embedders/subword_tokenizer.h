// The tokenizer plug-in point of the transformer embedder: text to the model
// input ids, framed by the model's special tokens. Implemented by
// TokenizerJson (tokenizer.json, Hugging Face's format) and by
// WordPieceTokenizer (vocab.txt alone, the original BERT reference).
#ifndef SEMDB_EMBEDDERS_SUBWORD_TOKENIZER_H_
#define SEMDB_EMBEDDERS_SUBWORD_TOKENIZER_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace semdb {

// Where a token comes from: [begin, end) in bytes of the original UTF-8
// text, as Hugging Face's tokenizers align normalized text to its input (a
// character the normalizers inserted counts as the character it stands
// for). Special tokens added by the post-processor are (0, 0).
struct TokenOffsets {
  int32_t begin = 0, end = 0;
  bool operator==(const TokenOffsets&) const = default;
};

// A model input: token ids framed by the special tokens ([CLS] ... [SEP],
// <s> ... </s>), and each id's offsets.
struct EncodedText {
  std::vector<int32_t> ids;
  std::vector<TokenOffsets> offsets;  // one per id
  int32_t tokens = 0;          // tokens of the text before truncation
  int32_t unknown_tokens = 0;  // unknown tokens before truncation
  bool truncated = false;
};

class SubwordTokenizer {
 public:
  virtual ~SubwordTokenizer() = default;

  // The ids of `text` with the special tokens, the text's tokens cut so that
  // at most max_length ids result. InvalidArgument when `text` is not valid
  // UTF-8 or max_length leaves no room for the special tokens. Thread-safe.
  virtual absl::StatusOr<EncodedText> Encode(std::string_view text, int max_length) const = 0;

  // One more than the largest id Encode can return.
  virtual int32_t vocab_size() const = 0;

  // Facts for `stats`: the kind of tokenizer and its options.
  virtual nlohmann::json Describe() const = 0;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_SUBWORD_TOKENIZER_H_
