// The terms a text is indexed and scored by, shared by TF-IDF and the BM25
// keyword index so that both sides of a hybrid search see the same words:
// the word tokenizer's words, minus English stop words, reduced to their
// Snowball English stem (libstemmer: "flows", "flowing" -> "flow").
#ifndef SEMDB_EMBEDDERS_TEXT_TERMS_H_
#define SEMDB_EMBEDDERS_TEXT_TERMS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "embedders/word_tokenizer.h"

namespace semdb {

struct TermOptions {
  WordTokenizerOptions tokenizer;
  bool english_stop_words = true;  // scikit-learn's list (stop_words.h)
  bool english_stemming = true;    // Snowball English (Porter 2)
};

// `text`'s terms in order. Invalid UTF-8 is an error.
absl::StatusOr<std::vector<std::string>> TextTerms(std::string_view text,
                                                   const TermOptions& options);

// The Snowball English stem of a lower-case word. Thread-safe.
std::string EnglishStem(std::string_view word);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_TEXT_TERMS_H_
