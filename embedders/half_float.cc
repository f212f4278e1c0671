#include "embedders/half_float.h"

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

}  // namespace semdb
