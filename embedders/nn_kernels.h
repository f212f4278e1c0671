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

// x[i] = GELU(x[i]) with tanh: x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715
// x^3))), torch's gelu(approximate="tanh") (Hugging Face's "gelu_new").
void GeluTanh(float* x, int64_t n);

// x[i] = SiLU(x[i]) = x / (1 + exp(-x)).
void Silu(float* x, int64_t n);

// x[i] *= y[i] for i < n.
void Multiply(float* x, const float* y, int64_t n);

// Rotary position embedding of one head's vector x of 2 * half values (the
// rotate_half convention of GPT-NeoX and Hugging Face): for k < half,
// (x[k], x[k + half]) turns by the angle whose cosine and sine are cos[k]
// and sin[k].
void Rotate(float* x, const float* cos, const float* sin, int64_t half);

// The bucket of MPNet's (and T5's bidirectional) relative position bias for
// relative position `relative` (key minus query): distances below
// buckets / 4 exactly, larger ones logarithmically up to max_distance, one
// half of the buckets per direction. Computed in float as torch does, so
// that bucket edges fall where they do in Hugging Face's MPNet.
int RelativePositionBucket(int relative, int buckets, int max_distance);

// For each of `rows` rows of width n at stride ld: x = softmax(x).
void SoftmaxRows(float* x, int64_t rows, int64_t n, int64_t ld);

// For each of `rows` rows of width n: x = LayerNorm(x) with torch's biased
// variance, scaled by gamma and shifted by beta.
void LayerNorm(float* x, int64_t rows, int64_t n, const float* gamma, const float* beta,
               float eps);

// x = x / max(||x||, 1e-12), as torch.nn.functional.normalize.
void L2Normalize(float* x, int64_t n);

// For each of `rows` rows of width n: y = bias.
void BroadcastRows(float* y, const float* bias, int64_t rows, int64_t n);

// out[i] = x[i] rounded to bfloat16 (its upper 16 bits), to nearest even as
// torch rounds float to bfloat16; a NaN stays a (quiet) NaN.
void RoundToBf16(const float* x, int64_t n, uint16_t* out);

}  // namespace semdb::nn

#endif  // SEMDB_EMBEDDERS_NN_KERNELS_H_
