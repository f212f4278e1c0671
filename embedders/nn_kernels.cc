#include "embedders/nn_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

// One clone per x86-64 level, picked at load time by an ifunc resolver.
// Under ThreadSanitizer the resolvers would run before its runtime starts
// (and crash), so TSan builds get the default clone only.
#if defined(__SANITIZE_THREAD__)
#define SEMDB_VECTOR_CLONES
#else
#define SEMDB_VECTOR_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif

namespace semdb::nn {
namespace {

// Eigen's rational approximation of erf on [-4, 4]; outside, erf is +-1 in
// float.
inline float ErfInline(float x) {
  x = std::min(4.0f, std::max(-4.0f, x));
  const float x2 = x * x;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 - 2.10102402082508e-06f;
  p = p * x2 - 5.69250639462346e-05f;
  p = p * x2 - 7.34990630326855e-04f;
  p = p * x2 - 2.95459980854025e-03f;
  p = p * x2 - 1.60960333262415e-02f;
  p = p * x;
  float q = -1.45660718464996e-05f;
  q = q * x2 - 2.13374055278905e-04f;
  q = q * x2 - 1.68282697438203e-03f;
  q = q * x2 - 7.37332916720468e-03f;
  q = q * x2 - 1.42647390514189e-02f;
  return p / q;
}

// exp by range reduction x = n ln2 + r, |r| <= ln2 / 2, a degree-7
// polynomial for e^r (Cephes expf), and 2^n built in the exponent bits.
inline float ExpInline(float x) {
  x = std::min(88.3762626647949f, std::max(-87.3365447505531f, x));
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float n = (x * 1.44269504088896341f + kRound) - kRound;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

}  // namespace

float Erf(float x) { return ErfInline(x); }
float Exp(float x) { return ExpInline(x); }

SEMDB_VECTOR_CLONES
void GeluErf(float* x, int64_t n) {
  constexpr float kInvSqrt2 = 0.70710678118654752f;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + ErfInline(v * kInvSqrt2));
  }
}

SEMDB_VECTOR_CLONES
void GeluTanh(float* x, int64_t n) {
  constexpr float kSqrt2OverPi = 0.79788456080286536f;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float u = kSqrt2OverPi * (v + 0.044715f * v * v * v);
    const float tanh = 1.0f - 2.0f / (1.0f + ExpInline(2.0f * u));
    x[i] = 0.5f * v * (1.0f + tanh);
  }
}

SEMDB_VECTOR_CLONES
void Silu(float* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] / (1.0f + ExpInline(-x[i]));
}

SEMDB_VECTOR_CLONES
void Multiply(float* x, const float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= y[i];
}

void Rotate(float* x, const float* cos, const float* sin, int64_t half) {
  float* y = x + half;
#pragma omp simd
  for (int64_t k = 0; k < half; ++k) {
    const float a = x[k], b = y[k];
    x[k] = a * cos[k] - b * sin[k];
    y[k] = b * cos[k] + a * sin[k];
  }
}

int RelativePositionBucket(int relative, int buckets, int max_distance) {
  const int half = buckets / 2, max_exact = half / 2;
  int n = -relative;
  const int bucket = n < 0 ? half : 0;
  n = std::abs(n);
  if (n < max_exact) return bucket + n;
  const float scaled = std::log(static_cast<float>(n) / static_cast<float>(max_exact)) /
                       static_cast<float>(std::log(static_cast<double>(max_distance) / max_exact)) *
                       static_cast<float>(half - max_exact);
  return bucket + std::min(half - 1, max_exact + static_cast<int>(scaled));
}

SEMDB_VECTOR_CLONES
void SoftmaxRows(float* x, int64_t rows, int64_t n, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * ld;
    float max = row[0];
#pragma omp simd reduction(max : max)
    for (int64_t i = 0; i < n; ++i) max = std::max(max, row[i]);
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) {
      const float e = ExpInline(row[i] - max);
      row[i] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) row[i] *= inv;
  }
}

SEMDB_VECTOR_CLONES
void LayerNorm(float* x, int64_t rows, int64_t n, const float* gamma, const float* beta,
               float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * n;
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) sum += row[i];
    const float mean = sum / static_cast<float>(n);
    float var = 0;
#pragma omp simd reduction(+ : var)
    for (int64_t i = 0; i < n; ++i) {
      const float d = row[i] - mean;
      var += d * d;
    }
    const float inv = 1.0f / std::sqrt(var / static_cast<float>(n) + eps);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) row[i] = (row[i] - mean) * inv * gamma[i] + beta[i];
  }
}

void L2Normalize(float* x, int64_t n) {
  double norm = 0;
  for (int64_t j = 0; j < n; ++j) norm += static_cast<double>(x[j]) * x[j];
  const float inv = static_cast<float>(1.0 / std::max(std::sqrt(norm), 1e-12));
  for (int64_t j = 0; j < n; ++j) x[j] *= inv;
}

void BroadcastRows(float* y, const float* bias, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) std::memcpy(y + r * n, bias, n * sizeof(float));
}

SEMDB_VECTOR_CLONES
void RoundToBf16(const float* x, int64_t n, uint16_t* out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    const bool nan = (bits & 0x7FFFFFFFu) > 0x7F800000u;
    const uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16;
    out[i] = static_cast<uint16_t>(nan ? (bits >> 16) | 0x40u : rounded);
  }
}

}  // namespace semdb::nn
