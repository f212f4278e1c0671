// IEEE 754 binary16 ("half") conversions, as bits, for the formats that
// store half floats (safetensors F16 tensors, the TF-IDF state's LSA
// projection, the vectors of float16 collections). Written out rather than
// _Float16, which clang 14 (the fuzz and sanitizer builds) does not support
// on x86-64. The array conversions use the CPU's F16C instructions when it
// has them (chosen at run time), with the same results as the scalar ones.
#ifndef SEMDB_STORAGE_HALF_FLOAT_H_
#define SEMDB_STORAGE_HALF_FLOAT_H_

#include <cstdint>

#include "absl/types/span.h"

namespace semdb {

// The float nearest `f` that a half holds, rounded to nearest even (as a
// C cast to _Float16 and numpy's float16 do); beyond the half range,
// infinity; NaN stays NaN.
uint16_t FloatToHalf(float f);

// Exact: every half is a float.
float HalfToFloat(uint16_t h);

// FloatToHalf of each of `in` into `out` (same size); for finite input,
// bit for bit what FloatToHalf gives (a NaN may keep more of its payload).
void FloatsToHalves(absl::Span<const float> in, absl::Span<uint16_t> out);

// HalfToFloat of each of `in` into `out` (same size); a signaling NaN may
// come out quiet.
void HalvesToFloats(absl::Span<const uint16_t> in, absl::Span<float> out);

// Replaces each value by the half nearest to it, widened back to float
// (HalfToFloat(FloatToHalf(v))): what a half stores of it.
void RoundToHalfPrecision(absl::Span<float> values);

}  // namespace semdb

#endif  // SEMDB_STORAGE_HALF_FLOAT_H_
