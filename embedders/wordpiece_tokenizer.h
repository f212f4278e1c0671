// BERT's tokenizer: BasicTokenizer (cleaning, CJK splitting, whitespace and
// punctuation splitting, lower-casing and accent stripping) followed by
// greedy longest-match-first WordPiece, exactly as the original reference
// (google-research/bert tokenization.py, FullTokenizer) including its
// surprising behaviours: see ../shared/data/wordpiece/README.md. Character
// properties are Python's (python_unicode.h), as the reference ran on Python.
#ifndef SEMDB_EMBEDDERS_WORDPIECE_TOKENIZER_H_
#define SEMDB_EMBEDDERS_WORDPIECE_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "embedders/subword_tokenizer.h"

namespace semdb {

struct WordPieceOptions {
  bool lower_case = true;     // str.lower() each word
  bool strip_accents = true;  // NFD, then drop category Mn
  bool split_cjk = true;      // each CJK ideograph is a word of its own
  // Words longer than this, in code points after lower-casing and accent
  // stripping, become the unknown token. The original reference uses 200;
  // Hugging Face's tokenizers use 100 and state it in tokenizer.json.
  int max_input_chars_per_word = 200;
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
};

// The tokenizer of a model folder with vocab.txt and no tokenizer.json.
class WordPieceTokenizer : public SubwordTokenizer {
 public:
  // Reads a vocabulary file: one token a line, its id the 0-based line
  // number. The special tokens of `options` must all be in it.
  static absl::StatusOr<WordPieceTokenizer> FromFile(const std::string& vocab_path,
                                                     WordPieceOptions options);
  static absl::StatusOr<WordPieceTokenizer> FromTokens(std::vector<std::string> tokens,
                                                       WordPieceOptions options,
                                                       const std::string& source);

  // The word pieces of `text`, as ids, and with `offsets` each one's bytes
  // of `text` (subword_tokenizer.h: what Hugging Face's BertTokenizerFast
  // reports). InvalidArgument when `text` is not valid UTF-8. Thread-safe.
  absl::Status Tokenize(std::string_view text, std::vector<int32_t>* ids,
                        std::vector<TokenOffsets>* offsets = nullptr) const;

  // BasicTokenizer alone: the words WordPiece then splits.
  absl::StatusOr<std::vector<std::string>> BasicTokenize(std::string_view text) const;

  // [CLS] pieces [SEP], the pieces cut so that at most max_length ids
  // result (max_length >= 2).
  absl::StatusOr<EncodedText> Encode(std::string_view text, int max_length) const override;

  int32_t vocab_size() const override { return static_cast<int32_t>(tokens_.size()); }
  nlohmann::json Describe() const override;
  const std::string& token(int32_t id) const { return tokens_[id]; }
  int32_t unk_id() const { return unk_id_; }
  int32_t cls_id() const { return cls_id_; }
  int32_t sep_id() const { return sep_id_; }
  int32_t pad_id() const { return pad_id_; }
  const WordPieceOptions& options() const { return options_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Vocab = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

  WordPieceTokenizer() = default;

  // Calls emit(word, from) for each word of BasicTokenizer, as code points,
  // `from` holding the bytes of `text` each character comes from.
  template <typename Emit>
  absl::Status ForEachWord(std::string_view text, Emit&& emit) const;
  // Appends the WordPiece ids of one word and their offsets.
  void WordPieces(std::u32string_view word, const TokenOffsets* from, std::vector<int32_t>* ids,
                  std::vector<TokenOffsets>* offsets) const;
  int32_t Id(std::string_view token) const;

  WordPieceOptions options_;
  std::vector<std::string> tokens_;
  Vocab vocab_;
  int max_token_chars_ = 0;  // longest vocabulary entry, "##" excluded
  int32_t unk_id_ = -1, cls_id_ = -1, sep_id_ = -1, pad_id_ = -1;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_WORDPIECE_TOKENIZER_H_
