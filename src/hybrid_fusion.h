// Fusion of a vector ranking and a keyword ranking into one hybrid ranking
// (SearchOptions::hybrid and ::fusion; the formulas are at FusionMethod).
#ifndef SEMDB_SRC_HYBRID_FUSION_H_
#define SEMDB_SRC_HYBRID_FUSION_H_

#include <vector>

#include "absl/types/span.h"
#include "semdb/options.h"
#include "semdb/vector_index.h"

namespace semdb {

// Both rankings best first, each with its own scores (cosine, BM25);
// `keyword_weight` in [0, 1]; `depth`: where the rankings were cut (0:
// they are complete). Returns every document of a ranking whose weight is
// positive, with its fused score, in RanksBefore order; with RRF, a
// ranking that reaches `depth` gives no rank to its last group of equal
// scores (its members past the cut are unknown), so that the fused scores
// do not depend on the order of ties (FusionMethod).
std::vector<IndexHit> FuseRankings(absl::Span<const IndexHit> vector_hits,
                                   absl::Span<const IndexHit> keyword_hits,
                                   FusionMethod method, double keyword_weight, int depth = 0);

}  // namespace semdb

#endif  // SEMDB_SRC_HYBRID_FUSION_H_
