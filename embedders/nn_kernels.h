// Element-wise and row-wise kernels of a transformer forward pass, written
// as plain loops the compiler vectorizes, with clones for AVX-512 and AVX2
// picked at load time. Each follows torch's float definition of the
// operation; the approximations (erf, exp) are within 1e-6 of the exact
// functions, far below the 1e-4 the encoder is checked to.
#ifndef SEMDB_EMBEDDERS_NN_KERNELS_H_
#define SEMDB_EMBEDDERS_NN_KERNELS_H_

#include <cstdint>

namespace semdb::nn {

// erf(x), rational approximation; absolute error < 1e-6.
float Erf(float x);
// exp(x), Cephes-style; relative error < 1e-6; 0 below -87.
float Exp(float x);

// x[i] = GELU(x[i]) = x / 2 * (1 + erf(x / sqrt(2))) for i < n.
void GeluErf(float* x, int64_t n);

// For each of `rows` rows of width n at stride ld: x = softmax(x).
void SoftmaxRows(float* x, int64_t rows, int64_t n, int64_t ld);

// For each of `rows` rows of width n: x = LayerNorm(x + residual) with
// torch's biased variance, scaled by gamma and shifted by beta.
void AddLayerNorm(float* x, const float* residual, int64_t rows, int64_t n, const float* gamma,
                  const float* beta, float eps);

// x = x / max(||x||, 1e-12), as torch.nn.functional.normalize.
void L2Normalize(float* x, int64_t n);

// For each of `rows` rows of width n: y = bias.
void BroadcastRows(float* y, const float* bias, int64_t rows, int64_t n);

}  // namespace semdb::nn

#endif  // SEMDB_EMBEDDERS_NN_KERNELS_H_
