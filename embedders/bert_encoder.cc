#include "embedders/bert_encoder.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "embedders/nn_kernels.h"
#include "embedders/parallel_for.h"
#include "fmt/format.h"

namespace semdb {
namespace {

// y[rows, n] = x[rows, k] * w[n, k]^T + bias.
void Linear(const float* x, int64_t rows, int64_t k, const std::vector<float>& w,
            const std::vector<float>& bias, int64_t n, float* y) {
  nn::BroadcastRows(y, bias.data(), rows, n);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows),
              static_cast<int>(n), static_cast<int>(k), 1.0f, x, static_cast<int>(k), w.data(),
              static_cast<int>(k), 1.0f, y, static_cast<int>(n));
}

template <typename T>
T* Grow(std::vector<T>* v, size_t n) {
  if (v->size() < n) v->resize(n);
  return v->data();
}

// Rows per thread below which splitting a row-wise kernel costs more than
// it saves.
constexpr int64_t kMinRowsPerThread = 16;

}  // namespace

void BertEncoder::Attention(const BertWorkspace& ws, int64_t max_length, int threads,
                            float* scores, float* context) const {
  const BertConfig& c = model_->config();
  const int64_t h = c.hidden_size, heads = c.num_heads, d = c.head_size();
  const int64_t sequences = static_cast<int64_t>(ws.offsets.size()) - 1;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const float* qkv = ws.qkv.data();
  ParallelForWorkers(sequences * heads, 1, threads, [&](int worker, int64_t b, int64_t e) {
    float* s = scores + worker * max_length * max_length;
    for (int64_t i = b; i < e; ++i) {
      const int64_t seq = i / heads, head = i % heads;
      const int64_t first = ws.offsets[seq];
      const int len = static_cast<int>(ws.offsets[seq + 1] - first);
      const float* q = qkv + first * 3 * h + head * d;
      const float* k = q + h;
      const float* v = q + 2 * h;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, len, len, static_cast<int>(d), scale,
                  q, static_cast<int>(3 * h), k, static_cast<int>(3 * h), 0.0f, s, len);
      nn::SoftmaxRows(s, len, len, len);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, len, static_cast<int>(d), len, 1.0f,
                  s, len, v, static_cast<int>(3 * h), 0.0f, context + first * h + head * d,
                  static_cast<int>(h));
    }
  });
}

absl::Status BertEncoder::Forward(absl::Span<const absl::Span<const int32_t>> sequences,
                                  int threads, BertWorkspace* ws) const {
  threads = std::max(1, threads);
  const BertConfig& c = model_->config();
  const BertWeights& w = model_->weights();
  const int64_t h = c.hidden_size, inter = c.intermediate_size;
  ws->offsets.assign(1, 0);
  int64_t max_length = 0;
  for (size_t s = 0; s < sequences.size(); ++s) {
    const int64_t len = static_cast<int64_t>(sequences[s].size());
    if (len < 1 || len > c.max_positions) {
      return absl::InvalidArgumentError(fmt::format(
          "sequence {} has {} tokens; the model takes 1 to {}", s, len, c.max_positions));
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
  float* intermediate = Grow(&ws->intermediate, tokens * inter);
  float* scores = Grow(&ws->scores, threads * max_length * max_length);

  // Embeddings: word + position + token type 0, then LayerNorm.
  const float* type0 = w.token_type_embeddings.data();
  for (size_t s = 0; s < sequences.size(); ++s) {
    for (int64_t p = 0; p < static_cast<int64_t>(sequences[s].size()); ++p) {
      float* row = x + (ws->offsets[s] + p) * h;
      const float* word = w.word_embeddings.data() + sequences[s][p] * h;
      const float* pos = w.position_embeddings.data() + p * h;
      for (int64_t j = 0; j < h; ++j) row[j] = word[j] + pos[j] + type0[j];
    }
  }
  auto layer_norm = [&](float* rows, const float* residual, const std::vector<float>& gamma,
                        const std::vector<float>& beta) {
    ParallelForWorkers(tokens, kMinRowsPerThread, threads, [&](int, int64_t b, int64_t e) {
      nn::AddLayerNorm(rows + b * h, residual ? residual + b * h : nullptr, e - b, h,
                       gamma.data(), beta.data(), c.layer_norm_eps);
    });
  };
  layer_norm(x, nullptr, w.embedding_norm_weight, w.embedding_norm_bias);

  for (const BertLayerWeights& l : w.layers) {
    Linear(x, tokens, h, l.qkv_weight, l.qkv_bias, 3 * h, qkv);
    Attention(*ws, max_length, threads, scores, context);
    Linear(context, tokens, h, l.attention_out_weight, l.attention_out_bias, h, projected);
    layer_norm(x, projected, l.attention_norm_weight, l.attention_norm_bias);
    Linear(x, tokens, h, l.intermediate_weight, l.intermediate_bias, inter, intermediate);
    ParallelForWorkers(tokens, kMinRowsPerThread, threads, [&](int, int64_t b, int64_t e) {
      nn::GeluErf(intermediate + b * inter, (e - b) * inter);
    });
    Linear(intermediate, tokens, inter, l.output_weight, l.output_bias, h, projected);
    layer_norm(x, projected, l.output_norm_weight, l.output_norm_bias);
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
