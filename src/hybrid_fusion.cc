#include "src/hybrid_fusion.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "semdb/document.h"

namespace semdb {
namespace {

// Reciprocal rank fusion constant (Cormack et al. 2009).
constexpr double kRrfK = 60;

// Adds weight * (the normalized score of each hit) to `fused`.
void AddRanking(absl::Span<const IndexHit> hits, FusionMethod method, double weight, int depth,
                absl::flat_hash_map<uint64_t, double>* fused) {
  if (weight <= 0 || hits.empty()) return;
  if (method == FusionMethod::kRrf && depth > 0 && hits.size() >= static_cast<size_t>(depth)) {
    // Cut at its depth, the ranking's last group of equal scores may go on
    // past the cut: which of its members made it depends on tie order, so
    // none earns a rank.
    const float last = hits.back().score;
    while (!hits.empty() && hits.back().score == last) hits.remove_suffix(1);
    if (hits.empty()) return;
  }
  double lo = hits[0].score, hi = hits[0].score;
  for (const IndexHit& h : hits) {
    lo = std::min<double>(lo, h.score);
    hi = std::max<double>(hi, h.score);
  }
  size_t rank = 0;  // RRF: hits with equal scores share the rank of the first
  for (size_t r = 0; r < hits.size(); ++r) {
    if (r == 0 || hits[r].score != hits[r - 1].score) rank = r + 1;
    double normalized;
    if (method == FusionMethod::kRrf) {
      normalized = 1.0 / (kRrfK + static_cast<double>(rank));
    } else {
      normalized = hi > lo ? (hits[r].score - lo) / (hi - lo) : 1.0;
    }
    (*fused)[hits[r].label] += weight * normalized;
  }
}

}  // namespace

std::vector<IndexHit> FuseRankings(absl::Span<const IndexHit> vector_hits,
                                   absl::Span<const IndexHit> keyword_hits,
                                   FusionMethod method, double keyword_weight, int depth) {
  absl::flat_hash_map<uint64_t, double> fused;
  AddRanking(vector_hits, method, 1 - keyword_weight, depth, &fused);
  AddRanking(keyword_hits, method, keyword_weight, depth, &fused);
  std::vector<IndexHit> out;
  out.reserve(fused.size());
  for (const auto& [label, score] : fused) out.push_back({label, static_cast<float>(score)});
  std::sort(out.begin(), out.end(), RanksBefore);
  return out;
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
