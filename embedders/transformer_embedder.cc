#include "embedders/transformer_embedder.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <thread>

#include "embedders/blas_runtime.h"
#include "embedders/nn_kernels.h"
#include "embedders/parallel_for.h"
#include "embedders/python_unicode.h"
#include "embedders/tokenizer_json.h"
#include "embedders/utf8.h"
#include "embedders/wordpiece_tokenizer.h"
#include "fmt/format.h"
#include "storage/bounded_json.h"

namespace semdb {
namespace {

namespace fs = std::filesystem;

// The JSON object in `path`; a null value when the file is absent and
// optional.
absl::StatusOr<nlohmann::json> ReadJson(const std::string& path, bool required) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!required && !fs::exists(path)) return nlohmann::json();
    return absl::NotFoundError(fmt::format("cannot open {}", path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<nlohmann::json> j = ParseJson(ss.str());
  if (!j.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: not valid JSON ({})", path, std::string(j.status().message())));
  }
  return j;
}

absl::Status BadField(const std::string& path, const std::string& key, const std::string& want) {
  return absl::InvalidArgumentError(fmt::format("{}: \"{}\" must be {}", path, key, want));
}

// j[key] as a bool when present and not null.
absl::Status ReadBool(const nlohmann::json& j, const std::string& path, const std::string& key,
                      bool* out) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return absl::OkStatus();
  if (!j[key].is_boolean()) return BadField(path, key, "true or false");
  *out = j[key].get<bool>();
  return absl::OkStatus();
}

// A special token of tokenizer_config.json: a string, or an AddedToken
// object with "content".
absl::Status ReadToken(const nlohmann::json& j, const std::string& path, const std::string& key,
                       std::string* out) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return absl::OkStatus();
  const nlohmann::json& v = j[key];
  if (v.is_string()) {
    *out = v.get<std::string>();
  } else if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    *out = v["content"].get<std::string>();
  } else {
    return BadField(path, key, "a token string");
  }
  return absl::OkStatus();
}

absl::StatusOr<WordPieceOptions> TokenizerOptions(const std::string& dir) {
  WordPieceOptions o;
  o.max_input_chars_per_word = 100;
  const std::string config_path = dir + "/tokenizer_config.json";
  absl::StatusOr<nlohmann::json> config = ReadJson(config_path, false);
  if (!config.ok()) return config.status();
  if (absl::Status s = ReadBool(*config, config_path, "do_lower_case", &o.lower_case); !s.ok()) {
    return s;
  }
  // As Hugging Face's BertTokenizer: accents are stripped when lower-casing
  // unless strip_accents says otherwise.
  o.strip_accents = o.lower_case;
  for (auto [key, flag] : {std::pair{"strip_accents", &o.strip_accents},
                           std::pair{"tokenize_chinese_chars", &o.split_cjk}}) {
    if (absl::Status s = ReadBool(*config, config_path, key, flag); !s.ok()) return s;
  }
  for (auto [key, token] : {std::pair{"unk_token", &o.unk_token}, std::pair{"cls_token", &o.cls_token},
                            std::pair{"sep_token", &o.sep_token}, std::pair{"pad_token", &o.pad_token}}) {
    if (absl::Status s = ReadToken(*config, config_path, key, token); !s.ok()) return s;
  }
  return o;
}

// The folder's tokenizer: tokenizer.json when present, else vocab.txt with
// tokenizer_config.json's options. `lower_case_input` is
// sentence_bert_config.json's do_lower_case.
absl::StatusOr<std::unique_ptr<const SubwordTokenizer>> LoadTokenizer(const std::string& dir,
                                                                     bool lower_case_input) {
  if (fs::exists(dir + "/tokenizer.json")) {
    absl::StatusOr<std::unique_ptr<TokenizerJson>> t = TokenizerJson::FromFile(dir + "/tokenizer.json");
    if (!t.ok()) return t.status();
    return std::unique_ptr<const SubwordTokenizer>(*std::move(t));
  }
  absl::StatusOr<WordPieceOptions> options = TokenizerOptions(dir);
  if (!options.ok()) return options.status();
  if (lower_case_input) options->lower_case = true;
  absl::StatusOr<WordPieceTokenizer> t =
      WordPieceTokenizer::FromFile(dir + "/vocab.txt", *std::move(options));
  if (!t.ok()) {
    if (t.status().code() != absl::StatusCode::kNotFound) return t.status();
    return absl::NotFoundError(
        fmt::format("{} has neither tokenizer.json nor vocab.txt: no tokenizer", dir));
  }
  return std::unique_ptr<const SubwordTokenizer>(
      std::make_unique<WordPieceTokenizer>(*std::move(t)));
}

// The pooling of a sentence-transformers Pooling config.
absl::StatusOr<Pooling> ReadPooling(const std::string& path) {
  absl::StatusOr<nlohmann::json> j = ReadJson(path, true);
  if (!j.ok()) return j.status();
  Pooling p;
  for (auto [key, mode] : {std::pair{"pooling_mode_cls_token", &p.cls},
                           std::pair{"pooling_mode_max_tokens", &p.max},
                           std::pair{"pooling_mode_mean_tokens", &p.mean},
                           std::pair{"pooling_mode_mean_sqrt_len_tokens", &p.mean_sqrt_len},
                           std::pair{"pooling_mode_lasttoken", &p.last}}) {
    if (absl::Status s = ReadBool(*j, path, key, mode); !s.ok()) return s;
  }
  bool weighted = false, include_prompt = true;
  if (absl::Status s = ReadBool(*j, path, "pooling_mode_weightedmean_tokens", &weighted); !s.ok()) {
    return s;
  }
  if (weighted) {
    return absl::UnimplementedError(
        fmt::format("{}: pooling_mode_weightedmean_tokens is not supported", path));
  }
  if (absl::Status s = ReadBool(*j, path, "include_prompt", &include_prompt); !s.ok()) return s;
  if (!include_prompt) {
    return absl::UnimplementedError(fmt::format(
        "{}: include_prompt false (pooling without the prompt's tokens) is not supported", path));
  }
  if (p.modes() == 0) {
    return absl::InvalidArgumentError(fmt::format("{}: no pooling_mode_* is true", path));
  }
  return p;
}

struct Pipeline {
  std::string model_dir;
  Pooling pooling{.mean = true};
  std::vector<std::string> dense_dirs;  // Dense modules after pooling, in order
  bool normalize = false;
  int64_t max_seq_length = 0;  // 0: not stated
  bool lower_case_input = false;
};

// The sentence-transformers modules of `dir`: where the transformer is, the
// pooling, normalization and maximum length.
absl::StatusOr<Pipeline> ReadPipeline(const std::string& dir) {
  Pipeline p;
  p.model_dir = dir;
  const std::string modules_path = dir + "/modules.json";
  absl::StatusOr<nlohmann::json> modules = ReadJson(modules_path, false);
  if (!modules.ok()) return modules.status();
  std::string pooling_dir = dir + "/1_Pooling";
  if (!modules->is_null()) {
    if (!modules->is_array()) {
      return absl::InvalidArgumentError(fmt::format("{}: not a list of modules", modules_path));
    }
    pooling_dir.clear();
    for (const nlohmann::json& m : *modules) {
      if (!m.is_object() || !m.contains("type") || !m["type"].is_string()) {
        return absl::InvalidArgumentError(fmt::format("{}: a module has no \"type\"", modules_path));
      }
      const std::string type = m["type"];
      const std::string sub = m.contains("path") && m["path"].is_string() ? m["path"].get<std::string>() : "";
      const std::string path = sub.empty() ? dir : dir + "/" + sub;
      if (type.ends_with(".Transformer")) {
        p.model_dir = path;
      } else if (type.ends_with(".Pooling")) {
        pooling_dir = path;
      } else if (p.normalize) {
        return absl::UnimplementedError(
            fmt::format("{}: a module after Normalize is not supported", modules_path));
      } else if (type.ends_with(".Normalize")) {
        p.normalize = true;
      } else if (type.ends_with(".Dense")) {
        p.dense_dirs.push_back(path);
      } else {
        return absl::UnimplementedError(fmt::format(
            "{}: module {} is not supported (only Transformer, Pooling, Dense, Normalize)",
            modules_path, type));
      }
    }
  }
  if (!pooling_dir.empty() && fs::exists(pooling_dir + "/config.json")) {
    absl::StatusOr<Pooling> pooling = ReadPooling(pooling_dir + "/config.json");
    if (!pooling.ok()) return pooling.status();
    p.pooling = *pooling;
  } else if (!modules->is_null() && !pooling_dir.empty()) {
    return absl::NotFoundError(fmt::format("cannot open {}/config.json", pooling_dir));
  }
  const std::string st_path = p.model_dir + "/sentence_bert_config.json";
  absl::StatusOr<nlohmann::json> st = ReadJson(st_path, false);
  if (!st.ok()) return st.status();
  if (st->is_object() && st->contains("max_seq_length") && !(*st)["max_seq_length"].is_null()) {
    const nlohmann::json& v = (*st)["max_seq_length"];
    if (!v.is_number_unsigned() || v.get<uint64_t>() < 2) {
      return BadField(st_path, "max_seq_length", "an integer >= 2");
    }
    p.max_seq_length = v.get<int64_t>();
  }
  if (absl::Status s = ReadBool(*st, st_path, "do_lower_case", &p.lower_case_input); !s.ok()) {
    return s;
  }
  return p;
}

// tokenizer_config.json's model_max_length, 0 when absent or a placeholder
// (Hugging Face writes 1e30 when unknown).
int64_t TokenizerMaxLength(const std::string& dir) {
  absl::StatusOr<nlohmann::json> j = ReadJson(dir + "/tokenizer_config.json", false);
  if (!j.ok() || !j->is_object() || !j->contains("model_max_length")) return 0;
  const nlohmann::json& v = (*j)["model_max_length"];
  if (!v.is_number() || v.get<double>() < 2 || v.get<double>() > 1e9) return 0;
  return static_cast<int64_t>(v.get<double>());
}

struct Prompts {
  std::string query, document;
};

// The prompts of config_sentence_transformers.json in `dir`, empty when
// absent. sentence-transformers' encode_document tries "document",
// "passage" then "corpus".
absl::StatusOr<Prompts> ReadPrompts(const std::string& dir) {
  const std::string path = dir + "/config_sentence_transformers.json";
  absl::StatusOr<nlohmann::json> j = ReadJson(path, false);
  if (!j.ok()) return j.status();
  Prompts p;
  if (!j->is_object() || !j->contains("prompts") || (*j)["prompts"].is_null()) return p;
  const nlohmann::json& prompts = (*j)["prompts"];
  if (!prompts.is_object()) return BadField(path, "prompts", "an object of prompt texts");
  for (const auto& [name, text] : prompts.items()) {
    if (!text.is_string()) return BadField(path, "prompts." + name, "a string");
  }
  auto get = [&](std::initializer_list<const char*> names) {
    for (const char* name : names) {
      if (prompts.contains(name)) return prompts[name].get<std::string>();
    }
    return std::string();
  };
  p.query = get({"query"});
  p.document = get({"document", "passage", "corpus"});
  return p;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TransformerEmbedder>> TransformerEmbedder::Create(
    const Spec& spec) {
  SpecReader r(spec);
  const std::string path = r.GetString("path", "");
  const int64_t max_length = r.GetInt("max_length", 0, 2, 1 << 20);
  const int batch_size = static_cast<int>(r.GetInt("batch_size", 32, 1, 4096));
  const int threads = static_cast<int>(r.GetInt(
      "threads", std::max(1u, std::thread::hardware_concurrency()), 1, 256));
  const bool has_query_prefix = r.Has("query_prefix"), has_document_prefix = r.Has("document_prefix");
  std::string query_prefix = r.GetString("query_prefix", "");
  std::string document_prefix = r.GetString("document_prefix", "");
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  if (path.empty()) {
    return absl::InvalidArgumentError("'transformer' needs path=<model folder>");
  }
  if (!fs::is_directory(path)) {
    return absl::NotFoundError(fmt::format("model folder {} does not exist", path));
  }
  absl::StatusOr<Prompts> prompts = ReadPrompts(path);
  if (!prompts.ok()) return prompts.status();
  if (!has_query_prefix) query_prefix = prompts->query;
  if (!has_document_prefix) document_prefix = prompts->document;
  Spec resolved = spec;
  resolved.params["query_prefix"] = query_prefix;
  resolved.params["document_prefix"] = document_prefix;
  absl::StatusOr<Pipeline> pipeline = ReadPipeline(path);
  if (!pipeline.ok()) return pipeline.status();
  const std::string& dir = pipeline->model_dir;
  absl::StatusOr<std::unique_ptr<BertModel>> model = BertModel::Load(dir);
  if (!model.ok()) return model.status();
  const BertConfig& c = (*model)->config();

  absl::StatusOr<std::unique_ptr<const SubwordTokenizer>> tokenizer =
      LoadTokenizer(dir, pipeline->lower_case_input);
  if (!tokenizer.ok()) return tokenizer.status();
  if ((*tokenizer)->vocab_size() > c.vocab_size) {
    return absl::InvalidArgumentError(fmt::format(
        "the tokenizer of {} has {} tokens but {}/config.json's vocab_size is {}: they are not "
        "the same model's",
        dir, (*tokenizer)->vocab_size(), dir, c.vocab_size));
  }

  int64_t length = max_length;
  if (length == 0) length = pipeline->max_seq_length;
  if (length == 0) length = TokenizerMaxLength(dir);
  if (length == 0 || (max_length == 0 && length > c.max_positions)) length = c.max_positions;
  if (length > c.max_positions) {
    return absl::InvalidArgumentError(fmt::format(
        "max_length {} exceeds the model's max_position_embeddings {}", length, c.max_positions));
  }

  int64_t dimension = pipeline->pooling.modes() * c.hidden_size;
  std::vector<DenseLayer> dense;
  for (const std::string& dense_dir : pipeline->dense_dirs) {
    absl::StatusOr<DenseLayer> layer = DenseLayer::Load(dense_dir);
    if (!layer.ok()) return layer.status();
    if (layer->in_features != dimension) {
      return absl::InvalidArgumentError(fmt::format(
          "{}/config.json: in_features is {} but the module before it gives {} values", dense_dir,
          layer->in_features, dimension));
    }
    dimension = layer->out_features;
    dense.push_back(*std::move(layer));
  }

  std::unique_ptr<TransformerEmbedder> e(new TransformerEmbedder(
      std::move(resolved), std::shared_ptr<const BertModel>(*std::move(model)), *std::move(tokenizer), threads));
  e->path_ = path;
  e->query_prefix_ = std::move(query_prefix);
  e->document_prefix_ = std::move(document_prefix);
  e->batch_size_ = batch_size;
  e->max_length_ = static_cast<int>(length);
  e->pooling_ = pipeline->pooling;
  e->dense_ = std::move(dense);
  e->dimension_ = static_cast<int>(dimension);
  e->folder_normalizes_ = pipeline->normalize;
  e->lower_case_texts_ = pipeline->lower_case_input && fs::exists(dir + "/tokenizer.json");
  return e;
}

absl::Status TransformerEmbedder::Embed(absl::Span<const std::string_view> texts,
                                        absl::Span<float> out,
                                        std::vector<TextStats>* stats) const {
  return EmbedWithPrefix(texts, document_prefix_, out, stats);
}

absl::Status TransformerEmbedder::EmbedQueries(absl::Span<const std::string_view> texts,
                                               absl::Span<float> out,
                                               std::vector<TextStats>* stats) const {
  return EmbedWithPrefix(texts, query_prefix_, out, stats);
}

absl::Status TransformerEmbedder::EmbedWithPrefix(absl::Span<const std::string_view> texts,
                                                  const std::string& prefix,
                                                  absl::Span<float> out,
                                                  std::vector<TextStats>* stats) const {
  const int64_t h = model_->config().hidden_size, dim = dimension_;
  if (out.size() != texts.size() * static_cast<size_t>(dim)) {
    return absl::InvalidArgumentError(fmt::format(
        "output buffer holds {} floats, {} texts of dimension {} need {}", out.size(),
        texts.size(), dim, texts.size() * dim));
  }
  const int64_t n = static_cast<int64_t>(texts.size());
  std::vector<absl::StatusOr<EncodedText>> encoded(texts.size(), EncodedText{});
  ParallelForWorkers(n, 64, threads_, [&](int, int64_t b, int64_t e) {
    std::u32string cps, lower;
    std::string prefixed;
    for (int64_t i = b; i < e; ++i) {
      std::string_view text = texts[i];
      if (!prefix.empty()) {
        prefixed.assign(prefix).append(text);
        text = prefixed;
      }
      if (!lower_case_texts_) {
        encoded[i] = tokenizer_->Encode(text, max_length_);
        continue;
      }
      if (absl::Status s = DecodeUtf8(text, &cps); !s.ok()) {
        encoded[i] = s;
        continue;
      }
      lower.clear();
      python_unicode::AppendLower(cps, &lower);
      encoded[i] = tokenizer_->Encode(ToUtf8(lower), max_length_);
    }
  });
  for (int64_t i = 0; i < n; ++i) {
    if (!encoded[i].ok()) {
      return absl::Status(encoded[i].status().code(),
                          fmt::format("text {}: {}", i, std::string(encoded[i].status().message())));
    }
  }
  // Length-sorted batches keep each batch's attention work even.
  std::vector<int64_t> order(texts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return encoded[a]->ids.size() < encoded[b]->ids.size();
  });
  const int64_t batches = (n + batch_size_ - 1) / batch_size_;
  const int concurrent =
      openblas_get_num_threads() <= 1 ? static_cast<int>(std::min<int64_t>(threads_, batches)) : 1;
  const int inner_threads = concurrent > 1 ? 1 : threads_;
  std::atomic<int64_t> next{0};
  std::vector<absl::Status> errors(std::max(1, concurrent));
  ParallelForWorkers(concurrent, 1, concurrent, [&](int worker, int64_t, int64_t) {
    BertWorkspace ws;
    std::vector<absl::Span<const int32_t>> batch;
    std::vector<float> pooled, dense_out;
    // Longest batches first, so that concurrent workers finish together.
    for (int64_t k; (k = next++) < batches;) {
      const int64_t b = (batches - 1 - k) * batch_size_, end = std::min(n, b + batch_size_);
      batch.clear();
      for (int64_t i = b; i < end; ++i) batch.emplace_back(encoded[order[i]]->ids);
      if (absl::Status s = encoder_.Forward(batch, inner_threads, &ws); !s.ok()) {
        errors[worker] = s;
        return;
      }
      const int64_t rows = end - b;
      pooled.resize(static_cast<size_t>(rows * pooling_.modes() * h));
      encoder_.Pool(ws, pooling_, /*normalize=*/dense_.empty(), pooled.data());
      for (const DenseLayer& layer : dense_) {
        dense_out.resize(static_cast<size_t>(rows * layer.out_features));
        layer.Apply(pooled.data(), rows, dense_out.data());
        pooled.swap(dense_out);
      }
      for (int64_t i = b; i < end; ++i) {
        float* to = std::copy_n(pooled.data() + (i - b) * dim, dim, out.data() + order[i] * dim) - dim;
        if (!dense_.empty()) nn::L2Normalize(to, dim);
      }
    }
  });
  for (const absl::Status& s : errors) {
    if (!s.ok()) return s;
  }
  int64_t truncated = 0;
  for (const auto& e : encoded) truncated += e->truncated;
  texts_embedded_ += n;
  texts_truncated_ += truncated;
  if (stats != nullptr) {
    stats->assign(texts.size(), TextStats{});
    for (int64_t i = 0; i < n; ++i) {
      (*stats)[i].tokens = encoded[i]->tokens;
      (*stats)[i].unknown_tokens = encoded[i]->unknown_tokens;
      (*stats)[i].truncated = encoded[i]->truncated;
    }
  }
  return absl::OkStatus();
}

nlohmann::json TransformerEmbedder::Describe() const {
  const BertConfig& c = model_->config();
  nlohmann::json d = {
      {"model", path_},
      {"architecture", c.architecture},
      {"hidden_size", c.hidden_size},
      {"layers", c.num_layers},
      {"attention_heads", c.num_heads},
      {"intermediate_size", c.intermediate_size},
      {"max_position_embeddings", c.max_positions},
      {"max_length", max_length_},
      {"pooling", pooling_.Name()},
      {"dense_layers", dense_.size()},
      {"dimension", dimension_},
      {"folder_normalizes", folder_normalizes_},
      {"lower_case_texts", lower_case_texts_},
      {"query_prefix", query_prefix_},
      {"document_prefix", document_prefix_},
      {"weight_dtypes", model_->stored_dtypes()},
      {"batch_size", batch_size_},
      {"threads", threads_},
      {"blas", BlasFacts()},
      {"texts_embedded", texts_embedded_.load()},
      {"texts_truncated", texts_truncated_.load()},
  };
  d.update(tokenizer_->Describe());
  return d;
}

}  // namespace semdb
