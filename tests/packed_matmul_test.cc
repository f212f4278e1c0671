// bfloat16 rounding against its definition, and the packed f32 and bf16
// products (oneDNN) with their epilogues (bias, activation, accumulation,
// bf16 input and output) against a double-precision product of the same
// (rounded) inputs.
#include "embedders/packed_matmul.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "catch2/catch.hpp"
#include "embedders/nn_kernels.h"
#include "test_data.h"

namespace semdb {
namespace {

float FromBf16(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

uint32_t Bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

// The nearest bfloat16 by value, ties to the even one: of the two bfloat16
// neighbours of x, the closer in double arithmetic (beyond the largest
// finite one, infinity stands for 2^128, as IEEE rounding has it).
uint16_t NearestBf16(float x) {
  const uint16_t down = static_cast<uint16_t>(Bits(x) >> 16);  // toward zero
  const uint16_t up = static_cast<uint16_t>(down + 1);          // away from zero
  const double up_value =
      std::isinf(FromBf16(up)) ? std::copysign(std::ldexp(1.0, 128), x) : FromBf16(up);
  const double to_down = std::abs(static_cast<double>(x) - FromBf16(down));
  const double to_up = std::abs(up_value - x);
  if (to_down != to_up) return to_down < to_up ? down : up;
  return (down & 1) == 0 ? down : up;
}

TEST_CASE("nn::RoundToBf16 rounds to the nearest bfloat16, ties to even") {
  std::mt19937 rng(1);
  std::uniform_int_distribution<uint32_t> any_bits;
  std::vector<float> x;
  for (int i = 0; i < 100000; ++i) {
    uint32_t bits = any_bits(rng);
    if ((bits & 0x7F800000u) == 0x7F800000u) bits &= 0xBFFFFFFFu;  // no Inf/NaN here
    float f;
    std::memcpy(&f, &bits, sizeof f);
    x.push_back(f);
  }
  // Exact ties (1 + 2^-8 lies halfway between 1 and 1 + 2^-7), the largest
  // float, which rounds up to infinity as in torch, and the smallest
  // denormal.
  for (uint32_t bits : {0x3F808000u, 0x3F818000u, 0xBF808000u, 0x7F7FFFFFu, 0x00000001u}) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    x.push_back(f);
  }
  std::vector<uint16_t> got(x.size());
  nn::RoundToBf16(x.data(), static_cast<int64_t>(x.size()), got.data());
  size_t wrong = 0;
  for (size_t i = 0; i < x.size(); ++i) wrong += got[i] != NearestBf16(x[i]);
  CHECK(wrong == 0);
  const size_t t = x.size() - 5;
  CHECK(got[t] == 0x3F80);      // to even: 1
  CHECK(got[t + 1] == 0x3F82);  // to even: up
  CHECK(got[t + 2] == 0xBF80);
  CHECK(got[t + 3] == 0x7F80);  // +Inf
  CHECK(got[t + 4] == 0x0000);
  const float special[] = {std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::quiet_NaN()};
  uint16_t out[3];
  nn::RoundToBf16(special, 3, out);
  CHECK(out[0] == 0x7F80);
  CHECK(out[1] == 0xFF80);
  CHECK(std::isnan(FromBf16(out[2])));
}

// The values of bf16 numbers, as floats.
std::vector<float> Widened(const std::vector<uint16_t>& b) {
  std::vector<float> f(b.size());
  for (size_t i = 0; i < b.size(); ++i) f[i] = FromBf16(b[i]);
  return f;
}

// Packed products of `type` with their epilogues against the double
// product of the inputs they multiply (rounded to bf16 for bf16 weights),
// relative to the scale of the float accumulation's rounding errors,
// 1 + sum |x_i w_i|: within `tolerance` of it.
void CheckProducts(MatmulType type, double tolerance) {
  const bool bf16 = type == MatmulType::kBf16;
  std::mt19937 rng(2);
  std::normal_distribution<float> normal;
  auto random = [&](int64_t size) {
    std::vector<float> v(static_cast<size_t>(size));
    for (float& x : v) x = normal(rng);
    return v;
  };
  auto rounded = [](const std::vector<float>& v) {
    std::vector<uint16_t> r(v.size());
    nn::RoundToBf16(v.data(), static_cast<int64_t>(v.size()), r.data());
    return r;
  };
  // Shapes of the tiny test models and of BERT-base, row counts from one
  // token to several batches' worth.
  for (auto [n, k] : {std::pair<int64_t, int64_t>{24, 24}, {72, 24}, {37, 61}, {2304, 768},
                      {768, 3072}}) {
    const std::vector<float> w = random(n * k);
    absl::StatusOr<PackedMatrix> m = PackedMatrix::Pack(w.data(), n, k, type);
    INFO(n << "x" << k << ": " << m.status().ToString());
    REQUIRE(m.ok());
    REQUIRE(!m->empty());
    REQUIRE(m->type() == type);
    const std::vector<float> w_used = bf16 ? Widened(rounded(w)) : w;
    MatmulScratch scratch;
    for (int64_t rows : {1, 7, 64, 129}) {
      const std::vector<float> x = random(rows * k), y0 = random(rows * n), bias = random(n);
      const std::vector<uint16_t> x16 = rounded(x);
      const std::vector<float> x_used = bf16 ? Widened(x16) : x;
      std::vector<double> want(y0.size()), scale(y0.size(), 1.0);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t j = 0; j < n; ++j) {
          double dot = bias[j];
          for (int64_t i = 0; i < k; ++i) {
            const double p = double(x_used[r * k + i]) * w_used[j * k + i];
            dot += p;
            scale[r * n + j] += std::abs(p);
          }
          want[r * n + j] = dot;
        }
      }
      // The worst error of `got` against f(want), less `slack` of it.
      auto worst = [&](auto got, auto f, double slack) {
        double e = 0;
        for (size_t i = 0; i < want.size(); ++i) {
          const double v = f(want[i]);
          e = std::max(e, (std::abs(got(i) - v) - slack * std::abs(v)) / scale[i]);
        }
        return e;
      };
      auto identity = [](double v) { return v; };
      auto gelu = [](double v) { return v / 2 * (1 + std::erf(v / std::sqrt(2.0))); };
      INFO(n << "x" << k << ", " << rows << " rows");
      // Twice with the same scratch: the second reuses the primitives.
      for (int repeat = 0; repeat < 2; ++repeat) {
        // y += x * w^T + bias, x in float.
        std::vector<float> y = y0;
        REQUIRE(m->Multiply(x.data(), rows, {.bias = bias.data(), .accumulate = true}, y.data(),
                            2, &scratch)
                    .ok());
        CHECK(worst([&](size_t i) { return double(y[i]) - y0[i]; }, identity, 0) < tolerance);
        const MatmulEpilogue gelu_epilogue{.bias = bias.data(),
                                           .activation = MatmulActivation::kGeluErf};
        if (!bf16) {
          // y = GELU(x * w^T + bias), as the feed-forward block's first
          // product.
          REQUIRE(m->Multiply(x.data(), rows, gelu_epilogue, y.data(), 2, &scratch).ok());
          CHECK(worst([&](size_t i) { return double(y[i]); }, gelu, 0) < tolerance);
          continue;
        }
        // y = x * w^T + bias, x in bf16.
        REQUIRE(m->Multiply(x16.data(), rows, {.bias = bias.data()}, y.data(), 2, &scratch).ok());
        CHECK(worst([&](size_t i) { return double(y[i]); }, identity, 0) < tolerance);
        // y16 = bf16(GELU(x * w^T + bias)): within the float error plus one
        // bf16 unit (2^-8 relative: a rounding of oneDNN's erf
        // approximation, not always the nearest bf16 of the exact GELU).
        std::vector<uint16_t> y16(y.size());
        REQUIRE(m->Multiply(x.data(), rows, gelu_epilogue, y16.data(), 2, &scratch).ok());
        CHECK(worst([&](size_t i) { return double(FromBf16(y16[i])); }, gelu, 1.0 / 256) <
              tolerance);
      }
    }
  }
}

TEST_CASE("PackedMatrix: packed bf16 products equal the double product of the rounded inputs") {
  std::string isa;
  if (!CpuHasBf16(&isa)) SEMDB_SKIP("the CPU has " << isa << ", no AVX512_BF16 or AMX");
  CheckProducts(MatmulType::kBf16, 1e-5);
}

TEST_CASE("PackedMatrix: packed f32 products equal the double product, epilogues included") {
  CheckProducts(MatmulType::kF32, 1e-6);
}

TEST_CASE("PackedMatrix: float weights refuse bf16 inputs and outputs") {
  const std::vector<float> w = {1, 2, 3, 4, 5, 6};  // [2, 3]
  absl::StatusOr<PackedMatrix> m = PackedMatrix::Pack(w.data(), 2, 3, MatmulType::kF32);
  REQUIRE(m.ok());
  MatmulScratch scratch;
  const std::vector<float> x = {1, 0, -1};
  std::vector<uint16_t> x16(3), y16(2);
  std::vector<float> y(2);
  CHECK(m->Multiply(x.data(), 1, {}, y16.data(), 1, &scratch).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(m->Multiply(x16.data(), 1, {}, y.data(), 1, &scratch).code() ==
        absl::StatusCode::kInvalidArgument);
  REQUIRE(m->Multiply(x.data(), 1, {}, y.data(), 1, &scratch).ok());
  CHECK(y == std::vector<float>{-2, -2});
}

}  // namespace
}  // namespace semdb
