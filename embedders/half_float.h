// IEEE 754 binary16 ("half") conversions, as bits, for the formats that
// store half floats (safetensors F16 tensors, the TF-IDF state's LSA
// projection). Written out rather than _Float16, which clang 14 (the fuzz
// and sanitizer builds) does not support on x86-64.
#ifndef SEMDB_EMBEDDERS_HALF_FLOAT_H_
#define SEMDB_EMBEDDERS_HALF_FLOAT_H_

#include <cstdint>

namespace semdb {

// The float nearest `f` that a half holds, rounded to nearest even (as a
// C cast to _Float16 and numpy's float16 do); beyond the half range,
// infinity; NaN stays NaN.
uint16_t FloatToHalf(float f);

// Exact: every half is a float.
float HalfToFloat(uint16_t h);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_HALF_FLOAT_H_
