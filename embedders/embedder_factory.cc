#include "embedders/embedder_factory.h"

#include "absl/strings/str_cat.h"
#include "embedders/caller_vectors_embedder.h"
#include "embedders/thread_pool.h"
#include "embedders/tfidf_embedder.h"
#include "embedders/transformer_embedder.h"
#include "embedders/word_vector_embedder.h"
#include "semdb/components.h"

namespace semdb {

namespace {

template <typename T>
absl::StatusOr<std::unique_ptr<Embedder>> Upcast(absl::StatusOr<std::unique_ptr<T>> e) {
  if (!e.ok()) return e.status();
  return std::unique_ptr<Embedder>(*std::move(e));
}

// `inner` with each call made on `pool` (ThreadPool::Scope), so that its
// parallel loops run on the threads of the database that created it.
class PooledEmbedder : public Embedder {
 public:
  PooledEmbedder(std::unique_ptr<Embedder> inner, ThreadPool* pool)
      : inner_(std::move(inner)), pool_(pool) {}

  Spec spec() const override { return inner_->spec(); }
  int dimension() const override { return inner_->dimension(); }
  absl::Status Embed(absl::Span<const std::string_view> texts, absl::Span<float> out,
                     std::vector<TextStats>* stats) const override {
    ThreadPool::Scope on(pool_);
    return inner_->Embed(texts, out, stats);
  }
  absl::Status EmbedQueries(absl::Span<const std::string_view> texts, absl::Span<float> out,
                            std::vector<TextStats>* stats) const override {
    ThreadPool::Scope on(pool_);
    return inner_->EmbedQueries(texts, out, stats);
  }
  EmbedderCapabilities capabilities() const override { return inner_->capabilities(); }
  absl::Status Fit(const TextCorpus& corpus) override {
    ThreadPool::Scope on(pool_);
    return inner_->Fit(corpus);
  }
  absl::StatusOr<std::string> SaveState() const override { return inner_->SaveState(); }
  absl::Status LoadState(std::string_view state) override {
    ThreadPool::Scope on(pool_);
    return inner_->LoadState(state);
  }
  nlohmann::json Describe() const override { return inner_->Describe(); }
  const WordVectorEmbedder* word_vectors() const override { return inner_->word_vectors(); }

 private:
  const std::unique_ptr<Embedder> inner_;
  ThreadPool* const pool_;
};

absl::StatusOr<std::unique_ptr<Embedder>> CreateUnpooled(const Spec& spec,
                                                         const EmbedderContext& context) {
  if (spec.kind == "tfidf") return Upcast(TfidfEmbedder::Create(spec));
  if (spec.kind == "glove" || spec.kind == "word2vec" || spec.kind == "fasttext") {
    return Upcast(WordVectorEmbedder::Create(spec, context));
  }
  if (spec.kind == "transformer") return Upcast(TransformerEmbedder::Create(spec, context));
  if (spec.kind == "vectors") return Upcast(CallerVectorsEmbedder::Create(spec));
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown embedder '", spec.kind,
      "'; known: tfidf, glove, word2vec, fasttext, transformer, vectors"));
}

}  // namespace

std::vector<ComponentKind> EmbedderKinds() {
  std::vector<ComponentKind> kinds = {TfidfEmbedder::Kind()};
  for (ComponentKind& k : WordVectorEmbedder::Kinds()) kinds.push_back(std::move(k));
  kinds.push_back(TransformerEmbedder::Kind());
  kinds.push_back(CallerVectorsEmbedder::Kind());
  return kinds;
}

absl::StatusOr<std::unique_ptr<Embedder>> CreateEmbedder(
    const Spec& spec, const EmbedderContext& context) {
  // Creating one may run parallel loops too (a word-vector file's cache).
  ThreadPool::Scope on(context.pool);
  absl::StatusOr<std::unique_ptr<Embedder>> e = CreateUnpooled(spec, context);
  if (!e.ok() || context.pool == nullptr) return e;
  return std::unique_ptr<Embedder>(new PooledEmbedder(*std::move(e), context.pool));
}

}  // namespace semdb
