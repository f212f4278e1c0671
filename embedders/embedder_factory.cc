#include "embedders/embedder_factory.h"

#include "absl/strings/str_cat.h"
#include "embedders/tfidf_embedder.h"
#include "embedders/transformer_embedder.h"
#include "embedders/word_vector_embedder.h"

namespace semdb {

namespace {

template <typename T>
absl::StatusOr<std::unique_ptr<Embedder>> Upcast(absl::StatusOr<std::unique_ptr<T>> e) {
  if (!e.ok()) return e.status();
  return std::unique_ptr<Embedder>(*std::move(e));
}

}  // namespace

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

std::vector<std::string> EmbedderKindsHelp() {
  return {
      "tfidf [lsa=auto|true|false] [dim=256] [docs_per_dim=8] [stop_words=english|none] "
      "[stemmer=english|none] [sublinear_tf=true] [min_df=1] [max_df=1.0] "
      "[max_features=100000] [min_token_len=2] [lowercase=true] [max_fit_docs=100000] "
      "[svd=auto|exact|randomized]  TF-IDF fitted on the collection (default); lsa=auto "
      "uses LSA for collections of 200+ texts averaging 20+ terms (stats says why); the "
      "default dim is capped at one per docs_per_dim fitted texts, an explicit dim only "
      "by the corpus' rank; fits use at most max_fit_docs evenly spaced texts",
      "glove path=FILE [lowercase=true] [weighting=mean|sif] [sif_a=1e-3] "
      "[min_token_len=1] [max_fit_docs=100000] [cache_dir=DIR]"
      "  averaged GloVe text vectors",
      "word2vec path=FILE [binary=auto|true|false] [lowercase=false] "
      "[weighting=mean|sif] [sif_a=1e-3] [min_token_len=1] [max_fit_docs=100000] "
      "[cache_dir=DIR]  averaged word2vec text or binary vectors",
      "fasttext path=FILE.bin|FILE.vec [lowercase=false] [weighting=mean|sif] "
      "[sif_a=1e-3] [min_token_len=1] [max_fit_docs=100000] [cache_dir=DIR]"
      "  averaged fastText vectors; .bin models build unknown words from n-grams",
      "transformer model=<model folder or Hugging Face id> [revision=main] [max_length=N] "
      "[batch_size=32] [threads=N]  BERT-family sentence embeddings (all-MiniLM-L6-v2, "
      "bge-small-en-v1.5, e5-small-v2...) from a model folder, the Hugging Face cache, or "
      "downloaded into it (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, HF_HUB_CACHE)",
  };
}

}  // namespace semdb
