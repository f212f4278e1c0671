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

#include <functional>
#include <memory>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include <shared_mutex>
#include <string>
#include <vector>

#include "semdb/database.h"
#include "semdb/embedder.h"
#include "semdb/vector_index.h"
#include "src/chunker.h"
#include "src/document_indexes.h"
#include "storage/store.h"

namespace semdb {

class WordVectorEmbedder;
struct QueryPlan;  // src/query_planner.h

// What a collection needs from its database.
struct CollectionEnv {
  Store* store = nullptr;  // valid until the collection is closed
  Options options;
  std::string index_dir;
  EmbedderContext embedder_context;
};

// The embedder kind for caller-supplied vectors: "vectors dim=N".
inline constexpr char kVectorsKind[] = "vectors";

// The dimension of a "vectors dim=N" spec.
absl::StatusOr<int> VectorsDimension(const Spec& spec);

// Metadata must serialize as JSON: strings valid UTF-8, numbers finite,
// nesting bounded. `depth` is that of `metadata` (0 at the top).
absl::Status ValidateMetadata(const nlohmann::json& metadata, int depth);

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
  // Deletes the documents that exist among `ids`; returns how many.
  absl::StatusOr<int64_t> Delete(absl::Span<const std::string> ids, const WriteOptions& wo);
  absl::StatusOr<std::vector<Hit>> Search(std::string_view query,
                                          const SearchOptions& options) const;
  absl::StatusOr<std::vector<Hit>> SearchVector(absl::Span<const float> vector,
                                                const SearchOptions& options) const;
  // The plan (and with `analyze`, the run) of a search, as JSON.
  absl::StatusOr<nlohmann::json> Explain(std::string_view query, const SearchOptions& options,
                                         bool analyze) const;
  absl::StatusOr<nlohmann::json> ExplainVector(absl::Span<const float> vector,
                                               const SearchOptions& options,
                                               bool analyze) const;
  int64_t Count() const;
  absl::Status Refit();
  absl::StatusOr<double> Similarity(std::string_view a, std::string_view b) const;
  absl::Status Checkpoint();
  absl::Status SetIndex(const std::string& spec);
  nlohmann::json Stats() const;
  absl::StatusOr<std::vector<WordMatch>> NearestWords(std::string_view expression,
                                                      int k) const;
  absl::StatusOr<WordSimilarityResult> EvaluateWordSimilarity(const std::string& path) const;

  // Ends the collection's use: every later call returns `why` (NotFound
  // after DropCollection, FailedPrecondition when its database closes).
  // Waits for the calls in progress, then releases the index and the
  // embedder; nothing reads the store afterwards, so the database may then
  // close it.
  void Close(absl::Status why);

  // Documents and embeddings (collection_documents.cc).
  // Visits the ids of the documents (not passages) in label order whose
  // metadata matches `filter` (every one when null) until fn returns an
  // error; a Cancelled error stops the scan without being an error.
  // The documents that exist among `ids`, in that order.
  absl::StatusOr<std::vector<Document>> GetBatch(absl::Span<const std::string> ids) const;
  absl::Status ScanDocuments(const Filter* filter,
                             const std::function<absl::Status(const std::string& id)>& fn) const;
  absl::Status UpdateMetadata(absl::Span<const std::string> ids,
                              absl::Span<const nlohmann::json> metadatas, const WriteOptions& wo);
  absl::StatusOr<std::vector<float>> Embed(absl::Span<const std::string_view> texts) const;

 private:
  Impl(const CollectionEnv& env, CollectionRecord record);

  // What is stored for one document: its index entries (the document
  // itself, or its passages in a chunked collection) and their ids.
  struct StoredEntries {
    std::vector<uint64_t> labels;
    std::vector<std::string> ids;
  };
  absl::StatusOr<std::optional<StoredEntries>> FindEntries(std::string_view id) const;

  // All require write_mu_.
  // Adds the removal of a document's entries to `batch` and `side_indexes`
  // (documents, vectors, index log), updates `counters`, and appends the
  // labels removed to `removed`.
  absl::Status RemoveEntriesLocked(const StoredEntries& entries, StoreBatch& batch,
                                   DocumentIndexes::Update& side_indexes, Counters& counters,
                                   std::vector<uint64_t>* removed) const;
  // Commits a write built by Write or Delete: finishes `side_indexes`,
  // writes `batch` with `counters`, then publishes the counters and applies
  // `update_index` to the index under state_mu_, so that searches see
  // storage and index change together. Storage is authoritative: when the
  // index update fails, the index is rebuilt from it.
  absl::Status CommitWriteLocked(StoreBatch& batch, DocumentIndexes::Update& side_indexes,
                                 const Counters& counters, const WriteOptions& wo,
                                 const std::function<absl::Status(VectorIndex&)>& update_index);
  absl::Status RefitLocked();
  // RefitLocked, then records its outcome in fit_error_ under state_mu_
  // (searches read fit_error_ under the shared lock). Returns the outcome.
  absl::Status RefitAndRecordLocked();
  absl::Status LoadOrRebuildIndexLocked();
  absl::Status RebuildIndexLocked(const std::string& reason);
  // Rebuilds when the index asks for it (see index_builder.h).
  absl::Status MaintainIndexLocked();
  absl::Status SaveIndexLocked();
  void MaintainAfterWriteLocked();

  // The search path (collection_search.cc). All require state_mu_
  // (shared) and an index. `query` is normalized; `text` is the query text
  // for hybrid search (empty for vector queries). With `explain`, the plan
  // and estimates are written there and, unless `analyze`, nothing runs.
  struct FilterEstimate;
  struct SearchTrace;
  absl::StatusOr<std::vector<Hit>> SearchLocked(absl::Span<const float> query,
                                                const SearchOptions& options,
                                                std::string_view text, nlohmann::json* explain,
                                                bool analyze) const;
  // Embeds a text query (state_mu_ shared held) into `vector`.
  // `zero_vector` not null: a query with no word the model knows is not an
  // error; *zero_vector says whether it had none.
  absl::Status EmbedQueryLocked(std::string_view query, std::vector<float>* vector,
                                bool* zero_vector = nullptr) const;
  // Embeds a text query unless the keyword ranking alone answers it, and
  // returns the options to search with: a query with no word the model
  // knows is answered by the keyword ranking (hybrid 1), or, without a
  // keyword index, by nothing (nullopt).
  absl::StatusOr<std::optional<SearchOptions>> PrepareTextQueryLocked(
      std::string_view query, const SearchOptions& options, std::vector<float>* vector) const;
  absl::StatusOr<bool> MatchesLocked(uint64_t label, const Filter& filter) const;
  // Cached per filter text until the next write.
  absl::StatusOr<FilterEstimate> EstimateFilterLocked(const Filter& filter) const;
  // `text` is filter.ToString(): it seeds the metadata sample.
  absl::StatusOr<FilterEstimate> ComputeFilterEstimateLocked(const Filter& filter,
                                                             const std::string& text) const;
  // Every matching label, sorted.
  absl::StatusOr<std::vector<uint64_t>> ListMatchesLocked(const Filter& filter,
                                                          const FilterEstimate& estimate,
                                                          SearchTrace* trace) const;
  // Exact top k over the stored vectors of `labels`.
  absl::StatusOr<std::vector<IndexHit>> ScanLabelsLocked(absl::Span<const float> query, int k,
                                                         const std::vector<uint64_t>& labels,
                                                         SearchTrace* trace) const;
  // Exact top k over every live vector accepted by `predicate`.
  absl::StatusOr<std::vector<IndexHit>> ExactScanLocked(absl::Span<const float> query, int k,
                                                        const LabelPredicate* predicate,
                                                        SearchTrace* trace) const;
  absl::StatusOr<std::vector<IndexHit>> RunPlanLocked(absl::Span<const float> query,
                                                      const SearchOptions& options,
                                                      const QueryPlan& plan,
                                                      const FilterEstimate* estimate,
                                                      SearchTrace* trace) const;
  absl::StatusOr<std::vector<IndexHit>> KeywordRankingLocked(std::string_view text, int depth,
                                                             const Filter* filter,
                                                             SearchTrace* trace) const;
  // The documents of `found`, best first, at most k; with one_per_parent
  // only the best passage of each document. The labels of the hits kept go
  // to `labels`.
  absl::StatusOr<std::vector<Hit>> AssembleHitsLocked(const std::vector<IndexHit>& found, int k,
                                                      bool one_per_parent,
                                                      std::vector<uint64_t>* labels) const;
  absl::Status CheckUsableLocked() const;
  // CheckUsableLocked, and the hybrid option's preconditions.
  absl::Status CheckSearchableLocked(const SearchOptions& options, bool text) const;
  absl::Status NoIndexLocked() const;
  int64_t DocumentsLocked() const {
    return chunker_.enabled() ? counters_.documents : counters_.live_docs;
  }
  // The embedder as word vectors, or why not. Requires state_mu_ (shared).
  absl::StatusOr<const WordVectorEmbedder*> WordVectorsLocked() const;
  bool Sync(const WriteOptions& wo) const { return wo.sync.value_or(env_.options.sync); }

  const CollectionEnv env_;
  const std::string name_;
  const uint32_t id_;
  const bool caller_vectors_;  // a "vectors dim=N" collection
  Chunker chunker_;            // set by Open, then constant
  // Field and keyword indexes, fixed at creation; thread-safe to read.
  const std::unique_ptr<DocumentIndexes> doc_indexes_;

  mutable std::mutex write_mu_;
  mutable std::shared_mutex state_mu_;
  // Guarded by state_mu_; changed only with write_mu_ held too.
  CollectionRecord record_;
  Counters counters_;
  std::unique_ptr<Embedder> embedder_;  // null for "vectors" collections
  std::unique_ptr<VectorIndex> index_;  // null until there is a dimension
  absl::Status closed_;  // why the collection is no longer usable (Close)
  absl::Status embedder_error_;  // why the embedder could not be created
  absl::Status fit_error_;       // why the last fit failed
  absl::Status probe_error_;     // the model is not the one of the vectors
  std::string index_origin_;     // how the index was obtained, for Stats

  // Guarded by write_mu_.
  uint64_t saved_seq_ = 0;  // last log entry contained in the saved index

  // Filter estimates of the collection as of log sequence estimate_seq_
  // (searches fill it under the shared state lock, hence its own mutex).
  mutable std::mutex estimate_mu_;
  mutable uint64_t estimate_seq_ = 0;
  mutable absl::flat_hash_map<std::string, std::shared_ptr<const FilterEstimate>>
      estimate_cache_;
};

}  // namespace semdb

#endif  // SEMDB_SRC_COLLECTION_IMPL_H_
