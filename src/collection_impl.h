// Collection::Impl: one collection's documents, embedder and index.
//
// Concurrency: write_mu_ serializes everything that changes the collection
// (writes, refits, index saves). state_mu_ guards what searches read (the
// record, counters, embedder and index): searches hold it shared; writers
// take it exclusively only to swap in a new state or apply a committed
// batch to the index, so searches are never blocked for an embedding, a
// storage write or a whole refit.
//
// Consistency with storage: a batch is committed to RocksDB first, then
// applied to the in-memory index. The index log, written in the same batch,
// lets a reopen bring a saved index up to date; a saved index that does not
// match storage is rebuilt from the stored vectors.
#ifndef SEMDB_SRC_COLLECTION_IMPL_H_
#define SEMDB_SRC_COLLECTION_IMPL_H_

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "semdb/database.h"
#include "semdb/embedder.h"
#include "semdb/vector_index.h"
#include "storage/store.h"

namespace semdb {

// What a collection needs from its database.
struct CollectionEnv {
  Store* store = nullptr;
  Options options;
  std::string index_dir;
  EmbedderContext embedder_context;
};

// The embedder kind for caller-supplied vectors: "vectors dim=N".
inline constexpr char kVectorsKind[] = "vectors";

// The dimension of a "vectors dim=N" spec.
absl::StatusOr<int> VectorsDimension(const Spec& spec);

class Collection::Impl {
 public:
  // Opens a collection from its stored record. `embedder` may carry an
  // already created embedder (at collection creation); otherwise it is
  // created from the record's spec.
  static absl::StatusOr<std::unique_ptr<Impl>> Open(const CollectionEnv& env,
                                                    CollectionRecord record,
                                                    std::unique_ptr<Embedder> embedder);

  const std::string& name() const { return name_; }
  uint32_t id() const { return id_; }
  CollectionInfo Info() const;

  enum class WriteMode { kInsert, kUpsert };
  absl::StatusOr<std::vector<std::string>> Write(std::vector<Document> docs,
                                                 WriteMode mode, const WriteOptions& wo);
  absl::StatusOr<Document> Get(std::string_view id) const;
  absl::Status Delete(std::string_view id, const WriteOptions& wo);
  absl::StatusOr<std::vector<Hit>> Search(std::string_view query,
                                          const SearchOptions& options) const;
  absl::StatusOr<std::vector<Hit>> SearchVector(absl::Span<const float> vector,
                                                const SearchOptions& options) const;
  int64_t Count() const;
  absl::Status Refit();
  absl::Status Checkpoint();
  absl::Status SetIndex(const std::string& spec);
  nlohmann::json Stats() const;

  // After DropCollection: every later call returns NotFound.
  void MarkDropped();

 private:
  Impl(const CollectionEnv& env, CollectionRecord record);

  // All require write_mu_.
  absl::Status RefitLocked();
  absl::Status LoadOrRebuildIndexLocked();
  absl::Status RebuildIndexLocked(const std::string& reason);
  // Rebuilds when the index asks for it (see index_builder.h).
  absl::Status MaintainIndexLocked();
  absl::Status SaveIndexLocked();
  void MaintainAfterWriteLocked();

  // Requires state_mu_ (shared). `query` is normalized.
  absl::StatusOr<std::vector<Hit>> SearchLocked(absl::Span<const float> query,
                                                const SearchOptions& options) const;
  absl::Status CheckUsableLocked() const;
  bool Sync(const WriteOptions& wo) const { return wo.sync.value_or(env_.options.sync); }

  const CollectionEnv env_;
  const std::string name_;
  const uint32_t id_;
  const bool caller_vectors_;  // a "vectors dim=N" collection

  mutable std::mutex write_mu_;
  mutable std::shared_mutex state_mu_;
  // Guarded by state_mu_; changed only with write_mu_ held too.
  CollectionRecord record_;
  Counters counters_;
  std::unique_ptr<Embedder> embedder_;  // null for "vectors" collections
  std::unique_ptr<VectorIndex> index_;  // null until there is a dimension
  bool dropped_ = false;
  absl::Status embedder_error_;  // why the embedder could not be created
  absl::Status fit_error_;       // why the last fit failed
  std::string index_origin_;     // how the index was obtained, for Stats

  // Guarded by write_mu_.
  uint64_t saved_seq_ = 0;  // last log entry contained in the saved index
};

}  // namespace semdb

#endif  // SEMDB_SRC_COLLECTION_IMPL_H_
