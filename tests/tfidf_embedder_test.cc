// TF-IDF and LSA against scikit-learn's golden outputs
// (tests/golden/make_tfidf_golden.py) on the Lee background corpus.
#include "embedders/tfidf_embedder.h"

#include <cmath>
#include <cstring>

#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "test_data.h"

namespace semdb {
namespace {

using testing::ReadFile;
using testing::ReadLines;
using testing::SharedData;
using testing::TestData;

std::unique_ptr<TfidfEmbedder> Fitted(const std::string& spec,
                                      const std::vector<std::string>& docs) {
  absl::StatusOr<Spec> parsed = Spec::Parse(spec);
  REQUIRE(parsed.ok());
  absl::StatusOr<std::unique_ptr<TfidfEmbedder>> e = TfidfEmbedder::Create(*parsed);
  REQUIRE(e.ok());
  absl::Status s = (*e)->Fit(CorpusOf(docs));
  INFO(s.message());
  REQUIRE(s.ok());
  return *std::move(e);
}

TEST_CASE("TF-IDF weights and LSA cosines match scikit-learn on the Lee corpus",
          "[tfidf][golden]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  const std::vector<std::string> docs =
      ReadLines(SharedData("gensim/lee_background.cor"));
  REQUIRE(docs.size() == 300);
  const nlohmann::json golden =
      nlohmann::json::parse(ReadFile(TestData("golden/tfidf_lee.json")));
  const std::vector<int> subset = golden["subset"].get<std::vector<int>>();

  for (const nlohmann::json& config : golden["configs"]) {
    SECTION(config["name"].get<std::string>()) {
      auto embedder = Fitted(config["spec"], docs);
      const TfidfVocabulary& vocab = embedder->vocabulary();

      // Same vocabulary and idf to 1e-6.
      REQUIRE(vocab.terms.size() == config["idf"].size());
      for (const auto& [term, idf] : config["idf"].items()) {
        auto it = vocab.index.find(term);
        INFO(term);
        REQUIRE(it != vocab.index.end());
        REQUIRE(std::abs(vocab.idf[it->second] - idf.get<double>()) < 1e-6);
      }

      // Same normalized TF-IDF rows to 1e-6.
      for (size_t i = 0; i < subset.size(); ++i) {
        const nlohmann::json& want = config["rows"][i];
        auto row = embedder->TfidfRow(docs[subset[i]], nullptr);
        REQUIRE(row.ok());
        REQUIRE(row->size() == want.size());
        for (const auto& [t, w] : *row) {
          const std::string& term = vocab.terms[t];
          INFO("doc " << subset[i] << " term " << term);
          REQUIRE(want.contains(term));
          REQUIRE(std::abs(w - want[term].get<double>()) < 1e-6);
        }
      }

      // Same LSA document-document cosines to 1e-3.
      std::vector<std::string_view> texts;
      for (int d : subset) texts.push_back(docs[d]);
      const int dim = embedder->dimension();
      REQUIRE(dim == std::stoi(Spec::Parse(config["spec"].get<std::string>())
                                   ->params.at("dim")));
      std::vector<float> vectors(texts.size() * dim);
      REQUIRE(embedder->Embed(texts, absl::MakeSpan(vectors), nullptr).ok());
      double worst = 0;
      for (size_t a = 0; a < texts.size(); ++a) {
        for (size_t b = 0; b < texts.size(); ++b) {
          double dot = 0;
          for (int j = 0; j < dim; ++j) dot += vectors[a * dim + j] * vectors[b * dim + j];
          worst = std::max(worst, std::abs(dot - config["lsa_cosine"][a][b].get<double>()));
        }
      }
      INFO("largest cosine difference " << worst);
      REQUIRE(worst < 1e-3);
    }
  }
}

TEST_CASE("TF-IDF state round-trips and refuses corrupt bytes", "[tfidf]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  const std::vector<std::string> docs = ReadLines(SharedData("gensim/lee_background.cor"));
  auto fitted = Fitted("tfidf dim=32", docs);
  absl::StatusOr<std::string> state = fitted->SaveState();
  REQUIRE(state.ok());

  auto restored = TfidfEmbedder::Create(*Spec::Parse("tfidf dim=32"));
  REQUIRE(restored.ok());
  REQUIRE((*restored)->LoadState(*state).ok());
  REQUIRE((*restored)->dimension() == fitted->dimension());
  std::vector<std::string_view> texts = {docs[0], docs[7], "a query about rain"};
  std::vector<float> a(texts.size() * 32), b(texts.size() * 32);
  REQUIRE(fitted->Embed(texts, absl::MakeSpan(a), nullptr).ok());
  REQUIRE((*restored)->Embed(texts, absl::MakeSpan(b), nullptr).ok());
  REQUIRE(a == b);

  std::string truncated = state->substr(0, state->size() / 2);
  absl::Status s = (*restored)->LoadState(truncated);
  REQUIRE(s.code() == absl::StatusCode::kDataLoss);
  REQUIRE((*restored)->LoadState("not cbor at all").code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("TF-IDF states of version 1 (a float projection) still load", "[tfidf]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  const std::vector<std::string> docs = ReadLines(SharedData("gensim/lee_background.cor"));
  auto fitted = Fitted("tfidf dim=32", docs);
  // Version 2 stores half floats; rewrite the state as version 1 wrote it:
  // the same projection as 32-bit floats.
  nlohmann::json j = nlohmann::json::from_cbor(*fitted->SaveState());
  REQUIRE(j["version"] == 2);
  const std::vector<uint8_t>& half = j["term_vectors"].get_binary();
  REQUIRE(half.size() == fitted->vocabulary().terms.size() * 32 * sizeof(_Float16));
  std::vector<float> floats(half.size() / sizeof(_Float16));
  for (size_t i = 0; i < floats.size(); ++i) {
    _Float16 h;
    std::memcpy(&h, half.data() + i * sizeof(h), sizeof(h));
    floats[i] = h;
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(floats.data());
  j["term_vectors"] = nlohmann::json::binary_t(
      std::vector<uint8_t>(bytes, bytes + floats.size() * sizeof(float)));
  j["version"] = 1;
  const std::vector<uint8_t> v1 = nlohmann::json::to_cbor(j);

  auto restored = TfidfEmbedder::Create(*Spec::Parse("tfidf dim=32"));
  REQUIRE(restored.ok());
  REQUIRE((*restored)->LoadState(std::string(v1.begin(), v1.end())).ok());
  std::vector<std::string_view> texts = {docs[0], docs[7], "a query about rain"};
  std::vector<float> a(texts.size() * 32), b(texts.size() * 32);
  REQUIRE(fitted->Embed(texts, absl::MakeSpan(a), nullptr).ok());
  REQUIRE((*restored)->Embed(texts, absl::MakeSpan(b), nullptr).ok());
  REQUIRE(a == b);  // the fit already rounded its projection to half floats

  j["term_vectors"] = nlohmann::json::binary_t(std::vector<uint8_t>(16));  // wrong size
  const std::vector<uint8_t> bad = nlohmann::json::to_cbor(j);
  REQUIRE((*restored)->LoadState(std::string(bad.begin(), bad.end())).code() ==
          absl::StatusCode::kDataLoss);
}

TEST_CASE("TF-IDF reduces the dimension to what a small corpus supports", "[tfidf]") {
  std::vector<std::string> docs = {"red apples and green pears",
                                   "green pears are sweet",
                                   "the red car drives fast"};
  auto e = Fitted("tfidf lsa=true dim=256", docs);
  REQUIRE(e->dimension() == 3);
  nlohmann::json facts = e->Describe();
  REQUIRE(facts["dim"] == 3);
  REQUIRE(facts["requested_dim"] == 256);
  REQUIRE(facts.contains("note"));

  std::vector<TextStats> stats;
  std::vector<std::string_view> texts = {"sweet pears", "zebra xylophone", ""};
  std::vector<float> out(texts.size() * 3);
  REQUIRE(e->Embed(texts, absl::MakeSpan(out), &stats).ok());
  REQUIRE_FALSE(stats[0].zero_vector);
  REQUIRE(stats[1].zero_vector);
  REQUIRE(stats[1].unknown_tokens == 2);
  REQUIRE(stats[2].zero_vector);
  for (float v : out) REQUIRE(std::isfinite(v));
  REQUIRE(out[3] == 0.0f);
}

TEST_CASE("TF-IDF errors are clear", "[tfidf]") {
  REQUIRE(TfidfEmbedder::Create(*Spec::Parse("tfidf dimm=3")).status().message() ==
          "unknown parameter 'dimm' for 'tfidf' (accepted: lsa, dim, docs_per_dim, stop_words, "
          "stemmer, sublinear_tf, min_df, max_df, max_features, min_token_len, lowercase, svd, "
          "max_fit_docs)");
  REQUIRE(TfidfEmbedder::Create(*Spec::Parse("tfidf svd=fast")).status().message() ==
          "parameter 'svd' of 'tfidf' must be one of auto, exact, randomized, got 'fast'");
  REQUIRE_FALSE(TfidfEmbedder::Create(*Spec::Parse("tfidf dim=0")).ok());
  REQUIRE_FALSE(TfidfEmbedder::Create(*Spec::Parse("tfidf stop_words=french")).ok());

  auto e = TfidfEmbedder::Create(*Spec::Parse("tfidf"));
  REQUIRE(e.ok());
  std::vector<std::string_view> texts = {"hello"};
  std::vector<float> out(1);
  REQUIRE((*e)->Embed(texts, absl::MakeSpan(out), nullptr).code() ==
          absl::StatusCode::kFailedPrecondition);
  std::vector<std::string> only_stop_words = {"the and of", "a an"};
  REQUIRE((*e)->Fit(CorpusOf(only_stop_words)).code() ==
          absl::StatusCode::kFailedPrecondition);

  auto fitted = Fitted("tfidf", {"valid words here", "more valid words"});
  std::vector<std::string_view> bad = {"ok", "bad \xff\xfe utf8"};
  std::vector<float> out2(2 * fitted->dimension());
  absl::Status s = fitted->Embed(bad, absl::MakeSpan(out2), nullptr);
  REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(std::string(s.message()).find("text 1: invalid UTF-8") != std::string::npos);
}

// Every vector an embedder returns is finite, whatever the text: rare
// words, one word, only stop words, unknown words, very long texts.
void RequireFiniteOnAdversarialTexts(const TfidfEmbedder& e, const std::vector<std::string>& docs) {
  std::string long_text;
  for (int i = 0; i < 2000; ++i) long_text += docs[i % docs.size()] + " ";
  std::vector<std::string> texts = {"typing", "moose", "sourdough", "the", "the of and is",
                                    "zyxwvut qwertyuiop", "", long_text};
  // Every vocabulary term alone: the rarest project (nearly) to zero in LSA.
  for (const std::string& term : e.vocabulary().terms) texts.push_back(term);
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<float> out(views.size() * e.dimension());
  std::vector<TextStats> stats;
  REQUIRE(e.Embed(views, absl::MakeSpan(out), &stats).ok());
  for (size_t i = 0; i < views.size(); ++i) {
    double norm = 0;
    for (int j = 0; j < e.dimension(); ++j) {
      const float v = out[i * e.dimension() + j];
      REQUIRE(std::isfinite(v));
      norm += static_cast<double>(v) * v;
    }
    // Unit length, or zero and reported as such.
    INFO("text " << i << ": " << texts[i].substr(0, 40));
    REQUIRE((stats[i].zero_vector ? norm == 0 : std::abs(norm - 1) < 1e-4));
  }
  REQUIRE(stats[3].zero_vector);  // "the": a stop word
  REQUIRE(stats[4].zero_vector);
  REQUIRE(stats[5].zero_vector);  // unknown words
  REQUIRE_FALSE(stats[7].zero_vector);
}

TEST_CASE("TF-IDF vectors are finite on adversarial texts, with and without LSA",
          "[tfidf][finite]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  const std::vector<std::string> docs = ReadLines(SharedData("gensim/lee_background.cor"));
  for (const char* spec : {"tfidf", "tfidf lsa=true dim=256", "tfidf lsa=false",
                           "tfidf lsa=true dim=16 stemmer=none"}) {
    INFO(spec);
    RequireFiniteOnAdversarialTexts(*Fitted(spec, docs), docs);
  }
}

TEST_CASE("The default chooses LSA or plain TF-IDF from the corpus and says why", "[tfidf]") {
  REQUIRE_FALSE(ChooseTfidfMode(3000, 6.3, 4589).lsa);    // sentences
  REQUIRE(ChooseTfidfMode(1400, 95.5, 4000).lsa);         // abstracts
  REQUIRE_FALSE(ChooseTfidfMode(50, 120, 3000).lsa);      // too few texts
  REQUIRE(ChooseTfidfMode(100000, 8, 60000).lsa);         // too many terms for dense
  // The bound on texts x terms (a size the policy computes from its
  // arguments, not a measured time or memory): under it plain, over it LSA.
  REQUIRE_FALSE(ChooseTfidfMode(11498, 6.2, 8141).lsa);   // STS-B train: 357 MiB dense
  const TfidfModeChoice lines = ChooseTfidfMode(39411, 3.6, 7183);  // 1.1 GB dense
  REQUIRE(lines.lsa);
  REQUIRE(lines.reason == "LSA: dense TF-IDF vectors of 39411 texts x 7183 terms would take "
                          "1079 MiB (at most 512)");
  REQUIRE(ChooseTfidfMode(3000, 6.3, 4589).reason.find("short") != std::string::npos);

  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  const std::vector<std::string> docs = ReadLines(SharedData("gensim/lee_background.cor"));
  auto lsa = Fitted("tfidf", docs);  // 300 news articles
  REQUIRE(lsa->Describe()["mode"] == "lsa");
  REQUIRE(lsa->dimension() == 300 / 8);  // docs_per_dim caps the default dim
  auto explicit_dim = Fitted("tfidf lsa=true dim=64", docs);
  REQUIRE(explicit_dim->dimension() == 64);  // an explicit dim is not capped

  auto plain = Fitted("tfidf lsa=false", docs);
  nlohmann::json facts = plain->Describe();
  REQUIRE(facts["mode"] == "tfidf");
  REQUIRE(plain->dimension() == static_cast<int>(plain->vocabulary().terms.size()));
  // Without LSA the vector is the TF-IDF row itself.
  std::vector<std::string_view> texts = {docs[0]};
  std::vector<float> out(plain->dimension());
  REQUIRE(plain->Embed(texts, absl::MakeSpan(out), nullptr).ok());
  auto row = plain->TfidfRow(docs[0], nullptr);
  REQUIRE(row.ok());
  for (const auto& [t, w] : *row) REQUIRE(out[t] == w);
  // And the state round-trips.
  auto restored = TfidfEmbedder::Create(*Spec::Parse("tfidf lsa=false"));
  REQUIRE((*restored)->LoadState(*plain->SaveState()).ok());
  std::vector<float> again(plain->dimension());
  REQUIRE((*restored)->Embed(texts, absl::MakeSpan(again), nullptr).ok());
  REQUIRE(again == out);
}

TEST_CASE("TF-IDF terms are Snowball stems", "[tfidf]") {
  auto e = Fitted("tfidf lsa=false", {"the flows were flowing", "a flow of rivers"});
  REQUIRE(e->vocabulary().index.contains("flow"));
  REQUIRE_FALSE(e->vocabulary().index.contains("flowing"));
  REQUIRE(e->vocabulary().index.contains("river"));
}

}  // namespace
}  // namespace semdb
