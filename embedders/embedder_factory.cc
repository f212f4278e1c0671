#include "embedders/embedder_factory.h"

#include "absl/strings/str_cat.h"
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

}  // namespace

ComponentKind VectorsKind() {
  return {"vectors",
          "caller-supplied vectors (API only)",
          {IntParameter("dim", "", 1, 65536, "the vectors' dimension (required)")}};
}

std::vector<ComponentKind> EmbedderKinds() {
  std::vector<ComponentKind> kinds = {TfidfEmbedder::Kind()};
  for (ComponentKind& k : WordVectorEmbedder::Kinds()) kinds.push_back(std::move(k));
  kinds.push_back(TransformerEmbedder::Kind());
  kinds.push_back(VectorsKind());
  return kinds;
}

absl::StatusOr<std::unique_ptr<Embedder>> CreateEmbedder(
    const Spec& spec, const EmbedderContext& context) {
  if (spec.kind == "tfidf") return Upcast(TfidfEmbedder::Create(spec));
  if (spec.kind == "glove" || spec.kind == "word2vec" || spec.kind == "fasttext") {
    return Upcast(WordVectorEmbedder::Create(spec, context));
  }
  if (spec.kind == "transformer") return Upcast(TransformerEmbedder::Create(spec, context));
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown embedder '", spec.kind, "'; known: tfidf, glove, word2vec, fasttext, transformer"));
}

}  // namespace semdb
