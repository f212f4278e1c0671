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

// Scratch space of Bf16Matrix::Multiply: the bf16 copy of its float input,
// oneDNN's scratchpad and the primitives created so far (by shape and
// epilogue; a bounded number). One per concurrent caller: concurrent products share
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

// The activation a product may end with (bert_model.h's Activation), as
// oneDNN applies it to the float result before the result is written.
enum class Bf16Activation { kNone, kGeluErf, kGeluTanh, kSilu };

// What a product does with p = bf16(x) * w^T (accumulated in float) before
// writing y: y = act(p + bias), or y += act(p + bias) when `accumulate`
// (float y only: a residual connection).
struct Bf16Epilogue {
  const float* bias = nullptr;  // [n] added to every row; none when null
  Bf16Activation activation = Bf16Activation::kNone;
  bool accumulate = false;
};

// A float matrix w[n, k] (nn.Linear's weight layout) as packed bfloat16
// weights of products y = x * w^T. Immutable once packed: thread-safe.
class Bf16Matrix {
 public:
  Bf16Matrix() = default;  // empty

  // Internal when oneDNN has no bf16 matmul for this shape on this CPU.
  static absl::StatusOr<Bf16Matrix> Pack(const float* w, int64_t n, int64_t k);

  bool empty() const { return packed_ == nullptr; }

  // y[rows, n] (+)= act(bf16(x[rows, k]) * w^T + bias) as `epilogue` says,
  // on up to `threads` threads; x in float (rounded to bf16 first) or
  // already in bf16, y in float or rounded to bf16 (within one bf16 unit of
  // the float result: oneDNN's erf approximation and rounding), so
  // that one product's bf16 output feeds the next without a float round
  // trip. Internal on an oneDNN error, y then unchanged when the error is
  // in creating the product (the caller then computes in float).
  absl::Status Multiply(const float* x, int64_t rows, const Bf16Epilogue& epilogue, float* y,
                        int threads, Bf16Scratch* scratch) const;
  absl::Status Multiply(const float* x, int64_t rows, const Bf16Epilogue& epilogue, uint16_t* y,
                        int threads, Bf16Scratch* scratch) const;
  absl::Status Multiply(const uint16_t* x, int64_t rows, const Bf16Epilogue& epilogue, float* y,
                        int threads, Bf16Scratch* scratch) const;

 private:
  struct Packed;
  // y is float, or bf16 when y_bf16.
  absl::Status Execute(const uint16_t* x, int64_t rows, const Bf16Epilogue& epilogue, void* y,
                       bool y_bf16, int threads, Bf16Scratch* scratch) const;
  const uint16_t* Rounded(const float* x, int64_t rows, Bf16Scratch* scratch) const;

  std::shared_ptr<const Packed> packed_;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_BF16_GEMM_H_
