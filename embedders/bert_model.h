// A BERT-family encoder's hyper-parameters and weights, read from a Hugging
// Face model folder: config.json and model.safetensors, or pytorch_model.bin
// when there is none (torch_checkpoint.h) (F32, F16 or BF16 tensors). config.json's model_type picks the family, its config keys and
// its tensor names (as its *Model class writes them, with or without the
// prefix of its *For* checkpoints; LayerNorm gamma/beta of old checkpoints
// accepted):
//
//   bert          BertModel ("bert.")
//   distilbert    DistilBertModel ("distilbert."): no token types
//   roberta,      RobertaModel, XLMRobertaModel ("roberta."): positions from
//   xlm-roberta   pad_token_id + 1, one token type
//   mpnet         MPNetModel ("mpnet."): positions from 2, no token types, a
//                 relative position bias shared by the layers
//   modernbert    ModernBertModel ("model."): rotary positions, pre-norm,
//                 GeGLU, no biases, local attention in some layers, a final
//                 LayerNorm
//   nomic_bert    NomicBertModel (nomic-embed-text): rotary positions,
//                 SwiGLU, no biases, post-norm
//
// Every tensor's shape is checked against config.json. Errors name the file
// and the tensor.
#ifndef SEMDB_EMBEDDERS_BERT_MODEL_H_
#define SEMDB_EMBEDDERS_BERT_MODEL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace semdb {

// The feed-forward activation, by config.json's name as Hugging Face's
// ACT2FN maps it: "gelu" and "gelu_python" are erf GELU; "gelu_new",
// "gelu_pytorch_tanh" and "gelu_fast" the tanh approximation. SiLU
// (x * sigmoid(x)) is NomicBERT's "swiglu" gate.
enum class Activation { kGeluErf, kGeluTanh, kSilu };

struct BertConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_positions = 0;
  int64_t type_vocab_size = 0;
  float layer_norm_eps = 1e-12f;
  // config.json's model_type: "bert", "distilbert", "roberta",
  // "xlm-roberta", "mpnet", "modernbert" or "nomic_bert".
  std::string architecture = "bert";
  Activation activation = Activation::kGeluErf;
  // Absolute positions: token p of a sequence takes position_embeddings row
  // p; with padding_idx >= 0 (RoBERTa, MPNet) row padding_idx + k for the
  // k-th token that is not padding_idx, and row padding_idx for a
  // padding_idx token (Hugging Face's create_position_ids_from_input_ids).
  int64_t padding_idx = -1;
  // MPNet: buckets of the relative position bias added to every layer's
  // attention scores (relative_attention_num_buckets); 0 when none.
  int64_t relative_attention_buckets = 0;
  // ModernBERT, NomicBERT: rotary position embeddings (no position table) with base
  // global_rope_theta in global layers and local_rope_theta in local ones;
  // layer i is global when i % global_attn_every_n_layers == 0, else a token
  // attends only to those at most local_attention / 2 positions away.
  bool rotary = false;
  double global_rope_theta = 10000, local_rope_theta = 10000;
  int64_t local_attention = 0;
  int64_t global_attn_every_n_layers = 1;
  // Pre-norm layers (LayerNorm before attention and feed-forward, residual
  // after, a final LayerNorm), else post-norm (BERT).
  bool pre_norm = false;
  // The feed-forward block is gated: its first projection gives 2 x
  // intermediate_size values, act(first half) * second half (GeGLU,
  // SwiGLU).
  bool gated_mlp = false;

  int64_t head_size() const { return hidden_size / num_heads; }
  // The longest sequence the model takes, special tokens included.
  int64_t max_tokens() const;
  bool local_layer(int64_t layer) const {
    return local_attention > 0 && layer % global_attn_every_n_layers != 0;
  }
  // Reads config.json's fields; `path` names the file in errors. Unknown
  // model types, activations and position embedding types are refused.
  static absl::StatusOr<BertConfig> FromJson(const nlohmann::json& j, const std::string& path);
};

// Matrices are row-major in nn.Linear's layout: [out_features, in_features].
// An absent bias is all zeros. The attention norm follows the attention
// block in post-norm layers and precedes it in pre-norm ones (empty: none,
// ModernBERT's first layer); likewise the output norm and the feed-forward
// block.
struct BertLayerWeights {
  std::vector<float> qkv_weight;  // [3H, H]: query, key then value rows
  std::vector<float> qkv_bias;    // [3H]
  std::vector<float> attention_out_weight, attention_out_bias;  // [H, H], [H]
  std::vector<float> attention_norm_weight, attention_norm_bias;  // [H]
  // [I, H], [I]; gated: [2I, H], [2I], the activated half first
  std::vector<float> intermediate_weight, intermediate_bias;
  std::vector<float> output_weight, output_bias;              // [H, I], [H]
  std::vector<float> output_norm_weight, output_norm_bias;    // [H]
};

struct BertWeights {
  std::vector<float> word_embeddings;        // [V, H]
  std::vector<float> position_embeddings;    // [P, H]; empty with rotary positions
  std::vector<float> token_type_embeddings;  // [T, H]; one zero row when none
  std::vector<float> embedding_norm_weight, embedding_norm_bias;  // [H]
  std::vector<BertLayerWeights> layers;
  std::vector<float> relative_attention_bias;          // [buckets, heads] (MPNet)
  std::vector<float> final_norm_weight, final_norm_bias;  // [H] (pre-norm)
};

class BertModel {
 public:
  // Loads dir/config.json and dir/model.safetensors (or pytorch_model.bin).
  static absl::StatusOr<std::unique_ptr<BertModel>> Load(const std::string& dir);

  const BertConfig& config() const { return config_; }
  const BertWeights& weights() const { return weights_; }
  // How many of the weight tensors used were stored in each dtype.
  const std::map<std::string, int>& stored_dtypes() const { return stored_dtypes_; }

  // Frees layer `layer`'s four GEMM weight matrices (qkv, attention_out,
  // intermediate, output; the biases stay), once the encoders that run
  // have packed them (BertEncoder::PackReleasing): 4 bytes a parameter,
  // 340 MB for all of BERT-base's. An encoder on OpenBLAS's GEMMs
  // (BertEncoder(model)) then fails with FailedPrecondition, and nothing
  // can pack them again.
  void ReleaseGemmWeights(int64_t layer);
  // Whether any layer's GEMM weights were freed.
  bool gemm_weights_released() const { return gemm_weights_released_; }

 private:
  BertModel() = default;

  BertConfig config_;
  BertWeights weights_;
  std::map<std::string, int> stored_dtypes_;
  bool gemm_weights_released_ = false;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_BERT_MODEL_H_
