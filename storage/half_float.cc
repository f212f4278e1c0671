#include "storage/half_float.h"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace semdb {

uint16_t FloatToHalf(float f) {
  // After F. Giesen's float_to_half_fast3_rtne: exponent rebias with the
  // rounding added to the bits; subnormal halves by a float addition that
  // lets the FPU round.
  constexpr uint32_t kInfinity = 255u << 23;
  constexpr uint32_t kHalfOverflow = (127u + 16) << 23;  // 65536
  constexpr uint32_t kMinNormal = 113u << 23;           // 2^-14
  constexpr uint32_t kDenormMagic = ((127u - 15) + (23 - 10) + 1) << 23;
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  const uint32_t sign = bits & 0x80000000u;
  bits ^= sign;
  uint32_t half;
  if (bits >= kHalfOverflow) {
    half = bits > kInfinity ? 0x7E00 : 0x7C00;  // NaN, or infinity
  } else if (bits < kMinNormal) {
    float magnitude, magic;
    std::memcpy(&magnitude, &bits, sizeof magnitude);
    std::memcpy(&magic, &kDenormMagic, sizeof magic);
    magnitude += magic;
    std::memcpy(&bits, &magnitude, sizeof bits);
    half = bits - kDenormMagic;
  } else {
    const uint32_t odd = (bits >> 13) & 1;
    bits += ((15u - 127u) << 23) + 0xFFF + odd;  // rebias, round to nearest even
    half = bits >> 13;                             // a carry may reach infinity
  }
  return static_cast<uint16_t>(half | (sign >> 16));
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1F;
  uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0x1F) {  // inf or NaN
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {  // normal
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {  // zero
    bits = sign;
  } else {  // subnormal: normalize
    int e = -1;
    do {
      ++e;
      mantissa <<= 1;
    } while ((mantissa & 0x400) == 0);
    bits = sign | static_cast<uint32_t>(112 - e) << 23 | ((mantissa & 0x3FF) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

namespace {

// F16C converts 8 values per instruction; the tail goes through the scalar
// functions. _MM_FROUND_TO_NEAREST_INT is round to nearest even, as
// FloatToHalf rounds.
__attribute__((target("avx,f16c"))) void FloatsToHalvesF16c(const float* in, uint16_t* out,
                                                           size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
  for (; i < n; ++i) out[i] = FloatToHalf(in[i]);
}

__attribute__((target("avx,f16c"))) void HalvesToFloatsF16c(const uint16_t* in, float* out,
                                                           size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) out[i] = HalfToFloat(in[i]);
}

bool HasF16c() {
  static const bool has = [] {
    // F16C from CPUID leaf 1 (clang's __builtin_cpu_supports has no "f16c").
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0 || (ecx & bit_F16C) == 0) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx") != 0;
  }();
  return has;
}

}  // namespace

void FloatsToHalves(absl::Span<const float> in, absl::Span<uint16_t> out) {
  const size_t n = std::min(in.size(), out.size());
  if (HasF16c()) return FloatsToHalvesF16c(in.data(), out.data(), n);
  for (size_t i = 0; i < n; ++i) out[i] = FloatToHalf(in[i]);
}

void HalvesToFloats(absl::Span<const uint16_t> in, absl::Span<float> out) {
  const size_t n = std::min(in.size(), out.size());
  if (HasF16c()) return HalvesToFloatsF16c(in.data(), out.data(), n);
  for (size_t i = 0; i < n; ++i) out[i] = HalfToFloat(in[i]);
}

void RoundToHalfPrecision(absl::Span<float> values) {
  constexpr size_t kBlock = 256;
  uint16_t halves[kBlock];
  for (size_t begin = 0; begin < values.size(); begin += kBlock) {
    const size_t n = std::min(kBlock, values.size() - begin);
    FloatsToHalves(values.subspan(begin, n), absl::MakeSpan(halves, n));
    HalvesToFloats(absl::MakeConstSpan(halves, n), values.subspan(begin, n));
  }
}

}  // namespace semdb
