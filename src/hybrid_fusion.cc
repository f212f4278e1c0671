#include "src/hybrid_fusion.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "semdb/document.h"

namespace semdb {
namespace {

// Reciprocal rank fusion constant (Cormack et al. 2009).
constexpr double kRrfK = 60;

// Adds weight * (the normalized score of each hit) to `fused`.
void AddRanking(absl::Span<const IndexHit> hits, FusionMethod method, double weight,
                absl::flat_hash_map<uint64_t, double>* fused) {
  if (weight <= 0 || hits.empty()) return;
  double lo = hits[0].score, hi = hits[0].score;
  for (const IndexHit& h : hits) {
    lo = std::min<double>(lo, h.score);
    hi = std::max<double>(hi, h.score);
  }
  for (size_t r = 0; r < hits.size(); ++r) {
    double normalized;
    if (method == FusionMethod::kRrf) {
      normalized = 1.0 / (kRrfK + static_cast<double>(r) + 1);
    } else {
      normalized = hi > lo ? (hits[r].score - lo) / (hi - lo) : 1.0;
    }
    (*fused)[hits[r].label] += weight * normalized;
  }
}

}  // namespace

std::vector<IndexHit> FuseRankings(absl::Span<const IndexHit> vector_hits,
                                   absl::Span<const IndexHit> keyword_hits,
                                   FusionMethod method, double keyword_weight) {
  absl::flat_hash_map<uint64_t, double> fused;
  AddRanking(vector_hits, method, 1 - keyword_weight, &fused);
  AddRanking(keyword_hits, method, keyword_weight, &fused);
  std::vector<IndexHit> out;
  out.reserve(fused.size());
  for (const auto& [label, score] : fused) out.push_back({label, static_cast<float>(score)});
  std::sort(out.begin(), out.end(), RanksBefore);
  return out;
}

const char* FusionName(FusionMethod method) {
  return method == FusionMethod::kRrf ? "rrf" : "convex";
}

const char* ScoreKindName(ScoreKind kind) {
  switch (kind) {
    case ScoreKind::kCosine:
      return "cosine";
    case ScoreKind::kFusion:
      return "fusion score";
    case ScoreKind::kRankFusion:
      return "rank score";
    case ScoreKind::kKeyword:
      return "bm25";
  }
  return "score";
}

}  // namespace semdb
