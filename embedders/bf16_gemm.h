// Matrix products with bfloat16 inputs and float accumulation, on oneDNN's
// matmul (Debian's libdnnl: its AVX512_BF16 and AMX kernels; Debian's
// OpenBLAS has no cblas_sbgemm). The transformer encoder's projections and
// feed-forward blocks use it when the CPU multiplies bf16 natively
// (bert_encoder.h); everything else stays float.
//
// The weights are rounded to bfloat16 and reordered into the blocked layout
// oneDNN's kernel reads once, when they are packed (Bf16Matrix), not on every
// product; each caller's primitives are kept per shape (Bf16Scratch), so
// that a steady state of products creates and allocates nothing.
#ifndef SEMDB_EMBEDDERS_BF16_GEMM_H_
#define SEMDB_EMBEDDERS_BF16_GEMM_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace semdb {

// Whether oneDNN finds AVX512_BF16 or AMX on this CPU (the instruction set
// it reports, e.g. "avx512_core_bf16", in *isa when given).
bool CpuHasBf16(std::string* isa = nullptr);

// c[m, n] = alpha * a[m, k] * b^T + beta * c (b[n, k] when trans_b, else
// b[k, n]), row-major with leading dimensions lda, ldb, ldc, in float on
// oneDNN's kernels and on the calling thread only. For the small products of
// concurrent callers (the bf16 encoder's attention, whose batches run at
// once), where OpenBLAS's threads would contend with the callers' threads.
// Internal on an oneDNN error.
absl::Status SgemmOnCallingThread(bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                  const float* a, int64_t lda, const float* b, int64_t ldb,
                                  float beta, float* c, int64_t ldc);

// Scratch space of Bf16Matrix::MultiplyAccumulate: the bf16 copy of its
// input, oneDNN's scratchpad and the primitives created so far (by shape; a
// bounded number). One per concurrent caller: concurrent products share
// nothing.
class Bf16Scratch {
 public:
  Bf16Scratch();
  ~Bf16Scratch();
  Bf16Scratch(Bf16Scratch&&) noexcept;
  Bf16Scratch& operator=(Bf16Scratch&&) noexcept;

 private:
  friend class Bf16Matrix;
  struct State;
  std::unique_ptr<State> state_;
};

// A float matrix w[n, k] (nn.Linear's weight layout) as packed bfloat16
// weights of products y += x * w^T. Immutable once packed: thread-safe.
class Bf16Matrix {
 public:
  Bf16Matrix() = default;  // empty

  // Internal when oneDNN has no bf16 matmul for this shape on this CPU.
  static absl::StatusOr<Bf16Matrix> Pack(const float* w, int64_t n, int64_t k);

  bool empty() const { return packed_ == nullptr; }

  // y[rows, n] += bf16(x[rows, k]) * w^T, accumulated in float, on up to
  // `threads` threads. Internal on an oneDNN error (the caller then computes
  // in float).
  absl::Status MultiplyAccumulate(const float* x, int64_t rows, float* y, int threads,
                                  Bf16Scratch* scratch) const;

 private:
  struct Packed;
  std::shared_ptr<const Packed> packed_;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_BF16_GEMM_H_
