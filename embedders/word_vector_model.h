// A set of pretrained word vectors, whatever file they came from: a
// vocabulary with one dense vector per word, and for fastText .bin models a
// way to build vectors for words outside the vocabulary from their character
// n-grams.
//
// Implementations: MappedWordVectors (GloVe / word2vec / fastText .vec, read
// through the binary cache) and FastTextModel (fastText .bin via libfasttext).
// All const methods are thread-safe.
#ifndef SEMDB_EMBEDDERS_WORD_VECTOR_MODEL_H_
#define SEMDB_EMBEDDERS_WORD_VECTOR_MODEL_H_

#include <cstdint>
#include <string_view>

#include "absl/types/span.h"
#include "nlohmann/json.hpp"

namespace semdb {

// How a lookup found its vector.
enum class WordSource {
  kVocabulary,  // the word has an entry in the model
  kSubwords,    // built from character n-grams (fastText .bin only)
  kUnknown,     // no vector: the output is all zeros
};

class WordVectorModel {
 public:
  virtual ~WordVectorModel() = default;

  virtual int dimension() const = 0;

  // Number of vocabulary words; word(i) for i in [0, size()).
  virtual int64_t size() const = 0;
  virtual std::string_view word(int64_t i) const = 0;

  // Position of `word` in the vocabulary (exact bytes), or -1.
  virtual int64_t Find(std::string_view word) const = 0;

  // Writes the vector of `word` (dimension() floats) to `out`. Every vector
  // returned is finite; it may be all zeros only with kUnknown or, for
  // fastText, when the model's rows are zero.
  virtual WordSource Lookup(std::string_view word, absl::Span<float> out) const = 0;

  // The vector of every vocabulary word, row-major size() x dimension(), as
  // Lookup(word(i)) returns it, and 1 / ||row|| (0 for a zero row). For a
  // fastText .bin model this is computed on first use (size() x dimension()
  // floats of memory); for the cache it is the mapped file.
  virtual const float* vocabulary_vectors() const = 0;
  virtual const float* inverse_norms() const = 0;

  // Corpus frequencies the model was trained with (fastText .bin), for SIF
  // weights. count(i) is only meaningful when has_counts().
  virtual bool has_counts() const { return false; }
  virtual int64_t count(int64_t i) const { return 0; }

  // Facts for `stats`: file, format, vocabulary, dimension, cache...
  virtual nlohmann::json Describe() const = 0;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_WORD_VECTOR_MODEL_H_
