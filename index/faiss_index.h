// FaissIndex: a VectorIndex over a FAISS index, cosine by inner product on
// normalized vectors.
//
// FAISS numbers vectors by position. This class keeps the position -> label
// table itself (FAISS 1.7.3's IndexIDMap rejects search-time selectors, which
// filtered search needs) and deletes by tombstones: a removed position is
// skipped by a search-time selector and the index is compacted once
// tombstones pass a fraction of it, so a delete costs O(1) rather than a
// rewrite of the whole array.
#ifndef SEMDB_INDEX_FAISS_INDEX_H_
#define SEMDB_INDEX_FAISS_INDEX_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "semdb/vector_index.h"

namespace faiss {
struct Index;
}

namespace semdb {

class FaissIndex : public VectorIndex {
 public:
  // Index kinds: "flat" (exact search).
  static absl::StatusOr<std::unique_ptr<FaissIndex>> Create(const Spec& spec,
                                                            int dimension);
  // Reads a file written by Save. Corrupt or truncated files are DataLoss.
  static absl::StatusOr<std::unique_ptr<FaissIndex>> Load(const std::string& path);

  ~FaissIndex() override;

  Spec spec() const override { return spec_; }
  int dimension() const override { return dimension_; }
  int64_t size() const override { return static_cast<int64_t>(positions_.size()); }

  absl::Status Add(absl::Span<const uint64_t> labels,
                   absl::Span<const float> vectors) override;
  absl::StatusOr<int64_t> Remove(absl::Span<const uint64_t> labels) override;
  absl::StatusOr<std::vector<IndexHit>> Search(
      absl::Span<const float> query, int k, const IndexSearchKnobs& knobs,
      const LabelPredicate* filter) const override;
  absl::Status Save(const std::string& path) const override;
  nlohmann::json Describe() const override;

 private:
  FaissIndex(Spec spec, int dimension, std::unique_ptr<faiss::Index> index);

  // Drops tombstoned positions from the FAISS index and the label table.
  absl::Status Compact();

  Spec spec_;
  int dimension_;
  std::unique_ptr<faiss::Index> index_;
  std::vector<uint64_t> labels_;  // FAISS position -> label
  std::vector<bool> deleted_;     // FAISS position -> tombstone
  int64_t num_deleted_ = 0;
  absl::flat_hash_map<uint64_t, int64_t> positions_;  // live label -> position
};

}  // namespace semdb

#endif  // SEMDB_INDEX_FAISS_INDEX_H_
