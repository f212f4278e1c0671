#include "embedders/bert_model.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "embedders/safetensors.h"
#include "embedders/torch_checkpoint.h"
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
  TensorReader(const SafeTensorsFile& file, std::string prefix, std::string family)
      : file_(file), prefix_(std::move(prefix)), family_(std::move(family)) {}

  // Fills *out with the tensor `name` (tried as is, with the model's prefix
  // ("bert."), and with LayerNorm's old gamma/beta names), checking its
  // shape. An absent `optional` tensor is all zeros.
  absl::Status Read(const std::string& name, const std::vector<int64_t>& shape,
                    std::vector<float>* out, bool optional = false) {
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
    if (optional) {
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      out->assign(static_cast<size_t>(n), 0.0f);
      return absl::OkStatus();
    }
    return absl::NotFoundError(
        fmt::format("{}: no tensor '{}' (nor '{}'): not a {} model?", file_.path(), name,
                    fmt::join(candidates.begin() + 1, candidates.end(), "', '"),
                    family_));
  }

  const std::map<std::string, int>& dtypes() const { return dtypes_; }

 private:
  const SafeTensorsFile& file_;
  const std::string prefix_;
  const std::string family_;
  std::map<std::string, int> dtypes_;
};

// What a family calls its config.json keys and its tensors (module names,
// without ".weight" / ".bias"); an empty name: the family has no such part.
struct FamilyNames {
  const char* checkpoint_prefix;  // of its *For* checkpoints
  // config.json keys
  const char* hidden_size = "hidden_size";
  const char* num_layers = "num_hidden_layers";
  const char* num_heads = "num_attention_heads";
  const char* intermediate_size = "intermediate_size";
  const char* max_positions = "max_position_embeddings";
  const char* activation = "hidden_act";
  const char* layer_norm_eps = "layer_norm_eps";  // nullptr: fixed at 1e-12
  // tensors
  const char* word = "embeddings.word_embeddings";
  const char* position = "embeddings.position_embeddings";
  const char* token_type = "embeddings.token_type_embeddings";
  const char* embedding_norm = "embeddings.LayerNorm";
  const char* layer = "encoder.layer.";
  std::vector<const char*> qkv = {"attention.self.query", "attention.self.key",
                                  "attention.self.value"};  // or one fused module
  const char* attention_out = "attention.output.dense";
  const char* attention_norm = "attention.output.LayerNorm";
  // One module, or (gated) the activated one then the gate's other factor,
  // stacked.
  std::vector<const char*> intermediate = {"intermediate.dense"};
  const char* output = "output.dense";
  const char* output_norm = "output.LayerNorm";
  const char* relative_bias = "";
  const char* final_norm = "";
  bool biases_optional = false;  // checkpoints may leave biases out
};

// The families by config.json's model_type, nullptr when unknown.
const FamilyNames* Family(const std::string& model_type) {
  static const auto* families = new std::map<std::string, FamilyNames>([] {
    std::map<std::string, FamilyNames> f;
    f["bert"] = FamilyNames{.checkpoint_prefix = "bert."};
    f["roberta"] = FamilyNames{.checkpoint_prefix = "roberta."};
    f["xlm-roberta"] = f["roberta"];
    f["distilbert"] = FamilyNames{
        .checkpoint_prefix = "distilbert.", .hidden_size = "dim", .num_layers = "n_layers",
        .num_heads = "n_heads", .intermediate_size = "hidden_dim", .activation = "activation",
        .layer_norm_eps = nullptr, .token_type = "", .layer = "transformer.layer.",
        .qkv = {"attention.q_lin", "attention.k_lin", "attention.v_lin"},
        .attention_out = "attention.out_lin", .attention_norm = "sa_layer_norm",
        .intermediate = {"ffn.lin1"}, .output = "ffn.lin2", .output_norm = "output_layer_norm"};
    f["mpnet"] = FamilyNames{
        .checkpoint_prefix = "mpnet.", .token_type = "",
        .qkv = {"attention.attn.q", "attention.attn.k", "attention.attn.v"},
        .attention_out = "attention.attn.o", .attention_norm = "attention.LayerNorm",
        .relative_bias = "encoder.relative_attention_bias"};
    f["modernbert"] = FamilyNames{
        .checkpoint_prefix = "model.", .activation = "hidden_activation",
        .layer_norm_eps = "norm_eps", .word = "embeddings.tok_embeddings", .position = "",
        .token_type = "", .embedding_norm = "embeddings.norm", .layer = "layers.",
        .qkv = {"attn.Wqkv"}, .attention_out = "attn.Wo", .attention_norm = "attn_norm",
        .intermediate = {"mlp.Wi"}, .output = "mlp.Wo", .output_norm = "mlp_norm",
        .final_norm = "final_norm", .biases_optional = true};
    // NomicBertModel (nomic-embed-text): fc2(fc11(x) * act(fc12(x))).
    f["nomic_bert"] = FamilyNames{
        .checkpoint_prefix = "bert.", .hidden_size = "n_embd", .num_layers = "n_layer",
        .num_heads = "n_head", .intermediate_size = "n_inner", .max_positions = "n_positions",
        .activation = "activation_function", .layer_norm_eps = "layer_norm_epsilon",
        .position = "", .embedding_norm = "emb_ln", .layer = "encoder.layers.",
        .qkv = {"attn.Wqkv"}, .attention_out = "attn.out_proj", .attention_norm = "norm1",
        .intermediate = {"mlp.fc12", "mlp.fc11"}, .output = "mlp.fc2", .output_norm = "norm2",
        .biases_optional = true};
    return f;
  }());
  auto it = families->find(model_type);
  return it == families->end() ? nullptr : &it->second;
}

absl::StatusOr<double> PositiveNumber(const nlohmann::json& j, const std::string& key,
                                      const std::string& path, double default_value) {
  if (!j.contains(key) || j[key].is_null()) return default_value;
  if (!j[key].is_number() || !(j[key].get<double>() > 0)) {
    return absl::InvalidArgumentError(
        fmt::format("{}: \"{}\" must be a positive number, got {}", path, key, j[key].dump()));
  }
  return j[key].get<double>();
}

}  // namespace

int64_t BertConfig::max_tokens() const {
  return padding_idx >= 0 ? max_positions - padding_idx - 1 : max_positions;
}

absl::StatusOr<BertConfig> BertConfig::FromJson(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) return absl::InvalidArgumentError(fmt::format("{}: not a JSON object", path));
  BertConfig c;
  auto string_field = [&](const char* key, const char* default_value) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                 : std::string(default_value);
  };
  c.architecture = string_field("model_type", "bert");
  const FamilyNames* names = Family(c.architecture);
  if (names == nullptr) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: model_type '{}' is not supported: only bert, distilbert, roberta, xlm-roberta, "
        "mpnet, modernbert and nomic_bert encoders",
        path, c.architecture));
  }
  const bool modern = c.architecture == "modernbert";
  const bool token_types = *names->token_type != '\0';
  struct Field {
    const char* key;
    int64_t* value;
    int64_t default_value;  // 0: required
  };
  for (const Field& f : {Field{"vocab_size", &c.vocab_size, 0},
                         Field{names->hidden_size, &c.hidden_size, 0},
                         Field{names->num_layers, &c.num_layers, 0},
                         Field{names->num_heads, &c.num_heads, 0},
                         Field{names->intermediate_size, &c.intermediate_size, 0},
                         Field{names->max_positions, &c.max_positions, 0},
                         Field{"type_vocab_size", &c.type_vocab_size, 2}}) {
    if (f.value == &c.type_vocab_size && !token_types) continue;
    absl::StatusOr<int64_t> v = PositiveInt(j, f.key, path, f.default_value);
    if (!v.ok()) return v.status();
    *f.value = *v;
  }
  if (!token_types) c.type_vocab_size = 1;  // one zero row
  if (c.hidden_size % c.num_heads != 0) {
    return absl::InvalidArgumentError(
        fmt::format("{}: hidden_size {} is not a multiple of num_attention_heads {}", path,
                    c.hidden_size, c.num_heads));
  }
  if (names->layer_norm_eps != nullptr) {
    absl::StatusOr<double> eps =
        PositiveNumber(j, names->layer_norm_eps, path, modern ? 1e-5 : 1e-12);
    if (!eps.ok()) return eps.status();
    c.layer_norm_eps = static_cast<float>(*eps);
  }
  const bool nomic = c.architecture == "nomic_bert";
  const std::string act = string_field(names->activation, nomic ? "swiglu" : "gelu");
  if (nomic) {
    // Only the gated MLPs (fc11, fc12, fc2); nomic's plain MLP has other
    // tensors.
    if (act != "swiglu" && act != "geglu") {
      return absl::InvalidArgumentError(fmt::format(
          "{}: activation_function '{}' is not supported: only 'swiglu' and 'geglu'", path, act));
    }
    c.activation = act == "swiglu" ? Activation::kSilu : Activation::kGeluErf;
  } else if (act == "gelu" || act == "gelu_python") {
    c.activation = Activation::kGeluErf;
  } else if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast") {
    c.activation = Activation::kGeluTanh;
  } else {
    return absl::InvalidArgumentError(fmt::format(
        "{}: {} '{}' is not supported: only 'gelu', 'gelu_python' (erf), 'gelu_new', "
        "'gelu_pytorch_tanh', 'gelu_fast' (tanh)",
        path, names->activation, act));
  }
  const std::string positions = string_field("position_embedding_type", "absolute");
  if (positions != "absolute") {
    return absl::InvalidArgumentError(fmt::format(
        "{}: position_embedding_type '{}' is not supported: only 'absolute'", path, positions));
  }
  if (c.architecture == "roberta" || c.architecture == "xlm-roberta") {
    c.padding_idx = 1;
    if (j.contains("pad_token_id") && !j["pad_token_id"].is_null()) {
      const nlohmann::json& v = j["pad_token_id"];
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= c.max_positions) {
        return absl::InvalidArgumentError(fmt::format(
            "{}: \"pad_token_id\" must be an integer from 0 to max_position_embeddings - 1, "
            "got {}", path, v.dump()));
      }
      c.padding_idx = v.get<int64_t>();
    }
  } else if (c.architecture == "mpnet") {
    c.padding_idx = 1;  // MPNetEmbeddings' fixed padding_idx, whatever pad_token_id says
    absl::StatusOr<int64_t> buckets = PositiveInt(j, "relative_attention_num_buckets", path, 32);
    if (!buckets.ok()) return buckets.status();
    // MPNet's bucketing needs an exact range (a quarter of the buckets) of
    // at least 1 and below its maximum distance of 128.
    if (*buckets < 4 || *buckets > 256) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: relative_attention_num_buckets must be from 4 to 256, not {}", path, *buckets));
    }
    c.relative_attention_buckets = *buckets;
  } else if (modern) {
    c.rotary = c.pre_norm = c.gated_mlp = true;
    for (auto [key, value, default_value] :
         {std::tuple{"global_rope_theta", &c.global_rope_theta, 160000.0},
          std::tuple{"local_rope_theta", &c.local_rope_theta, 10000.0}}) {
      absl::StatusOr<double> v = PositiveNumber(j, key, path, default_value);
      if (!v.ok()) return v.status();
      *value = *v;
    }
    for (auto [key, value, default_value] :
         {std::tuple{"local_attention", &c.local_attention, int64_t{128}},
          std::tuple{"global_attn_every_n_layers", &c.global_attn_every_n_layers, int64_t{3}}}) {
      absl::StatusOr<int64_t> v = PositiveInt(j, key, path, default_value);
      if (!v.ok()) return v.status();
      *value = *v;
    }
  } else if (nomic) {
    c.rotary = c.gated_mlp = true;
    absl::StatusOr<double> base = PositiveNumber(j, "rotary_emb_base", path, 10000.0);
    if (!base.ok()) return base.status();
    c.global_rope_theta = c.local_rope_theta = *base;
    // Variants of NomicBERT this encoder does not compute.
    for (auto [key, plain] : {std::pair{"rotary_emb_fraction", nlohmann::json(1.0)},
                              std::pair{"rotary_emb_interleaved", nlohmann::json(false)},
                              std::pair{"rotary_scaling_factor", nlohmann::json()},
                              std::pair{"prenorm", nlohmann::json(false)},
                              std::pair{"use_rms_norm", nlohmann::json(false)},
                              std::pair{"parallel_block", nlohmann::json(false)}}) {
      if (j.contains(key) && j[key] != plain && !(plain.is_boolean() && j[key].is_null())) {
        return absl::UnimplementedError(fmt::format(
            "{}: \"{}\": {} is not supported (only {})", path, key, j[key].dump(), plain.dump()));
      }
    }
  }
  if (c.rotary && c.head_size() % 2 != 0) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: rotary positions need an even head size, not {}", path, c.head_size()));
  }
  if (c.max_tokens() < 2) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: max_position_embeddings {} leaves no room for a sequence", path, c.max_positions));
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
  const FamilyNames& names = *Family(c.architecture);

  absl::StatusOr<std::unique_ptr<SafeTensorsFile>> file =
      OpenModelWeights(dir);
  if (!file.ok()) return file.status();
  TensorReader reader(**file, names.checkpoint_prefix, c.architecture);
  BertWeights& w = model->weights_;
  const int64_t h = c.hidden_size, inter = c.intermediate_size;
  struct Tensor {
    std::string name;  // module name, without ".weight" / ".bias"
    std::vector<int64_t> shape;
    std::vector<float>* weight;
    std::vector<float>* bias;  // nullptr: none
  };
  std::vector<Tensor> tensors = {
      {names.word, {c.vocab_size, h}, &w.word_embeddings, nullptr},
      {names.embedding_norm, {h}, &w.embedding_norm_weight, &w.embedding_norm_bias},
  };
  if (*names.position != '\0') {
    tensors.push_back({names.position, {c.max_positions, h}, &w.position_embeddings, nullptr});
  }
  if (*names.token_type != '\0') {
    tensors.push_back({names.token_type, {c.type_vocab_size, h}, &w.token_type_embeddings, nullptr});
  } else {
    w.token_type_embeddings.assign(static_cast<size_t>(h), 0.0f);
  }
  if (*names.relative_bias != '\0') {
    tensors.push_back({names.relative_bias, {c.relative_attention_buckets, c.num_heads},
                       &w.relative_attention_bias, nullptr});
  }
  if (*names.final_norm != '\0') {
    tensors.push_back({names.final_norm, {h}, &w.final_norm_weight, &w.final_norm_bias});
  }
  // A matrix the encoder uses whole but a family may store in parts (query,
  // key and value; a gated MLP's two halves): the parts are read apart, then
  // stacked by rows.
  struct Stacked {
    std::vector<std::vector<float>> weights, biases;
    std::vector<float>* weight;
    std::vector<float>* bias;
  };
  std::vector<Stacked> stacked;
  stacked.reserve(static_cast<size_t>(2 * c.num_layers));  // tensors point into it
  auto add_stacked = [&](const std::string& prefix, const std::vector<const char*>& modules,
                         int64_t rows, std::vector<float>* weight, std::vector<float>* bias) {
    if (modules.size() == 1) {
      tensors.push_back({prefix + modules[0], {rows, h}, weight, bias});
      return;
    }
    Stacked& st = stacked.emplace_back(Stacked{{}, {}, weight, bias});
    st.weights.resize(modules.size());
    st.biases.resize(modules.size());
    const int64_t part_rows = rows / static_cast<int64_t>(modules.size());
    for (size_t k = 0; k < modules.size(); ++k) {
      tensors.push_back({prefix + modules[k], {part_rows, h}, &st.weights[k], &st.biases[k]});
    }
  };
  w.layers.resize(static_cast<size_t>(c.num_layers));
  for (int64_t i = 0; i < c.num_layers; ++i) {
    BertLayerWeights& l = w.layers[i];
    const std::string p = names.layer + std::to_string(i) + ".";
    add_stacked(p, names.qkv, 3 * h, &l.qkv_weight, &l.qkv_bias);
    // A pre-norm family's first layer has no norm before attention: its
    // input is the embeddings' LayerNorm.
    if (!(c.pre_norm && i == 0)) {
      tensors.push_back({p + names.attention_norm, {h}, &l.attention_norm_weight,
                         &l.attention_norm_bias});
    }
    tensors.push_back({p + names.attention_out, {h, h}, &l.attention_out_weight,
                       &l.attention_out_bias});
    add_stacked(p, names.intermediate, c.gated_mlp ? 2 * inter : inter, &l.intermediate_weight,
                &l.intermediate_bias);
    tensors.push_back({p + names.output, {h, inter}, &l.output_weight, &l.output_bias});
    tensors.push_back({p + names.output_norm, {h}, &l.output_norm_weight, &l.output_norm_bias});
  }
  for (const Tensor& t : tensors) {
    if (absl::Status s = reader.Read(t.name + ".weight", t.shape, t.weight); !s.ok()) return s;
    if (t.bias == nullptr) continue;
    if (absl::Status s = reader.Read(t.name + ".bias", {t.shape[0]}, t.bias, names.biases_optional);
        !s.ok()) {
      return s;
    }
  }
  for (const Stacked& st : stacked) {
    for (size_t k = 0; k < st.weights.size(); ++k) {
      st.weight->insert(st.weight->end(), st.weights[k].begin(), st.weights[k].end());
      st.bias->insert(st.bias->end(), st.biases[k].begin(), st.biases[k].end());
    }
  }
  model->stored_dtypes_ = reader.dtypes();
  return model;
}

void BertModel::ReleaseGemmWeights(int64_t layer) {
  BertLayerWeights& l = weights_.layers.at(static_cast<size_t>(layer));
  for (std::vector<float>* w :
       {&l.qkv_weight, &l.attention_out_weight, &l.intermediate_weight, &l.output_weight}) {
    std::vector<float>().swap(*w);
  }
  gemm_weights_released_ = true;
}

}  // namespace semdb
