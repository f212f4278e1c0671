#include "embedders/bert_model.h"

#include <fstream>
#include <sstream>

#include "embedders/safetensors.h"
#include "fmt/format.h"
#include "fmt/ranges.h"
#include "storage/bounded_json.h"

namespace semdb {
namespace {

absl::StatusOr<int64_t> PositiveInt(const nlohmann::json& j, const std::string& key,
                                    const std::string& path, int64_t default_value) {
  if (!j.contains(key)) {
    if (default_value > 0) return default_value;
    return absl::InvalidArgumentError(fmt::format("{}: missing \"{}\"", path, key));
  }
  const nlohmann::json& v = j[key];
  if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > (int64_t{1} << 31)) {
    return absl::InvalidArgumentError(
        fmt::format("{}: \"{}\" must be a positive integer, got {}", path, key, v.dump()));
  }
  return v.get<int64_t>();
}

// Reads tensors of one safetensors file by their BertModel names.
class TensorReader {
 public:
  TensorReader(const SafeTensorsFile& file, std::string prefix)
      : file_(file), prefix_(std::move(prefix)) {}

  // Fills *out with the tensor `name` (tried as is, with the model's prefix
  // ("bert."), and with LayerNorm's old gamma/beta names), checking its
  // shape.
  absl::Status Read(const std::string& name, const std::vector<int64_t>& shape,
                    std::vector<float>* out) {
    std::vector<std::string> candidates = {name, prefix_ + name};
    for (auto [now, old] : {std::pair{"LayerNorm.weight", "LayerNorm.gamma"},
                            std::pair{"LayerNorm.bias", "LayerNorm.beta"}}) {
      const std::string suffix = now;
      if (name.size() > suffix.size() && name.ends_with(suffix)) {
        std::string renamed = name.substr(0, name.size() - suffix.size()) + old;
        candidates.push_back(renamed);
        candidates.push_back(prefix_ + renamed);
      }
    }
    for (const std::string& c : candidates) {
      const SafeTensor* t = file_.Find(c);
      if (t == nullptr) continue;
      if (t->shape != shape) {
        return absl::InvalidArgumentError(
            fmt::format("{}: tensor '{}' has shape [{}], but config.json implies [{}]",
                        file_.path(), c, fmt::join(t->shape, ", "), fmt::join(shape, ", ")));
      }
      out->resize(static_cast<size_t>(t->elements()));
      if (absl::Status s = file_.ReadFloat(c, absl::MakeSpan(*out)); !s.ok()) return s;
      ++dtypes_[t->dtype];
      return absl::OkStatus();
    }
    return absl::NotFoundError(
        fmt::format("{}: no tensor '{}' (nor '{}'): not a {} model?", file_.path(), name,
                    fmt::join(candidates.begin() + 1, candidates.end(), "', '"),
                    prefix_.substr(0, prefix_.size() - 1)));
  }

  const std::map<std::string, int>& dtypes() const { return dtypes_; }

 private:
  const SafeTensorsFile& file_;
  const std::string prefix_;
  std::map<std::string, int> dtypes_;
};

}  // namespace

absl::StatusOr<BertConfig> BertConfig::FromJson(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) return absl::InvalidArgumentError(fmt::format("{}: not a JSON object", path));
  BertConfig c;
  auto string_field = [&](const char* key, const char* default_value) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                 : std::string(default_value);
  };
  c.architecture = string_field("model_type", "bert");
  if (c.architecture != "bert" && c.architecture != "distilbert") {
    return absl::InvalidArgumentError(fmt::format(
        "{}: model_type '{}' is not supported: only BERT and DistilBERT encoders", path,
        c.architecture));
  }
  const bool distil = c.architecture == "distilbert";
  struct Field {
    const char* key;
    const char* distilbert_key;
    int64_t* value;
    int64_t default_value;  // 0: required
  };
  for (const Field& f : {Field{"vocab_size", "vocab_size", &c.vocab_size, 0},
                         Field{"hidden_size", "dim", &c.hidden_size, 0},
                         Field{"num_hidden_layers", "n_layers", &c.num_layers, 0},
                         Field{"num_attention_heads", "n_heads", &c.num_heads, 0},
                         Field{"intermediate_size", "hidden_dim", &c.intermediate_size, 0},
                         Field{"max_position_embeddings", "max_position_embeddings", &c.max_positions, 0},
                         Field{"type_vocab_size", nullptr, &c.type_vocab_size, 2}}) {
    if (distil && f.distilbert_key == nullptr) continue;
    absl::StatusOr<int64_t> v = PositiveInt(j, distil ? f.distilbert_key : f.key, path, f.default_value);
    if (!v.ok()) return v.status();
    *f.value = *v;
  }
  if (distil) c.type_vocab_size = 1;  // one zero row: no token types
  if (c.hidden_size % c.num_heads != 0) {
    return absl::InvalidArgumentError(
        fmt::format("{}: hidden_size {} is not a multiple of num_attention_heads {}", path,
                    c.hidden_size, c.num_heads));
  }
  if (j.contains("layer_norm_eps") && !distil) {  // DistilBERT's is fixed at 1e-12
    if (!j["layer_norm_eps"].is_number() || !(j["layer_norm_eps"].get<double>() > 0)) {
      return absl::InvalidArgumentError(
          fmt::format("{}: layer_norm_eps must be a positive number", path));
    }
    c.layer_norm_eps = j["layer_norm_eps"].get<float>();
  }
  const std::string act = string_field(distil ? "activation" : "hidden_act", "gelu");
  if (act != "gelu") {
    return absl::InvalidArgumentError(fmt::format(
        "{}: hidden_act '{}' is not supported: only 'gelu' (erf)", path, act));
  }
  const std::string positions = string_field("position_embedding_type", "absolute");
  if (positions != "absolute") {
    return absl::InvalidArgumentError(fmt::format(
        "{}: position_embedding_type '{}' is not supported: only 'absolute'", path, positions));
  }
  return c;
}

absl::StatusOr<std::unique_ptr<BertModel>> BertModel::Load(const std::string& dir) {
  const std::string config_path = dir + "/config.json";
  std::ifstream in(config_path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("cannot open {}", config_path));
  std::stringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<nlohmann::json> parsed = ParseJson(ss.str());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: not valid JSON ({})", config_path, std::string(parsed.status().message())));
  }
  const nlohmann::json& j = *parsed;
  std::unique_ptr<BertModel> model(new BertModel());
  absl::StatusOr<BertConfig> config = BertConfig::FromJson(j, config_path);
  if (!config.ok()) return config.status();
  model->config_ = *config;
  const BertConfig& c = model->config_;

  absl::StatusOr<std::unique_ptr<SafeTensorsFile>> file =
      SafeTensorsFile::Open(dir + "/model.safetensors");
  if (!file.ok()) return file.status();
  TensorReader reader(**file, c.architecture + ".");
  BertWeights& w = model->weights_;
  const int64_t h = c.hidden_size, inter = c.intermediate_size;
  const bool distil = c.architecture == "distilbert";
  struct Tensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float>* out;
  };
  std::vector<Tensor> tensors = {
      {"embeddings.word_embeddings.weight", {c.vocab_size, h}, &w.word_embeddings},
      {"embeddings.position_embeddings.weight", {c.max_positions, h}, &w.position_embeddings},
      {"embeddings.LayerNorm.weight", {h}, &w.embedding_norm_weight},
      {"embeddings.LayerNorm.bias", {h}, &w.embedding_norm_bias},
  };
  if (distil) {
    w.token_type_embeddings.assign(static_cast<size_t>(h), 0.0f);
  } else {
    tensors.push_back({"embeddings.token_type_embeddings.weight", {c.type_vocab_size, h},
                       &w.token_type_embeddings});
  }
  // Each layer's tensors by their BertModel and DistilBertModel names.
  struct LayerTensor {
    const char* bert;
    const char* distilbert;
    bool weight;  // else the bias
    std::vector<float> BertLayerWeights::*field;
    int64_t rows, cols;
  };
  const LayerTensor layer_tensors[] = {
      {"attention.output.dense", "attention.out_lin", true, &BertLayerWeights::attention_out_weight, h, h},
      {"attention.output.dense", "attention.out_lin", false, &BertLayerWeights::attention_out_bias, h, 0},
      {"attention.output.LayerNorm", "sa_layer_norm", true, &BertLayerWeights::attention_norm_weight, h, 0},
      {"attention.output.LayerNorm", "sa_layer_norm", false, &BertLayerWeights::attention_norm_bias, h, 0},
      {"intermediate.dense", "ffn.lin1", true, &BertLayerWeights::intermediate_weight, inter, h},
      {"intermediate.dense", "ffn.lin1", false, &BertLayerWeights::intermediate_bias, inter, 0},
      {"output.dense", "ffn.lin2", true, &BertLayerWeights::output_weight, h, inter},
      {"output.dense", "ffn.lin2", false, &BertLayerWeights::output_bias, h, 0},
      {"output.LayerNorm", "output_layer_norm", true, &BertLayerWeights::output_norm_weight, h, 0},
      {"output.LayerNorm", "output_layer_norm", false, &BertLayerWeights::output_norm_bias, h, 0},
  };
  w.layers.resize(static_cast<size_t>(c.num_layers));
  // Query, key and value are read apart, then stacked.
  std::vector<std::vector<float>> qkv(6 * c.num_layers);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    BertLayerWeights& l = w.layers[i];
    const std::string p = (distil ? "transformer.layer." : "encoder.layer.") + std::to_string(i) + ".";
    const char* parts[] = {"attention.self.query", "attention.self.key", "attention.self.value"};
    const char* distil_parts[] = {"attention.q_lin", "attention.k_lin", "attention.v_lin"};
    for (int k = 0; k < 3; ++k) {
      const std::string part = p + (distil ? distil_parts[k] : parts[k]);
      tensors.push_back({part + ".weight", {h, h}, &qkv[6 * i + k]});
      tensors.push_back({part + ".bias", {h}, &qkv[6 * i + 3 + k]});
    }
    for (const LayerTensor& t : layer_tensors) {
      std::vector<int64_t> shape = t.cols > 0 ? std::vector<int64_t>{t.rows, t.cols}
                                              : std::vector<int64_t>{t.rows};
      tensors.push_back({p + (distil ? t.distilbert : t.bert) + (t.weight ? ".weight" : ".bias"),
                         std::move(shape), &(l.*t.field)});
    }
  }
  for (const Tensor& t : tensors) {
    if (absl::Status s = reader.Read(t.name, t.shape, t.out); !s.ok()) return s;
  }
  for (int64_t i = 0; i < c.num_layers; ++i) {
    BertLayerWeights& l = w.layers[i];
    for (int k = 0; k < 3; ++k) {
      l.qkv_weight.insert(l.qkv_weight.end(), qkv[6 * i + k].begin(), qkv[6 * i + k].end());
      l.qkv_bias.insert(l.qkv_bias.end(), qkv[6 * i + 3 + k].begin(), qkv[6 * i + 3 + k].end());
    }
  }
  model->stored_dtypes_ = reader.dtypes();
  return model;
}

}  // namespace semdb
