// TF-IDF, optionally with latent semantic analysis: the default embedder,
// fitted on the collection's own texts, needing no download.
//
// Weights follow scikit-learn's TfidfVectorizer (smooth idf
// ln((1 + n) / (1 + df)) + 1, optional sublinear tf 1 + ln(tf), rows
// L2-normalized), so its golden outputs check this code. With LSA the
// TF-IDF rows are then projected on the top right singular vectors of the
// fitted corpus' TF-IDF matrix (as TruncatedSVD.transform) and
// L2-normalized again; without it the vector is the TF-IDF row itself, one
// dimension per vocabulary term (dense, so only for small vocabularies).
// A text whose projection is (numerically) zero gets a zero vector, never
// an overflowed one: every output is finite.
//
// Spec parameters (all optional):
//   lsa=auto           auto | true | false. auto chooses at each fit from
//                      the corpus itself (ChooseTfidfMode below); the
//                      choice and its reason are in Describe().
//   dim=256            LSA dimension; reduced to the corpus' numerical rank
//                      when the corpus supports fewer (see Describe()).
//   docs_per_dim=8     when dim is not given: at most one LSA dimension per
//                      this many fitted texts (but at least 16 or the
//                      rank): with as many dimensions as texts, LSA
//                      degenerates into plain TF-IDF and stops relating
//                      words that co-occur. An explicit dim is not capped
//                      unless docs_per_dim is given too.
//   stop_words=english english | none
//   stemmer=english    english | none: Snowball English stems (text_terms.h)
//   sublinear_tf=true  use 1 + ln(tf) instead of raw counts
//   min_df=1 max_df=1.0 max_features=100000  vocabulary pruning
//   min_token_len=2 lowercase=true           tokenization
//   svd=auto           auto | exact | randomized
//   max_fit_docs=100000 fit on an evenly spaced sample beyond this many texts
#ifndef SEMDB_EMBEDDERS_TFIDF_EMBEDDER_H_
#define SEMDB_EMBEDDERS_TFIDF_EMBEDDER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "embedders/truncated_svd.h"
#include "embedders/word_tokenizer.h"
#include "semdb/embedder.h"

namespace semdb {

enum class LsaMode { kAuto, kOn, kOff };

struct TfidfOptions {
  LsaMode lsa = LsaMode::kAuto;
  int dim = 256;
  bool cap_dim = true;  // apply docs_per_dim (false when dim is explicit)
  bool english_stop_words = true;
  bool stemming = true;
  bool sublinear_tf = true;
  int64_t min_df = 1;
  double max_df = 1.0;  // fraction of documents
  int64_t max_features = 100000;
  WordTokenizerOptions tokenizer;
  SvdMethod svd = SvdMethod::kAuto;
  int64_t max_fit_docs = 100000;
  int64_t docs_per_dim = 8;
};

// The fitted TF-IDF vocabulary: what scikit-learn's vocabulary_ and idf_ hold.
struct TfidfVocabulary {
  std::vector<std::string> terms;
  std::vector<double> idf;
  absl::flat_hash_map<std::string, int32_t> index;  // term -> position
};

// The default policy between LSA and plain TF-IDF, from the fitted corpus:
// `texts` fitted, their mean length in terms (after stop words) and the
// vocabulary size. LSA relates words that co-occur, which helps topical
// collections of paragraphs; short sentence-like texts give it too little
// co-occurrence and are compared better on their own words, and so are
// collections too small to estimate a latent space. Plain TF-IDF is dense
// here, so it also needs a vocabulary small enough to store, and few
// enough texts x terms for the collection's vectors (512 MiB of floats).
struct TfidfModeChoice {
  bool lsa = true;
  std::string reason;
};
TfidfModeChoice ChooseTfidfMode(int64_t texts, double mean_terms, int64_t vocabulary);

class TfidfEmbedder : public Embedder {
 public:
  // The parameters "tfidf" specs take (include/semdb/spec.h).
  static ComponentKind Kind();
  static absl::StatusOr<std::unique_ptr<TfidfEmbedder>> Create(const Spec& spec);

  Spec spec() const override { return spec_; }
  int dimension() const override { return rank_; }
  absl::Status Embed(absl::Span<const std::string_view> texts,
                     absl::Span<float> out,
                     std::vector<TextStats>* stats) const override;
  // half_precision: a fitted LSA model (its projection is half floats).
  EmbedderCapabilities capabilities() const override;
  absl::Status Fit(const TextCorpus& corpus) override;
  absl::StatusOr<std::string> SaveState() const override;
  absl::Status LoadState(std::string_view state) override;
  nlohmann::json Describe() const override;

  // The L2-normalized TF-IDF row of `text` as sorted (term position, weight)
  // pairs, before the LSA projection. Exposed for the golden tests.
  absl::StatusOr<std::vector<std::pair<int32_t, float>>> TfidfRow(
      std::string_view text, TextStats* stats) const;
  const TfidfVocabulary& vocabulary() const { return vocab_; }

 private:
  TfidfEmbedder(Spec spec, TfidfOptions options)
      : spec_(std::move(spec)), options_(options), stem_(options.stemming) {}

  // The normalized TF-IDF row of already tokenized words; counts words
  // outside the vocabulary into *unknown when not null.
  std::vector<std::pair<int32_t, float>> WeightedRow(
      const std::vector<std::string>& words, int32_t* unknown) const;
  // The same from the vocabulary positions of a text's terms (any order,
  // repeats counted; sorted here).
  std::vector<std::pair<int32_t, float>> WeightedRow(std::vector<int32_t>& positions) const;

  // Terms of `text`: tokens after stop-word removal, stemmed when stem_.
  absl::StatusOr<std::vector<std::string>> Terms(std::string_view text) const;

  Spec spec_;
  TfidfOptions options_;
  TfidfVocabulary vocab_;
  // Term-major LSA projection: term_vectors_[t * rank_ + j] is component j
  // of term t (empty without LSA), rounded to the half floats the state
  // stores.
  std::vector<float> term_vectors_;
  int rank_ = 0;
  // Whether the fitted vocabulary holds stems: from the options at a fit,
  // from the state when loaded (states saved before stemming existed hold
  // whole words).
  bool stem_ = true;
  bool lsa_ = true;  // false: the vector is the TF-IDF row (rank_ = terms)
  // term_vectors_ are half floats widened (a fit, or a state of version 2;
  // version 1 stored floats).
  bool half_projection_ = false;
  std::string mode_reason_;
  int64_t fitted_docs_ = 0;
  std::string svd_method_;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_TFIDF_EMBEDDER_H_
