#include "embedders/transformer_embedder.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <thread>

#include "embedders/packed_matmul.h"
#include "embedders/blas_runtime.h"
#include "embedders/model_hub.h"
#include "embedders/nn_kernels.h"
#include "embedders/parallel_for.h"
#include "embedders/python_unicode.h"
#include "embedders/tokenizer_json.h"
#include "text/utf8.h"
#include "embedders/wordpiece_tokenizer.h"
#include "fmt/format.h"
#include "storage/bounded_json.h"

namespace semdb {
namespace {

namespace fs = std::filesystem;

// The JSON object in `path`; a null value when the file is absent and
// optional.
absl::StatusOr<nlohmann::json> ReadJson(const std::string& path, bool required) {
  if (!required && !fs::exists(path)) return nlohmann::json();
  return ParseJsonFile(path);
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

ComponentKind TransformerEmbedder::Kind() {
  return {
      "transformer",
      "sentence embeddings from a Hugging Face model (BERT, DistilBERT, RoBERTa, XLM-R, MPNet, "
      "ModernBERT, NomicBERT architectures) given as a folder, found in the Hugging Face "
      "cache, or downloaded into it (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, HF_HUB_CACHE)",
      {
          TextParameter("model", "", "a model folder, or a Hugging Face id (ORG/NAME)"),
          TextParameter("revision", "main",
                        "with a Hugging Face id: a branch, tag or commit; the collection "
                        "records the commit it resolved to"),
          TextParameter("path", "", "the model folder (the older spelling of model=DIR)"),
          IntParameter("max_length", "<the model's>", 2, 1 << 20,
                       "tokens per text; longer texts are cut"),
          IntParameter("batch_size", "32", 1, 4096, "texts per forward pass"),
          IntParameter("threads", "<cores>", 1, 256, "threads of a forward pass"),
          ChoiceParameter("precision", {"auto", "fp32", "bf16"},
                          "GEMM precision: auto: bf16 when the CPU has it and the embeddings "
                          "stay within cosine 0.999 of fp32's; fp32; bf16 (bfloat16 inputs, "
                          "float accumulation, on CPUs with AVX512_BF16 or AMX, else fp32)"),
          TextParameter("query_prefix", "<the model's prompts>",
                        "prepended to queries (e5's \"query: \")"),
          TextParameter("document_prefix", "<the model's prompts>",
                        "prepended to documents (e5's \"passage: \")"),
      }};
}

absl::StatusOr<std::unique_ptr<TransformerEmbedder>> TransformerEmbedder::Create(
    const Spec& spec, const EmbedderContext& context) {
  const ComponentKind kind = Kind();
  SpecReader r(spec, kind);
  const std::string folder = r.GetString("path", "");
  const std::string model_name = r.GetString("model", "");
  const std::string revision = r.GetString("revision", "");
  const int64_t max_length = r.GetInt("max_length", 0);
  const int batch_size = static_cast<int>(r.GetInt("batch_size", 32));
  const int threads = static_cast<int>(
      r.GetInt("threads", std::max(1u, std::thread::hardware_concurrency())));
  const bool has_query_prefix = r.Has("query_prefix"), has_document_prefix = r.Has("document_prefix");
  std::string query_prefix = r.GetString("query_prefix", "");
  std::string document_prefix = r.GetString("document_prefix", "");
  const std::string precision = r.GetString("precision", "auto");
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  if (folder.empty() == model_name.empty()) {
    return absl::InvalidArgumentError(folder.empty()
        ? "'transformer' needs model=<model folder or Hugging Face id>"
        : "'transformer' takes model= or path= (a folder), not both");
  }
  if (!folder.empty() && !fs::is_directory(folder)) {
    return absl::NotFoundError(fmt::format("model folder {} does not exist", folder));
  }
  if (!folder.empty() && !revision.empty()) {
    return absl::InvalidArgumentError("revision= goes with model=<Hugging Face id>, not path=");
  }
  // model= by name: the folder, the Hugging Face cache or a download
  // (model_hub.h), pinned to the commit it resolved to.
  absl::StatusOr<ResolvedModel> resolved_model =
      folder.empty() ? ResolveModel(model_name, revision, HubOptions::FromEnvironment(),
                                    context.progress)
                     : ResolvedModel{folder, "", "", false};
  if (!resolved_model.ok()) return resolved_model.status();
  const std::string& path = resolved_model->folder;
  absl::StatusOr<Prompts> prompts = ReadPrompts(path);
  if (!prompts.ok()) return prompts.status();
  if (!has_query_prefix) query_prefix = prompts->query;
  if (!has_document_prefix) document_prefix = prompts->document;
  Spec resolved = spec;
  resolved.params["query_prefix"] = query_prefix;
  resolved.params["document_prefix"] = document_prefix;
  if (!resolved_model->commit.empty()) resolved.params["revision"] = resolved_model->commit;
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
  if (length == 0 || (max_length == 0 && length > c.max_tokens())) length = c.max_tokens();
  if (length > c.max_tokens()) {
    return absl::InvalidArgumentError(fmt::format(
        "max_length {} exceeds the {} tokens the model takes (max_position_embeddings {})",
        length, c.max_tokens(), c.max_positions));
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
      std::move(resolved), std::shared_ptr<BertModel>(*std::move(model)), *std::move(tokenizer), threads));
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
  if (absl::Status s = e->ChoosePrecision(precision); !s.ok()) return s;
  return e;
}

namespace {

// precision=auto's check: texts of the lengths and kinds embedded in
// practice, from a few tokens to the batch's longest.
constexpr const char* kPrecisionCheckTexts[] = {
    "a",
    "The quick brown fox jumps over the lazy dog.",
    "query: how do I reset my password?",
    "passage: Forest fires near the town were brought under control on Tuesday after strong "
    "winds had spread them across the ridge; residents were allowed back in the evening.",
    "Numbers 3.14159, dates 2024-01-01 and code like f(x) = x**2 + 1 appear in documents too.",
    "Héllo wörld, naïve café, 中文字符, Привет мир, emoji 😀.",
};
constexpr double kMinBf16Cosine = 0.999;

}  // namespace

absl::Status TransformerEmbedder::ChoosePrecision(const std::string& requested) {
  // Puts the fp32 encoder on oneDNN's packed GEMMs; when oneDNN cannot pack
  // the weights, leaves it on OpenBLAS's (encoder_ as constructed) and
  // returns why, for the reason. An error after the model lost some of its
  // float weights (memory exhausted) is returned as is.
  auto pack_fp32 = [&]() -> absl::StatusOr<std::string> {
    absl::StatusOr<std::vector<BertEncoder>> packed =
        BertEncoder::PackReleasing(model_, {MatmulType::kF32});
    if (packed.ok()) {
      encoder_ = std::move(packed->front());
      return "";
    }
    if (model_->gemm_weights_released()) return packed.status();
    return "; fp32 GEMMs on OpenBLAS: " + packed.status().ToString();
  };
  std::string isa;
  if (requested == "fp32" || !CpuHasBf16(&isa)) {
    absl::StatusOr<std::string> note = pack_fp32();
    if (!note.ok()) return note.status();
    precision_reason_ =
        (requested == "fp32"
             ? std::string("precision=fp32")
             : fmt::format("precision={}: the CPU has {}, no AVX512_BF16 or AMX", requested, isa)) +
        *note;
    return absl::OkStatus();
  }
  // bf16, and for auto the fp32 that would run instead, to check it against.
  std::vector<MatmulType> types = {MatmulType::kBf16};
  if (requested != "bf16") types.push_back(MatmulType::kF32);
  absl::StatusOr<std::vector<BertEncoder>> packed = BertEncoder::PackReleasing(model_, types);
  if (!packed.ok()) {
    if (model_->gemm_weights_released()) return packed.status();
    absl::StatusOr<std::string> note = pack_fp32();
    if (!note.ok()) return note.status();
    precision_reason_ = fmt::format("precision={}: {}", requested, packed.status().ToString()) + *note;
    return absl::OkStatus();
  }
  encoder_ = std::move((*packed)[0]);
  precision_ = "bf16";
  if (requested == "bf16") {
    precision_reason_ = fmt::format("precision=bf16 on {}", isa);
    return absl::OkStatus();
  }
  BertEncoder& other = (*packed)[1];  // the float encoder
  std::vector<std::string_view> texts(std::begin(kPrecisionCheckTexts), std::end(kPrecisionCheckTexts));
  std::vector<float> half(texts.size() * dimension_), full(half.size());
  absl::Status s = Embed(texts, absl::MakeSpan(half), nullptr);
  std::swap(encoder_, other);  // other: the bf16 encoder
  if (s.ok()) s = Embed(texts, absl::MakeSpan(full), nullptr);
  texts_embedded_ = 0;
  texts_truncated_ = 0;
  if (!s.ok()) return s;
  double worst = 1;
  for (size_t t = 0; t < texts.size(); ++t) {
    double dot = 0, a = 0, b = 0;
    for (int j = 0; j < dimension_; ++j) {
      const double x = half[t * dimension_ + j], y = full[t * dimension_ + j];
      dot += x * y;
      a += x * x;
      b += y * y;
    }
    worst = std::min(worst, dot / std::max(std::sqrt(a * b), 1e-30));
  }
  if (worst < kMinBf16Cosine) {
    precision_ = "fp32";
    precision_reason_ = fmt::format(
        "precision=auto: bf16 embeddings of the check texts fell to cosine {:.5f} of fp32's (below {})", worst,
        kMinBf16Cosine);
    return absl::OkStatus();
  }
  encoder_ = std::move(other);
  precision_reason_ = fmt::format(
      "precision=auto: the CPU has {}; bf16 embeddings of the check texts within cosine {:.5f} of fp32's", isa,
      worst);
  return absl::OkStatus();
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
  const int64_t full_batches = (n + batch_size_ - 1) / batch_size_;
  // Batches run concurrently, one thread each, when OpenBLAS runs on one
  // thread, and always when the encoder's GEMMs are oneDNN's (packed): one
  // thread per batch needs no synchronization within a batch, and measured
  // faster than threads sharing each GEMM (bench/bert_bench.py: OpenBLAS
  // fp32 and oneDNN bf16 GEMMs).
  const bool batch_parallel = encoder_.packed() || openblas_get_num_threads() <= 1;
  const int concurrent =
      batch_parallel ? static_cast<int>(std::min<int64_t>(threads_, full_batches)) : 1;
  const int inner_threads = concurrent > 1 ? 1 : threads_;
  // Batches [first, end) of `order`, the longest sequences first. Once the
  // sequences left would fill fewer than two batches per concurrent worker,
  // the batches shrink (to a quarter of batch_size at the least), so that
  // the workers, each taking the next batch when it is done, finish
  // together rather than one waiting for the other's last whole batch.
  std::vector<std::pair<int64_t, int64_t>> batches;
  const int64_t smallest = std::max(1, batch_size_ / 4);
  for (int64_t end = n, size; end > 0; end -= size) {
    size = concurrent > 1 ? std::clamp<int64_t>(end / (2 * concurrent), smallest, batch_size_)
                          : batch_size_;
    batches.emplace_back(std::max<int64_t>(0, end - size), end);
  }
  std::atomic<size_t> next{0};
  std::vector<absl::Status> errors(std::max(1, concurrent));
  ParallelForWorkers(concurrent, 1, concurrent, [&](int worker, int64_t, int64_t) {
    BertWorkspace ws;
    std::vector<absl::Span<const int32_t>> batch;
    std::vector<float> pooled, dense_out;
    for (size_t k; (k = next++) < batches.size();) {
      const auto [b, end] = batches[k];
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
      {"precision", precision_},
      {"precision_reason", precision_reason_},
      {"gemm_weights", encoder_.packed() ? fmt::format("oneDNN, packed {}", precision_)
                                         : std::string("OpenBLAS, the model's floats")},
      {"blas", BlasFacts()},
      {"texts_embedded", texts_embedded_.load()},
      {"texts_truncated", texts_truncated_.load()},
  };
  d.update(tokenizer_->Describe());
  return d;
}

}  // namespace semdb
