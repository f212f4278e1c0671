// A collection's embedding model as bytes: exported from one collection,
// installed in others (the shards of a sharded collection share one), or
// loaded as a standalone Model that embeds without a database.
//
//   auto model = (*source)->ExportModel();              // fitted once
//   (*shard)->InstallModel(*model);                     // same vectors everywhere
//   auto embedder = semdb::Model::Load(*model);         // e.g. in a Dask task
//   (*shard)->WriteEmbedded(docs_with_vectors, model->Fingerprint(), false);
#ifndef SEMDB_MODEL_STATE_H_
#define SEMDB_MODEL_STATE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "semdb/embedder.h"

namespace semdb {

struct ModelState {
  std::string embedder;  // canonical embedder spec ("tfidf dim=256")
  int dimension = 0;
  std::string state;     // Embedder::SaveState(): vocabulary, IDF, LSA basis...
  // The model's vectors for fixed probe texts (src/model_probe.h): they
  // tell apart file-based models whose spec and (empty) state are equal.
  std::vector<float> probe;
  // The training of the collection's vector index that goes with the model
  // (TrainIndex), or both empty: the index spec it is for ("ivf nlist=64")
  // and VectorIndex::ExportTraining bytes (IVF: the coarse centroids). A
  // collection that installs the model must have that index; it builds it
  // from this training and never trains its own.
  std::string index;
  std::string index_training;

  // Bytes: "semdb-model 1\n", a JSON line {"embedder","dimension","probe"}
  // (plus "index" and "index_training_size" with an index training), then
  // the state bytes, then the index training. Decode(Encode()) == *this.
  std::string Encode() const;
  static absl::StatusOr<ModelState> Decode(std::string_view bytes);
  // 16 lowercase hex digits: the 64-bit FNV-1a hash of Encode(). Vectors
  // are comparable exactly when they were embedded under one fingerprint.
  std::string Fingerprint() const;
};

// The 64-bit FNV-1a hash (offset basis 14695981039346656037, prime
// 1099511628211) of `bytes`: model fingerprints, and the shard of a
// document id in semdb.distributed (README, "Scaling out").
uint64_t Fnv1a64(std::string_view bytes);

// `model` with the training of an index of `index_spec` (an IVF kind)
// learnt from `sample`: rows of model.dimension floats, the model's vectors
// of a sample of the corpus. Every collection installing the result builds
// its index on these centroids (semdb.distributed trains once, on the
// coordinator, for all its shards).
absl::StatusOr<ModelState> TrainIndex(ModelState model, std::string_view index_spec,
                                      absl::Span<const float> sample);

// An embedder in an exported state, with no database: embeds texts as the
// collections holding this state do. Thread-safe.
class Model {
 public:
  // Creates the embedder from the spec and loads the state; the loaded
  // model must reproduce the probe (FailedPrecondition otherwise, e.g. a
  // model file that differs on this machine).
  static absl::StatusOr<std::unique_ptr<Model>> Load(const ModelState& state,
                                                     const EmbedderContext& context = {});

  int dimension() const { return dimension_; }
  const std::string& fingerprint() const { return fingerprint_; }
  // As Embedder::Embed / EmbedQueries: texts.size() rows of dimension()
  // floats, unit length or zero (no known word; stats[i].zero_vector).
  absl::Status Embed(absl::Span<const std::string_view> texts, absl::Span<float> out,
                     std::vector<TextStats>* stats) const;
  absl::Status EmbedQueries(absl::Span<const std::string_view> texts, absl::Span<float> out,
                            std::vector<TextStats>* stats) const;

 private:
  Model(std::unique_ptr<Embedder> embedder, std::string fingerprint);
  std::unique_ptr<Embedder> embedder_;
  int dimension_;
  std::string fingerprint_;
};

}  // namespace semdb

#endif  // SEMDB_MODEL_STATE_H_
