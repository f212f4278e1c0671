// FaissIndex: a VectorIndex over a FAISS index, cosine by inner product on
// normalized vectors: flat, IVF (flat, SQ8 or PQ codes) and HNSW (flat or
// SQ8), as described by IndexLayout.
//
// FAISS numbers vectors by position. This class keeps the position -> label
// table itself (FAISS 1.7.3's IndexIDMap rejects search-time selectors, which
// filtered search needs) and deletes by tombstones: a removed position is
// skipped by a search-time selector and the index is compacted once
// tombstones pass a fraction of it, so a delete costs O(1) rather than a
// rewrite of the whole array. IVF lists are compacted in place (their
// position ids renumbered); HNSW graphs cannot drop nodes in FAISS, so past
// the threshold the index reports needs_rebuild() and its owner rebuilds it
// from stored vectors.
#ifndef SEMDB_INDEX_FAISS_INDEX_H_
#define SEMDB_INDEX_FAISS_INDEX_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "index/index_layout.h"
#include "semdb/vector_index.h"

namespace faiss {
struct Index;
struct IndexHNSW;
struct IDSelector;
}  // namespace faiss

namespace semdb {

struct PackedHnsw;

class FaissIndex : public VectorIndex {
 public:
  // Index kinds: see IndexLayout.
  static absl::StatusOr<std::unique_ptr<FaissIndex>> Create(const Spec& spec,
                                                            int dimension);
  // Reads a file written by Save. Corrupt or truncated files are DataLoss.
  static absl::StatusOr<std::unique_ptr<FaissIndex>> Load(const std::string& path);

  ~FaissIndex() override;

  Spec spec() const override { return spec_; }
  // The spec parsed (made once, at creation): the planner reads it per query.
  const IndexLayout& layout() const { return layout_; }
  int dimension() const override { return dimension_; }
  int64_t size() const override {
    return static_cast<int64_t>(labels_.size()) - num_deleted_;
  }

  bool is_trained() const override;
  absl::Status Train(absl::Span<const float> vectors) override;
  int64_t trained_size() const override { return trained_size_; }
  // IVF only: the FAISS serialization of the empty trained index (its
  // quantizer's centroids and its codes' training).
  absl::StatusOr<std::string> ExportTraining() const override;
  absl::Status InstallTraining(std::string_view training) override;
  bool training_installed() const override { return training_installed_; }
  bool can_search_exactly() const override { return layout_.stores_full_vectors(); }
  bool needs_rebuild() const override;

  absl::Status Add(absl::Span<const uint64_t> labels,
                   absl::Span<const float> vectors) override;
  // The label tables and, for flat codes, FAISS's code array.
  void Reserve(int64_t count) override;
  absl::StatusOr<int64_t> Remove(absl::Span<const uint64_t> labels) override;
  absl::StatusOr<std::vector<IndexHit>> Search(
      absl::Span<const float> query, int k, const IndexSearchKnobs& knobs,
      const LabelPredicate* filter) const override;
  // Flat: one FAISS call (a BLAS matrix product from 20 queries on); IVF:
  // FAISS's batched search (OpenMP over queries); HNSW: the queries spread
  // over the hardware threads.
  absl::StatusOr<std::vector<std::vector<IndexHit>>> SearchBatch(
      absl::Span<const float> queries, int k, const IndexSearchKnobs& knobs,
      const LabelPredicate* filter) const override;
  absl::Status Save(const std::string& path) const override;
  nlohmann::json Describe() const override;
  // The FAISS index itself, for benchmarks that run FAISS's own search on
  // the identical index.
  const faiss::Index& faiss_index() const { return *index_; }

 private:
  FaissIndex(Spec spec, IndexLayout layout, int dimension,
             std::unique_ptr<faiss::Index> index);

  // True when tombstones pass the compaction threshold.
  bool TooManyTombstones() const;
  // The k best of n queries (row-major), k already clipped to size():
  // scores and positions, n x k, best first, position -1 for empty slots.
  absl::Status SearchPositions(const float* queries, int64_t n, int k,
                               const IndexSearchKnobs& knobs, const LabelPredicate* filter,
                               float* scores, int64_t* positions) const;
  // One HNSW query with search list size `ef` (0: the configured one), by
  // semdb's loop over the FAISS graph (index/hnsw_search.h).
  void SearchHnsw(const faiss::IndexHNSW& hnsw, const float* query, int k, int ef,
                  const faiss::IDSelector* sel, float* scores, int64_t* positions) const;
  // Drops tombstoned positions from the FAISS index and the label table
  // (flat and IVF only).
  absl::Status Compact();
  // Fills positions_ from the label table if Load left it to the first
  // Add or Remove.
  void BuildPositions();

  Spec spec_;
  IndexLayout layout_;
  int dimension_;
  int64_t trained_size_ = 0;
  bool training_installed_ = false;
  std::unique_ptr<faiss::Index> index_;
  std::vector<uint64_t> labels_;  // FAISS position -> label
  std::vector<bool> deleted_;     // FAISS position -> tombstone
  int64_t num_deleted_ = 0;
  // Live label -> position. Load leaves it empty (positions_pending_) when
  // the live labels are increasing, so without duplicates: a reopen that
  // only searches never builds it.
  absl::flat_hash_map<uint64_t, int64_t> positions_;
  bool positions_pending_ = false;
  // HNSW over float vectors: the graph's storage, whose blocks hold the
  // vectors and level 0's links packed for search (index/hnsw_level0.h),
  // updated by every Add; owned by index_; null for other kinds.
  PackedHnsw* packed_ = nullptr;
};

}  // namespace semdb

#endif  // SEMDB_INDEX_FAISS_INDEX_H_
