// The encoder against torch: tests/data/golden/bert_tiny.json holds the last
// hidden states and pooled embeddings that tests/golden/make_bert_golden.py
// computed with torch's own modules on the weights of tests/data/bert_tiny*;
// likewise the other families' make_*_golden.py and tests/data/*_tiny.
#include "embedders/bert_encoder.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <numeric>
#include <random>

#include "catch2/catch.hpp"
#include "embedders/bert_model.h"
#include "embedders/nn_kernels.h"
#include "embedders/wordpiece_tokenizer.h"
#include "nlohmann/json.hpp"
#include "test_data.h"

namespace semdb {
namespace {

using testing::ReadFile;
using testing::TestData;

constexpr double kTolerance = 1e-4;

const nlohmann::json& Golden() {
  static const nlohmann::json golden =
      nlohmann::json::parse(ReadFile(TestData("golden/bert_tiny.json")));
  return golden;
}

std::shared_ptr<const BertModel> LoadModel(const std::string& folder) {
  absl::StatusOr<std::unique_ptr<BertModel>> m = BertModel::Load(TestData(folder));
  INFO(m.status().ToString());
  REQUIRE(m.ok());
  return std::shared_ptr<const BertModel>(*std::move(m));
}

// Max |a - b| over a vector of golden values.
double MaxDiff(const float* a, const nlohmann::json& b) {
  double d = 0;
  for (size_t j = 0; j < b.size(); ++j) d = std::max(d, std::abs(a[j] - b[j].get<double>()));
  return d;
}

// Encodes the golden sentences `order` in batches of `batch` and returns
// the largest difference to the golden hidden states and to the pooled
// vectors the golden holds (mean, mean_normalized, cls, cls_normalized).
double EncodeAndCompare(const BertEncoder& encoder, int threads, const nlohmann::json& sentences,
                        const std::vector<size_t>& order, size_t batch) {
  const int64_t h = encoder.model().config().hidden_size;
  BertWorkspace ws;
  double worst = 0;
  for (size_t b = 0; b < order.size(); b += batch) {
    std::vector<std::vector<int32_t>> ids;
    std::vector<absl::Span<const int32_t>> spans;
    const size_t end = std::min(order.size(), b + batch);
    for (size_t i = b; i < end; ++i) ids.push_back(sentences[order[i]]["ids"]);
    for (const auto& v : ids) spans.emplace_back(v);
    absl::Status s = encoder.Forward(spans, threads, &ws);
    INFO(s.ToString());
    REQUIRE(s.ok());
    std::vector<float> pooled(spans.size() * h);
    for (auto [pooling, normalize, key] :
         {std::tuple{Pooling{.mean = true}, false, "mean"},
          std::tuple{Pooling{.mean = true}, true, "mean_normalized"},
          std::tuple{Pooling{.cls = true}, false, "cls"},
          std::tuple{Pooling{.cls = true}, true, "cls_normalized"}}) {
      if (!sentences[0].contains(key)) continue;
      encoder.Pool(ws, pooling, normalize, pooled.data());
      for (size_t i = b; i < end; ++i) {
        worst = std::max(worst, MaxDiff(pooled.data() + (i - b) * h, sentences[order[i]][key]));
      }
    }
    for (size_t i = b; i < end; ++i) {
      const nlohmann::json& hidden = sentences[order[i]]["hidden"];
      REQUIRE(ws.offsets[i - b + 1] - ws.offsets[i - b] == static_cast<int64_t>(hidden.size()));
      for (size_t r = 0; r < hidden.size(); ++r) {
        worst = std::max(worst, MaxDiff(ws.hidden.data() + (ws.offsets[i - b] + r) * h, hidden[r]));
      }
    }
  }
  return worst;
}

// Checks `model` against the golden sentences in one batch, one by one and
// in shuffled batches of 5, on 1 and 2 threads, with the float GEMMs on
// OpenBLAS and on oneDNN (packed weights).
void CheckBatchings(const std::shared_ptr<const BertModel>& model, const nlohmann::json& sentences,
                    const std::string& label) {
  std::vector<size_t> order(sentences.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<size_t> shuffled = order;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(3));
  const BertEncoder openblas(model);
  absl::StatusOr<BertEncoder> packed = BertEncoder::Packed(model, MatmulType::kF32);
  INFO(packed.status().ToString());
  REQUIRE(packed.ok());
  const BertEncoder& onednn = *packed;
  for (const BertEncoder* encoder : {&openblas, &onednn}) {
    for (int threads : {1, 2}) {
      const double all = EncodeAndCompare(*encoder, threads, sentences, order, order.size());
      const double alone = EncodeAndCompare(*encoder, threads, sentences, order, 1);
      const double mixed = EncodeAndCompare(*encoder, threads, sentences, shuffled, 5);
      WARN(label << (encoder->packed() ? " on oneDNN" : " on OpenBLAS") << ", " << threads
                 << " thread(s): max abs diff to torch " << all << " (one batch), " << alone
                 << " (one by one), " << mixed << " (shuffled batches of 5)");
      CHECK(all < kTolerance);
      CHECK(alone < kTolerance);
      CHECK(mixed < kTolerance);
    }
  }
}

TEST_CASE("BERT encoder matches torch on padding-heavy and single batches") {
  CheckBatchings(LoadModel("bert_tiny"), Golden()["sentences"], "bert_tiny F32");
}

TEST_CASE("BERT encoder matches torch with F16 and BF16 weights and bert. names") {
  const nlohmann::json& sentences = Golden()["half"];
  const auto model = LoadModel("bert_tiny_half");
  CHECK(model->stored_dtypes().count("F16"));
  CHECK(model->stored_dtypes().count("BF16"));
  CHECK_FALSE(model->stored_dtypes().count("F32"));
  std::vector<size_t> order(sentences.size());
  std::iota(order.begin(), order.end(), 0);
  const double diff = EncodeAndCompare(BertEncoder(model), 2, sentences, order, order.size());
  WARN("bert_tiny_half F16/BF16: max abs diff to torch " << diff);
  CHECK(diff < kTolerance);
}

TEST_CASE("A packed encoder runs on after the model's GEMM floats are released, and nothing else does") {
  absl::StatusOr<std::unique_ptr<BertModel>> loaded = BertModel::Load(TestData("bert_tiny"));
  REQUIRE(loaded.ok());
  const std::shared_ptr<BertModel> model(*std::move(loaded));
  std::vector<MatmulType> types = {MatmulType::kF32};
  if (CpuHasBf16()) types.push_back(MatmulType::kBf16);
  absl::StatusOr<std::vector<BertEncoder>> encoders = BertEncoder::PackReleasing(model, types);
  INFO(encoders.status().ToString());
  REQUIRE(encoders.ok());
  REQUIRE(encoders->size() == types.size());
  CHECK_FALSE((*encoders)[0].bf16());
  if (types.size() == 2) CHECK((*encoders)[1].bf16());
  const BertEncoder& packed = (*encoders)[0];
  CHECK(model->gemm_weights_released());
  for (const BertLayerWeights& l : model->weights().layers) {
    CHECK(l.qkv_weight.capacity() + l.attention_out_weight.capacity() +
              l.intermediate_weight.capacity() + l.output_weight.capacity() ==
          0);
    CHECK_FALSE(l.qkv_bias.empty());  // the biases stay: the products' epilogues add them
  }
  const nlohmann::json& sentences = Golden()["sentences"];
  std::vector<size_t> order(sentences.size());
  std::iota(order.begin(), order.end(), 0);
  const double diff = EncodeAndCompare(packed, 2, sentences, order, 5);
  WARN("bert_tiny on oneDNN, the model's GEMM floats released: max abs diff to torch " << diff);
  CHECK(diff < kTolerance);
  // Neither packing again nor OpenBLAS's GEMMs have weights left: errors,
  // not a crash.
  CHECK(BertEncoder::Packed(model, MatmulType::kF32).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(BertEncoder::PackReleasing(model, types).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  BertWorkspace ws;
  const std::vector<int32_t> ids = sentences[0]["ids"];
  const std::vector<absl::Span<const int32_t>> spans = {absl::MakeConstSpan(ids)};
  const absl::Status s = BertEncoder(model).Forward(spans, 1, &ws);
  INFO(s.ToString());
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("The golden token ids are the reference tokenizer's, truncated to 64") {
  const nlohmann::json& sentences = Golden()["sentences"];
  WordPieceOptions options;
  options.max_input_chars_per_word = 200;
  absl::StatusOr<WordPieceTokenizer> t =
      WordPieceTokenizer::FromFile(TestData("bert_tiny/vocab.txt"), options);
  REQUIRE(t.ok());
  int truncated = 0;
  for (const nlohmann::json& s : sentences) {
    absl::StatusOr<EncodedText> e = t->Encode(s["text"].get<std::string>(), 64);
    REQUIRE(e.ok());
    CHECK(e->ids == s["ids"].get<std::vector<int32_t>>());
    CHECK(e->truncated == s["truncated"].get<bool>());
    truncated += e->truncated;
  }
  CHECK(truncated == 2);
}

TEST_CASE("BERT encoder rejects sequences the model cannot take") {
  const auto model = LoadModel("bert_tiny");
  const BertEncoder encoder(model);
  BertWorkspace ws;
  std::vector<int32_t> too_long(65, 1000), bad_id = {101, 30522, 102}, empty;
  for (const auto* seq : {&too_long, &bad_id, &empty}) {
    std::vector<absl::Span<const int32_t>> spans = {absl::Span<const int32_t>(*seq)};
    absl::Status s = encoder.Forward(spans, 1, &ws);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("DistilBERT matches torch (make_distilbert_golden.py)") {
  const nlohmann::json golden =
      nlohmann::json::parse(ReadFile(TestData("golden/distilbert_tiny.json")));
  const std::shared_ptr<const BertModel> model = LoadModel("distilbert_tiny");
  CHECK(model->config().architecture == "distilbert");
  CHECK(model->config().hidden_size == 16);
  CHECK(model->config().intermediate_size == 40);
  const BertEncoder encoder(model);
  const nlohmann::json& sentences = golden["sentences"];
  std::vector<std::vector<int32_t>> ids;
  std::vector<absl::Span<const int32_t>> spans;
  for (const nlohmann::json& s : sentences) ids.push_back(s["ids"]);
  for (const auto& v : ids) spans.emplace_back(v);
  BertWorkspace ws;
  REQUIRE(encoder.Forward(spans, 2, &ws).ok());
  double worst = 0;
  for (size_t i = 0; i < sentences.size(); ++i) {
    const nlohmann::json& hidden = sentences[i]["hidden"];
    REQUIRE(ws.offsets[i + 1] - ws.offsets[i] == static_cast<int64_t>(hidden.size()));
    for (size_t r = 0; r < hidden.size(); ++r) {
      worst = std::max(worst, MaxDiff(ws.hidden.data() + (ws.offsets[i] + r) * 16, hidden[r]));
    }
  }
  WARN("distilbert_tiny: max abs diff to torch " << worst);
  CHECK(worst < kTolerance);
}

// The other families against their torch references (make_roberta_golden.py,
// make_mpnet_golden.py, make_modernbert_golden.py, make_nomic_bert_golden.py):
// last hidden states and
// mean-pooled normalized vectors.
TEST_CASE("RoBERTa, XLM-R, MPNet, ModernBERT and NomicBERT match their torch references") {
  struct Family {
    const char* folder;
    const char* architecture;
    Activation activation;
  };
  for (const Family& f : {Family{"roberta_tiny", "roberta", Activation::kGeluErf},
                          Family{"xlm_roberta_tiny", "xlm-roberta", Activation::kGeluTanh},
                          Family{"mpnet_tiny", "mpnet", Activation::kGeluErf},
                          Family{"modernbert_tiny", "modernbert", Activation::kGeluErf},
                          Family{"nomic_bert_tiny", "nomic_bert", Activation::kSilu}}) {
    DYNAMIC_SECTION(f.folder) {
      const nlohmann::json golden = nlohmann::json::parse(
          ReadFile(TestData(std::string("golden/") + f.folder + ".json")));
      const nlohmann::json& sentences = golden["sentences"];
      const std::shared_ptr<const BertModel> model = LoadModel(f.folder);
      CHECK(model->config().architecture == f.architecture);
      CHECK(model->config().activation == f.activation);
      CHECK(model->stored_dtypes().size() == 1);
      CheckBatchings(model, sentences, f.folder);
    }
  }
}

TEST_CASE("RoBERTa and MPNet positions: 2 of max_position_embeddings are not for tokens") {
  for (auto [folder, fits] : {std::pair{"roberta_tiny", 64}, std::pair{"mpnet_tiny", 512}}) {
    const auto model = LoadModel(folder);
    CHECK(model->config().padding_idx == 1);
    CHECK(model->config().max_tokens() == fits);
    const BertEncoder encoder(model);
    BertWorkspace ws;
    std::vector<int32_t> longest(fits, 5), too_long(fits + 1, 5);
    std::vector<absl::Span<const int32_t>> spans = {absl::Span<const int32_t>(longest)};
    CHECK(encoder.Forward(spans, 1, &ws).ok());
    spans = {absl::Span<const int32_t>(too_long)};
    CHECK(encoder.Forward(spans, 1, &ws).code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("MPNet's relative position buckets are torch's from -600 to 600") {
  const nlohmann::json golden =
      nlohmann::json::parse(ReadFile(TestData("golden/mpnet_tiny.json")))["buckets"];
  const int from = golden["relative_from"];
  const nlohmann::json& want = golden["bucket"];
  int mismatches = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const int relative = from + static_cast<int>(i);
    mismatches += nn::RelativePositionBucket(relative, golden["num_buckets"],
                                             golden["max_distance"]) != want[i].get<int>();
  }
  CHECK(want.size() == 1201);
  CHECK(mismatches == 0);
}

TEST_CASE("config.json: activations by Hugging Face's names, unknown families refused") {
  nlohmann::json j = nlohmann::json::parse(ReadFile(TestData("roberta_tiny/config.json")));
  for (auto [name, want] : {std::pair{"gelu", Activation::kGeluErf},
                            std::pair{"gelu_python", Activation::kGeluErf},
                            std::pair{"gelu_new", Activation::kGeluTanh},
                            std::pair{"gelu_pytorch_tanh", Activation::kGeluTanh},
                            std::pair{"gelu_fast", Activation::kGeluTanh}}) {
    j["hidden_act"] = name;
    absl::StatusOr<BertConfig> c = BertConfig::FromJson(j, "config.json");
    REQUIRE(c.ok());
    CHECK(c->activation == want);
  }
  j["hidden_act"] = "quick_gelu";
  absl::StatusOr<BertConfig> c = BertConfig::FromJson(j, "config.json");
  CHECK(c.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(c.status().message().find("quick_gelu") != std::string::npos);
  j["hidden_act"] = "gelu";
  j["model_type"] = "deberta-v2";
  c = BertConfig::FromJson(j, "config.json");
  CHECK(c.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(c.status().message().find("deberta-v2") != std::string::npos);
  j["model_type"] = "roberta";
  j["pad_token_id"] = 66;
  CHECK(BertConfig::FromJson(j, "config.json").status().code() ==
        absl::StatusCode::kInvalidArgument);
  nlohmann::json mpnet = nlohmann::json::parse(ReadFile(TestData("mpnet_tiny/config.json")));
  for (int buckets : {2, 3, 512}) {
    mpnet["relative_attention_num_buckets"] = buckets;
    CHECK(BertConfig::FromJson(mpnet, "config.json").status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  nlohmann::json modern = nlohmann::json::parse(ReadFile(TestData("modernbert_tiny/config.json")));
  c = BertConfig::FromJson(modern, "config.json");
  REQUIRE(c.ok());
  CHECK(c->rotary);
  CHECK(c->pre_norm);
  CHECK(c->gated_mlp);
  CHECK(c->local_layer(1));
  CHECK_FALSE(c->local_layer(2));
  CHECK(c->max_tokens() == 512);
  modern["num_attention_heads"] = 32;  // head size 1: no rotary pairs
  CHECK(BertConfig::FromJson(modern, "config.json").status().code() ==
        absl::StatusCode::kInvalidArgument);
  // NomicBERT: the variants the encoder does not compute are refused.
  const nlohmann::json nomic =
      nlohmann::json::parse(ReadFile(TestData("nomic_bert_tiny/config.json")));
  c = BertConfig::FromJson(nomic, "config.json");
  REQUIRE(c.ok());
  CHECK(c->rotary);
  CHECK(c->gated_mlp);
  CHECK_FALSE(c->pre_norm);
  CHECK_FALSE(c->local_layer(1));
  CHECK(c->global_rope_theta == 1000);
  CHECK(c->max_tokens() == 512);
  for (auto [key, value] : {std::pair{"rotary_emb_fraction", nlohmann::json(0.5)},
                            std::pair{"rotary_emb_interleaved", nlohmann::json(true)},
                            std::pair{"rotary_scaling_factor", nlohmann::json(2.0)},
                            std::pair{"prenorm", nlohmann::json(true)},
                            std::pair{"activation_function", nlohmann::json("gelu")}}) {
    nlohmann::json variant = nomic;
    variant[key] = value;
    absl::Status s = BertConfig::FromJson(variant, "config.json").status();
    INFO(key << ": " << s.ToString());
    CHECK_FALSE(s.ok());
    CHECK(s.message().find(key) != std::string::npos);
  }
}

TEST_CASE("A folder whose tensors do not fit its family's config is a clear error") {
  struct Case {
    const char* folder;
    const char* key;
    int value;
    const char* tensor;  // named in the error
  };
  for (const Case& k : {Case{"modernbert_tiny", "intermediate_size", 40, "model.layers.0.mlp.Wi.weight"},
                        Case{"mpnet_tiny", "relative_attention_num_buckets", 16,
                             "encoder.relative_attention_bias.weight"},
                        Case{"roberta_tiny", "max_position_embeddings", 70,
                             "roberta.embeddings.position_embeddings.weight"},
                        Case{"nomic_bert_tiny", "n_inner", 40, "encoder.layers.0.mlp.fc12.weight"}}) {
    testing::TempDir dir;
    nlohmann::json config =
        nlohmann::json::parse(ReadFile(TestData(std::string(k.folder) + "/config.json")));
    config[k.key] = k.value;
    std::ofstream(dir / "config.json") << config.dump();
    std::filesystem::copy_file(TestData(std::string(k.folder) + "/model.safetensors"),
                               dir / "model.safetensors");
    absl::StatusOr<std::unique_ptr<BertModel>> m = BertModel::Load(dir.path());
    INFO(k.folder << ": " << m.status().ToString());
    CHECK(m.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(m.status().message().find(k.tensor) != std::string::npos);
  }
}

}  // namespace
}  // namespace semdb
