// Word queries of a collection whose embedder has word vectors (glove,
// word2vec, fasttext): nearest words to an expression, and the word
// similarity benchmark.
#include "absl/strings/str_cat.h"
#include "embedders/nearest_words.h"
#include "embedders/thread_pool.h"
#include "embedders/word_similarity.h"
#include "embedders/word_vector_embedder.h"
#include "src/collection_impl.h"

namespace semdb {

absl::StatusOr<const WordVectorEmbedder*> Collection::Impl::WordVectorsLocked() const {
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  if (!embedder_error_.ok()) return embedder_error_;
  if (!probe_error_.ok()) return probe_error_;
  const WordVectorEmbedder* words = embedder_ ? embedder_->word_vectors() : nullptr;
  if (words == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", name_, "' has no word vectors (its embedder is ",
        record_.embedder_spec, "); word queries need glove, word2vec or fasttext"));
  }
  return words;
}

absl::StatusOr<std::vector<WordMatch>> Collection::Impl::NearestWords(
    std::string_view expression, int k) const {
  if (k < 1 || k > kMaxK) {
    return absl::InvalidArgumentError(absl::StrCat("k must be between 1 and ", kMaxK));
  }
  absl::ReaderMutexLock lock(&state_mu_);
  absl::StatusOr<const WordVectorEmbedder*> words = WordVectorsLocked();
  if (!words.ok()) return words.status();
  ThreadPool::Scope on(env_.embedder_context.pool);  // the word vectors are not pooled
  return semdb::NearestWords(**words, expression, k);
}

absl::StatusOr<WordSimilarityResult> Collection::Impl::EvaluateWordSimilarity(
    const std::string& path) const {
  absl::ReaderMutexLock lock(&state_mu_);
  absl::StatusOr<const WordVectorEmbedder*> words = WordVectorsLocked();
  if (!words.ok()) return words.status();
  ThreadPool::Scope on(env_.embedder_context.pool);
  return semdb::EvaluateWordSimilarity(**words, path);
}

}  // namespace semdb
