// Word-similarity evaluation (`eval words FILE`): how well the cosines of
// word vectors rank word pairs as people do, measured by Spearman's rho, as
// in the WordSim-353 and SimLex evaluations.
//
// FILE: one pair a line, `word1 <TAB> word2 <TAB> score` (further columns
// ignored; spaces separate the fields when a line has no tab). Blank lines
// and lines starting with '#' are skipped, as is a first line whose score is
// not a number (a column header). Words are normalized and case-folded as
// the embedder does. A pair is skipped when either word has no vector (for
// fastText .bin, unknown words are built from n-grams and count as used).
#ifndef SEMDB_EMBEDDERS_WORD_SIMILARITY_H_
#define SEMDB_EMBEDDERS_WORD_SIMILARITY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "embedders/word_vector_embedder.h"
#include "semdb/word_queries.h"

namespace semdb {

// Spearman's rank correlation: Pearson's correlation of the ranks, ties
// given their average rank (as scipy.stats.spearmanr). NaN when either side
// is constant. x and y have equal sizes of at least 2.
double SpearmanRho(absl::Span<const double> x, absl::Span<const double> y);
// Pearson's linear correlation, with the same conditions.
double PearsonR(absl::Span<const double> x, absl::Span<const double> y);

absl::StatusOr<WordSimilarityResult> EvaluateWordSimilarity(const WordVectorEmbedder& embedder,
                                                            const std::string& path);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_WORD_SIMILARITY_H_
