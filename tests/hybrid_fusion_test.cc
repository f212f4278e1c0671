// Hybrid fusion against hand-computed examples.
#include "src/hybrid_fusion.h"

#include <cmath>

#include "catch2/catch.hpp"

namespace semdb {
namespace {

TEST_CASE("Convex fusion of min-max normalized scores, by hand", "[fusion]") {
  // Vector: 1 (0.9), 2 (0.5), 3 (0.1) -> normalized 1, 0.5, 0.
  // Keyword: 3 (12), 4 (6), 1 (4)     -> normalized 1, 0.25, 0.
  // w = 0.3: 1 -> 0.7*1 + 0.3*0 = 0.7; 2 -> 0.35; 3 -> 0 + 0.3 = 0.3;
  //          4 -> 0.3*0.25 = 0.075.
  const std::vector<IndexHit> vec = {{1, 0.9f}, {2, 0.5f}, {3, 0.1f}};
  const std::vector<IndexHit> kw = {{3, 12}, {4, 6}, {1, 4}};
  std::vector<IndexHit> fused = FuseRankings(vec, kw, FusionMethod::kConvex, 0.3);
  REQUIRE(fused.size() == 4);
  const std::vector<std::pair<uint64_t, double>> want = {{1, 0.7}, {2, 0.35}, {3, 0.3}, {4, 0.075}};
  for (size_t i = 0; i < want.size(); ++i) {
    REQUIRE(fused[i].label == want[i].first);
    REQUIRE(std::abs(fused[i].score - want[i].second) < 1e-6);
  }
  // Weight 1: the keyword ranking only (its documents, in its order).
  fused = FuseRankings(vec, kw, FusionMethod::kConvex, 1);
  REQUIRE(fused.size() == 3);
  REQUIRE(fused[0].label == 3);
  REQUIRE(fused[1].label == 4);
  // A ranking whose scores are all equal gives its hits 1.
  fused = FuseRankings(std::vector<IndexHit>{{7, 0.4f}, {8, 0.4f}}, {}, FusionMethod::kConvex,
                       0.3);
  REQUIRE(fused.size() == 2);
  REQUIRE(std::abs(fused[0].score - 0.7) < 1e-6);
}

TEST_CASE("Reciprocal rank fusion, by hand", "[fusion]") {
  // w = 0.5: 1 -> 0.5/61 + 0.5/63; 3 -> 0.5/63 + 0.5/61; 2 -> 0.5/62; 4 -> 0.5/62.
  const std::vector<IndexHit> vec = {{1, 0.9f}, {2, 0.5f}, {3, 0.1f}};
  const std::vector<IndexHit> kw = {{3, 12}, {4, 6}, {1, 4}};
  std::vector<IndexHit> fused = FuseRankings(vec, kw, FusionMethod::kRrf, 0.5);
  REQUIRE(fused.size() == 4);
  const double top = 0.5 / 61 + 0.5 / 63;
  REQUIRE(fused[0].label == 1);  // ties by smaller label
  REQUIRE(fused[1].label == 3);
  REQUIRE(std::abs(fused[0].score - top) < 1e-7);
  REQUIRE(std::abs(fused[2].score - 0.5 / 62) < 1e-7);
}

TEST_CASE("Reciprocal rank fusion: equal scores share a rank", "[fusion]") {
  // Vector: 5 (0.8), 6 (0.5), 7 (0.5), 8 (0.2) -> ranks 1, 2, 2, 4, in
  // whichever order 6 and 7 are listed. Keyword: none. w = 0.3.
  for (const std::vector<IndexHit>& vec :
       {std::vector<IndexHit>{{5, 0.8f}, {6, 0.5f}, {7, 0.5f}, {8, 0.2f}},
        std::vector<IndexHit>{{5, 0.8f}, {7, 0.5f}, {6, 0.5f}, {8, 0.2f}}}) {
    std::vector<IndexHit> fused = FuseRankings(vec, {}, FusionMethod::kRrf, 0.3);
    REQUIRE(fused.size() == 4);
    const std::vector<std::pair<uint64_t, double>> want = {
        {5, 0.7 / 61}, {6, 0.7 / 62}, {7, 0.7 / 62}, {8, 0.7 / 64}};
    for (size_t i = 0; i < want.size(); ++i) {
      REQUIRE(fused[i].label == want[i].first);
      REQUIRE(std::abs(fused[i].score - want[i].second) < 1e-7);
    }
  }
  // Cut at depth 4, the vector ranking's last group (0.1, 0.1) might go on
  // past the cut: it earns no rank. Keyword: 9 (3) -> rank 1, complete.
  const std::vector<IndexHit> vec = {{5, 0.8f}, {6, 0.5f}, {7, 0.1f}, {8, 0.1f}};
  std::vector<IndexHit> fused = FuseRankings(vec, {{9, 3}}, FusionMethod::kRrf, 0.3, 4);
  REQUIRE(fused.size() == 3);
  REQUIRE(fused[0].label == 5);
  REQUIRE(std::abs(fused[0].score - 0.7 / 61) < 1e-7);
  REQUIRE(fused[1].label == 6);
  REQUIRE(fused[2].label == 9);
  REQUIRE(std::abs(fused[2].score - 0.3 / 61) < 1e-7);
  // Not cut (depth 5): they keep their shared rank 3.
  REQUIRE(FuseRankings(vec, {}, FusionMethod::kRrf, 0.3, 5).size() == 4);
}

}  // namespace
}  // namespace semdb
