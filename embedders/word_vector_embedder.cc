#include "embedders/word_vector_embedder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "cblas.h"
#include "embedders/parallel_for.h"
#include "fmt/format.h"
#include "lapacke.h"
#include "storage/bounded_json.h"

namespace semdb {
namespace {

constexpr int kStateVersion = 1;
constexpr size_t kFitBatch = 4096;

double Norm(const float* v, int dim) {
  double s = 0;
  for (int j = 0; j < dim; ++j) s += static_cast<double>(v[j]) * v[j];
  return std::sqrt(s);
}

// The unit eigenvector of the largest eigenvalue of the symmetric dim x dim
// matrix `gram` (upper triangle used).
absl::StatusOr<std::vector<float>> TopEigenvector(std::vector<double> gram, int dim) {
  std::vector<double> w(1), z(dim);
  std::vector<lapack_int> support(2);
  lapack_int found = 0;
  lapack_int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', dim, gram.data(), dim, 0, 0,
                                   dim, dim, 0.0, &found, w.data(), z.data(), 1, support.data());
  if (info != 0 || found != 1) {
    return absl::InternalError(fmt::format("eigen decomposition failed (info {})", info));
  }
  std::vector<float> u(z.begin(), z.end());
  const double norm = Norm(u.data(), dim);
  for (float& x : u) x = static_cast<float>(x / norm);
  return u;
}

}  // namespace

std::vector<ComponentKind> WordVectorEmbedder::Kinds() {
  std::vector<ComponentKind> kinds;
  const WordVectorEmbedderOptions d;
  for (WordVectorKind k : {WordVectorKind::kGlove, WordVectorKind::kWord2Vec,
                           WordVectorKind::kFastText}) {
    ComponentKind kind;
    std::vector<ParameterInfo>& p = kind.parameters;
    switch (k) {
      case WordVectorKind::kGlove:
        kind.name = "glove";
        kind.summary = "averaged GloVe text vectors";
        p.push_back(TextParameter("path", "", "the GloVe text file"));
        break;
      case WordVectorKind::kWord2Vec:
        kind.name = "word2vec";
        kind.summary = "averaged word2vec text or binary vectors";
        p.push_back(TextParameter("path", "", "the word2vec text or binary file"));
        p.push_back(ChoiceParameter("binary", {"auto", "true", "false"},
                                    "the file's format; auto tells from its bytes"));
        break;
      case WordVectorKind::kFastText:
        kind.name = "fasttext";
        kind.summary =
            "averaged fastText vectors; .bin models build unknown words from n-grams";
        p.push_back(TextParameter("path", "", "a fastText FILE.bin or FILE.vec"));
        break;
    }
    p.push_back(BoolParameter("lowercase", k == WordVectorKind::kGlove,
                              "Unicode case folding of the texts' words"));
    p.push_back(ChoiceParameter("weighting", {"mean", "sif"},
                                "mean of the word vectors, or SIF (Arora et al. 2017): "
                                "a / (a + p(w)) weights, fitted on the collection"));
    p.push_back(NumberParameter("sif_a", absl::StrCat(d.sif_a), 1e-12, 1.0,
                                "SIF's a"));
    p.push_back(IntParameter("min_token_len", "1", 1, 100,
                             "drop words shorter than this (code points)"));
    p.push_back(IntParameter("max_fit_docs", std::to_string(d.max_fit_docs), 1,
                             int64_t{1} << 40,
                             "SIF fits use at most this many evenly spaced texts"));
    p.push_back(TextParameter("cache_dir", "<the database's cache folder>",
                              "the folder of the vectors' binary cache"));
    kinds.push_back(std::move(kind));
  }
  return kinds;
}

absl::StatusOr<std::unique_ptr<WordVectorEmbedder>> WordVectorEmbedder::Create(
    const Spec& spec, const EmbedderContext& context) {
  WordVectorEmbedderOptions o;
  if (spec.kind == "glove") {
    o.source.kind = WordVectorKind::kGlove;
  } else if (spec.kind == "word2vec") {
    o.source.kind = WordVectorKind::kWord2Vec;
  } else if (spec.kind == "fasttext") {
    o.source.kind = WordVectorKind::kFastText;
  } else {
    return absl::InvalidArgumentError(
        fmt::format("'{}' is not a word-vector embedder kind", spec.kind));
  }
  const ComponentKind kind = Kinds()[static_cast<size_t>(o.source.kind)];
  SpecReader r(spec, kind);
  o.source.path = r.GetString("path", "");
  std::string binary = "auto";
  if (o.source.kind == WordVectorKind::kWord2Vec) binary = r.GetString("binary", "auto");
  o.tokenizer.lowercase = r.GetBool("lowercase", o.source.kind == WordVectorKind::kGlove);
  o.tokenizer.min_length = static_cast<int>(r.GetInt("min_token_len", 1));
  const std::string weighting = r.GetString("weighting", "mean");
  o.sif_a = r.GetDouble("sif_a", o.sif_a);
  o.max_fit_docs = r.GetInt("max_fit_docs", o.max_fit_docs);
  o.source.cache_dir = r.GetString("cache_dir", context.cache_dir);
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  if (o.source.path.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("'{}' needs path=FILE (the word-vector file)", spec.kind));
  }
  o.source.binary = binary == "auto"   ? BinaryChoice::kAuto
                    : binary == "true" ? BinaryChoice::kBinary
                                       : BinaryChoice::kText;
  o.weighting = weighting == "mean" ? WordWeighting::kMean : WordWeighting::kSif;
  std::error_code ec;
  o.source.path = std::filesystem::absolute(o.source.path, ec).lexically_normal().string();
  Spec canonical = spec;
  canonical.params["path"] = o.source.path;

  absl::StatusOr<LoadedWordVectors> loaded =
      LoadWordVectors(o.source, context.word_vector_models.get());
  if (!loaded.ok()) return loaded.status();
  std::unique_ptr<WordVectorEmbedder> e(
      new WordVectorEmbedder(std::move(canonical), std::move(o), *std::move(loaded)));
  const WordVectorModel& m = e->model();
  if (m.has_counts()) {
    for (int64_t i = 0; i < m.size(); ++i) e->model_total_count_ += m.count(i);
  }
  return e;
}

int WordVectorEmbedder::dimension() const {
  return fittable() && !fitted_ ? 0 : model().dimension();
}

absl::StatusOr<std::vector<std::string>> WordVectorEmbedder::Tokenize(
    std::string_view text) const {
  return TokenizeWords(text, options_.tokenizer);
}

absl::StatusOr<std::string> WordVectorEmbedder::NormalizeWord(std::string_view word) const {
  std::string out;
  if (absl::Status s = NormalizeText(word, options_.tokenizer, &out); !s.ok()) return s;
  return out;
}

float WordVectorEmbedder::Weight(const std::string& token, WordSource source) const {
  if (options_.weighting == WordWeighting::kMean) return 1.0f;
  double p = 0;
  if (model().has_counts()) {
    if (source == WordSource::kVocabulary && model_total_count_ > 0) {
      p = model().count(model().Find(token)) / model_total_count_;
    }
  } else if (corpus_tokens_ > 0) {
    auto it = corpus_counts_.find(token);
    if (it != corpus_counts_.end()) p = static_cast<double>(it->second) / corpus_tokens_;
  }
  return static_cast<float>(options_.sif_a / (options_.sif_a + p));
}

absl::StatusOr<bool> WordVectorEmbedder::WeightedMean(std::string_view text, float* out,
                                                      TextStats* stats) const {
  absl::StatusOr<std::vector<std::string>> tokens = Tokenize(text);
  if (!tokens.ok()) return tokens.status();
  const WordVectorModel& m = model();
  const int dim = m.dimension();
  std::vector<double> sum(dim, 0.0);
  std::vector<float> v(dim);
  int32_t used = 0, unknown = 0;
  for (const std::string& token : *tokens) {
    const WordSource source = m.Lookup(token, absl::MakeSpan(v));
    if (source != WordSource::kVocabulary) ++unknown;
    if (source == WordSource::kUnknown) continue;
    const float w = Weight(token, source);
    for (int j = 0; j < dim; ++j) sum[j] += static_cast<double>(w) * v[j];
    ++used;
  }
  stats->tokens = static_cast<int32_t>(tokens->size());
  stats->unknown_tokens = unknown;
  for (int j = 0; j < dim; ++j) out[j] = used > 0 ? static_cast<float>(sum[j] / used) : 0.0f;
  return used > 0 && Norm(out, dim) > 0;
}

absl::Status WordVectorEmbedder::Embed(absl::Span<const std::string_view> texts,
                                       absl::Span<float> out,
                                       std::vector<TextStats>* stats) const {
  if (fittable() && !fitted_) {
    return absl::FailedPreconditionError(
        "SIF weighting needs the collection: fit the embedder before embedding");
  }
  const int dim = model().dimension();
  if (out.size() != texts.size() * dim) {
    return absl::InvalidArgumentError("output buffer has the wrong size");
  }
  std::vector<TextStats> local(texts.size());
  std::vector<absl::Status> errors(texts.size());
  ParallelFor(static_cast<int64_t>(texts.size()), 32, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float* y = out.data() + i * dim;
      absl::StatusOr<bool> any = WeightedMean(texts[i], y, &local[i]);
      if (!any.ok()) {
        errors[i] = any.status();
        std::fill(y, y + dim, 0.0f);
        continue;
      }
      if (*any && !component_.empty()) {
        double dot = 0;
        for (int j = 0; j < dim; ++j) dot += static_cast<double>(component_[j]) * y[j];
        for (int j = 0; j < dim; ++j) y[j] -= static_cast<float>(dot * component_[j]);
      }
      const double norm = *any ? Norm(y, dim) : 0.0;
      if (norm > 0) {
        const float inv = static_cast<float>(1.0 / norm);
        for (int j = 0; j < dim; ++j) y[j] *= inv;
      } else {
        std::fill(y, y + dim, 0.0f);
        local[i].zero_vector = true;
      }
    }
  });
  for (size_t i = 0; i < errors.size(); ++i) {
    if (!errors[i].ok()) {
      return absl::Status(errors[i].code(), fmt::format("text {}: {}", i, std::string(errors[i].message())));
    }
  }
  if (stats != nullptr) *stats = std::move(local);
  return absl::OkStatus();
}

absl::Status WordVectorEmbedder::Fit(const TextCorpus& corpus) {
  if (!fittable()) return absl::OkStatus();
  const int64_t total = corpus.size;
  const int64_t wanted = std::min(total, options_.max_fit_docs);
  auto selected = [&](int64_t i) {
    return wanted == total || (i * wanted) / total != ((i + 1) * wanted) / total;
  };
  // Visits the selected texts in batches.
  auto walk = [&](const std::function<absl::Status(std::vector<std::string>&)>& batch_fn) {
    std::vector<std::string> batch;
    int64_t i = 0;
    absl::Status s = corpus.for_each([&](std::string_view text) -> absl::Status {
      if (selected(i++)) {
        batch.emplace_back(text);
        if (batch.size() == kFitBatch) {
          absl::Status b = batch_fn(batch);
          batch.clear();
          return b;
        }
      }
      return absl::OkStatus();
    });
    if (s.ok() && !batch.empty()) s = batch_fn(batch);
    return s;
  };

  // Frequencies from the fitted texts unless the model has its own. Only
  // tokens with a vector are kept; every token counts in the total.
  fitted_ = false;
  component_.clear();
  corpus_counts_.clear();
  corpus_tokens_ = 0;
  if (!model().has_counts()) {
    std::vector<float> scratch(model().dimension());
    absl::Status s = walk([&](std::vector<std::string>& batch) -> absl::Status {
      for (const std::string& text : batch) {
        absl::StatusOr<std::vector<std::string>> tokens = Tokenize(text);
        if (!tokens.ok()) return tokens.status();
        for (std::string& t : *tokens) {
          ++corpus_tokens_;
          if (model().Lookup(t, absl::MakeSpan(scratch)) != WordSource::kUnknown) {
            ++corpus_counts_[std::move(t)];
          }
        }
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }

  // Uncentered second moment of the weighted means: its top eigenvector is
  // the first right singular vector of the texts' matrix.
  const int dim = model().dimension();
  std::vector<double> gram(static_cast<size_t>(dim) * dim, 0.0);
  int64_t docs = 0, with_words = 0;
  absl::Status s = walk([&](std::vector<std::string>& batch) -> absl::Status {
    const int64_t n = static_cast<int64_t>(batch.size());
    std::vector<float> means(static_cast<size_t>(n) * dim);
    std::vector<absl::StatusOr<bool>> any(n, false);
    ParallelFor(n, 64, [&](int64_t b, int64_t e) {
      TextStats unused;
      for (int64_t i = b; i < e; ++i) any[i] = WeightedMean(batch[i], &means[i * dim], &unused);
    });
    std::vector<double> rows;
    rows.reserve(means.size());
    for (int64_t i = 0; i < n; ++i) {
      if (!any[i].ok()) return any[i].status();
      if (!*any[i]) continue;
      rows.insert(rows.end(), means.begin() + i * dim, means.begin() + (i + 1) * dim);
      ++with_words;
    }
    docs += n;
    const int k = static_cast<int>(rows.size() / dim);
    if (k > 0) {
      cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, dim, k, 1.0, rows.data(), dim, 1.0,
                  gram.data(), dim);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (with_words == 0) {
    return absl::FailedPreconditionError(fmt::format(
        "cannot fit SIF: none of the {} texts contains a word the vectors know", docs));
  }
  if (with_words >= 2) {
    absl::StatusOr<std::vector<float>> u = TopEigenvector(std::move(gram), dim);
    if (!u.ok()) return u.status();
    component_ = *std::move(u);
  }
  fitted_docs_ = docs;
  fitted_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::string> WordVectorEmbedder::SaveState() const {
  if (!fittable()) return std::string();
  if (!fitted_) return absl::FailedPreconditionError("the SIF embedder is not fitted");
  nlohmann::json j;
  j["version"] = kStateVersion;
  j["dim"] = model().dimension();
  j["fitted_docs"] = fitted_docs_;
  const auto* pc = reinterpret_cast<const uint8_t*>(component_.data());
  j["component"] = nlohmann::json::binary_t(
      std::vector<uint8_t>(pc, pc + component_.size() * sizeof(float)));
  j["corpus_tokens"] = corpus_tokens_;
  std::vector<std::pair<std::string, int64_t>> counts(corpus_counts_.begin(),
                                                      corpus_counts_.end());
  std::sort(counts.begin(), counts.end());
  nlohmann::json words = nlohmann::json::array(), values = nlohmann::json::array();
  for (auto& [w, c] : counts) {
    words.push_back(w);
    values.push_back(c);
  }
  j["words"] = std::move(words);
  j["counts"] = std::move(values);
  std::vector<uint8_t> bytes = nlohmann::json::to_cbor(j);
  return std::string(bytes.begin(), bytes.end());
}

absl::Status WordVectorEmbedder::LoadState(std::string_view state) {
  if (!fittable()) return absl::OkStatus();
  nlohmann::json j =
      ParseCbor(state).value_or(nlohmann::json(nlohmann::json::value_t::discarded));
  auto corrupt = [](const char* what) {
    return absl::DataLossError(fmt::format("corrupt SIF state: {}", what));
  };
  if (j.is_discarded() || !j.is_object()) return corrupt("not CBOR");
  if (j.value("version", 0) != kStateVersion) return corrupt("unknown version");
  const int dim = model().dimension();
  if (j.value("dim", 0) != dim) {
    return absl::FailedPreconditionError(fmt::format(
        "the SIF state is for {}-dimensional vectors, the model has {}", j.value("dim", 0), dim));
  }
  const nlohmann::json& pc = j["component"];
  if (!pc.is_binary() || (pc.get_binary().size() != 0 &&
                          pc.get_binary().size() != static_cast<size_t>(dim) * sizeof(float))) {
    return corrupt("component");
  }
  std::vector<float> component(pc.get_binary().size() / sizeof(float));
  std::memcpy(component.data(), pc.get_binary().data(), pc.get_binary().size());
  const nlohmann::json& words = j["words"];
  const nlohmann::json& values = j["counts"];
  if (!words.is_array() || !values.is_array() || words.size() != values.size()) {
    return corrupt("counts");
  }
  absl::flat_hash_map<std::string, int64_t> counts;
  for (size_t i = 0; i < words.size(); ++i) {
    if (!words[i].is_string() || !values[i].is_number_integer()) return corrupt("counts");
    counts[words[i].get<std::string>()] = values[i].get<int64_t>();
  }
  component_ = std::move(component);
  corpus_counts_ = std::move(counts);
  corpus_tokens_ = j.value("corpus_tokens", int64_t{0});
  fitted_docs_ = j.value("fitted_docs", int64_t{0});
  fitted_ = true;
  return absl::OkStatus();
}

nlohmann::json WordVectorEmbedder::Describe() const {
  nlohmann::json j = model().Describe();
  j["file"] = options_.source.path;
  j["format"] = WordVectorFormatName(loaded_.format);
  if (!loaded_.cache_path.empty()) {
    j["cache"] = loaded_.cache_path;
    j["cache_built_on_open"] = loaded_.built_cache;
  }
  j["open_seconds"] = loaded_.seconds;
  j["lowercase"] = options_.tokenizer.lowercase;
  j["weighting"] = options_.weighting == WordWeighting::kSif ? "sif" : "mean";
  if (fittable()) {
    j["sif_a"] = options_.sif_a;
    j["word_frequencies"] = model().has_counts() ? "model" : "collection";
    j["fitted"] = fitted_;
    j["fitted_documents"] = fitted_docs_;
    if (fitted_ && component_.empty()) {
      j["note"] = "no principal component removed: fewer than two fitted texts hold a known word";
    }
  }
  return j;
}

}  // namespace semdb
