// A BERT encoder's hyper-parameters and weights, read from a Hugging Face
// model folder: config.json and model.safetensors (F32, F16 or BF16 tensors,
// named as BertModel writes them, with or without the "bert." prefix of the
// BertFor* checkpoints; LayerNorm gamma/beta of old checkpoints accepted).
// DistilBERT folders load too (DistilBertModel's names, with or without the
// "distilbert." prefix): the same network without token types.
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

struct BertConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_positions = 0;
  int64_t type_vocab_size = 0;
  float layer_norm_eps = 1e-12f;
  // "bert", or "distilbert": BERT without token types (type_vocab_size 0),
  // its own config.json keys and tensor names.
  std::string architecture = "bert";

  int64_t head_size() const { return hidden_size / num_heads; }
  // Reads config.json's fields; `path` names the file in errors. Only
  // absolute position embeddings and the erf GELU are supported.
  static absl::StatusOr<BertConfig> FromJson(const nlohmann::json& j, const std::string& path);
};

// Matrices are row-major in nn.Linear's layout: [out_features, in_features].
struct BertLayerWeights {
  std::vector<float> qkv_weight;  // [3H, H]: query, key then value rows
  std::vector<float> qkv_bias;    // [3H]
  std::vector<float> attention_out_weight, attention_out_bias;  // [H, H], [H]
  std::vector<float> attention_norm_weight, attention_norm_bias;  // [H]
  std::vector<float> intermediate_weight, intermediate_bias;  // [I, H], [I]
  std::vector<float> output_weight, output_bias;              // [H, I], [H]
  std::vector<float> output_norm_weight, output_norm_bias;    // [H]
};

struct BertWeights {
  std::vector<float> word_embeddings;        // [V, H]
  std::vector<float> position_embeddings;    // [P, H]
  std::vector<float> token_type_embeddings;  // [T, H]; one zero row for DistilBERT
  std::vector<float> embedding_norm_weight, embedding_norm_bias;  // [H]
  std::vector<BertLayerWeights> layers;
};

class BertModel {
 public:
  // Loads dir/config.json and dir/model.safetensors.
  static absl::StatusOr<std::unique_ptr<BertModel>> Load(const std::string& dir);

  const BertConfig& config() const { return config_; }
  const BertWeights& weights() const { return weights_; }
  // How many of the weight tensors used were stored in each dtype.
  const std::map<std::string, int>& stored_dtypes() const { return stored_dtypes_; }

 private:
  BertModel() = default;

  BertConfig config_;
  BertWeights weights_;
  std::map<std::string, int> stored_dtypes_;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_BERT_MODEL_H_
