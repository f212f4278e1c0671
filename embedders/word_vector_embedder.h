// Averaged pretrained word vectors: a text's vector is the (weighted) mean
// of the vectors of its words, L2-normalized for cosine search.
//
// Spec kinds and parameters:
//   glove    path=FILE                         GloVe text (no header)
//   word2vec path=FILE [binary=auto|true|false] word2vec text or binary
//   fasttext path=FILE.bin|FILE.vec            fastText model or text vectors
//   lowercase=true|false  case-fold the text before lookup (default: true for
//                         glove, whose vectors are lower-case; false otherwise)
//   weighting=mean|sif    plain mean (default) or SIF (below)
//   sif_a=1e-3            SIF's a
//   min_token_len=1       shorter tokens are dropped
//   max_fit_docs=100000   SIF fits on an evenly spaced sample beyond this
//   cache_dir=DIR         where the binary cache goes (default: the
//                         EmbedderContext's, else as word_vector_loader.h says)
// The path is made absolute in the canonical spec.
//
// Tokens are the word tokenizer's (NFKC, optional Unicode case folding;
// runs of letters, marks, digits and '_'; punctuation separates words, so
// "don't" gives "don" and "t"). Each token is looked up exactly:
//   - GloVe / word2vec / .vec: a word missing from the file is skipped.
//   - fastText .bin: a missing word gets fastText's vector from its character
//     n-grams (when the model has any), and is averaged like the others.
// TextStats: `tokens` counts tokens; `unknown_tokens` those with no entry in
// the model's vocabulary (for fastText .bin this includes words built from
// n-grams, which still contribute a vector).
//
// Zero-vector policy: a text none of whose tokens has a vector (or with no
// tokens) embeds to all zeros with TextStats::zero_vector set; Embed never
// returns NaN. A later refit cannot change this for mean weighting.
//
// Mean: v = (1/n) sum_w vec(w) over the n tokens with a vector (repeats
// count), then v / ||v||.
// SIF (Arora, Liang, Ma 2017): v = (1/n) sum_w a / (a + p(w)) vec(w), then
// v - u u^T v with u the first principal component (uncentered, as the
// paper's TruncatedSVD) of the v of the fitted texts, then v / ||v||.
// p(w) is the word's frequency in the model's training corpus when the model
// carries counts (fastText .bin), else its frequency among the tokens of the
// fitted texts; a word never seen there has p = 0 (weight 1). SIF makes the
// embedder fittable: it needs Fit (or LoadState) before Embed, and
// dimension() is 0 until then. With fewer than two fitted texts holding a
// known word no component is removed.
//
// Not the same as fastText's sentence vectors (`print-sentence-vectors`,
// FastTextModel::SentenceVector), which split on whitespace only and average
// unit-normalized word vectors.
#ifndef SEMDB_EMBEDDERS_WORD_VECTOR_EMBEDDER_H_
#define SEMDB_EMBEDDERS_WORD_VECTOR_EMBEDDER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "embedders/word_tokenizer.h"
#include "embedders/word_vector_loader.h"
#include "semdb/embedder.h"

namespace semdb {

enum class WordWeighting { kMean, kSif };

struct WordVectorEmbedderOptions {
  WordVectorSource source;
  WordTokenizerOptions tokenizer;
  WordWeighting weighting = WordWeighting::kMean;
  double sif_a = 1e-3;
  int64_t max_fit_docs = 100000;
};

class WordVectorEmbedder : public Embedder {
 public:
  // The parameters of "glove", "word2vec" and "fasttext" specs, in
  // WordVectorKind's order (include/semdb/spec.h).
  static std::vector<ComponentKind> Kinds();
  // Loads the vectors (building their cache on first use).
  static absl::StatusOr<std::unique_ptr<WordVectorEmbedder>> Create(
      const Spec& spec, const EmbedderContext& context);

  Spec spec() const override { return spec_; }
  int dimension() const override;
  absl::Status Embed(absl::Span<const std::string_view> texts, absl::Span<float> out,
                     std::vector<TextStats>* stats) const override;
  EmbedderCapabilities capabilities() const override {
    return {.fittable = options_.weighting == WordWeighting::kSif};
  }
  const WordVectorEmbedder* word_vectors() const override { return this; }
  absl::Status Fit(const TextCorpus& corpus) override;
  absl::StatusOr<std::string> SaveState() const override;
  absl::Status LoadState(std::string_view state) override;
  nlohmann::json Describe() const override;

  const WordVectorModel& model() const { return *loaded_.model; }
  const LoadedWordVectors& loaded() const { return loaded_; }

  // The tokens of `text` as Embed looks them up.
  absl::StatusOr<std::vector<std::string>> Tokenize(std::string_view text) const;
  // One word with the embedder's normalization and case folding, unsplit.
  absl::StatusOr<std::string> NormalizeWord(std::string_view word) const;

 private:
  WordVectorEmbedder(Spec spec, WordVectorEmbedderOptions options, LoadedWordVectors loaded)
      : spec_(std::move(spec)), options_(std::move(options)), loaded_(std::move(loaded)) {}

  // SIF's a / (a + p(token)); 1 for mean weighting.
  float Weight(const std::string& token, WordSource source) const;
  // The weighted mean of the token vectors of `text` into out[0, dim), not
  // normalized; false when no token has a vector.
  absl::StatusOr<bool> WeightedMean(std::string_view text, float* out, TextStats* stats) const;

  Spec spec_;
  WordVectorEmbedderOptions options_;
  LoadedWordVectors loaded_;
  double model_total_count_ = 0;  // sum of the model's counts, when it has them

  // SIF state.
  bool fitted_ = false;
  int64_t fitted_docs_ = 0;
  std::vector<float> component_;  // unit first principal component, or empty
  absl::flat_hash_map<std::string, int64_t> corpus_counts_;
  int64_t corpus_tokens_ = 0;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_WORD_VECTOR_EMBEDDER_H_
