// A tokenizer described by Hugging Face's tokenizer.json, the file the
// `tokenizers` library writes and every model on the Hub ships: added
// (special) tokens matched in the raw text, then a normalizer, a
// pre-tokenizer, a subword model (subword_models.h) and a post-processor
// that frames the ids with special tokens. Supported, as the library defines
// them (character properties from utf8proc, as Rust's):
//
//   normalizers      BertNormalizer, Lowercase, NFC, NFD, NFKC, NFKD,
//                    StripAccents, Strip, Prepend, Replace, Sequence,
//                    Precompiled (SentencePiece's rules: precompiled_charsmap.h)
//   pre-tokenizers   BertPreTokenizer, ByteLevel, Metaspace, Whitespace,
//                    WhitespaceSplit, Punctuation, Digits, Sequence
//   models           WordPiece, BPE, Unigram
//   post-processors  BertProcessing, RobertaProcessing, TemplateProcessing,
//                    ByteLevel, Sequence
//
// Anything else (the ByteLevel normalizer, Split with a regular
// expression...) is an Unimplemented error naming it, never a
// silent difference. Each id comes with its offsets in the original text
// (subword_tokenizer.h), aligned through the normalizers as the library's
// NormalizedString aligns them; RobertaProcessing's and ByteLevel's
// trim_offsets are applied.
#ifndef SEMDB_EMBEDDERS_TOKENIZER_JSON_H_
#define SEMDB_EMBEDDERS_TOKENIZER_JSON_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "embedders/subword_models.h"
#include "embedders/subword_tokenizer.h"
#include "nlohmann/json.hpp"

namespace semdb {

class TokenizerJson : public SubwordTokenizer {
 public:
  // NotFound when the file is missing; InvalidArgument when it is not a
  // tokenizer description, Unimplemented for a component not supported.
  static absl::StatusOr<std::unique_ptr<TokenizerJson>> FromFile(const std::string& path);
  static absl::StatusOr<std::unique_ptr<TokenizerJson>> FromJson(const nlohmann::json& j,
                                                                 const std::string& source);

  // The text's ids without special tokens framing them (added tokens found
  // in the text are kept), each with its offsets (not trimmed).
  // Thread-safe.
  absl::Status Tokenize(std::string_view text, std::vector<int32_t>* ids,
                        std::vector<TokenOffsets>* offsets, int32_t* unknown) const;

  absl::StatusOr<EncodedText> Encode(std::string_view text, int max_length) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(tokens_.size()); }
  nlohmann::json Describe() const override;

  // The text of token `id`, for messages and tests.
  const std::string& token(int32_t id) const { return tokens_[id]; }

  struct Normalizer;
  struct PreTokenizer;
  struct AddedToken;
  struct AlignedText;

  ~TokenizerJson() override;

 private:
  TokenizerJson();

  // Splits `text` on the added tokens whose `normalized` flag is
  // `normalized`; calls piece(text, is_first) for the text between and
  // appends the added tokens' ids and offsets.
  template <typename Piece>
  absl::Status SplitOnAdded(const AlignedText& text, bool normalized, bool first,
                            std::vector<int32_t>* ids, std::vector<TokenOffsets>* offsets,
                            Piece&& piece) const;

  // The library's trim_offsets: the byte-level spaces ('Ġ') and whitespace
  // that begin or end a token of `text` are left out of its offsets.
  void TrimOffsets(std::string_view text, const std::vector<int32_t>& ids,
                   std::vector<TokenOffsets>* offsets) const;

  std::string source_;
  std::vector<Normalizer> normalizers_;      // applied in order
  std::vector<PreTokenizer> pre_tokenizers_;  // applied in order
  SubwordModel model_;
  std::vector<AddedToken> added_;
  std::vector<int32_t> prefix_, suffix_;  // the post-processor's framing ids
  bool trim_offsets_ = false;             // the post-processor trims offsets
  bool trim_keeps_prefix_space_ = false;  // ... but not an added prefix space
  std::vector<std::string> tokens_;       // by id
  std::vector<bool> added_ids_;           // by id: an added token's
  nlohmann::json description_;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_TOKENIZER_JSON_H_
