// Synthetic vectors for index and planner tests: fixed-seed clustered unit
// vectors (points scattered around random centres, like real embeddings,
// unlike uniform noise on which no ANN index does well), and brute force.
#ifndef SEMDB_TESTS_VECTOR_DATA_H_
#define SEMDB_TESTS_VECTOR_DATA_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <utility>
#include <vector>

namespace semdb::testing {

// n unit vectors of `dim` dimensions around `clusters` centres (standard
// normal), scattered by normal noise of standard deviation `spread` per
// dimension.
inline std::vector<float> ClusteredVectors(int64_t n, int dim, int clusters, uint64_t seed,
                                           float spread = 0.6f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> centres(static_cast<size_t>(clusters) * dim);
  for (float& x : centres) x = normal(rng);
  std::uniform_int_distribution<int> pick(0, clusters - 1);
  std::vector<float> v(static_cast<size_t>(n) * dim);
  for (int64_t i = 0; i < n; ++i) {
    const float* c = &centres[static_cast<size_t>(pick(rng)) * dim];
    double norm = 0;
    for (int j = 0; j < dim; ++j) {
      float x = c[j] + spread * normal(rng);
      v[static_cast<size_t>(i) * dim + j] = x;
      norm += static_cast<double>(x) * x;
    }
    for (int j = 0; j < dim; ++j) {
      v[static_cast<size_t>(i) * dim + j] /= static_cast<float>(std::sqrt(norm));
    }
  }
  return v;
}

// The exact top k of rows accepted by `keep` (row index), best first.
inline std::vector<int64_t> ExactTopK(const std::vector<float>& data, int dim,
                                      const float* query, int k,
                                      const std::function<bool(int64_t)>& keep) {
  std::vector<std::pair<float, int64_t>> scored;
  const int64_t n = static_cast<int64_t>(data.size()) / dim;
  for (int64_t i = 0; i < n; ++i) {
    if (keep && !keep(i)) continue;
    float dot = 0;
    for (int j = 0; j < dim; ++j) dot += data[i * dim + j] * query[j];
    scored.emplace_back(-dot, i);
  }
  const size_t top = std::min<size_t>(k, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + top, scored.end());
  std::vector<int64_t> out;
  for (size_t i = 0; i < top; ++i) out.push_back(scored[i].second);
  return out;
}

// |found ∩ truth| / |truth|.
template <typename A, typename B>
double RecallOf(const std::vector<A>& found, const std::vector<B>& truth) {
  if (truth.empty()) return 1.0;
  int hit = 0;
  for (const B& t : truth) {
    for (const A& f : found) {
      if (static_cast<int64_t>(f) == static_cast<int64_t>(t)) {
        ++hit;
        break;
      }
    }
  }
  return static_cast<double>(hit) / static_cast<double>(truth.size());
}

}  // namespace semdb::testing

#endif  // SEMDB_TESTS_VECTOR_DATA_H_
