// The kernels' approximations against the C library's exact functions.
#include "embedders/nn_kernels.h"

#include <cmath>
#include <vector>

#include "catch2/catch.hpp"

namespace semdb {
namespace {

TEST_CASE("nn::Erf is within 1e-6 of std::erf") {
  double worst = 0;
  for (double x = -8; x <= 8; x += 1e-4) {
    const float f = static_cast<float>(x);
    worst = std::max(worst, std::abs(static_cast<double>(nn::Erf(f)) - std::erf(static_cast<double>(f))));
  }
  CHECK(worst < 1e-6);
}

TEST_CASE("nn::Exp is within 1e-6 relative of std::exp, and 0 far below") {
  double worst = 0;
  for (double x = -87; x <= 88; x += 1e-3) {
    const float f = static_cast<float>(x);
    worst = std::max(worst, std::abs(static_cast<double>(nn::Exp(f)) / std::exp(static_cast<double>(f)) - 1.0));
  }
  CHECK(worst < 1e-6);
  CHECK(nn::Exp(-1000.0f) < 1e-37f);
  CHECK(nn::Exp(0.0f) == 1.0f);
}

TEST_CASE("GELU, softmax and LayerNorm kernels follow their definitions") {
  std::vector<float> x;
  for (int i = -300; i <= 300; ++i) x.push_back(i * 0.02f);
  std::vector<float> g = x;
  nn::GeluErf(g.data(), static_cast<int64_t>(g.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = 0.5 * x[i] * (1 + std::erf(x[i] / std::sqrt(2.0)));
    CHECK(std::abs(g[i] - want) < 2e-6);
  }

  // Two rows of width 5 at stride 7; the padding must stay untouched.
  std::vector<float> s = {1, 2, 3, 4, 5, -9, -9, -100, 0, 100, 0.5f, 0.5f, -9, -9};
  nn::SoftmaxRows(s.data(), 2, 5, 7);
  for (int r = 0; r < 2; ++r) {
    double sum = 0;
    for (int i = 0; i < 5; ++i) sum += s[r * 7 + i];
    CHECK(std::abs(sum - 1) < 1e-6);
    CHECK(s[r * 7 + 5] == -9);
  }
  double z = 0;
  for (int i = 1; i <= 5; ++i) z += std::exp(i - 5.0);
  for (int i = 0; i < 5; ++i) CHECK(std::abs(s[i] - std::exp(i + 1 - 5.0) / z) < 1e-6);
  CHECK(std::abs(s[9] - 1) < 1e-6);

  std::vector<float> row = {1.5f, 1.5f, 3, 5};
  const std::vector<float> gamma = {1, 2, 0.5f, 1}, beta = {0, 0.1f, 0, -1};
  nn::LayerNorm(row.data(), 1, 4, gamma.data(), beta.data(), 1e-5f);
  const double v[] = {1.5, 1.5, 3, 5};
  const double mean = 2.75, var = (1.5625 + 1.5625 + 0.0625 + 5.0625) / 4;
  for (int i = 0; i < 4; ++i) {
    CHECK(std::abs(row[i] - ((v[i] - mean) / std::sqrt(var + 1e-5) * gamma[i] + beta[i])) < 1e-6);
  }
}

}  // namespace
}  // namespace semdb
