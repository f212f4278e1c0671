// The forward pass of the BERT-family encoders (bert_model.h) on OpenBLAS:
// embeddings (word + absolute position + token type 0, LayerNorm), then per
// layer multi-head self-attention and a GELU feed-forward block, each
// followed by a residual LayerNorm (post-norm: BERT, DistilBERT, RoBERTa,
// XLM-R, MPNet); then pooling. The variations are the model's: RoBERTa's
// and MPNet's positions counted after padding_idx, MPNet's relative
// position bias added to the attention scores, ModernBERT's rotary
// positions (no position table), pre-norm layers with a final LayerNorm,
// gated (GeGLU) feed-forward blocks and local attention windows, and
// NomicBERT's rotary positions and SwiGLU blocks in post-norm layers.
//
// A batch's sequences are packed back to back without padding: the
// projections and the feed-forward block are one GEMM over all tokens of the
// batch, and attention runs per sequence and head over that sequence's own
// tokens, which is what BERT's attention mask computes on a padded batch.
//
// Precision: float throughout, or (bf16) the projections and feed-forward
// GEMMs with bfloat16 weights and inputs accumulated in float, the rest
// (embeddings, attention scores, softmax, LayerNorm, pooling) still float.
// The projections and feed-forward GEMMs run on OpenBLAS (float only) or on
// oneDNN with their weights packed once, when the encoder is made, and
// their bias, activation and residual sum fused into the product
// (packed_matmul.h).
#ifndef SEMDB_EMBEDDERS_BERT_ENCODER_H_
#define SEMDB_EMBEDDERS_BERT_ENCODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "embedders/bert_model.h"
#include "embedders/packed_matmul.h"

namespace semdb {

// sentence-transformers' pooling modes. Several may be on: their vectors
// are concatenated in this order, as sentence-transformers does.
struct Pooling {
  bool cls = false;            // the first ([CLS]) token's state
  bool max = false;            // the element-wise maximum over tokens
  bool mean = false;           // the mean over tokens
  bool mean_sqrt_len = false;  // the sum over tokens / sqrt(tokens)
  bool last = false;           // the last token's state

  int modes() const { return cls + max + mean + mean_sqrt_len + last; }
  // "cls", "mean", "cls+mean"...
  std::string Name() const;
};

// Scratch buffers of one forward pass, grown on demand and reused across
// batches so that steady-state encoding allocates nothing. One per
// concurrent caller.
struct BertWorkspace {
  std::vector<float> hidden;  // [tokens, H]: the last hidden states
  std::vector<float> qkv, context, projected, intermediate, gated, scores;
  std::vector<uint16_t> intermediate16;  // bf16: the activated FFN rows
  std::vector<int64_t> offsets;  // first row of each sequence, then the total
  // MPNet: [heads, 2 * longest - 1], the bias of relative position r at
  // r + longest - 1.
  std::vector<float> position_bias;
  // Rotary positions: cos and sin of [position, head_size / 2] angles, for
  // the global then the local base.
  std::vector<float> rotary[2][2];
  MatmulScratch matmul;  // the packed GEMMs' bf16 inputs and primitives
};

class BertEncoder {
 public:
  // The float encoder with its GEMMs on OpenBLAS, on the model's weights.
  explicit BertEncoder(std::shared_ptr<const BertModel> model);
  // The encoder with its GEMMs on oneDNN, in float or in bfloat16 (the
  // caller checks CpuHasBf16()): the weights are packed (rounded, for bf16)
  // once, here, a copy beside the model's (whose owner may then free the
  // model's: BertModel::ReleaseGemmWeights). Internal when oneDNN cannot pack
  // them, FailedPrecondition when the model's GEMM weights were released
  // (BertModel::ReleaseGemmWeights).
  static absl::StatusOr<BertEncoder> Packed(std::shared_ptr<const BertModel> model,
                                            MatmulType type);
  // One encoder per element of `types`, as Packed makes them, while the
  // model's float GEMM weights are freed layer by layer as soon as every
  // type has packed that layer (BertModel::ReleaseGemmWeights): the float
  // and the packed weights of all layers are never in memory together. An
  // error in the first layer (oneDNN cannot pack this type or shape; every
  // layer has the same shapes) leaves the model as it was; a later one
  // (memory exhausted) leaves it without some layers' weights, unusable.
  static absl::StatusOr<std::vector<BertEncoder>> PackReleasing(
      const std::shared_ptr<BertModel>& model, absl::Span<const MatmulType> types);

  const BertModel& model() const { return *model_; }
  bool bf16() const { return !packed_.empty() && packed_[0].qkv.type() == MatmulType::kBf16; }
  // Whether the GEMMs run on oneDNN (packed weights) rather than OpenBLAS.
  bool packed() const { return !packed_.empty(); }

  // Runs the encoder on `sequences` (token ids, each of length 1 to
  // max_position_embeddings). On return, ws->hidden holds the last hidden
  // states of sequence s in rows [ws->offsets[s], ws->offsets[s + 1]).
  // The attention and element-wise parts run on up to `threads` threads;
  // the packed GEMMs on up to `threads` of oneDNN's, and the attention
  // products of a packed encoder on the calling thread (OpenBLAS's threads
  // when its weights are not packed). Thread-safe with distinct workspaces.
  absl::Status Forward(absl::Span<const absl::Span<const int32_t>> sequences, int threads,
                       BertWorkspace* ws) const;

  // Pools ws->hidden after Forward into out[s * P ...] for each sequence,
  // P = pooling.modes() * H, L2-normalized when `normalize`.
  void Pool(const BertWorkspace& ws, Pooling pooling, bool normalize, float* out) const;

 private:
  // Multi-head attention of ws->qkv into `context`, each token attending to
  // those of its sequence within `window` positions (-1: all).
  void Attention(const BertWorkspace& ws, int64_t max_length, int64_t window, int threads,
                 float* scores, float* context) const;
  // The position tables of a batch whose longest sequence has max_length
  // tokens.
  void PositionTables(int64_t max_length, BertWorkspace* ws) const;
  // Turns the queries and keys of ws->qkv by their rotary angles.
  void RotateQueriesKeys(const std::vector<float>& cos, const std::vector<float>& sin,
                         int threads, BertWorkspace* ws) const;
  // out (+)= FFN(in): the feed-forward block of layer l on `tokens` rows
  // (`in` may be `out`).
  struct PackedLayer;
  absl::Status FeedForward(const BertLayerWeights& l, const PackedLayer& lp, const float* in,
                           int64_t tokens, int threads, bool accumulate, BertWorkspace* ws,
                           float* out) const;

  // y (+)= x * w^T + bias, on the packed weights wp or, when there are none
  // (or oneDNN fails), on OpenBLAS with w. FailedPrecondition when that is
  // needed but the model's weights were released.
  absl::Status Linear(const float* x, int64_t rows, int64_t k, const std::vector<float>& w,
                      const PackedMatrix& wp, const std::vector<float>& bias, int64_t n,
                      float* y, bool accumulate, int threads, BertWorkspace* ws) const;

  // A layer's GEMM weights packed for oneDNN.
  struct PackedLayer {
    PackedMatrix qkv, attention_out, intermediate, output;
  };
  // Layer l's GEMM weights packed as `type`.
  static absl::StatusOr<PackedLayer> PackLayer(const BertConfig& c, const BertLayerWeights& l,
                                               MatmulType type);

  BertEncoder(std::shared_ptr<const BertModel> model, std::vector<PackedLayer> packed)
      : model_(std::move(model)), packed_(std::move(packed)) {}

  std::shared_ptr<const BertModel> model_;
  std::vector<PackedLayer> packed_;  // by layer; empty: OpenBLAS
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_BERT_ENCODER_H_
