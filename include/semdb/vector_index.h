// VectorIndex: the plug-in point that answers top-k inner-product queries
// over L2-normalized vectors (so scores are cosine similarities).
//
// Vectors are identified by 64-bit labels that the collection assigns and
// maps to document ids. An index is a derived structure: the collection can
// always rebuild it from the vectors in storage.
#ifndef SEMDB_VECTOR_INDEX_H_
#define SEMDB_VECTOR_INDEX_H_

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
#include "semdb/spec.h"

namespace semdb {

struct IndexHit {
  uint64_t label = 0;
  float score = 0;  // inner product = cosine for normalized vectors
};

// The order of results: higher score first, equal scores by smaller label,
// so that ties rank the same on every run.
inline bool RanksBefore(const IndexHit& a, const IndexHit& b) {
  return a.score != b.score ? a.score > b.score : a.label < b.label;
}

// Search-time knobs; 0 means the index's configured default.
struct IndexSearchKnobs {
  int nprobe = 0;     // IVF: inverted lists visited
  int ef_search = 0;  // HNSW: candidate list size
  // Compare the query with every live vector (exact top k). Unimplemented
  // for indexes that keep only compressed codes (can_search_exactly()).
  bool exact = false;
};

// Restricts a search to labels for which the predicate holds. Must be
// thread-safe and cheap: it is called per candidate.
using LabelPredicate = std::function<bool(uint64_t label)>;

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  virtual Spec spec() const = 0;
  virtual int dimension() const = 0;

  // Live (added and not removed) vectors.
  virtual int64_t size() const = 0;

  // Indexes that must learn from data before Add (IVF) return false until
  // Train has run. Train is given a sample of the vectors to index.
  virtual bool is_trained() const { return true; }
  virtual absl::Status Train(absl::Span<const float> vectors) {
    (void)vectors;
    return absl::OkStatus();
  }
  // How many vectors Train was given (0 for indexes that need none).
  virtual int64_t trained_size() const { return 0; }

  // What training learnt (IVF: the coarse centroids, and the ranges or
  // codebooks of SQ8/PQ codes) as bytes, for InstallTraining in indexes of
  // the same spec and dimension elsewhere: indexes sharing one training
  // put every vector in the same list with the same code, so their search
  // results merge as one index's would. Only an empty trained index
  // exports it; Unimplemented for indexes that learn no such thing.
  virtual absl::StatusOr<std::string> ExportTraining() const {
    return absl::UnimplementedError("this index kind has no training to share");
  }
  // Makes this empty, untrained index trained with `training` (from
  // ExportTraining) instead of its own data. It then reports
  // training_installed(), which its saved file keeps: such an index is
  // never retrained on its own vectors.
  virtual absl::Status InstallTraining(std::string_view training) {
    (void)training;
    return absl::UnimplementedError("this index kind has no training to share");
  }
  virtual bool training_installed() const { return false; }

  // True when search can read full vectors, so that knobs.exact works.
  virtual bool can_search_exactly() const { return true; }

  // True when deletes have left more tombstones than the index can reclaim
  // in place (FAISS cannot delete from HNSW graphs): its owner should
  // rebuild it from the stored vectors. Tombstones never affect results.
  virtual bool needs_rebuild() const { return false; }

  // Adds labels.size() vectors (row-major, labels.size() x dimension()).
  // Adding a label that is already live is an error.
  virtual absl::Status Add(absl::Span<const uint64_t> labels,
                           absl::Span<const float> vectors) = 0;

  // A hint before adding `count` more vectors in several Add calls (a
  // build from stored vectors): room for them at once, instead of arrays
  // grown by copies as they come. Changes nothing else.
  virtual void Reserve(int64_t count) { (void)count; }

  // Removes labels; unknown labels are ignored. Returns how many were live.
  virtual absl::StatusOr<int64_t> Remove(absl::Span<const uint64_t> labels) = 0;

  // The k best live vectors by inner product with `query`, best first,
  // restricted to labels accepted by `filter` when it is set. Thread-safe
  // with respect to other const calls; callers serialize mutations.
  virtual absl::StatusOr<std::vector<IndexHit>> Search(
      absl::Span<const float> query, int k, const IndexSearchKnobs& knobs,
      const LabelPredicate* filter) const = 0;

  // Search for each of the queries.size() / dimension() rows of `queries`:
  // result i is what Search returns for row i, with scores equal within
  // float rounding (a batch may score by a matrix product). Indexes share
  // work across the queries: one call, not a loop of Search calls.
  virtual absl::StatusOr<std::vector<std::vector<IndexHit>>> SearchBatch(
      absl::Span<const float> queries, int k, const IndexSearchKnobs& knobs,
      const LabelPredicate* filter) const = 0;

  // Writes the whole index to `path` (the caller handles atomic renaming).
  virtual absl::Status Save(const std::string& path) const = 0;

  // Facts for `stats`/EXPLAIN: type, sizes, deleted fraction, memory.
  virtual nlohmann::json Describe() const { return nlohmann::json::object(); }
};

}  // namespace semdb

#endif  // SEMDB_VECTOR_INDEX_H_
