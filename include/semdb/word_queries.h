// Results of word queries on collections whose embedder holds word vectors
// (glove, word2vec, fasttext): nearest words and word-similarity evaluation.
#ifndef SEMDB_WORD_QUERIES_H_
#define SEMDB_WORD_QUERIES_H_

#include <string>
#include <vector>

namespace semdb {

struct WordMatch {
  std::string word;
  float cosine = 0;
};

// How well the cosines of word vectors rank word pairs as people do.
struct WordSimilarityResult {
  double spearman = 0;           // Spearman's rho; NaN when a side is constant
  int pairs_used = 0;
  int pairs_skipped = 0;         // a word without a vector
  int pairs_with_subwords = 0;   // used, with a word built from n-grams
  std::vector<std::string> missing_words;  // distinct, in file order
};

}  // namespace semdb

#endif  // SEMDB_WORD_QUERIES_H_
