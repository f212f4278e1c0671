// Word tokenization shared by the bag-of-words embedders (TF-IDF, averaged
// word vectors) and keyword search.
#ifndef SEMDB_EMBEDDERS_WORD_TOKENIZER_H_
#define SEMDB_EMBEDDERS_WORD_TOKENIZER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace semdb {

struct WordTokenizerOptions {
  // Unicode case folding (utf8proc), e.g. "Straße" -> "strasse".
  bool lowercase = true;
  // NFKC compatibility normalization before splitting, e.g. "ﬁ" -> "fi".
  bool normalize = true;
  // Tokens shorter than this many code points are dropped. The default 2
  // matches scikit-learn's token_pattern r"(?u)\b\w\w+\b".
  int min_length = 2;
};

// Splits `text` into words: maximal runs of letters, combining marks,
// numbers and '_' (Python's \w plus marks), after optional normalization and
// case folding. Everything else separates words. Invalid UTF-8 is an error.
absl::StatusOr<std::vector<std::string>> TokenizeWords(
    std::string_view text, const WordTokenizerOptions& options);

// `text` after the normalization and case folding TokenizeWords applies,
// without splitting it. Invalid UTF-8 is an error.
absl::Status NormalizeText(std::string_view text, const WordTokenizerOptions& options,
                           std::string* out);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_WORD_TOKENIZER_H_
