// The word-vector embedders (mean and SIF), word queries and the
// word-similarity evaluation, on the shared vector files; queries and
// Spearman scores against numpy/scipy (tests/golden/make_word_vector_golden.py).
#include "embedders/word_vector_embedder.h"

#include <cmath>
#include <filesystem>

#include "catch2/catch.hpp"
#include "embedders/embedder_factory.h"
#include "embedders/nearest_words.h"
#include "embedders/word_similarity.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "test_data.h"
#include "word_vector_test_util.h"

namespace semdb {
namespace {

namespace fs = std::filesystem;
using testing::NaiveTextVectors;
using testing::ReadFile;
using testing::ReadLines;
using testing::SharedData;
using testing::TempDir;
using testing::TestData;

std::unique_ptr<WordVectorEmbedder> Make(const std::string& spec_text, const std::string& cache_dir) {
  absl::StatusOr<Spec> spec = Spec::Parse(spec_text);
  REQUIRE(spec.ok());
  absl::StatusOr<std::unique_ptr<Embedder>> e = CreateEmbedder(*spec, EmbedderContext{cache_dir});
  INFO(spec_text << ": " << e.status().ToString());
  REQUIRE(e.ok());
  auto* w = dynamic_cast<WordVectorEmbedder*>(e->get());
  REQUIRE(w != nullptr);
  e->release();
  return std::unique_ptr<WordVectorEmbedder>(w);
}

std::vector<float> EmbedOne(const Embedder& e, std::string_view text, TextStats* stats) {
  std::vector<float> out(e.dimension());
  std::vector<TextStats> s;
  std::string_view texts[] = {text};
  absl::Status status = e.Embed(texts, absl::MakeSpan(out), &s);
  INFO(status.ToString());
  REQUIRE(status.ok());
  if (stats != nullptr) *stats = s[0];
  return out;
}

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

TEST_CASE("glove embedder: normalized mean of the file's vectors, unknown words counted",
          "[wordvec][embedder]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/test_glove.txt");
  TempDir dir;
  auto e = Make("glove path=" + SharedData("gensim/test_glove.txt"), dir.path());
  CHECK(e->dimension() == 50);
  CHECK_FALSE(e->fittable());
  CHECK(fs::path(e->spec().params.at("path")).is_absolute());
  CHECK(e->loaded().cache_path.rfind(dir.path(), 0) == 0);  // the context's cache_dir

  // Lower-cased by default (GloVe vectors are); "Semdb" and "xyzzy" unknown.
  TextStats stats;
  const std::vector<float> got = EmbedOne(*e, "The year, SHE said: Semdb xyzzy the.", &stats);
  CHECK(stats.tokens == 7);
  CHECK(stats.unknown_tokens == 2);
  CHECK_FALSE(stats.zero_vector);
  const auto file = NaiveTextVectors(SharedData("gensim/test_glove.txt"));
  std::vector<double> mean(50, 0.0);
  for (const char* w : {"the", "year", "she", "said", "the"}) {
    for (int j = 0; j < 50; ++j) mean[j] += file.at(w)[j] / 5.0;
  }
  double norm = 0;
  for (double x : mean) norm += x * x;
  norm = std::sqrt(norm);
  for (int j = 0; j < 50; ++j) CHECK(got[j] == Approx(mean[j] / norm).margin(1e-6));

  // Nothing known: the documented zero vector, never NaN.
  for (const char* text : {"xyzzy qwrtp", "", "!!! ...", "Semdb"}) {
    INFO(text);
    const std::vector<float> zero = EmbedOne(*e, text, &stats);
    CHECK(stats.zero_vector);
    CHECK(std::all_of(zero.begin(), zero.end(), [](float x) { return x == 0.0f; }));
  }
  // Case kept when asked: "The" is then unknown.
  auto cased = Make("glove lowercase=false path=" + SharedData("gensim/test_glove.txt"), dir.path());
  EmbedOne(*cased, "The the", &stats);
  CHECK(stats.unknown_tokens == 1);

  // Invalid UTF-8 is an error naming the text.
  std::vector<float> out(50);
  std::string_view bad[] = {"fine", "\xff"};
  std::vector<float> two(100);
  absl::Status s = e->Embed(bad, absl::MakeSpan(two), nullptr);
  CHECK(absl::IsInvalidArgument(s));
  CHECK_THAT(std::string(s.message()), Catch::Contains("text 1"));
}

TEST_CASE("fasttext .bin embedder builds unknown words from n-grams", "[wordvec][embedder][fasttext]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_fasttext_new.bin");
  TempDir dir;
  auto e = Make("fasttext path=" + SharedData("gensim/lee_fasttext_new.bin"), dir.path());
  CHECK(e->dimension() == 10);
  TextStats stats;
  // "government" is in the vocabulary; "governmentalism" is not.
  const std::vector<float> v = EmbedOne(*e, "governmentalism", &stats);
  CHECK(stats.tokens == 1);
  CHECK(stats.unknown_tokens == 1);  // no vocabulary entry...
  CHECK_FALSE(stats.zero_vector);    // ...but a vector from its n-grams
  CHECK(Dot(v, v) == Approx(1.0).epsilon(1e-5));
  // The same as the n-gram vector fastText computes, normalized.
  std::vector<float> ngram(10);
  REQUIRE(e->model().Lookup("governmentalism", absl::MakeSpan(ngram)) == WordSource::kSubwords);
  const double n = std::sqrt(Dot(ngram, ngram));
  for (int j = 0; j < 10; ++j) CHECK(v[j] == Approx(ngram[j] / n).margin(1e-6));

  // A supervised model without n-grams: unknown words have no vector.
  auto sup = Make("fasttext path=" + SharedData("gensim/pang_lee_polarity_fasttext.bin"), dir.path());
  EmbedOne(*sup, "xyzzy qwrtp", &stats);
  CHECK(stats.zero_vector);
  EmbedOne(*sup, "a silly xyzzy film", &stats);
  CHECK(stats.unknown_tokens == 1);
  CHECK_FALSE(stats.zero_vector);
}

TEST_CASE("Spec errors are clear", "[wordvec][embedder][errors]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/test_glove.txt");
  TempDir dir;
  const std::string glove = SharedData("gensim/test_glove.txt");
  struct Case {
    std::string spec;
    absl::StatusCode code;
    const char* message;
  };
  const Case cases[] = {
      {"glove", absl::StatusCode::kInvalidArgument, "'glove' needs path=FILE"},
      {"glove path=" + glove + " weighting=tfidf", absl::StatusCode::kInvalidArgument,
       "parameter 'weighting' of 'glove' must be one of mean, sif, got 'tfidf'"},
      {"glove path=" + glove + " binary=true", absl::StatusCode::kInvalidArgument,
       "unknown parameter 'binary'"},
      {"word2vec path=" + glove + " binary=maybe", absl::StatusCode::kInvalidArgument,
       "parameter 'binary' of 'word2vec' must be one of auto, true, false, got 'maybe'"},
      {"glove path=" + glove + " sif_a=0", absl::StatusCode::kInvalidArgument, "parameter 'sif_a'"},
      {"glove path=" + dir / "missing.txt", absl::StatusCode::kNotFound, "not found"},
      {"fasttext path=" + SharedData("gensim/non_ascii_fasttext.bin"),
       absl::StatusCode::kInvalidArgument, "no fastText magic number"},
  };
  for (const Case& c : cases) {
    INFO(c.spec);
    absl::StatusOr<Spec> spec = Spec::Parse(c.spec);
    REQUIRE(spec.ok());
    absl::StatusOr<std::unique_ptr<Embedder>> e = CreateEmbedder(*spec, EmbedderContext{dir.path()});
    INFO(e.status().ToString());
    CHECK(e.status().code() == c.code);
    CHECK_THAT(std::string(e.status().message()), Catch::Contains(c.message));
  }
}

TEST_CASE("SIF: down-weights frequent words, removes the common component, persists",
          "[wordvec][embedder][sif]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_fasttext.vec");
  TempDir dir;
  const std::vector<std::string> docs = ReadLines(SharedData("gensim/lee_background.cor"));
  const std::string vec = SharedData("gensim/lee_fasttext.vec");
  auto mean = Make("fasttext path=" + vec, dir.path());
  auto sif = Make("fasttext weighting=sif path=" + vec, dir.path());
  CHECK(sif->fittable());
  CHECK(sif->dimension() == 0);
  std::vector<float> out(10);
  std::string_view one[] = {"the government"};
  CHECK(absl::IsFailedPrecondition(sif->Embed(one, absl::MakeSpan(out), nullptr)));

  REQUIRE(sif->Fit(CorpusOf(docs)).ok());
  REQUIRE(sif->dimension() == 10);
  CHECK(sif->Describe()["word_frequencies"] == "collection");
  CHECK(sif->Describe()["fitted_documents"] == 300);

  // All embeddings are unit vectors orthogonal to the removed component,
  // which the plain means are not: the first singular direction of the
  // means is their common part.
  std::vector<float> sif_all(docs.size() * 10), mean_all(docs.size() * 10);
  std::vector<std::string_view> views(docs.begin(), docs.end());
  REQUIRE(sif->Embed(views, absl::MakeSpan(sif_all), nullptr).ok());
  REQUIRE(mean->Embed(views, absl::MakeSpan(mean_all), nullptr).ok());
  auto row = [](const std::vector<float>& all, size_t i) {
    return std::vector<float>(all.begin() + i * 10, all.begin() + (i + 1) * 10);
  };
  // Average pairwise cosine: high for means (all share the frequent-word
  // direction), near zero once it is removed.
  double mean_cos = 0, sif_cos = 0;
  int pairs = 0;
  for (size_t i = 0; i < docs.size(); i += 7) {
    for (size_t j = i + 7; j < docs.size(); j += 7) {
      mean_cos += Dot(row(mean_all, i), row(mean_all, j));
      sif_cos += Dot(row(sif_all, i), row(sif_all, j));
      ++pairs;
    }
    CHECK(Dot(row(sif_all, i), row(sif_all, i)) == Approx(1.0).epsilon(1e-5));
  }
  mean_cos /= pairs;
  sif_cos /= pairs;
  WARN("lee_background, lee_fasttext.vec: mean pairwise cosine " << mean_cos << " (mean), "
                                                                   << sif_cos << " (SIF)");
  CHECK(mean_cos > 0.9);
  CHECK(std::abs(sif_cos) < 0.2);

  // A frequent word weighs less under SIF: "the" barely moves a text.
  TextStats stats;
  const std::vector<float> gov = EmbedOne(*sif, "government", &stats);
  const std::vector<float> the_gov = EmbedOne(*sif, "the the the government", &stats);
  const std::vector<float> mean_gov = EmbedOne(*mean, "government", &stats);
  const std::vector<float> mean_the_gov = EmbedOne(*mean, "the the the government", &stats);
  CHECK(Dot(gov, the_gov) > Dot(mean_gov, mean_the_gov));
  CHECK(Dot(gov, the_gov) > 0.95);

  // SaveState / LoadState on a fresh instance: identical vectors.
  absl::StatusOr<std::string> state = sif->SaveState();
  REQUIRE(state.ok());
  auto restored = Make("fasttext weighting=sif path=" + vec, dir.path());
  REQUIRE(restored->LoadState(*state).ok());
  std::vector<float> again(docs.size() * 10);
  REQUIRE(restored->Embed(views, absl::MakeSpan(again), nullptr).ok());
  CHECK(again == sif_all);
  CHECK(absl::IsDataLoss(restored->LoadState("not cbor")));

  // A corpus with no known word cannot be fitted.
  auto empty = Make("fasttext weighting=sif path=" + vec, dir.path());
  const std::vector<std::string> unknown = {"xyzzy", "qwrtp"};
  CHECK(absl::IsFailedPrecondition(empty->Fit(CorpusOf(unknown))));
}

TEST_CASE("SIF with a fastText .bin takes word frequencies from the model", "[wordvec][embedder][sif]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_fasttext_new.bin");
  TempDir dir;
  const std::vector<std::string> docs = ReadLines(SharedData("gensim/lee_background.cor"));
  auto sif = Make("fasttext weighting=sif sif_a=1e-4 path=" + SharedData("gensim/lee_fasttext_new.bin"),
                  dir.path());
  const absl::Status fit = sif->Fit(CorpusOf(docs));
  INFO(fit.ToString());
  REQUIRE(fit.ok());
  CHECK(sif->Describe()["word_frequencies"] == "model");
  TextStats stats;
  const std::vector<float> v = EmbedOne(*sif, "The prime minister said", &stats);
  CHECK(Dot(v, v) == Approx(1.0).epsilon(1e-5));
  absl::StatusOr<std::string> state = sif->SaveState();
  REQUIRE(state.ok());
  auto restored = Make("fasttext weighting=sif sif_a=1e-4 path=" + SharedData("gensim/lee_fasttext_new.bin"),
                       dir.path());
  REQUIRE(restored->LoadState(*state).ok());
  CHECK(EmbedOne(*restored, "The prime minister said", nullptr) == v);
}

TEST_CASE("Mean and SIF document vectors match numpy/scikit-learn", "[wordvec][embedder][sif][golden]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_fasttext_new.bin");
  TempDir dir;
  const std::vector<std::string> docs = ReadLines(SharedData("gensim/lee_background.cor"));
  const nlohmann::json golden = nlohmann::json::parse(ReadFile(TestData("golden/word_vectors.json")));
  REQUIRE(golden["documents"].size() == 2);
  for (const nlohmann::json& g : golden["documents"]) {
    const std::string file = g["file"];
    SECTION(file) {
      // The .bin reference vectors are fastText's 5-digit prints.
      const double margin = file.ends_with(".bin") ? 2e-4 : 1e-5;
      const std::string path = SharedData(file);
      auto mean = Make("fasttext path=" + path, dir.path());
      auto sif = Make(fmt::format("fasttext weighting=sif sif_a={} path={}", g["sif_a"].get<double>(), path),
                      dir.path());
      REQUIRE(sif->Fit(CorpusOf(docs)).ok());
      double max_mean = 0, max_sif = 0;
      const std::vector<int> texts = g["texts"];
      for (size_t k = 0; k < texts.size(); ++k) {
        INFO(file << " text " << texts[k]);
        TextStats stats;
        const std::vector<float> m = EmbedOne(*mean, docs[texts[k]], &stats);
        CHECK(stats.tokens == g["tokens"][k].get<int>());
        CHECK(stats.unknown_tokens == g["unknown"][k].get<int>());
        const std::vector<float> s = EmbedOne(*sif, docs[texts[k]], nullptr);
        const std::vector<double> want_mean = g["mean"][k], want_sif = g["sif"][k];
        for (size_t j = 0; j < m.size(); ++j) {
          max_mean = std::max(max_mean, std::abs(m[j] - want_mean[j]));
          max_sif = std::max(max_sif, std::abs(s[j] - want_sif[j]));
        }
      }
      CHECK(max_mean <= margin);
      CHECK(max_sif <= margin);
      WARN(file << ": " << texts.size() << " documents, max |semdb - numpy| mean " << max_mean
                << ", SIF " << max_sif);
    }
  }
}

TEST_CASE("Word expressions parse", "[wordvec][words]") {
  absl::StatusOr<std::vector<WordTerm>> t = ParseWordExpression("king - man + woman");
  REQUIRE(t.ok());
  REQUIRE(t->size() == 3);
  CHECK((*t)[0].word == "king");
  CHECK((*t)[0].sign == 1);
  CHECK((*t)[1].word == "man");
  CHECK((*t)[1].sign == -1);
  CHECK((*t)[2].sign == 1);
  t = ParseWordExpression("  king -man +woman e-mail");
  CHECK_FALSE(t.ok());  // "woman e-mail": no operator between
  t = ParseWordExpression("e-mail - spam");
  REQUIRE(t.ok());
  CHECK((*t)[0].word == "e-mail");
  for (const char* bad : {"", "  ", "king -", "king - - man", "king queen"}) {
    INFO(bad);
    CHECK(absl::IsInvalidArgument(ParseWordExpression(bad).status()));
  }
}

TEST_CASE("Nearest words and analogies on test_glove.txt match numpy", "[wordvec][words][golden]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/test_glove.txt");
  TempDir dir;
  auto e = Make("glove path=" + SharedData("gensim/test_glove.txt"), dir.path());
  const nlohmann::json golden = nlohmann::json::parse(ReadFile(TestData("golden/word_vectors.json")));
  for (const auto& [expression, want] : golden["queries"].items()) {
    INFO(expression);
    absl::StatusOr<std::vector<WordMatch>> got = NearestWords(*e, expression, 5);
    REQUIRE(got.ok());
    REQUIRE(got->size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      CHECK((*got)[i].word == want[i]["word"].get<std::string>());
      CHECK((*got)[i].cosine == Approx(want[i]["cosine"].get<double>()).margin(1e-5));
    }
  }
  // The analogy's answer, and the input words left out.
  absl::StatusOr<std::vector<WordMatch>> her = NearestWords(*e, "His - he + She", 1);
  REQUIRE(her.ok());
  CHECK((*her)[0].word == "her");
  CHECK(absl::IsNotFound(NearestWords(*e, "king - man + woman", 5).status()));
  CHECK(absl::IsInvalidArgument(NearestWords(*e, "he - he", 5).status()));
  absl::StatusOr<std::vector<WordMatch>> all = NearestWords(*e, "the", 1000);
  REQUIRE(all.ok());
  CHECK(all->size() == 75);
}

TEST_CASE("fastText nearest words accept unknown words", "[wordvec][words][fasttext]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_fasttext_new.bin");
  TempDir dir;
  auto e = Make("fasttext path=" + SharedData("gensim/lee_fasttext_new.bin"), dir.path());
  absl::StatusOr<std::vector<WordMatch>> got = NearestWords(*e, "governments", 3);
  REQUIRE(got.ok());
  REQUIRE(got->size() == 3);
  CHECK(e->model().Find("governments") == -1);
  CHECK((*got)[0].cosine >= (*got)[1].cosine);
}

TEST_CASE("Spearman's rho matches scipy.stats.spearmanr", "[wordvec][similarity]") {
  // Values from scipy 1.10.1: spearmanr([1,2,3,4,5],[5,6,7,8,7]) and
  // spearmanr([3,1,4,1,5,9,2,6],[2,7,1,8,2,8,1,8]).
  const double a[] = {1, 2, 3, 4, 5}, b[] = {5, 6, 7, 8, 7};
  CHECK(SpearmanRho(a, b) == Approx(0.8207826816681233).margin(1e-12));
  const double c[] = {3, 1, 4, 1, 5, 9, 2, 6}, d[] = {2, 7, 1, 8, 2, 8, 1, 8};
  CHECK(SpearmanRho(c, d) == Approx(0.19885368120992467).margin(1e-12));
  const double up[] = {1, 2, 3}, down[] = {9, 4, 1}, flat[] = {2, 2, 2};
  CHECK(SpearmanRho(up, down) == Approx(-1.0));
  CHECK(std::isnan(SpearmanRho(up, flat)));
}

TEST_CASE("WordSim-353 evaluation matches numpy/scipy on the shared vectors", "[wordvec][similarity][golden]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/wordsim353.tsv");
  TempDir dir;
  const nlohmann::json golden = nlohmann::json::parse(ReadFile(TestData("golden/word_vectors.json")));
  for (const nlohmann::json& g : golden["wordsim"]) {
    const std::string file = g["file"];
    SECTION(file) {
      auto e = Make(fmt::format("{} lowercase={} path={}", g["kind"].get<std::string>(),
                                g["lowercase"].get<bool>(), SharedData(file)),
                    dir.path());
      absl::StatusOr<WordSimilarityResult> r =
          EvaluateWordSimilarity(*e, SharedData("gensim/wordsim353.tsv"));
      if (g["spearman"].is_null()) {
        // Too few pairs with vectors (these files hold 20 to 76 common words).
        CHECK(absl::IsFailedPrecondition(r.status()));
        CHECK_THAT(std::string(r.status().message()), Catch::Contains("only 0 pair(s)"));
        WARN(file << ": no WordSim-353 pair has vectors for both words");
        continue;
      }
      INFO(r.status().ToString());
      REQUIRE(r.ok());
      CHECK(r->pairs_used == g["pairs_used"].get<int>());
      CHECK(r->pairs_skipped == g["pairs_skipped"].get<int>());
      CHECK(r->pairs_used + r->pairs_skipped == 353);
      // .bin references are fastText's 5-digit prints: ranks of near-equal
      // cosines may swap.
      const double margin = file.ends_with(".bin") ? 2e-3 : 1e-6;
      CHECK(r->spearman == Approx(g["spearman"].get<double>()).margin(margin));
      WARN(file << ": WordSim-353 Spearman " << r->spearman << " over " << r->pairs_used
                << " pairs (" << r->pairs_skipped << " skipped, " << r->pairs_with_subwords
                << " with n-gram vectors); numpy/scipy: " << g["spearman"].get<double>());
    }
  }
}

TEST_CASE("Word-similarity files with errors", "[wordvec][similarity][errors]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_fasttext.vec");
  TempDir dir;
  auto e = Make("fasttext path=" + SharedData("gensim/lee_fasttext.vec"), dir.path());
  auto write = [&](const std::string& content) {
    std::ofstream(dir / "pairs.tsv") << content;
    return EvaluateWordSimilarity(*e, dir / "pairs.tsv");
  };
  // A header line, comments, space-separated fields.
  absl::StatusOr<WordSimilarityResult> ok =
      write("Word 1\tWord 2\tHuman (mean)\n# comment\nthe\tof\t3\nthe a 9\nof in 1\nxyzzy the 2\n");
  REQUIRE(ok.ok());
  CHECK(ok->pairs_used == 3);
  CHECK(ok->pairs_skipped == 1);
  CHECK(ok->missing_words == std::vector<std::string>{"xyzzy"});
  absl::StatusOr<WordSimilarityResult> bad = write("the\tof\t3\nthe\tof\tmany\n");
  CHECK(absl::IsInvalidArgument(bad.status()));
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("pairs.tsv:2: the score 'many'"));
  bad = write("the\tof\t3\nlonely\n");
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("pairs.tsv:2: expected"));
  CHECK(absl::IsNotFound(EvaluateWordSimilarity(*e, dir / "missing.tsv").status()));
}

}  // namespace
}  // namespace semdb
