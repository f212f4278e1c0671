// Matrix products y = x * w^T with w packed once for oneDNN's matmul
// (Debian's libdnnl: its brgemm kernels for AVX-512, AVX512_BF16 and AMX;
// Debian's OpenBLAS has no cblas_sbgemm). The transformer encoder's
// projections and feed-forward blocks run on it (bert_encoder.h): in float,
// or with bfloat16 inputs and weights accumulated in float when the CPU
// multiplies bf16 natively.
//
// The weights are reordered into the blocked layout oneDNN's kernel reads
// (and, for bf16, rounded) once, when they are packed (PackedMatrix), not
// on every product as a BLAS sgemm packs them; bias, activation and a
// residual sum run as the product's epilogue (oneDNN post-ops) on the
// result while it is in registers, not as separate passes over memory.
// Each caller's primitives are kept per shape (MatmulScratch), so that a
// steady state of products creates and allocates nothing.
#ifndef SEMDB_EMBEDDERS_PACKED_MATMUL_H_
#define SEMDB_EMBEDDERS_PACKED_MATMUL_H_

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
// concurrent callers (the attention of batches that run at once), where
// OpenBLAS's threads would contend with the callers' threads.
// Internal on an oneDNN error.
absl::Status SgemmOnCallingThread(bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                  const float* a, int64_t lda, const float* b, int64_t ldb,
                                  float beta, float* c, int64_t ldc);

// Scratch space of PackedMatrix::Multiply: the bf16 copy of a float input,
// oneDNN's scratchpad and the primitives created so far (by shape and
// epilogue; a bounded number). One per concurrent caller: concurrent
// products share nothing.
class MatmulScratch {
 public:
  MatmulScratch();
  ~MatmulScratch();
  MatmulScratch(MatmulScratch&&) noexcept;
  MatmulScratch& operator=(MatmulScratch&&) noexcept;

 private:
  friend class PackedMatrix;
  struct State;
  std::unique_ptr<State> state_;
};

// The activation a product may end with (bert_model.h's Activation), as
// oneDNN applies it to the float result before the result is written.
enum class MatmulActivation { kNone, kGeluErf, kGeluTanh, kSilu };

// What a product does with p = x * w^T (accumulated in float) before
// writing y: y = act(p + bias), or y += act(p + bias) when `accumulate`
// (float y only: a residual connection).
struct MatmulEpilogue {
  const float* bias = nullptr;  // [n] added to every row; none when null
  MatmulActivation activation = MatmulActivation::kNone;
  bool accumulate = false;
};

// The element type of packed weights and of the inputs multiplied by them.
enum class MatmulType { kF32, kBf16 };

// A float matrix w[n, k] (nn.Linear's weight layout) as packed weights of
// products y = x * w^T, in float or rounded to bfloat16. Immutable once
// packed: thread-safe.
class PackedMatrix {
 public:
  PackedMatrix() = default;  // empty

  // Internal when oneDNN has no matmul of this type and shape on this CPU
  // (bf16 needs CpuHasBf16()).
  static absl::StatusOr<PackedMatrix> Pack(const float* w, int64_t n, int64_t k, MatmulType type);

  bool empty() const { return packed_ == nullptr; }
  MatmulType type() const;

  // y[rows, n] (+)= act(x[rows, k] * w^T + bias) as `epilogue` says, on up
  // to `threads` threads. x is float (rounded to bf16 first for bf16
  // weights) or, for bf16 weights, already bf16. y is float or, for bf16
  // weights, rounded to bf16 (within one bf16 unit of the float result:
  // oneDNN's erf approximation and rounding), so that one product's bf16
  // output feeds the next without a float round trip. InvalidArgument for
  // a bf16 input or output with float weights; Internal on an oneDNN error,
  // y then unchanged when the error is in creating the product (the caller
  // then computes in float).
  absl::Status Multiply(const float* x, int64_t rows, const MatmulEpilogue& epilogue, float* y,
                        int threads, MatmulScratch* scratch) const;
  absl::Status Multiply(const float* x, int64_t rows, const MatmulEpilogue& epilogue, uint16_t* y,
                        int threads, MatmulScratch* scratch) const;
  absl::Status Multiply(const uint16_t* x, int64_t rows, const MatmulEpilogue& epilogue, float* y,
                        int threads, MatmulScratch* scratch) const;

 private:
  struct Packed;
  // x is of the weights' type; y is float, or bf16 when y_bf16.
  absl::Status Execute(const void* x, int64_t rows, const MatmulEpilogue& epilogue, void* y,
                       bool y_bf16, int threads, MatmulScratch* scratch) const;
  // x as the product's input: itself for float weights, rounded to bf16 in
  // the scratch for bf16 weights.
  const void* Input(const float* x, int64_t rows, MatmulScratch* scratch) const;

  std::shared_ptr<const Packed> packed_;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_PACKED_MATMUL_H_
