#include "checksum/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace semdb {
namespace {

constexpr uint32_t kPolynomial = 0x82f63b78;  // reflected Castagnoli polynomial

constexpr std::array<uint32_t, 256> MakeByteTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = c & 1 ? (c >> 1) ^ kPolynomial : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kByteTable = MakeByteTable();

// The CRC register (not inverted) after `n` more bytes, a byte at a time.
uint32_t UpdateByTable(uint32_t reg, const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) reg = kByteTable[(reg ^ p[i]) & 0xff] ^ (reg >> 8);
  return reg;
}

// a * b modulo the polynomial, both reflected (bit 31 is x^0).
constexpr uint32_t MultiplyModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
    if (a & m) product ^= b;
    b = b & 1 ? (b >> 1) ^ kPolynomial : b >> 1;
  }
  return product;
}

// x^(8 * bytes) modulo the polynomial: what moves a register past `bytes`
// zero bytes.
constexpr uint32_t ShiftByBytes(size_t bytes) {
  uint32_t result = 1u << 31, square = 1u << 30;  // x^0, x^1
  for (size_t bits = 8 * bytes; bits != 0; bits >>= 1) {
    if (bits & 1) result = MultiplyModP(square, result);
    square = MultiplyModP(square, square);
  }
  return result;
}

#if defined(__x86_64__)
// The crc32 instruction has a latency of 3 cycles and a throughput of 1, so
// three independent streams over the thirds of a stripe run at full speed;
// their registers are then combined, the CRC being linear: shifting a
// register past a third is a multiplication by kStripeShift.
constexpr size_t kThird = 4096;
constexpr uint32_t kStripeShift = ShiftByBytes(kThird);

__attribute__((target("sse4.2"))) uint32_t UpdateByInstruction(uint32_t reg,
                                                               const unsigned char* p,
                                                               size_t n) {
  uint64_t r0 = reg;
  for (; n >= 3 * kThird; n -= 3 * kThird, p += 3 * kThird) {
    uint64_t r1 = 0, r2 = 0;
    for (size_t i = 0; i < kThird; i += 8) {
      uint64_t w0, w1, w2;
      std::memcpy(&w0, p + i, 8);
      std::memcpy(&w1, p + kThird + i, 8);
      std::memcpy(&w2, p + 2 * kThird + i, 8);
      r0 = _mm_crc32_u64(r0, w0);
      r1 = _mm_crc32_u64(r1, w1);
      r2 = _mm_crc32_u64(r2, w2);
    }
    r0 = MultiplyModP(kStripeShift, static_cast<uint32_t>(r0)) ^ static_cast<uint32_t>(r1);
    r0 = MultiplyModP(kStripeShift, static_cast<uint32_t>(r0)) ^ static_cast<uint32_t>(r2);
  }
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    r0 = _mm_crc32_u64(r0, w);
  }
  uint32_t r = static_cast<uint32_t>(r0);
  for (; n > 0; --n, ++p) r = _mm_crc32_u8(r, *p);
  return r;
}

bool HasCrcInstruction() {
  static const bool has = (__builtin_cpu_init(), __builtin_cpu_supports("sse4.2"));
  return has;
}
#endif

}  // namespace

uint32_t CombineCrc32c(uint32_t first, uint32_t second, uint64_t second_bytes) {
  // The CRC is linear: moving the first part's CRC past the second's bytes
  // and adding the second's gives the whole's (the inversions cancel).
  return MultiplyModP(ShiftByBytes(second_bytes), first) ^ second;
}

uint32_t ExtendCrc32c(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
#if defined(__x86_64__)
  if (HasCrcInstruction()) return ~UpdateByInstruction(~crc, p, n);
#endif
  return ~UpdateByTable(~crc, p, n);
}

}  // namespace semdb
