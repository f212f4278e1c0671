#include "checksum/crc32c.h"

#include <algorithm>
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
// three independent streams run at full speed: each stripe of rows is cut
// in three groups of consecutive rows (about kThird bytes each), a stream
// a group, and their registers are then combined, the CRC being linear:
// shifting a register past a group is a multiplication by x^(8 * group
// bytes). One row per stream would leave short rows (a 512-byte vector) to
// a single stream, a third of the speed.
constexpr size_t kThird = 4096;
constexpr uint32_t kThirdShift = ShiftByBytes(kThird);

// One stream over n bytes.
__attribute__((target("sse4.2"))) uint64_t UpdateStream(uint64_t reg, const unsigned char* p,
                                                        size_t n) {
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    reg = _mm_crc32_u64(reg, w);
  }
  uint32_t r = static_cast<uint32_t>(reg);
  for (; n > 0; --n, ++p) r = _mm_crc32_u8(r, *p);
  return r;
}

// The register after `rows` rows of `row_bytes` at first, first + stride, ...
__attribute__((target("sse4.2"))) uint32_t UpdateRowsByInstruction(uint32_t reg,
                                                                   const unsigned char* first,
                                                                   size_t stride, size_t row_bytes,
                                                                   size_t rows) {
  const size_t group = std::max<size_t>(1, kThird / std::max<size_t>(row_bytes, 1));
  uint64_t r0 = reg;
  if (rows >= 3 * group) {
    const size_t group_bytes = group * row_bytes;
    const uint32_t shift = group_bytes == kThird ? kThirdShift : ShiftByBytes(group_bytes);
    const size_t words = row_bytes / 8, tail = row_bytes % 8;
    for (; rows >= 3 * group; rows -= 3 * group, first += 3 * group * stride) {
      uint64_t r1 = 0, r2 = 0;
      for (size_t j = 0; j < group; ++j) {
        const unsigned char* p0 = first + j * stride;
        const unsigned char* p1 = p0 + group * stride;
        const unsigned char* p2 = p1 + group * stride;
        for (size_t i = 0; i < words; ++i) {
          uint64_t w0, w1, w2;
          std::memcpy(&w0, p0 + 8 * i, 8);
          std::memcpy(&w1, p1 + 8 * i, 8);
          std::memcpy(&w2, p2 + 8 * i, 8);
          r0 = _mm_crc32_u64(r0, w0);
          r1 = _mm_crc32_u64(r1, w1);
          r2 = _mm_crc32_u64(r2, w2);
        }
        if (tail != 0) {
          r0 = UpdateStream(r0, p0 + 8 * words, tail);
          r1 = UpdateStream(r1, p1 + 8 * words, tail);
          r2 = UpdateStream(r2, p2 + 8 * words, tail);
        }
      }
      r0 = MultiplyModP(shift, static_cast<uint32_t>(r0)) ^ static_cast<uint32_t>(r1);
      r0 = MultiplyModP(shift, static_cast<uint32_t>(r0)) ^ static_cast<uint32_t>(r2);
    }
  }
  for (; rows > 0; --rows, first += stride) r0 = UpdateStream(r0, first, row_bytes);
  return static_cast<uint32_t>(r0);
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

uint32_t ExtendCrc32cRows(uint32_t crc, const void* first, size_t stride, size_t row_bytes,
                          size_t rows) {
  const auto* p = static_cast<const unsigned char*>(first);
#if defined(__x86_64__)
  if (HasCrcInstruction()) return ~UpdateRowsByInstruction(~crc, p, stride, row_bytes, rows);
#endif
  uint32_t reg = ~crc;
  for (; rows > 0; --rows, p += stride) reg = UpdateByTable(reg, p, row_bytes);
  return ~reg;
}

uint32_t ExtendCrc32c(uint32_t crc, const void* data, size_t n) {
  // Whole 4 KiB pieces as rows (three streams), then the rest.
  constexpr size_t kPiece = 4096;
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ExtendCrc32cRows(crc, p, kPiece, kPiece, n / kPiece);
  return ExtendCrc32cRows(crc, p + n / kPiece * kPiece, 0, n % kPiece, 1);
}

}  // namespace semdb
