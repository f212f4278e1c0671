#include "index/inner_product.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace semdb {
namespace {

float InnerProductPortable(const float* x, const float* y, size_t d) {
  float sum = 0;
  for (size_t i = 0; i < d; ++i) sum += x[i] * y[i];
  return sum;
}

#if defined(__x86_64__)
// GCC 12's _mm512_reduce_add_ps starts from _mm256_undefined_pd(), which
// -Wuninitialized reports (a false positive: every lane is overwritten).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
// Four independent accumulators hide the FMA latency; the tail is masked.
__attribute__((target("avx512f"))) float InnerProductAvx512(const float* x, const float* y,
                                                             size_t d) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= d; i += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), _mm512_loadu_ps(y + i + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), _mm512_loadu_ps(y + i + 48), s3);
  }
  for (; i + 16 <= d; i += 16) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), s0);
  }
  if (i < d) {
    const __mmask16 m = static_cast<__mmask16>((1u << (d - i)) - 1);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}
#pragma GCC diagnostic pop

__attribute__((target("avx2,fma"))) float InnerProductAvx2(const float* x, const float* y,
                                                            size_t d) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), s3);
  }
  for (; i + 8 <= d; i += 8) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  float sum = _mm_cvtss_f32(h);
  for (; i < d; ++i) sum += x[i] * y[i];
  return sum;
}
#endif

}  // namespace

SimdLevel BestSimdLevel() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return SimdLevel::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SimdLevel::kAvx2;
#endif
  return SimdLevel::kPortable;
}

InnerProductFn InnerProductKernel(SimdLevel level) {
#if defined(__x86_64__)
  if (level == SimdLevel::kAvx512) return InnerProductAvx512;
  if (level == SimdLevel::kAvx2) return InnerProductAvx2;
#endif
  (void)level;
  return InnerProductPortable;
}

InnerProductFn BestInnerProduct() {
  static const InnerProductFn best = InnerProductKernel(BestSimdLevel());
  return best;
}

const char* SimdLevelName(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAvx512: return "avx512";
    case SimdLevel::kAvx2: return "avx2";
    case SimdLevel::kPortable: break;
  }
  return "portable";
}

}  // namespace semdb
