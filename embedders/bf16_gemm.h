// Matrix products with bfloat16 inputs and float accumulation, on oneDNN's
// matmul (Debian's libdnnl: its AVX512_BF16 and AMX kernels; Debian's
// OpenBLAS has no cblas_sbgemm). The transformer encoder's projections and
// feed-forward blocks use it when the CPU multiplies bf16 natively
// (bert_encoder.h); everything else stays float.
#ifndef SEMDB_EMBEDDERS_BF16_GEMM_H_
#define SEMDB_EMBEDDERS_BF16_GEMM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace semdb {

// Whether oneDNN finds AVX512_BF16 or AMX on this CPU (the instruction set
// it reports, e.g. "avx512_core_bf16", in *isa when given).
bool CpuHasBf16(std::string* isa = nullptr);

// Round to nearest even, as torch's float -> bfloat16 (NaN stays NaN).
uint16_t FloatToBf16(float f);
std::vector<uint16_t> ToBf16(const std::vector<float>& values);

// Scratch buffers of Bf16GemmAccumulate, one per concurrent caller.
struct Bf16Scratch {
  std::vector<uint16_t> input;
  std::vector<uint8_t> pad;  // oneDNN's scratchpad
};

// y[rows, n] += bf16(x[rows, k]) * w[n, k]^T, accumulated in float, on up to
// `threads` threads. Internal on an oneDNN error (the caller then computes
// in float).
absl::Status Bf16GemmAccumulate(const float* x, int64_t rows, int64_t k, const uint16_t* w,
                                int64_t n, float* y, int threads, Bf16Scratch* scratch);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_BF16_GEMM_H_
