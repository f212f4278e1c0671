#include "embedders/embedder_factory.h"

#include "absl/strings/str_cat.h"
#include "embedders/tfidf_embedder.h"
#include "embedders/transformer_embedder.h"

namespace semdb {

absl::StatusOr<std::unique_ptr<Embedder>> CreateEmbedder(
    const Spec& spec, const EmbedderContext& context) {
  if (spec.kind == "tfidf") {
    absl::StatusOr<std::unique_ptr<TfidfEmbedder>> e = TfidfEmbedder::Create(spec);
    if (!e.ok()) return e.status();
    return std::unique_ptr<Embedder>(*std::move(e));
  }
  if (spec.kind == "transformer") {
    absl::StatusOr<std::unique_ptr<TransformerEmbedder>> e = TransformerEmbedder::Create(spec);
    if (!e.ok()) return e.status();
    return std::unique_ptr<Embedder>(*std::move(e));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown embedder '", spec.kind, "'; known: tfidf, transformer"));
}

std::vector<std::string> EmbedderKindsHelp() {
  return {
      "tfidf [dim=256] [stop_words=english|none] [sublinear_tf=true] "
      "[min_df=1] [max_df=1.0] [max_features=100000] [svd=auto|exact|randomized]"
      "  TF-IDF + LSA fitted on the collection (default)",
      "transformer path=<model folder> [max_length=N] [batch_size=32] [threads=N]"
      "  BERT-family sentence embeddings (all-MiniLM-L6-v2, bge-small-en-v1.5, e5-small-v2...)"
      " from a Hugging Face model folder",
  };
}

}  // namespace semdb
