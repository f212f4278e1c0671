#include "embedders/tfidf_embedder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "embedders/blas_runtime.h"
#include "embedders/parallel_for.h"
#include "embedders/text_terms.h"
#include "storage/bounded_json.h"
#include "storage/half_float.h"

namespace semdb {
namespace {

// Version 2 stores the LSA projection as half floats (RoundToStoredPrecision);
// version 1 stored floats, and still loads.
constexpr int kStateVersion = 2;
constexpr int kFloatProjectionVersion = 1;
constexpr uint64_t kSvdSeed = 42;
constexpr size_t kFitBatch = 4096;
// Below this many dimensions the docs_per_dim cap does not apply: a tiny
// collection keeps its full rank rather than collapsing to a line.
constexpr int64_t kMinCappedDim = 16;
// A text whose LSA projection is shorter than this (its TF-IDF row has norm
// 1) lies outside the latent space: its vector is zero. Without the bound a
// denormal norm overflows the float inverse into inf/NaN.
constexpr double kMinProjectedNorm = 1e-6;
// The auto policy's bounds (ChooseTfidfMode).
constexpr double kMinLsaMeanTerms = 20;   // shorter texts: sentences
constexpr int64_t kMinLsaTexts = 200;     // fewer: no latent space to learn
constexpr int64_t kMaxPlainDim = 16384;   // dense TF-IDF vectors beyond: LSA
// And the dense TF-IDF vectors of the fitted texts together: at most this
// many values (512 MiB of float32, in the index's memory and on disk).
// Without it 39,411 short lines of 7,183 terms took 1.13 GB for a 1.6 MB
// file (17 s to import, 3.3 s to reopen, 67 ms per search); LSA keeps 256
// dimensions (in half floats) whatever the vocabulary. On short texts LSA
// ranks as well for retrieval, hybrid with BM25 (Cranfield titles: nDCG@10
// 0.303 against 0.301) but compares sentences worse (STS-B train: Spearman
// 56.5 against 72.2), so only a collection this large pays it.
constexpr int64_t kMaxPlainValues = int64_t{1} << 27;

template <typename T>
nlohmann::json::binary_t ToBinary(const std::vector<T>& values) {
  const auto* p = reinterpret_cast<const uint8_t*>(values.data());
  return nlohmann::json::binary_t(
      std::vector<uint8_t>(p, p + values.size() * sizeof(T)));
}

template <typename T>
bool FromBinary(const nlohmann::json& j, size_t expected, std::vector<T>* out) {
  if (!j.is_binary() || j.get_binary().size() != expected * sizeof(T)) {
    return false;
  }
  out->resize(expected);
  std::memcpy(out->data(), j.get_binary().data(), expected * sizeof(T));
  return true;
}

// The LSA projection is stored as IEEE half floats (FloatToHalf, round to
// nearest even): half the bytes of floats, and the state is most of a
// TF-IDF collection's disk. Cosines stay within 1e-4 of the float
// projection's (the scikit-learn goldens hold them to 1e-3; int8 codes with
// a scale per term were measured at 2e-3 and do not).
std::vector<uint16_t> ToHalf(const std::vector<float>& values) {
  std::vector<uint16_t> half(values.size());
  FloatsToHalves(values, absl::MakeSpan(half));
  return half;
}

std::vector<float> FromHalf(const std::vector<uint16_t>& values) {
  std::vector<float> out(values.size());
  HalvesToFloats(values, absl::MakeSpan(out));
  return out;
}

// The projection as the state stores it, so that the texts embedded right
// after a fit and after a reopen get identical vectors.
void RoundToStoredPrecision(std::vector<float>* values) {
  RoundToHalfPrecision(absl::MakeSpan(*values));
}

void Normalize(std::vector<std::pair<int32_t, float>>* row) {
  double norm = 0;
  for (const auto& [t, w] : *row) norm += static_cast<double>(w) * w;
  if (norm <= 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (auto& [t, w] : *row) w *= inv;
}

}  // namespace

TfidfModeChoice ChooseTfidfMode(int64_t texts, double mean_terms, int64_t vocabulary) {
  TfidfModeChoice c;
  if (vocabulary > kMaxPlainDim) {
    c.lsa = true;
    c.reason = absl::StrCat("LSA: ", vocabulary, " terms are too many for dense TF-IDF vectors (at most ",
                            kMaxPlainDim, ")");
  } else if (texts * vocabulary > kMaxPlainValues) {
    c.lsa = true;
    c.reason = absl::StrCat("LSA: dense TF-IDF vectors of ", texts, " texts x ", vocabulary,
                            " terms would take ", texts * vocabulary * 4 >> 20,
                            " MiB (at most ", kMaxPlainValues * 4 >> 20, ")");
  } else if (mean_terms < kMinLsaMeanTerms) {
    c.lsa = false;
    c.reason = absl::StrFormat(
        "plain TF-IDF: the texts are short (%.1f terms on average, LSA from %.0f)", mean_terms,
        kMinLsaMeanTerms);
  } else if (texts < kMinLsaTexts) {
    c.lsa = false;
    c.reason = absl::StrCat("plain TF-IDF: ", texts, " texts are too few for LSA (from ",
                            kMinLsaTexts, ")");
  } else {
    c.lsa = true;
    c.reason = absl::StrFormat("LSA: %d texts of %.1f terms on average", texts, mean_terms);
  }
  return c;
}

ComponentKind TfidfEmbedder::Kind() {
  const TfidfOptions d;
  return {
      "tfidf",
      "TF-IDF fitted on the collection (the default embedder)",
      {
          ChoiceParameter("lsa", {"auto", "true", "false"},
                          "LSA (TF-IDF reduced by a truncated SVD); auto uses it for "
                          "collections of 200+ texts averaging 20+ terms, and where dense "
                          "TF-IDF vectors would be too large (stats says why)"),
          IntParameter("dim", std::to_string(d.dim), 1, 4096,
                       "LSA dimensions; the default is capped at one per docs_per_dim "
                       "fitted texts, an explicit dim only by the corpus' rank"),
          IntParameter("docs_per_dim", std::to_string(d.docs_per_dim), 1, 1 << 20,
                       "fitted texts per dimension of the default dim (given, it caps an "
                       "explicit dim too)"),
          ChoiceParameter("stop_words", {"english", "none"},
                          "drop scikit-learn's English stop words"),
          ChoiceParameter("stemmer", {"english", "none"}, "Snowball English stemming"),
          BoolParameter("sublinear_tf", d.sublinear_tf, "1 + log(tf) instead of tf"),
          IntParameter("min_df", std::to_string(d.min_df), 1, int64_t{1} << 40,
                       "drop terms found in fewer texts"),
          NumberParameter("max_df", absl::StrCat(d.max_df), 1e-9, 1.0,
                          "drop terms found in a larger fraction of the texts"),
          IntParameter("max_features", std::to_string(d.max_features), 1, 10'000'000,
                       "keep only this many of the most frequent terms"),
          IntParameter("min_token_len", std::to_string(d.tokenizer.min_length), 1, 100,
                       "drop words shorter than this (code points)"),
          BoolParameter("lowercase", d.tokenizer.lowercase,
                        "Unicode case folding before counting"),
          ChoiceParameter("svd", {"auto", "exact", "randomized"},
                          "LSA's SVD: exact (LAPACK) or randomized (Halko et al.); auto "
                          "chooses by size"),
          IntParameter("max_fit_docs", std::to_string(d.max_fit_docs), 1, int64_t{1} << 40,
                       "fits use at most this many evenly spaced texts"),
      }};
}

absl::StatusOr<std::unique_ptr<TfidfEmbedder>> TfidfEmbedder::Create(
    const Spec& spec) {
  TfidfOptions o;
  const ComponentKind kind = Kind();
  SpecReader r(spec, kind);
  const std::string lsa = r.GetString("lsa", "auto");
  o.dim = static_cast<int>(r.GetInt("dim", o.dim));
  o.cap_dim = !r.Has("dim") || r.Has("docs_per_dim");
  o.english_stop_words = r.GetString("stop_words", "english") == "english";
  o.stemming = r.GetString("stemmer", "english") == "english";
  o.sublinear_tf = r.GetBool("sublinear_tf", o.sublinear_tf);
  o.min_df = r.GetInt("min_df", o.min_df);
  o.max_df = r.GetDouble("max_df", o.max_df);
  o.max_features = r.GetInt("max_features", o.max_features);
  o.tokenizer.min_length = static_cast<int>(r.GetInt("min_token_len", o.tokenizer.min_length));
  o.tokenizer.lowercase = r.GetBool("lowercase", o.tokenizer.lowercase);
  const std::string svd = r.GetString("svd", "auto");
  o.max_fit_docs = r.GetInt("max_fit_docs", o.max_fit_docs);
  o.docs_per_dim = r.GetInt("docs_per_dim", o.docs_per_dim);
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  o.lsa = lsa == "auto" ? LsaMode::kAuto : lsa == "true" ? LsaMode::kOn : LsaMode::kOff;
  o.svd = svd == "auto"    ? SvdMethod::kAuto
          : svd == "exact" ? SvdMethod::kExact
                           : SvdMethod::kRandomized;
  Spec canonical = spec;
  return std::unique_ptr<TfidfEmbedder>(
      new TfidfEmbedder(std::move(canonical), o));
}

absl::StatusOr<std::vector<std::string>> TfidfEmbedder::Terms(
    std::string_view text) const {
  return TextTerms(text, {.tokenizer = options_.tokenizer,
                          .english_stop_words = options_.english_stop_words,
                          .english_stemming = stem_});
}

absl::Status TfidfEmbedder::Fit(const TextCorpus& corpus) {
  stem_ = options_.stemming;
  // Evenly spaced sample of at most max_fit_docs texts, so that refits of a
  // large collection cost a bounded amount of work.
  const int64_t total = corpus.size;
  const int64_t wanted = std::min(total, options_.max_fit_docs);
  auto selected = [&](int64_t i) {
    return wanted == total ||
           (i * wanted) / total != ((i + 1) * wanted) / total;
  };
  // Tokenizes the selected texts in parallel batches and hands each text's
  // terms to `consume`, in corpus order.
  auto walk = [&](const std::function<void(std::vector<std::string>&)>& consume)
      -> absl::Status {
    std::vector<std::string> batch;
    std::vector<absl::StatusOr<std::vector<std::string>>> terms;
    auto flush = [&]() -> absl::Status {
      terms.assign(batch.size(), std::vector<std::string>{});
      ParallelFor(static_cast<int64_t>(batch.size()), 64,
                  [&](int64_t b, int64_t e) {
                    for (int64_t i = b; i < e; ++i) terms[i] = Terms(batch[i]);
                  });
      for (auto& t : terms) {
        if (!t.ok()) return t.status();
        consume(*t);
      }
      batch.clear();
      return absl::OkStatus();
    };
    int64_t i = 0;
    absl::Status s = corpus.for_each([&](std::string_view text) -> absl::Status {
      if (selected(i++)) {
        batch.emplace_back(text);
        if (batch.size() == kFitBatch) return flush();
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return flush();
  };

  // The one tokenization: document and total frequencies, and each text's
  // terms as ids into `counts` (term_ids[text_start[i]..text_start[i+1]]),
  // from which the TF-IDF matrix is built below without tokenizing again.
  struct Counts {
    int64_t df = 0;
    int64_t tf = 0;
  };
  absl::flat_hash_map<std::string, int32_t> term_id;
  std::vector<Counts> counts;
  std::vector<int32_t> term_ids;
  std::vector<int64_t> text_start{0};
  int64_t n = 0;
  int64_t total_terms = 0;
  std::vector<int32_t> distinct;
  absl::Status s = walk([&](std::vector<std::string>& words) {
    ++n;
    total_terms += static_cast<int64_t>(words.size());
    for (std::string& w : words) {
      auto [it, added] = term_id.try_emplace(std::move(w), static_cast<int32_t>(counts.size()));
      if (added) counts.emplace_back();
      ++counts[it->second].tf;
      term_ids.push_back(it->second);
    }
    distinct.assign(term_ids.begin() + text_start.back(), term_ids.end());
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (int32_t id : distinct) ++counts[id].df;
    text_start.push_back(static_cast<int64_t>(term_ids.size()));
  });
  if (!s.ok()) return s;
  if (n == 0) return absl::FailedPreconditionError("no texts to fit TF-IDF on");

  // Vocabulary: document-frequency bounds, then the max_features most
  // frequent terms, then alphabetical order as scikit-learn.
  const double max_count = options_.max_df * static_cast<double>(n);
  std::vector<std::pair<std::string_view, int32_t>> kept;  // (term, id)
  for (const auto& [term, id] : term_id) {
    const Counts& c = counts[id];
    if (c.df >= options_.min_df && static_cast<double>(c.df) <= max_count) {
      kept.emplace_back(term, id);
    }
  }
  if (static_cast<int64_t>(kept.size()) > options_.max_features) {
    std::sort(kept.begin(), kept.end(), [&](const auto& a, const auto& b) {
      const int64_t ta = counts[a.second].tf, tb = counts[b.second].tf;
      return ta != tb ? ta > tb : a.first < b.first;
    });
    kept.resize(options_.max_features);
  }
  if (kept.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot fit TF-IDF: the ", n, " texts contain no words",
        counts.empty() ? "" : " within the min_df/max_df bounds"));
  }
  std::sort(kept.begin(), kept.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  TfidfVocabulary vocab;
  std::vector<int32_t> position(counts.size(), -1);  // id -> vocabulary position
  for (const auto& [term, id] : kept) {
    position[id] = static_cast<int32_t>(vocab.terms.size());
    vocab.index.emplace(term, static_cast<int32_t>(vocab.terms.size()));
    vocab.idf.push_back(std::log((1.0 + n) / (1.0 + counts[id].df)) + 1.0);
    vocab.terms.emplace_back(term);
  }
  kept.clear();
  term_id.clear();
  counts.clear();
  vocab_ = std::move(vocab);
  rank_ = 0;  // TfidfRow only needs the vocabulary
  half_projection_ = false;
  fitted_docs_ = n;
  term_vectors_.clear();
  const int64_t terms = static_cast<int64_t>(vocab_.terms.size());
  const TfidfModeChoice choice =
      ChooseTfidfMode(n, static_cast<double>(total_terms) / static_cast<double>(n), terms);
  switch (options_.lsa) {
    case LsaMode::kAuto:
      lsa_ = choice.lsa;
      mode_reason_ = choice.reason;
      break;
    case LsaMode::kOn:
      lsa_ = true;
      mode_reason_ = "LSA: lsa=true";
      break;
    case LsaMode::kOff:
      lsa_ = false;
      mode_reason_ = "plain TF-IDF: lsa=false";
      break;
  }
  if (!lsa_) {
    rank_ = static_cast<int>(terms);
    svd_method_ = "none";
    return absl::OkStatus();
  }

  // The TF-IDF matrix, from the term ids kept by the tokenization above.
  SparseMatrix x;
  x.cols = static_cast<int64_t>(vocab_.terms.size());
  std::vector<int32_t> positions;
  for (int64_t i = 0; i < n; ++i) {
    positions.clear();
    for (int64_t p = text_start[i]; p < text_start[i + 1]; ++p) {
      if (position[term_ids[p]] >= 0) positions.push_back(position[term_ids[p]]);
    }
    for (const auto& [t, w] : WeightedRow(positions)) {
      x.col.push_back(t);
      x.value.push_back(w);
    }
    x.row_start.push_back(static_cast<int64_t>(x.col.size()));
    ++x.rows;
  }
  term_ids = {};

  // An LSA space with nearly as many dimensions as texts reproduces plain
  // TF-IDF and loses LSA's grouping of related words; cap it.
  const int64_t target_dim =
      options_.cap_dim ? std::min<int64_t>(options_.dim,
                                           std::max(std::min(n, kMinCappedDim),
                                                    n / options_.docs_per_dim))
                       : options_.dim;
  absl::StatusOr<TruncatedSvd> svd =
      ComputeTruncatedSvd(x, static_cast<int>(target_dim), options_.svd, kSvdSeed);
  if (!svd.ok()) return svd.status();
  if (svd->rank == 0) {
    return absl::FailedPreconditionError("cannot fit LSA: the TF-IDF matrix is zero");
  }
  rank_ = svd->rank;
  term_vectors_.assign(static_cast<size_t>(x.cols) * rank_, 0.0f);
  for (int j = 0; j < rank_; ++j) {
    for (int64_t t = 0; t < x.cols; ++t) {
      term_vectors_[t * rank_ + j] = svd->components[j * x.cols + t];
    }
  }
  RoundToStoredPrecision(&term_vectors_);
  half_projection_ = true;
  svd_method_ = svd->method;
  return absl::OkStatus();
}

EmbedderCapabilities TfidfEmbedder::capabilities() const {
  return {.fittable = true, .half_precision = rank_ > 0 && lsa_ && half_projection_};
}

std::vector<std::pair<int32_t, float>> TfidfEmbedder::WeightedRow(
    const std::vector<std::string>& words, int32_t* unknown) const {
  std::vector<int32_t> positions;
  for (const std::string& w : words) {
    auto it = vocab_.index.find(w);
    if (it != vocab_.index.end()) {
      positions.push_back(it->second);
    } else if (unknown != nullptr) {
      ++*unknown;
    }
  }
  return WeightedRow(positions);
}

std::vector<std::pair<int32_t, float>> TfidfEmbedder::WeightedRow(
    std::vector<int32_t>& positions) const {
  std::sort(positions.begin(), positions.end());
  std::vector<std::pair<int32_t, float>> row;
  for (size_t b = 0, e = 0; b < positions.size(); b = e) {
    while (e < positions.size() && positions[e] == positions[b]) ++e;
    const double tf = static_cast<double>(e - b);
    const double f = options_.sublinear_tf ? 1.0 + std::log(tf) : tf;
    row.emplace_back(positions[b], static_cast<float>(f * vocab_.idf[positions[b]]));
  }
  Normalize(&row);
  return row;
}

absl::StatusOr<std::vector<std::pair<int32_t, float>>> TfidfEmbedder::TfidfRow(
    std::string_view text, TextStats* stats) const {
  absl::StatusOr<std::vector<std::string>> words = Terms(text);
  if (!words.ok()) return words.status();
  int32_t unknown = 0;
  std::vector<std::pair<int32_t, float>> row = WeightedRow(*words, &unknown);
  if (stats != nullptr) {
    stats->tokens = static_cast<int32_t>(words->size());
    stats->unknown_tokens = unknown;
    stats->zero_vector = row.empty();
  }
  return row;
}

absl::Status TfidfEmbedder::Embed(absl::Span<const std::string_view> texts,
                                  absl::Span<float> out,
                                  std::vector<TextStats>* stats) const {
  if (rank_ == 0) {
    return absl::FailedPreconditionError("the TF-IDF embedder is not fitted yet");
  }
  if (out.size() != texts.size() * rank_) {
    return absl::InvalidArgumentError("output buffer has the wrong size");
  }
  std::vector<TextStats> local(texts.size());
  std::vector<absl::Status> errors(texts.size());
  ParallelFor(static_cast<int64_t>(texts.size()), 32, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      absl::StatusOr<std::vector<std::pair<int32_t, float>>> row =
          TfidfRow(texts[i], &local[i]);
      float* y = out.data() + i * rank_;
      std::fill(y, y + rank_, 0.0f);
      if (!row.ok()) {
        errors[i] = row.status();
        continue;
      }
      if (!lsa_) {
        for (const auto& [t, w] : *row) y[t] = w;  // already normalized
        continue;
      }
      for (const auto& [t, w] : *row) {
        const float* v = term_vectors_.data() + static_cast<int64_t>(t) * rank_;
        for (int j = 0; j < rank_; ++j) y[j] += w * v[j];
      }
      double norm = 0;
      for (int j = 0; j < rank_; ++j) norm += static_cast<double>(y[j]) * y[j];
      norm = std::sqrt(norm);
      if (norm >= kMinProjectedNorm) {
        for (int j = 0; j < rank_; ++j) y[j] = static_cast<float>(y[j] / norm);
      } else {
        std::fill(y, y + rank_, 0.0f);
        local[i].zero_vector = true;
      }
    }
  });
  for (size_t i = 0; i < errors.size(); ++i) {
    if (!errors[i].ok()) {
      return absl::Status(errors[i].code(),
                          absl::StrCat("text ", i, ": ", errors[i].message()));
    }
  }
  if (stats != nullptr) *stats = std::move(local);
  return absl::OkStatus();
}

absl::StatusOr<std::string> TfidfEmbedder::SaveState() const {
  nlohmann::json j;
  j["version"] = kStateVersion;
  j["terms"] = vocab_.terms;
  j["idf"] = ToBinary(vocab_.idf);
  j["rank"] = rank_;
  j["lsa"] = lsa_;
  j["stemming"] = stem_;
  j["mode_reason"] = mode_reason_;
  j["term_vectors"] = ToBinary(ToHalf(term_vectors_));
  j["fitted_docs"] = fitted_docs_;
  j["svd_method"] = svd_method_;
  std::vector<uint8_t> bytes = nlohmann::json::to_cbor(j);
  return std::string(bytes.begin(), bytes.end());
}

absl::Status TfidfEmbedder::LoadState(std::string_view state) {
  nlohmann::json j =
      ParseCbor(state).value_or(nlohmann::json(nlohmann::json::value_t::discarded));
  auto corrupt = [](const char* what) {
    return absl::DataLossError(absl::StrCat("corrupt TF-IDF state: ", what));
  };
  if (j.is_discarded() || !j.is_object()) return corrupt("not CBOR");
  const int version = j.value("version", 0);
  if (version != kStateVersion && version != kFloatProjectionVersion) {
    return corrupt("unknown version");
  }
  TfidfVocabulary vocab;
  if (!j["terms"].is_array()) return corrupt("terms");
  for (const auto& t : j["terms"]) {
    if (!t.is_string()) return corrupt("terms");
    vocab.index.emplace(t.get<std::string>(),
                        static_cast<int32_t>(vocab.terms.size()));
    vocab.terms.push_back(t.get<std::string>());
  }
  const size_t m = vocab.terms.size();
  int rank = j.value("rank", 0);
  const bool lsa = j.value("lsa", true);  // states before plain TF-IDF existed are LSA
  std::vector<float> term_vectors;
  if (!FromBinary(j["idf"], m, &vocab.idf)) return corrupt("idf");
  if (rank <= 0 || (!lsa && static_cast<size_t>(rank) != m)) return corrupt("term vectors");
  if (lsa && version == kFloatProjectionVersion &&
      !FromBinary(j["term_vectors"], m * rank, &term_vectors)) {
    return corrupt("term vectors");
  }
  if (lsa && version == kStateVersion) {
    std::vector<uint16_t> half;
    if (!FromBinary(j["term_vectors"], m * rank, &half)) return corrupt("term vectors");
    term_vectors = FromHalf(half);
    if (!std::all_of(term_vectors.begin(), term_vectors.end(),
                     [](float v) { return std::isfinite(v); })) {
      return corrupt("term vectors");
    }
  }
  vocab_ = std::move(vocab);
  term_vectors_ = std::move(term_vectors);
  rank_ = rank;
  lsa_ = lsa;
  half_projection_ = lsa && version == kStateVersion;
  stem_ = j.value("stemming", false);
  mode_reason_ = j.value("mode_reason", "");
  fitted_docs_ = j.value("fitted_docs", int64_t{0});
  svd_method_ = j.value("svd_method", "");
  return absl::OkStatus();
}

nlohmann::json TfidfEmbedder::Describe() const {
  nlohmann::json j;
  j["vocabulary"] = vocab_.terms.size();
  j["fitted_documents"] = fitted_docs_;
  j["mode"] = lsa_ ? "lsa" : "tfidf";
  if (!mode_reason_.empty()) j["mode_reason"] = mode_reason_;
  j["requested_dim"] = options_.dim;
  j["dim"] = rank_;
  j["svd"] = svd_method_;
  j["blas"] = BlasFacts();
  if (lsa_ && rank_ > 0 && rank_ < options_.dim) {
    const int64_t capped = fitted_docs_ / options_.docs_per_dim;
    j["note"] =
        options_.cap_dim && rank_ == capped && capped >= kMinCappedDim
            ? absl::StrCat("LSA dimension ", rank_, " = ", fitted_docs_, " fitted texts / ",
                           options_.docs_per_dim, " (docs_per_dim); it grows with refits up to ",
                           options_.dim)
            : absl::StrCat("LSA reduced to ", rank_, " dimensions: the fitted corpus (",
                           fitted_docs_, " texts, ", vocab_.terms.size(),
                           " terms) has no more independent directions");
  }
  return j;
}

}  // namespace semdb
