// Word queries for word-vector collections: `similar WORD` and vector
// arithmetic such as `king - man + woman` (the word2vec analogy test).
//
// Expression: words joined by '+' and '-'; an operator is a token of its own
// or a word's first character ("king -man +woman"), so words with inner
// hyphens ("e-mail") stay words. Each word is normalized and case-folded as
// the embedder does, then looked up (fastText .bin builds unknown words from
// n-grams; other formats report them as NotFound).
//
// Ranking (3CosAdd, as word2vec's compute-accuracy and gensim's
// most_similar): the query is the signed sum of the words' unit vectors; the
// result is the k vocabulary words of highest cosine with it, excluding the
// expression's own words.
#ifndef SEMDB_EMBEDDERS_NEAREST_WORDS_H_
#define SEMDB_EMBEDDERS_NEAREST_WORDS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "embedders/word_vector_embedder.h"
#include "semdb/word_queries.h"

namespace semdb {

struct WordTerm {
  std::string word;  // as written
  int sign = 1;      // +1 or -1
};

// Parses an expression into signed words. InvalidArgument on an empty
// expression, a dangling operator, or two words with no operator between.
absl::StatusOr<std::vector<WordTerm>> ParseWordExpression(std::string_view expression);

// The k nearest vocabulary words to `expression`, best first.
absl::StatusOr<std::vector<WordMatch>> NearestWords(const WordVectorEmbedder& embedder,
                                                    std::string_view expression, int k);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_NEAREST_WORDS_H_
