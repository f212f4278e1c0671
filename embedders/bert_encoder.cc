#include "embedders/bert_encoder.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "embedders/nn_kernels.h"
#include "embedders/parallel_for.h"
#include "fmt/format.h"

namespace semdb {
namespace {

template <typename T>
T* Grow(std::vector<T>* v, size_t n) {
  if (v->size() < n) v->resize(n);
  return v->data();
}

// Rows per thread below which splitting a row-wise kernel costs more than
// it saves.
constexpr int64_t kMinRowsPerThread = 16;

// Attention runs on blocks of this many queries, so that its scores take
// kQueryBlock x length floats per thread rather than length^2 (ModernBERT
// takes 8192 tokens).
constexpr int kQueryBlock = 128;

// MPNet's (and T5's) largest distinguished distance.
constexpr int kMaxRelativeDistance = 128;

}  // namespace

absl::StatusOr<BertEncoder::PackedLayer> BertEncoder::PackLayer(const BertConfig& c,
                                                                 const BertLayerWeights& l,
                                                                 MatmulType type) {
  const int64_t h = c.hidden_size, inter = c.intermediate_size;
  const int64_t width = c.gated_mlp ? 2 * inter : inter;
  PackedLayer packed;
  for (auto [to, from, n, k] : {std::tuple{&packed.qkv, &l.qkv_weight, 3 * h, h},
                                std::tuple{&packed.attention_out, &l.attention_out_weight, h, h},
                                std::tuple{&packed.intermediate, &l.intermediate_weight, width, h},
                                std::tuple{&packed.output, &l.output_weight, h, inter}}) {
    absl::StatusOr<PackedMatrix> m = PackedMatrix::Pack(from->data(), n, k, type);
    if (!m.ok()) return m.status();
    *to = *std::move(m);
  }
  return packed;
}

BertEncoder::BertEncoder(std::shared_ptr<const BertModel> model) : model_(std::move(model)) {}

absl::StatusOr<BertEncoder> BertEncoder::Packed(std::shared_ptr<const BertModel> model,
                                                MatmulType type) {
  if (model->gemm_weights_released()) {
    return absl::FailedPreconditionError("the model's GEMM weights were released: nothing to pack");
  }
  std::vector<PackedLayer> packed;
  for (const BertLayerWeights& l : model->weights().layers) {
    absl::StatusOr<PackedLayer> layer = PackLayer(model->config(), l, type);
    if (!layer.ok()) return layer.status();
    packed.push_back(*std::move(layer));
  }
  return BertEncoder(std::move(model), std::move(packed));
}

absl::StatusOr<std::vector<BertEncoder>> BertEncoder::PackReleasing(
    const std::shared_ptr<BertModel>& model, absl::Span<const MatmulType> types) {
  if (model->gemm_weights_released()) {
    return absl::FailedPreconditionError("the model's GEMM weights were released: nothing to pack");
  }
  const std::vector<BertLayerWeights>& layers = model->weights().layers;
  std::vector<std::vector<PackedLayer>> packed(types.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    for (size_t t = 0; t < types.size(); ++t) {
      absl::StatusOr<PackedLayer> layer = PackLayer(model->config(), layers[i], types[t]);
      if (!layer.ok()) return layer.status();
      packed[t].push_back(*std::move(layer));
    }
    model->ReleaseGemmWeights(static_cast<int64_t>(i));
  }
  std::vector<BertEncoder> encoders;
  for (std::vector<PackedLayer>& p : packed) encoders.push_back(BertEncoder(model, std::move(p)));
  return encoders;
}

// y[rows, n] = x[rows, k] * w[n, k]^T + bias, or y += that when
// `accumulate` (a residual connection).
absl::Status BertEncoder::Linear(const float* x, int64_t rows, int64_t k,
                                 const std::vector<float>& w, const PackedMatrix& wp,
                                 const std::vector<float>& bias, int64_t n, float* y,
                                 bool accumulate, int threads, BertWorkspace* ws) const {
  absl::Status packed = absl::OkStatus();
  if (!wp.empty()) {
    packed = wp.Multiply(x, rows, {.bias = bias.data(), .accumulate = accumulate}, y, threads,
                         &ws->matmul);
    if (packed.ok()) return packed;
  }
  // An oneDNN failure (none is expected) computes this product on OpenBLAS,
  // on the model's float weights while it has them.
  if (w.empty()) {
    return packed.ok() ? absl::FailedPreconditionError(
                             "the model's GEMM weights were released and this encoder has no "
                             "packed copy (an OpenBLAS encoder of a packed model)")
                       : packed;
  }
  if (accumulate) {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < n; ++j) y[r * n + j] += bias[j];
    }
  } else {
    nn::BroadcastRows(y, bias.data(), rows, n);
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows),
              static_cast<int>(n), static_cast<int>(k), 1.0f, x, static_cast<int>(k), w.data(),
              static_cast<int>(k), 1.0f, y, static_cast<int>(n));
  return absl::OkStatus();
}

void BertEncoder::PositionTables(int64_t max_length, BertWorkspace* ws) const {
  const BertConfig& c = model_->config();
  const BertWeights& w = model_->weights();
  if (c.relative_attention_buckets > 0) {
    const int64_t width = 2 * max_length - 1, heads = c.num_heads;
    ws->position_bias.resize(static_cast<size_t>(heads * width));
    for (int64_t r = 0; r < width; ++r) {
      const int bucket = nn::RelativePositionBucket(static_cast<int>(r - (max_length - 1)),
                                                    static_cast<int>(c.relative_attention_buckets),
                                                    kMaxRelativeDistance);
      for (int64_t head = 0; head < heads; ++head) {
        ws->position_bias[head * width + r] = w.relative_attention_bias[bucket * heads + head];
      }
    }
  }
  if (c.rotary) {
    // Hugging Face's inv_freq = 1 / base^(2k / d); angles in double, then
    // rounded once.
    const int64_t half = c.head_size() / 2;
    const double bases[2] = {c.global_rope_theta, c.local_rope_theta};
    for (int b = 0; b < 2; ++b) {
      std::vector<float>& cos = ws->rotary[b][0];
      std::vector<float>& sin = ws->rotary[b][1];
      cos.resize(static_cast<size_t>(max_length * half));
      sin.resize(cos.size());
      for (int64_t k = 0; k < half; ++k) {
        const double inv_freq = 1.0 / std::pow(bases[b], static_cast<double>(2 * k) / (2 * half));
        for (int64_t p = 0; p < max_length; ++p) {
          cos[p * half + k] = static_cast<float>(std::cos(p * inv_freq));
          sin[p * half + k] = static_cast<float>(std::sin(p * inv_freq));
        }
      }
    }
  }
}

void BertEncoder::RotateQueriesKeys(const std::vector<float>& cos, const std::vector<float>& sin,
                                    int threads, BertWorkspace* ws) const {
  const BertConfig& c = model_->config();
  const int64_t h = c.hidden_size, d = c.head_size(), half = d / 2;
  const int64_t sequences = static_cast<int64_t>(ws->offsets.size()) - 1;
  float* qkv = ws->qkv.data();
  ParallelForWorkers(sequences, 1, threads, [&](int, int64_t b, int64_t e) {
    for (int64_t s = b; s < e; ++s) {
      for (int64_t t = ws->offsets[s]; t < ws->offsets[s + 1]; ++t) {
        const int64_t p = t - ws->offsets[s];
        // The query then the key heads of token t: 2 * heads vectors of d.
        for (int64_t head = 0; head < 2 * c.num_heads; ++head) {
          nn::Rotate(qkv + t * 3 * h + head * d, cos.data() + p * half, sin.data() + p * half,
                     half);
        }
      }
    }
  });
}

void BertEncoder::Attention(const BertWorkspace& ws, int64_t max_length, int64_t window,
                            int threads, float* scores, float* context) const {
  const BertConfig& c = model_->config();
  const int64_t h = c.hidden_size, heads = c.num_heads, d = c.head_size();
  const int64_t sequences = static_cast<int64_t>(ws.offsets.size()) - 1;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const float* qkv = ws.qkv.data();
  const bool biased = c.relative_attention_buckets > 0;
  const int64_t bias_width = 2 * max_length - 1;
  const int ld = static_cast<int>(3 * h);
  // c = alpha * a * b(^T) + beta * c. A packed encoder's batches run
  // concurrently (transformer_embedder.h), so its products stay on the
  // calling thread: on OpenBLAS when OpenBLAS runs on one thread (its
  // small-matrix kernels take half the time of oneDNN's sgemm on these
  // shapes), else on oneDNN (OpenBLAS's threads would contend with the
  // concurrent batches; an oneDNN error computes the product on OpenBLAS).
  const bool own_thread = packed() && openblas_get_num_threads() > 1;
  auto gemm = [own_thread](bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                           const float* b, int ldb, float beta, float* c, int ldc) {
    if (own_thread &&
        SgemmOnCallingThread(trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc).ok()) {
      return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha,
                a, lda, b, ldb, beta, c, ldc);
  };
  ParallelForWorkers(sequences * heads, 1, threads, [&](int worker, int64_t b, int64_t e) {
    float* s = scores + worker * kQueryBlock * max_length;
    for (int64_t i = b; i < e; ++i) {
      const int64_t seq = i / heads, head = i % heads;
      const int64_t first = ws.offsets[seq];
      const int len = static_cast<int>(ws.offsets[seq + 1] - first);
      const float* q = qkv + first * 3 * h + head * d;
      const float* k = q + h;
      const float* v = q + 2 * h;
      // Queries [q0, q0 + rows) against keys [k0, k1): all keys, or those a
      // local window reaches.
      for (int q0 = 0; q0 < len; q0 += kQueryBlock) {
        const int rows = std::min<int>(kQueryBlock, len - q0);
        int k0 = 0, k1 = len;
        if (window >= 0) {
          k0 = std::max<int>(0, q0 - static_cast<int>(window));
          k1 = std::min<int>(len, q0 + rows + static_cast<int>(window));
        }
        const int keys = k1 - k0;
        gemm(true, rows, keys, static_cast<int>(d), scale, q + q0 * ld, ld, k + k0 * ld, ld,
             0.0f, s, keys);
        for (int r = 0; r < rows; ++r) {
          float* row = s + r * keys;
          const int query = q0 + r;
          if (biased) {
            // Key j: the bias of relative position j - query.
            const float* bias =
                ws.position_bias.data() + head * bias_width + (max_length - 1) - query;
            for (int j = 0; j < keys; ++j) row[j] += bias[k0 + j];
          }
          if (window >= 0) {
            for (int j = 0; j < keys; ++j) {
              if (std::abs(k0 + j - query) > window) row[j] = -INFINITY;
            }
          }
        }
        nn::SoftmaxRows(s, rows, keys, keys);
        gemm(false, rows, static_cast<int>(d), keys, 1.0f, s, keys, v + k0 * ld, ld, 0.0f,
             context + (first + q0) * h + head * d, static_cast<int>(h));
      }
    }
  });
}

absl::Status BertEncoder::FeedForward(const BertLayerWeights& l, const PackedLayer& lp,
                                      const float* in, int64_t tokens, int threads,
                                      bool accumulate, BertWorkspace* ws, float* out) const {
  const BertConfig& c = model_->config();
  const int64_t h = c.hidden_size, inter = c.intermediate_size;
  if (!lp.intermediate.empty() && !c.gated_mlp) {
    // The bias and activation fused into the first product, whose output
    // (bf16 with bf16 weights) is the second's input. An oneDNN failure
    // (none is expected) leaves `out` as it was and computes the block on
    // OpenBLAS.
    const MatmulEpilogue first{
        .bias = l.intermediate_bias.data(),
        .activation = c.activation == Activation::kGeluTanh ? MatmulActivation::kGeluTanh
                      : c.activation == Activation::kSilu   ? MatmulActivation::kSilu
                                                            : MatmulActivation::kGeluErf};
    const MatmulEpilogue second{.bias = l.output_bias.data(), .accumulate = accumulate};
    auto fused = [&](auto* activated) {
      return lp.intermediate.Multiply(in, tokens, first, activated, threads, &ws->matmul).ok() &&
             lp.output.Multiply(activated, tokens, second, out, threads, &ws->matmul).ok();
    };
    if (bf16() ? fused(Grow(&ws->intermediate16, tokens * inter))
               : fused(Grow(&ws->intermediate, tokens * inter))) {
      return absl::OkStatus();
    }
  }
  const int64_t width = c.gated_mlp ? 2 * inter : inter;
  float* intermediate = Grow(&ws->intermediate, tokens * width);
  float* activated = c.gated_mlp ? Grow(&ws->gated, tokens * inter) : intermediate;
  if (absl::Status s = Linear(in, tokens, h, l.intermediate_weight, lp.intermediate,
                              l.intermediate_bias, width, intermediate, false, threads, ws);
      !s.ok()) {
    return s;
  }
  const auto act = c.activation == Activation::kGeluTanh ? nn::GeluTanh
                   : c.activation == Activation::kSilu   ? nn::Silu
                                                         : nn::GeluErf;
  ParallelForWorkers(tokens, kMinRowsPerThread, threads, [&](int, int64_t b, int64_t e) {
    if (!c.gated_mlp) {
      act(intermediate + b * inter, (e - b) * inter);
      return;
    }
    // GeGLU, SwiGLU: act(the first half) * the second half.
    for (int64_t r = b; r < e; ++r) {
      float* y = std::copy_n(intermediate + r * width, inter, activated + r * inter) - inter;
      act(y, inter);
      nn::Multiply(y, intermediate + r * width + inter, inter);
    }
  });
  return Linear(activated, tokens, inter, l.output_weight, lp.output, l.output_bias, h, out,
                accumulate, threads, ws);
}

absl::Status BertEncoder::Forward(absl::Span<const absl::Span<const int32_t>> sequences,
                                  int threads, BertWorkspace* ws) const {
  threads = std::max(1, threads);
  const BertConfig& c = model_->config();
  const BertWeights& w = model_->weights();
  const int64_t h = c.hidden_size;
  ws->offsets.assign(1, 0);
  int64_t max_length = 0;
  for (size_t s = 0; s < sequences.size(); ++s) {
    const int64_t len = static_cast<int64_t>(sequences[s].size());
    if (len < 1 || len > c.max_tokens()) {
      return absl::InvalidArgumentError(fmt::format(
          "sequence {} has {} tokens; the model takes 1 to {}", s, len, c.max_tokens()));
    }
    for (int32_t id : sequences[s]) {
      if (id < 0 || id >= c.vocab_size) {
        return absl::InvalidArgumentError(fmt::format(
            "sequence {} has token id {}, outside the model's vocabulary of {}", s, id,
            c.vocab_size));
      }
    }
    max_length = std::max(max_length, len);
    ws->offsets.push_back(ws->offsets.back() + len);
  }
  const int64_t tokens = ws->offsets.back();
  if (tokens == 0) return absl::OkStatus();
  ws->hidden.resize(static_cast<size_t>(tokens * h));
  float* x = ws->hidden.data();
  float* qkv = Grow(&ws->qkv, tokens * 3 * h);
  float* context = Grow(&ws->context, tokens * h);
  float* projected = Grow(&ws->projected, tokens * h);
  float* scores = Grow(&ws->scores, threads * kQueryBlock * max_length);
  PositionTables(max_length, ws);

  // Embeddings: word + position + token type 0, then LayerNorm.
  const float* type0 = w.token_type_embeddings.data();
  for (size_t s = 0; s < sequences.size(); ++s) {
    int64_t counted = 0;  // tokens other than padding_idx so far
    for (int64_t p = 0; p < static_cast<int64_t>(sequences[s].size()); ++p) {
      float* row = x + (ws->offsets[s] + p) * h;
      const int32_t id = sequences[s][p];
      const float* word = w.word_embeddings.data() + id * h;
      for (int64_t j = 0; j < h; ++j) row[j] = word[j] + type0[j];
      if (c.rotary) continue;
      int64_t position = p;
      if (c.padding_idx >= 0) {
        position = id == c.padding_idx ? c.padding_idx : c.padding_idx + ++counted;
      }
      const float* pos = w.position_embeddings.data() + position * h;
      for (int64_t j = 0; j < h; ++j) row[j] += pos[j];
    }
  }
  // rows = LayerNorm(rows), or LayerNorm(from) when `from` is given.
  auto layer_norm = [&](float* rows, const std::vector<float>& gamma,
                        const std::vector<float>& beta, const float* from = nullptr) {
    ParallelForWorkers(tokens, kMinRowsPerThread, threads, [&](int, int64_t b, int64_t e) {
      if (from != nullptr) std::copy(from + b * h, from + e * h, rows + b * h);
      nn::LayerNorm(rows + b * h, e - b, h, gamma.data(), beta.data(), c.layer_norm_eps);
    });
  };
  layer_norm(x, w.embedding_norm_weight, w.embedding_norm_bias);

  for (size_t i = 0; i < w.layers.size(); ++i) {
    const BertLayerWeights& l = w.layers[i];
    static const PackedLayer kUnpacked;  // OpenBLAS GEMMs
    const PackedLayer& lp = packed_.empty() ? kUnpacked : packed_[i];
    const bool local = c.local_layer(static_cast<int64_t>(i));
    const int64_t window = local ? c.local_attention / 2 : -1;
    // Attention(LayerNorm(x) or x), its output added to x.
    auto attention = [&](const float* in) {
      if (absl::Status s = Linear(in, tokens, h, l.qkv_weight, lp.qkv, l.qkv_bias, 3 * h, qkv,
                                  false, threads, ws);
          !s.ok()) {
        return s;
      }
      if (c.rotary) RotateQueriesKeys(ws->rotary[local][0], ws->rotary[local][1], threads, ws);
      Attention(*ws, max_length, window, threads, scores, context);
      return Linear(context, tokens, h, l.attention_out_weight, lp.attention_out,
                    l.attention_out_bias, h, x, /*accumulate=*/true, threads, ws);
    };
    if (!c.pre_norm) {
      // Post-norm: x = LayerNorm(x + Attention(x)); x = LayerNorm(x + FFN(x)),
      // each residual sum done by the product that ends the block.
      if (absl::Status s = attention(x); !s.ok()) return s;
      layer_norm(x, l.attention_norm_weight, l.attention_norm_bias);
      if (absl::Status s = FeedForward(l, lp, x, tokens, threads, /*accumulate=*/true, ws, x);
          !s.ok()) {
        return s;
      }
      layer_norm(x, l.output_norm_weight, l.output_norm_bias);
      continue;
    }
    // Pre-norm: x += Attention(LayerNorm(x)); x += FFN(LayerNorm(x)).
    const float* normed = x;
    if (!l.attention_norm_weight.empty()) {
      layer_norm(projected, l.attention_norm_weight, l.attention_norm_bias, x);
      normed = projected;
    }
    if (absl::Status s = attention(normed); !s.ok()) return s;
    layer_norm(projected, l.output_norm_weight, l.output_norm_bias, x);
    if (absl::Status s =
            FeedForward(l, lp, projected, tokens, threads, /*accumulate=*/true, ws, x);
        !s.ok()) {
      return s;
    }
  }
  if (!w.final_norm_weight.empty()) {
    layer_norm(x, w.final_norm_weight, w.final_norm_bias);
  }
  return absl::OkStatus();
}

std::string Pooling::Name() const {
  std::string name;
  for (auto [on, mode] : {std::pair{cls, "cls"}, std::pair{max, "max"}, std::pair{mean, "mean"},
                          std::pair{mean_sqrt_len, "mean_sqrt_len"}, std::pair{last, "lasttoken"}}) {
    if (on) name += (name.empty() ? "" : "+") + std::string(mode);
  }
  return name;
}

void BertEncoder::Pool(const BertWorkspace& ws, Pooling pooling, bool normalize,
                       float* out) const {
  const int64_t h = model_->config().hidden_size;
  const int64_t width = pooling.modes() * h;
  for (size_t s = 0; s + 1 < ws.offsets.size(); ++s) {
    const int64_t first = ws.offsets[s], len = ws.offsets[s + 1] - first;
    float* y = out + s * width;
    const float* rows = ws.hidden.data() + first * h;
    auto sum = [&](float* to) {
      std::fill(to, to + h, 0.0f);
      for (int64_t r = 0; r < len; ++r) {
        for (int64_t j = 0; j < h; ++j) to[j] += rows[r * h + j];
      }
    };
    if (pooling.cls) y = std::copy(rows, rows + h, y);
    if (pooling.max) {
      std::copy(rows, rows + h, y);
      for (int64_t r = 1; r < len; ++r) {
        for (int64_t j = 0; j < h; ++j) y[j] = std::max(y[j], rows[r * h + j]);
      }
      y += h;
    }
    if (pooling.mean) {
      sum(y);
      for (int64_t j = 0; j < h; ++j) y[j] /= static_cast<float>(len);
      y += h;
    }
    if (pooling.mean_sqrt_len) {
      sum(y);
      const float root = std::sqrt(static_cast<float>(len));
      for (int64_t j = 0; j < h; ++j) y[j] /= root;
      y += h;
    }
    if (pooling.last) y = std::copy(rows + (len - 1) * h, rows + len * h, y);
    if (normalize) nn::L2Normalize(out + s * width, width);
  }
}

}  // namespace semdb
