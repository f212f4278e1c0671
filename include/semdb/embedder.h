// Embedder: the plug-in point that turns text into vectors.
//
// A collection owns one embedder for its whole life; every stored vector and
// every query of the collection is embedded by the same embedder in the same
// fitted state (see Collection::Refit for how a state change re-embeds all).
#ifndef SEMDB_EMBEDDER_H_
#define SEMDB_EMBEDDER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "nlohmann/json.hpp"
#include "semdb/options.h"
#include "semdb/spec.h"

namespace semdb {

// What an embedder observed while embedding one text.
struct TextStats {
  int32_t tokens = 0;          // tokens the text was split into
  int32_t unknown_tokens = 0;  // tokens with no entry in the model
  bool truncated = false;      // cut to the model's maximum input length
  bool zero_vector = false;    // nothing known: the vector is all zeros
};

// A sequence of texts to fit on. `for_each` may be called several times and
// visits the same texts in the same order each time; it stops at, and
// returns, the first error the visitor returns.
struct TextCorpus {
  int64_t size = 0;
  std::function<absl::Status(
      const std::function<absl::Status(std::string_view)>& visit)>
      for_each;
};

// A corpus over texts in memory; `texts` must outlive it.
inline TextCorpus CorpusOf(const std::vector<std::string>& texts) {
  TextCorpus c;
  c.size = static_cast<int64_t>(texts.size());
  c.for_each = [&texts](const std::function<absl::Status(std::string_view)>& visit) {
    for (const std::string& t : texts) {
      if (absl::Status s = visit(t); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  return c;
}

class ThreadPool;        // embedders/thread_pool.h
class WordVectorModels;  // embedders/word_vector_loader.h

// What embedders share with the database that creates them.
struct EmbedderContext {
  // Where an embedder may keep derived files (e.g. a binary cache of a large
  // word-vector file). Empty means: next to the source file, or nowhere.
  std::string cache_dir;
  // The threads an embedder's parallel loops run on; null: a default pool
  // of hardware_concurrency() threads.
  ThreadPool* pool = nullptr;
  // Word-vector files already open, shared by the embedders created with
  // this context; null: nothing is shared.
  std::shared_ptr<WordVectorModels> word_vector_models;
  // Called as a model download advances (in bytes; operation "download",
  // collection the model's Hub id), e.g. to draw a progress bar; unset:
  // nothing is called.
  std::function<void(const OperationProgress&)> progress;
};

class WordVectorEmbedder;  // embedders/word_vector_embedder.h

// What an embedder can do beyond Embed; the collection asks these instead of
// recognising embedders by kind.
struct EmbedderCapabilities {
  // The collection stores the caller's vectors as they are: the embedder has
  // no model, embeds no text (Embed fails) and takes no fit or refit.
  bool caller_vectors = false;
  // Learns from the collection's own texts (TF-IDF, SIF weighting): Fit,
  // SaveState and LoadState carry a state. Others have an empty state.
  bool fittable = false;
  // Its vectors carry no more than half precision (TF-IDF with LSA, whose
  // projection is stored as half floats): a collection whose
  // CollectionSpec::vector_storage is "auto" stores them as float16. Of the
  // fitted model, for a fittable embedder.
  bool half_precision = false;
};

class Embedder {
 public:
  virtual ~Embedder() = default;

  // The spec this embedder was created from, canonicalized.
  virtual Spec spec() const = 0;

  // Output dimension; 0 for a fittable embedder that has not been fitted.
  virtual int dimension() const = 0;

  // Embeds texts[i], stored documents, into out[i * dimension() ...],
  // L2-normalized. A text
  // with no known content gets a zero vector and stats[i].zero_vector; this
  // is not an error (a later refit may learn its words). `stats`, when not
  // null, is resized to texts.size(). Thread-safe: may run concurrently with
  // other const calls.
  virtual absl::Status Embed(absl::Span<const std::string_view> texts,
                             absl::Span<float> out,
                             std::vector<TextStats>* stats) const = 0;

  // Embed for search queries: the same contract, for embedders whose model
  // embeds a query differently from the documents it should find (E5's
  // "query: " / "passage: " prefixes, BGE's instruction). Others embed both
  // alike.
  virtual absl::Status EmbedQueries(absl::Span<const std::string_view> texts,
                                    absl::Span<float> out,
                                    std::vector<TextStats>* stats) const {
    return Embed(texts, out, stats);
  }

  virtual EmbedderCapabilities capabilities() const { return {}; }

  // capabilities().fittable, the question asked most often.
  bool fittable() const { return capabilities().fittable; }

  // Fits on `corpus`, replacing any previous state. Not thread-safe; callers
  // fit a fresh instance and swap it in.
  virtual absl::Status Fit(const TextCorpus& corpus) {
    (void)corpus;
    return absl::OkStatus();
  }

  // The fitted state as bytes, and its inverse. LoadState(SaveState())
  // yields an embedder producing identical vectors.
  virtual absl::StatusOr<std::string> SaveState() const { return ""; }
  virtual absl::Status LoadState(std::string_view state) {
    (void)state;
    return absl::OkStatus();
  }

  // Human-readable facts for `stats` (vocabulary size, fitted documents,
  // reduced dimension and why, model file...).
  virtual nlohmann::json Describe() const { return nlohmann::json::object(); }

  // Capabilities beyond embedding texts, null where absent.
  // Word vectors, for word queries (Collection::NearestWords).
  virtual const WordVectorEmbedder* word_vectors() const { return nullptr; }
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDER_H_
