// A fastText .bin model read with Debian's libfasttext, so that words
// outside the vocabulary get the vector fastText itself computes from their
// character n-grams (the mean of the word's and its n-grams' input rows).
//
// The file's structure is checked before libfasttext sees it (magic number,
// format version 11 or 12, header values, every dictionary entry, matrix
// sizes against the file size): the library loops forever or reads garbage
// on some damaged files, and throws on others. Exceptions from the library
// are caught and reported. Quantized models (.ftz) are refused.
//
// The whole model is held in memory, as libfasttext loads it.
#ifndef SEMDB_EMBEDDERS_FASTTEXT_MODEL_H_
#define SEMDB_EMBEDDERS_FASTTEXT_MODEL_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "embedders/word_vector_model.h"

namespace fasttext {
class FastText;
}

namespace semdb {

// The first four bytes of every fastText .bin file since format version 11.
inline constexpr int32_t kFastTextMagic = 793712314;

class FastTextModel : public WordVectorModel {
 public:
  static absl::StatusOr<std::unique_ptr<FastTextModel>> Open(const std::string& path);
  ~FastTextModel() override;

  int dimension() const override { return dim_; }
  int64_t size() const override { return static_cast<int64_t>(words_.size()); }
  std::string_view word(int64_t i) const override { return words_[i]; }
  int64_t Find(std::string_view word) const override;
  WordSource Lookup(std::string_view word, absl::Span<float> out) const override;
  const float* vocabulary_vectors() const override;
  const float* inverse_norms() const override;
  bool has_counts() const override { return true; }
  int64_t count(int64_t i) const override { return counts_[i]; }
  nlohmann::json Describe() const override;

  // The vector `fasttext print-sentence-vectors` prints for `line` (one line,
  // no newline). Unsupervised models: the mean of the L2-normalized vectors
  // (n-gram built for unknown words) of the whitespace-separated words,
  // skipping zero vectors; no end-of-sentence token. Supervised models: the
  // mean of the input rows of the line's words, their n-grams and word
  // n-grams, including the end-of-sentence token "</s>" that fastText reads
  // at the newline; unknown words contribute only their n-grams.
  std::vector<float> SentenceVector(std::string_view line) const;

  bool supervised() const { return supervised_; }

 private:
  FastTextModel() = default;
  void ComputeVocabularyVectors() const;

  class Library;  // libfasttext's FastText with access to its members
  std::unique_ptr<Library> ft_;
  std::string path_;
  int dim_ = 0;
  bool supervised_ = false;
  int version_ = 0;
  int minn_ = 0, maxn_ = 0, bucket_ = 0;
  std::vector<std::string> words_;
  std::vector<int64_t> counts_;

  mutable std::once_flag vocabulary_once_;
  mutable std::vector<float> vocabulary_vectors_;
  mutable std::vector<float> inverse_norms_;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_FASTTEXT_MODEL_H_
