// Synthetic vectors for index and planner tests: fixed-seed clustered unit
// vectors (points scattered around random centres, like real embeddings,
// unlike uniform noise on which no ANN index does well), overlapping
// clusters in a low-dimensional latent space, and brute force.
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

// Points around overlapping clusters in a `latent`-dimensional space,
// mapped to `dim` dimensions by a random linear map plus small isotropic
// noise, then normalized: most of the variance in few directions and
// neighbours from several clusters, as with text embeddings.
inline std::vector<float> LatentVectors(int64_t n, int dim, int latent, int clusters, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> centres(static_cast<size_t>(clusters) * latent);
  for (float& x : centres) x = normal(rng);
  std::vector<float> map(static_cast<size_t>(latent) * dim);
  for (float& x : map) x = normal(rng) / std::sqrt(static_cast<float>(latent));
  std::uniform_int_distribution<int> pick(0, clusters - 1);
  std::vector<float> v(static_cast<size_t>(n) * dim), z(latent);
  for (int64_t i = 0; i < n; ++i) {
    const float* c = &centres[static_cast<size_t>(pick(rng)) * latent];
    for (int j = 0; j < latent; ++j) z[j] = c[j] + 0.8f * normal(rng);  // overlapping
    float* row = &v[static_cast<size_t>(i) * dim];
    double norm = 0;
    for (int j = 0; j < dim; ++j) {
      float x = 0.15f * normal(rng);
      for (int l = 0; l < latent; ++l) x += z[l] * map[static_cast<size_t>(l) * dim + j];
      row[j] = x;
      norm += double(x) * x;
    }
    for (int j = 0; j < dim; ++j) row[j] /= static_cast<float>(std::sqrt(norm));
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
