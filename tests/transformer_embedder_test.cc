// The transformer embedder end to end from model folders: spec parsing,
// folder reading, pooling and normalization against torch's golden vectors,
// and bad input.
#include "embedders/transformer_embedder.h"

#include <cblas.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "catch2/catch.hpp"
#include "embedders/packed_matmul.h"
#include "embedders/embedder_factory.h"
#include "nlohmann/json.hpp"
#include "test_data.h"

namespace semdb {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::TestData;

const nlohmann::json& Golden() {
  static const nlohmann::json golden =
      nlohmann::json::parse(ReadFile(TestData("golden/bert_tiny.json")));
  return golden;
}

// The embedder of `spec`, in fp32 unless the spec names a precision: the
// golden vectors are torch's float ones, checked to 1e-4 (the bf16 case at
// the end checks bf16 against fp32).
absl::StatusOr<std::unique_ptr<Embedder>> Make(const std::string& spec) {
  absl::StatusOr<Spec> s = Spec::Parse(spec);
  REQUIRE(s.ok());
  if (s->kind == "transformer" && !s->params.count("precision")) s->params["precision"] = "fp32";
  return CreateEmbedder(*s, EmbedderContext{});
}

std::unique_ptr<Embedder> MakeOk(const std::string& spec) {
  absl::StatusOr<std::unique_ptr<Embedder>> e = Make(spec);
  INFO(spec << ": " << e.status().ToString());
  REQUIRE(e.ok());
  return *std::move(e);
}

// A writable copy of a test model folder.
std::string CopyModel(const TempDir& dir, const std::string& folder) {
  const std::string out = dir / folder;
  fs::copy(TestData(folder), out, fs::copy_options::recursive);
  for (const auto& f : fs::recursive_directory_iterator(out)) {
    fs::permissions(f.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  return out;
}

void WriteJson(const std::string& path, const nlohmann::json& j) {
  std::ofstream(path) << j.dump(2);
}

// Embeds the golden sentences and returns the largest difference to `key`.
double CompareToGolden(const Embedder& e, const nlohmann::json& sentences, const std::string& key,
                       std::vector<TextStats>* stats) {
  std::vector<std::string> texts;
  for (const auto& s : sentences) texts.push_back(s["text"]);
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<float> out(texts.size() * e.dimension());
  absl::Status s = e.Embed(views, absl::MakeSpan(out), stats);
  INFO(s.ToString());
  REQUIRE(s.ok());
  double worst = 0;
  for (size_t i = 0; i < sentences.size(); ++i) {
    const nlohmann::json& want = sentences[i][key];
    for (int j = 0; j < e.dimension(); ++j) {
      worst = std::max(worst, std::abs(out[i * e.dimension() + j] - want[j].get<double>()));
    }
  }
  return worst;
}

TEST_CASE("transformer embedder: sentence-transformers folder, mean pooling + Normalize") {
  const auto e = MakeOk("transformer path=" + TestData("bert_tiny") + " batch_size=4 threads=2");
  CHECK(e->dimension() == 24);
  CHECK_FALSE(e->fittable());
  std::vector<TextStats> stats;
  const double diff = CompareToGolden(*e, Golden()["sentences"], "mean_normalized", &stats);
  WARN("transformer embedder (mean, normalized): max abs diff to torch " << diff);
  CHECK(diff < 1e-4);
  int truncated = 0;
  for (size_t i = 0; i < stats.size(); ++i) {
    const nlohmann::json& s = Golden()["sentences"][i];
    CHECK(stats[i].truncated == s["truncated"].get<bool>());
    if (!stats[i].truncated) CHECK(stats[i].tokens == static_cast<int>(s["ids"].size()) - 2);
    truncated += stats[i].truncated;
  }
  CHECK(truncated == 2);
  const nlohmann::json d = e->Describe();
  CHECK(d["pooling"] == "mean");
  CHECK(d["folder_normalizes"] == true);
  CHECK(d["max_length"] == 64);
  CHECK(d["max_input_chars_per_word"] == 100);
  CHECK(d["texts_truncated"] == 2);
  CHECK(d["texts_embedded"] == Golden()["sentences"].size());
  CHECK(d["weight_dtypes"]["F32"] == 5 + 2 * 16);
}

TEST_CASE("transformer embedder: CLS pooling from 1_Pooling/config.json") {
  TempDir dir;
  const std::string path = CopyModel(dir, "bert_tiny");
  WriteJson(path + "/1_Pooling/config.json",
            {{"word_embedding_dimension", 24}, {"pooling_mode_cls_token", true},
             {"pooling_mode_mean_tokens", false}});
  const auto e = MakeOk("transformer path=" + path);
  const double diff = CompareToGolden(*e, Golden()["sentences"], "cls_normalized", nullptr);
  WARN("transformer embedder (CLS): max abs diff to torch " << diff);
  CHECK(diff < 1e-4);
  CHECK(e->Describe()["pooling"] == "cls");
}

TEST_CASE("transformer embedder: plain Hugging Face folder with F16/BF16 weights") {
  const auto e = MakeOk("transformer path=" + TestData("bert_tiny_half"));
  const double diff = CompareToGolden(*e, Golden()["half"], "mean_normalized", nullptr);
  WARN("transformer embedder (F16/BF16 weights): max abs diff to torch " << diff);
  CHECK(diff < 1e-4);
  CHECK(e->Describe()["folder_normalizes"] == false);
}

TEST_CASE("transformer embedder: RoBERTa, XLM-R, MPNet, ModernBERT, NomicBERT folders match torch") {
  // Text to vector: the folder's tokenizer.json (byte-level BPE or Unigram)
  // then the encoder, against the torch reference run on the npm
  // tokenizers' ids (tests/golden/make_{roberta,mpnet,modernbert,nomic_bert}_golden.py).
  for (auto [folder, architecture] : {std::pair{"roberta_tiny", "roberta"},
                                      std::pair{"xlm_roberta_tiny", "xlm-roberta"},
                                      std::pair{"mpnet_tiny", "mpnet"},
                                      std::pair{"modernbert_tiny", "modernbert"},
                                      std::pair{"nomic_bert_tiny", "nomic_bert"}}) {
    DYNAMIC_SECTION(folder) {
      const nlohmann::json golden = nlohmann::json::parse(
          ReadFile(TestData(std::string("golden/") + folder + ".json")));
      nlohmann::json texts = nlohmann::json::array();
      for (const nlohmann::json& s : golden["sentences"]) {
        if (s.contains("text")) texts.push_back(s);
      }
      REQUIRE(texts.size() >= 16);
      const auto e = MakeOk("transformer path=" + TestData(folder) + " batch_size=5 threads=2");
      CHECK(e->Describe()["architecture"] == architecture);
      CHECK(e->Describe()["max_length"] == 64);
      const nlohmann::json& config = golden["config"];
      CHECK(e->dimension() == config.value("hidden_size", config.value("n_embd", 0)));
      std::vector<TextStats> stats;
      const double diff = CompareToGolden(*e, texts, "mean_normalized", &stats);
      WARN(folder << " from text: max abs diff to torch " << diff);
      CHECK(diff < 1e-4);
      int truncated = 0;
      for (size_t i = 0; i < texts.size(); ++i) {
        CHECK(stats[i].truncated == texts[i]["truncated"].get<bool>());
        truncated += stats[i].truncated;
      }
      CHECK(truncated > 0);
    }
  }
}

TEST_CASE("transformer embedder: concurrent Embed calls agree") {
  const auto e = MakeOk("transformer path=" + TestData("bert_tiny") + " threads=1");
  std::vector<std::string> texts;
  for (const auto& s : Golden()["sentences"]) texts.push_back(s["text"]);
  std::vector<std::string_view> views(texts.begin(), texts.end());
  const size_t n = texts.size() * e->dimension();
  std::vector<float> a(n), b(n), c(n);
  REQUIRE(e->Embed(views, absl::MakeSpan(a), nullptr).ok());
  // Catch2 assertions are not thread-safe: the threads only record.
  absl::Status sb, sc;
  std::thread t1([&] { sb = e->Embed(views, absl::MakeSpan(b), nullptr); });
  std::thread t2([&] { sc = e->Embed(views, absl::MakeSpan(c), nullptr); });
  t1.join();
  t2.join();
  CHECK(sb.ok());
  CHECK(sc.ok());
  CHECK(a == b);
  CHECK(a == c);
}

TEST_CASE("transformer embedder: concurrent batches on a single-threaded OpenBLAS") {
  const int saved = openblas_get_num_threads();
  openblas_set_num_threads(1);
  const auto e = MakeOk("transformer path=" + TestData("bert_tiny") + " batch_size=3 threads=2");
  const double diff = CompareToGolden(*e, Golden()["sentences"], "mean_normalized", nullptr);
  openblas_set_num_threads(saved);
  CHECK(diff < 1e-4);
}

TEST_CASE("transformer embedder: empty, long and invalid texts") {
  const auto e = MakeOk("transformer path=" + TestData("bert_tiny") + " max_length=16");
  std::string long_text;
  for (int i = 0; i < 2000; ++i) long_text += "word ";
  std::vector<std::string_view> texts = {"", long_text, "   "};
  std::vector<float> out(texts.size() * 24);
  std::vector<TextStats> stats;
  REQUIRE(e->Embed(texts, absl::MakeSpan(out), &stats).ok());
  for (size_t i = 0; i < texts.size(); ++i) {
    double norm = 0;
    for (int j = 0; j < 24; ++j) norm += out[i * 24 + j] * out[i * 24 + j];
    CHECK(std::abs(norm - 1) < 1e-5);
  }
  CHECK(stats[0].tokens == 0);
  CHECK_FALSE(stats[0].truncated);
  CHECK(stats[1].tokens == 2000);
  CHECK(stats[1].truncated);
  CHECK(e->Describe()["texts_truncated"] == 1);

  std::vector<std::string_view> bad = {"fine", "bad \xC3\x28 byte"};
  std::vector<float> out2(2 * 24);
  absl::Status s = e->Embed(bad, absl::MakeSpan(out2), nullptr);
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(s.message()).find("text 1") != std::string::npos);
  CHECK(std::string(s.message()).find("UTF-8") != std::string::npos);
  CHECK(e->Embed(bad, absl::MakeSpan(out), nullptr).code() == absl::StatusCode::kInvalidArgument);
  CHECK(e->Embed({}, absl::Span<float>(), nullptr).ok());
}

// The error of creating an embedder on `path` after `edit` changed a copy of
// bert_tiny.
std::string FolderError(const std::function<void(const std::string&)>& edit,
                        absl::StatusCode code) {
  TempDir dir;
  const std::string path = CopyModel(dir, "bert_tiny");
  edit(path);
  absl::StatusOr<std::unique_ptr<Embedder>> e = Make("transformer path=" + path);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == code);
  return std::string(e.status().message());
}

void Contains(const std::string& message, const std::string& part) {
  INFO(message);
  CHECK(message.find(part) != std::string::npos);
}

nlohmann::json Config(const std::string& path) {
  return nlohmann::json::parse(ReadFile(path + "/config.json"));
}

TEST_CASE("transformer embedder: bad specs and model folders are clear errors") {
  using absl::StatusCode;
  CHECK(Make("transformer").status().code() == StatusCode::kInvalidArgument);
  CHECK(Make("transformer path=/nonexistent/model").status().code() == StatusCode::kNotFound);
  CHECK(Make("transformer path=" + TestData("bert_tiny") + " max_length=65").status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(Make("transformer path=" + TestData("bert_tiny") + " batch=3").status().code() ==
        StatusCode::kInvalidArgument);

  Contains(FolderError([](const std::string& p) { fs::remove(p + "/config.json"); },
                       StatusCode::kNotFound),
           "config.json");
  Contains(FolderError([](const std::string& p) { fs::remove(p + "/model.safetensors"); },
                       StatusCode::kNotFound),
           "model.safetensors");
  Contains(FolderError([](const std::string& p) { fs::remove(p + "/vocab.txt"); },
                       StatusCode::kNotFound),
           "neither tokenizer.json nor vocab.txt");
  Contains(FolderError([](const std::string& p) { std::ofstream(p + "/config.json") << "{oops"; },
                       StatusCode::kInvalidArgument),
           "config.json: not valid JSON");
  // A tokenizer.json nested 100,000 levels deep is refused while parsed
  // (storage/bounded_json.h), before the deep value exists.
  Contains(FolderError(
               [](const std::string& p) {
                 std::ofstream(p + "/tokenizer.json")
                     << "{\"model\": " << std::string(100000, '[') << std::string(100000, ']')
                     << "}";
               },
               StatusCode::kInvalidArgument),
           "tokenizer.json: not valid JSON (JSON nested deeper than 64 levels)");
  Contains(FolderError(
               [](const std::string& p) {
                 nlohmann::json c = Config(p);
                 c.erase("num_attention_heads");
                 WriteJson(p + "/config.json", c);
               },
               StatusCode::kInvalidArgument),
           "num_attention_heads");
  Contains(FolderError(
               [](const std::string& p) {
                 nlohmann::json c = Config(p);
                 c["num_attention_heads"] = 5;
                 WriteJson(p + "/config.json", c);
               },
               StatusCode::kInvalidArgument),
           "not a multiple");
  Contains(FolderError(
               [](const std::string& p) {
                 nlohmann::json c = Config(p);
                 c["hidden_act"] = "relu";
                 WriteJson(p + "/config.json", c);
               },
               StatusCode::kInvalidArgument),
           "hidden_act 'relu'");
  // Wrong shapes: the file and the tensor are named.
  const std::string shape = FolderError(
      [](const std::string& p) {
        nlohmann::json c = Config(p);
        c["intermediate_size"] = 32;
        WriteJson(p + "/config.json", c);
      },
      StatusCode::kInvalidArgument);
  Contains(shape, "model.safetensors: tensor 'encoder.layer.0.intermediate.dense.weight' has shape [96, 24]");
  Contains(shape, "implies [32, 24]");
  Contains(FolderError(
               [](const std::string& p) {
                 nlohmann::json c = Config(p);
                 c["num_hidden_layers"] = 3;
                 WriteJson(p + "/config.json", c);
               },
               StatusCode::kNotFound),
           "no tensor 'encoder.layer.2.attention.self.query.weight'");
  // A truncated download.
  Contains(FolderError(
               [](const std::string& p) {
                 fs::resize_file(p + "/model.safetensors", fs::file_size(p + "/model.safetensors") - 100);
               },
               StatusCode::kInvalidArgument),
           "truncated");
  // vocab.txt from another model.
  Contains(FolderError([](const std::string& p) { std::ofstream(p + "/vocab.txt", std::ios::app) << "extra\n"; },
                       StatusCode::kInvalidArgument),
           "has 30523 tokens but");
  Contains(FolderError(
               [](const std::string& p) {
                 WriteJson(p + "/1_Pooling/config.json", {{"pooling_mode_weightedmean_tokens", true}});
               },
               StatusCode::kUnimplemented),
           "pooling_mode_weightedmean_tokens");
  Contains(FolderError(
               [](const std::string& p) {
                 WriteJson(p + "/1_Pooling/config.json", {{"pooling_mode_mean_tokens", false}});
               },
               StatusCode::kInvalidArgument),
           "no pooling_mode_* is true");
  Contains(FolderError(
               [](const std::string& p) {
                 nlohmann::json m = nlohmann::json::parse(ReadFile(p + "/modules.json"));
                 m.push_back({{"idx", 3}, {"name", "3"}, {"path", "3_Dense"},
                              {"type", "sentence_transformers.models.Dense"}});
                 WriteJson(p + "/modules.json", m);
               },
               StatusCode::kUnimplemented),
           "a module after Normalize");
  Contains(FolderError(
               [](const std::string& p) {
                 nlohmann::json m = nlohmann::json::parse(ReadFile(p + "/modules.json"));
                 m[2] = {{"idx", 2}, {"name", "2"}, {"path", "2_LayerNorm"},
                         {"type", "sentence_transformers.models.LayerNorm"}};
                 WriteJson(p + "/modules.json", m);
               },
               StatusCode::kUnimplemented),
           "sentence_transformers.models.LayerNorm");
  Contains(FolderError(
               [](const std::string& p) {
                 WriteJson(p + "/tokenizer_config.json", {{"do_lower_case", "yes"}});
               },
               StatusCode::kInvalidArgument),
           "do_lower_case");
  Contains(FolderError(
               [](const std::string& p) {
                 WriteJson(p + "/tokenizer.json", {{"model", {{"type", "WordLevel"}}}});
               },
               StatusCode::kUnimplemented),
           "tokenizer model 'WordLevel' is not supported");
  Contains(FolderError(
               [](const std::string& p) {
                 WriteJson(p + "/tokenizer.json", {{"model", {{"type", "BPE"}}}});
               },
               StatusCode::kInvalidArgument),
           "tokenizer.json: model: \"vocab\"");
}

// The folder as the Hub serves many models: tokenizer.json (written by
// Hugging Face's tokenizers from the same vocab.txt, see
// tests/golden/tokenizers/make_tokenizer_goldens.js) and no vocab.txt.
std::string TokenizerJsonOnlyModel(const TempDir& dir) {
  const std::string path = CopyModel(dir, "bert_tiny");
  fs::remove(path + "/vocab.txt");
  fs::remove(path + "/tokenizer_config.json");
  fs::copy_file(std::string(SEMDB_SOURCE_DIR) + "/tests/golden/tokenizers/bert_tiny/tokenizer.json",
                path + "/tokenizer.json");
  return path;
}

TEST_CASE("transformer embedder: a folder with only tokenizer.json matches torch") {
  TempDir dir;
  const std::string path = TokenizerJsonOnlyModel(dir);
  const auto e = MakeOk("transformer path=" + path);
  // The golden ids are the original BERT tokenizer's; Hugging Face's differs
  // on one text only: it reads "[MASK]" written in the text as the special
  // token (the npm library gives [CLS] [ [MASK] ] [SEP]).
  nlohmann::json same = nlohmann::json::array();
  for (const nlohmann::json& s : Golden()["sentences"]) {
    if (s["text"] != "[[MASK]]") same.push_back(s);
  }
  REQUIRE(same.size() + 1 == Golden()["sentences"].size());
  std::vector<TextStats> stats;
  const double diff = CompareToGolden(*e, same, "mean_normalized", &stats);
  WARN("transformer embedder (tokenizer.json only): max abs diff to torch " << diff);
  CHECK(diff < 1e-4);
  for (size_t i = 0; i < stats.size(); ++i) CHECK(stats[i].truncated == same[i]["truncated"].get<bool>());
  std::vector<std::string_view> mask = {"[[MASK]]"};
  std::vector<float> out(24);
  REQUIRE(e->Embed(mask, absl::MakeSpan(out), &stats).ok());
  CHECK(stats[0].tokens == 3);
  const nlohmann::json d = e->Describe();
  CHECK(d["tokenizer_model"] == "WordPiece");
  CHECK(d["tokenizer"] == path + "/tokenizer.json");
  CHECK(d["vocabulary"] == 30522);
}

TEST_CASE("transformer embedder: tokenizer.json sets the word-length limit") {
  TempDir dir;
  const std::string path = TokenizerJsonOnlyModel(dir);
  nlohmann::json t = nlohmann::json::parse(ReadFile(path + "/tokenizer.json"));
  t["model"]["max_input_chars_per_word"] = 200;
  WriteJson(path + "/tokenizer.json", t);
  const auto e = MakeOk("transformer path=" + path);
  const std::string word(150, 'a');
  std::vector<std::string_view> texts = {word};
  std::vector<float> out(24);
  std::vector<TextStats> stats;
  REQUIRE(e->Embed(texts, absl::MakeSpan(out), &stats).ok());
  CHECK(stats[0].unknown_tokens == 0);
  const auto e100 = MakeOk("transformer path=" + TestData("bert_tiny"));
  REQUIRE(e100->Embed(texts, absl::MakeSpan(out), &stats).ok());
  CHECK(stats[0].unknown_tokens == 1);
}

// One text's vector, as a document or as a query.
std::vector<float> Vector(const Embedder& e, std::string_view text, bool query) {
  std::vector<std::string_view> texts = {text};
  std::vector<float> out(e.dimension());
  absl::Status s = query ? e.EmbedQueries(texts, absl::MakeSpan(out), nullptr)
                         : e.Embed(texts, absl::MakeSpan(out), nullptr);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return out;
}

double MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
  return worst;
}

TEST_CASE("transformer embedder: prompts apply to queries and documents as declared") {
  TempDir dir;
  const std::string path = CopyModel(dir, "bert_tiny");
  // As E5's folders declare them (sentence-transformers 3 format).
  WriteJson(path + "/config_sentence_transformers.json",
            {{"prompts", {{"query", "query: "}, {"passage", "passage: "}}},
             {"default_prompt_name", nullptr}});
  const auto e = MakeOk("transformer path=" + path);
  const auto plain = MakeOk("transformer path=" + TestData("bert_tiny"));
  const std::string text = "a frog was found in the rainforest";
  CHECK(MaxDiff(Vector(*e, text, true), Vector(*plain, "query: " + text, false)) < 1e-6);
  CHECK(MaxDiff(Vector(*e, text, false), Vector(*plain, "passage: " + text, false)) < 1e-6);
  CHECK(MaxDiff(Vector(*e, text, true), Vector(*e, text, false)) > 1e-3);
  // A model without prompts embeds queries as documents.
  CHECK(MaxDiff(Vector(*plain, text, true), Vector(*plain, text, false)) == 0);
  CHECK(plain->spec().params.at("query_prefix").empty());
  CHECK(plain->spec().params.at("document_prefix").empty());

  // The spec records the prefixes in force: a collection reopened from it
  // keeps them when the folder's prompts change.
  const Spec recorded = e->spec();
  CHECK(recorded.params.at("query_prefix") == "query: ");
  CHECK(recorded.params.at("document_prefix") == "passage: ");
  fs::remove(path + "/config_sentence_transformers.json");
  absl::StatusOr<Spec> reparsed = Spec::Parse(recorded.ToString());
  REQUIRE(reparsed.ok());
  absl::StatusOr<std::unique_ptr<Embedder>> reopened = CreateEmbedder(*reparsed, EmbedderContext{});
  REQUIRE(reopened.ok());
  CHECK(MaxDiff(Vector(**reopened, text, true), Vector(*e, text, true)) == 0);
  CHECK(MaxDiff(Vector(**reopened, text, false), Vector(*e, text, false)) == 0);

  // The spec overrides the folder.
  const auto custom = MakeOk("transformer path=" + path +
                             " query_prefix='Represent this sentence for searching relevant passages: '");
  CHECK(MaxDiff(Vector(*custom, text, true),
                Vector(*plain, "Represent this sentence for searching relevant passages: " + text,
                       false)) < 1e-6);
  CHECK(MaxDiff(Vector(*custom, text, false), Vector(*plain, text, false)) < 1e-6);
  CHECK(custom->Describe()["query_prefix"] ==
        "Represent this sentence for searching relevant passages: ");
}

TEST_CASE("transformer embedder: bad prompts are clear errors") {
  TempDir dir;
  const std::string path = CopyModel(dir, "bert_tiny");
  WriteJson(path + "/config_sentence_transformers.json", {{"prompts", {{"query", 3}}}});
  absl::StatusOr<std::unique_ptr<Embedder>> e = Make("transformer path=" + path);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(e.status().message()).find("prompts.query") != std::string::npos);
}

// bert_tiny with another sentence-transformers pipeline: `pooling` modes
// on in 1_Pooling, then the Dense module of tests/data/dense_tiny when
// `dense`, then Normalize.
std::string PipelineModel(const TempDir& dir, const std::vector<std::string>& pooling, bool dense) {
  const std::string path = CopyModel(dir, "bert_tiny");
  nlohmann::json config = {{"word_embedding_dimension", 24}};
  for (const char* mode : {"cls_token", "max_tokens", "mean_tokens", "mean_sqrt_len_tokens", "lasttoken"}) {
    config[std::string("pooling_mode_") + mode] =
        std::find(pooling.begin(), pooling.end(), mode) != pooling.end();
  }
  WriteJson(path + "/1_Pooling/config.json", config);
  nlohmann::json modules = nlohmann::json::parse(ReadFile(path + "/modules.json"));
  if (dense) {
    fs::copy(TestData("dense_tiny"), path + "/2_Dense", fs::copy_options::recursive);
    const nlohmann::json module = {{"idx", 2}, {"name", "2"}, {"path", "2_Dense"},
                                   {"type", "sentence_transformers.models.Dense"}};
    modules.insert(modules.begin() + 2, module);
  }
  WriteJson(path + "/modules.json", modules);
  return path;
}

TEST_CASE("transformer embedder: pooling modes and Dense match sentence-transformers' torch ops") {
  const nlohmann::json golden =
      nlohmann::json::parse(ReadFile(TestData("golden/bert_tiny_pooling.json")));
  const nlohmann::json& sentences = golden["sentences"];
  REQUIRE(sentences.size() == Golden()["sentences"].size());
  nlohmann::json texts = Golden()["sentences"];
  for (size_t i = 0; i < texts.size(); ++i) {
    REQUIRE(texts[i]["ids"] == sentences[i]["ids"]);
    for (const char* key : {"max", "mean_sqrt_len", "lasttoken", "cls_mean", "dense"}) {
      texts[i][key] = sentences[i][key];
    }
  }
  for (auto [modes, dense, key, dim, name] :
       {std::tuple{std::vector<std::string>{"max_tokens"}, false, "max", 24, "max"},
        std::tuple{std::vector<std::string>{"mean_sqrt_len_tokens"}, false, "mean_sqrt_len", 24,
                   "mean_sqrt_len"},
        std::tuple{std::vector<std::string>{"lasttoken"}, false, "lasttoken", 24, "lasttoken"},
        std::tuple{std::vector<std::string>{"cls_token", "mean_tokens"}, false, "cls_mean", 48,
                   "cls+mean"},
        std::tuple{std::vector<std::string>{"mean_tokens"}, true, "dense", 16, "mean"}}) {
    TempDir dir;
    const auto e = MakeOk("transformer path=" + PipelineModel(dir, modes, dense) + " batch_size=5");
    CHECK(e->dimension() == dim);
    const double diff = CompareToGolden(*e, texts, key, nullptr);
    WARN("transformer embedder (" << key << "): max abs diff to torch " << diff);
    CHECK(diff < 1e-4);
    CHECK(e->Describe()["pooling"] == name);
    CHECK(e->Describe()["dense_layers"] == (dense ? 1 : 0));
  }
}

TEST_CASE("transformer embedder: a Dense module that does not fit is a clear error") {
  TempDir dir;
  const std::string path = PipelineModel(dir, {"cls_token", "mean_tokens"}, true);
  absl::StatusOr<std::unique_ptr<Embedder>> e = Make("transformer path=" + path);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(e.status().message()).find("in_features is 24 but the module before it gives 48") !=
        std::string::npos);
  nlohmann::json c = nlohmann::json::parse(ReadFile(path + "/2_Dense/config.json"));
  c["activation_function"] = "torch.nn.modules.activation.ReLU";
  WriteJson(path + "/2_Dense/config.json", c);
  CHECK(Make("transformer path=" + path).status().code() == absl::StatusCode::kUnimplemented);
}

// tests/golden/make_torch_checkpoint.py: xlm_roberta_tiny's weights saved by
// torch.save, Q/K/V as views into one fused storage.
TEST_CASE("transformer embedder: a pytorch_model.bin-only folder gives its safetensors twin's embeddings") {
  TempDir dir;
  const std::string path = CopyModel(dir, "xlm_roberta_tiny");
  fs::remove(path + "/model.safetensors");
  fs::copy_file(TestData("golden/xlm_roberta_tiny_pytorch_model.bin"), path + "/pytorch_model.bin");
  const nlohmann::json golden = nlohmann::json::parse(ReadFile(TestData("golden/xlm_roberta_tiny.json")));
  std::vector<std::string> texts;
  for (const nlohmann::json& s : golden["sentences"]) {
    if (s.contains("text")) texts.push_back(s["text"]);
  }
  REQUIRE(texts.size() >= 16);
  std::vector<std::string_view> views(texts.begin(), texts.end());
  const auto twin = MakeOk("transformer path=" + TestData("xlm_roberta_tiny"));
  const auto from_bin = MakeOk("transformer path=" + path);
  std::vector<float> a(texts.size() * twin->dimension()), b(a.size());
  REQUIRE(twin->Embed(views, absl::MakeSpan(a), nullptr).ok());
  REQUIRE(from_bin->Embed(views, absl::MakeSpan(b), nullptr).ok());
  CHECK(a == b);
  CHECK(from_bin->Describe()["weight_dtypes"] == twin->Describe()["weight_dtypes"]);

  // Refused or damaged checkpoints: clear errors, nothing executed.
  auto error_of = [&](const std::string& bytes) {
    std::ofstream(path + "/pytorch_model.bin", std::ios::binary | std::ios::trunc) << bytes;
    absl::StatusOr<std::unique_ptr<Embedder>> e = Make("transformer path=" + path);
    REQUIRE_FALSE(e.ok());
    return e.status();
  };
  const std::string real = ReadFile(TestData("golden/xlm_roberta_tiny_pytorch_model.bin"));
  absl::Status s = error_of(ReadFile(TestData("golden/refused_checkpoint.bin")));
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(s.message()), Catch::Contains("refused global posix.system"));
  s = error_of(std::string("\x80\x02}q\x00.", 6));  // a legacy (pre-zip) pickle
  CHECK_THAT(std::string(s.message()), Catch::Contains("not a zip archive"));
  for (size_t cut : {real.size() / 2, real.size() - 100, size_t{4000}}) {
    s = error_of(real.substr(0, cut));
    INFO(cut << ": " << s.ToString());
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  }
  // Corrupted pickle bytes (inside data.pkl, stored uncompressed) never crash.
  const size_t pkl = real.find("\x80\x02");
  REQUIRE(pkl != std::string::npos);
  for (size_t i = 0; i < 400; i += 7) {
    std::string bad = real;
    bad[pkl + 30 + i] = static_cast<char>(bad[pkl + 30 + i] ^ 0x5A);
    std::ofstream(path + "/pytorch_model.bin", std::ios::binary | std::ios::trunc) << bad;
    (void)Make("transformer path=" + path);  // an error (the zip's CRC) or a model, never a crash
  }
  fs::remove(path + "/pytorch_model.bin");
  absl::StatusOr<std::unique_ptr<Embedder>> none = Make("transformer path=" + path);
  CHECK(none.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(none.status().message()), Catch::Contains("pytorch_model.bin"));
}

// The bf16 GEMMs (oneDNN) against float on every architecture's golden
// texts: each embedding within cosine 0.999. Visibly skipped on a CPU
// without AVX512_BF16 or AMX, where precision=bf16 and auto (the default)
// run fp32 and say why.
TEST_CASE("transformer embedder: bf16 GEMMs stay within cosine 0.999 of fp32 on the golden texts") {
  std::string isa;
  if (!CpuHasBf16(&isa)) {
    WARN("SKIPPED: the CPU has " << isa << ", no AVX512_BF16 or AMX");
    for (const char* precision : {" precision=bf16", " precision=auto"}) {
      const nlohmann::json d =
          MakeOk("transformer path=" + TestData("bert_tiny") + precision)->Describe();
      CHECK(d["precision"] == "fp32");
      CHECK_THAT(d["precision_reason"].get<std::string>(), Catch::Contains("no AVX512_BF16"));
    }
    return;
  }
  for (const char* folder : {"bert_tiny", "roberta_tiny", "xlm_roberta_tiny", "mpnet_tiny",
                             "modernbert_tiny", "nomic_bert_tiny"}) {
    DYNAMIC_SECTION(folder) {
      const nlohmann::json golden =
          nlohmann::json::parse(ReadFile(TestData(std::string("golden/") + folder + ".json")));
      std::vector<std::string> texts;
      for (const nlohmann::json& s : golden["sentences"]) {
        if (s.contains("text")) texts.push_back(s["text"]);
      }
      REQUIRE(texts.size() >= 16);
      std::vector<std::string_view> views(texts.begin(), texts.end());
      const auto fp32 = MakeOk("transformer path=" + TestData(folder) + " threads=2");
      const auto bf16 = MakeOk("transformer path=" + TestData(folder) + " threads=2 precision=bf16");
      CHECK(fp32->Describe()["precision"] == "fp32");
      CHECK(bf16->Describe()["precision"] == "bf16");
      CHECK(fp32->Describe()["gemm_weights"] == "oneDNN, packed fp32");
      CHECK(bf16->Describe()["gemm_weights"] == "oneDNN, packed bf16");
      const int d = fp32->dimension();
      std::vector<float> a(texts.size() * d), b(a.size());
      REQUIRE(fp32->Embed(views, absl::MakeSpan(a), nullptr).ok());
      REQUIRE(bf16->Embed(views, absl::MakeSpan(b), nullptr).ok());
      double worst = 1, max_diff = 0;
      for (size_t t = 0; t < texts.size(); ++t) {
        double dot = 0, na = 0, nb = 0;
        for (int j = 0; j < d; ++j) {
          dot += double(a[t * d + j]) * b[t * d + j];
          na += double(a[t * d + j]) * a[t * d + j];
          nb += double(b[t * d + j]) * b[t * d + j];
          max_diff = std::max(max_diff, double(std::abs(a[t * d + j] - b[t * d + j])));
        }
        worst = std::min(worst, dot / std::sqrt(na * nb));
      }
      WARN(folder << " bf16 on " << isa << ": lowest cosine to fp32 " << worst
                  << ", max abs diff " << max_diff);
      CHECK(worst >= 0.999);
      CHECK(max_diff > 0);  // the bf16 path did run
      // auto is the default: bf16, with the check's cosine as its reason.
      const nlohmann::json automatic = CreateEmbedder(
          Spec::Parse("transformer path=" + TestData(folder)).value(), {}).value()->Describe();
      INFO(automatic["precision_reason"]);
      CHECK(automatic["precision"] == "bf16");
      CHECK_THAT(automatic["precision_reason"].get<std::string>(),
                 Catch::Contains("precision=auto") && Catch::Contains("within cosine"));
      CHECK(automatic["texts_embedded"] == 0);  // the check is not counted
    }
  }
}

}  // namespace
}  // namespace semdb
