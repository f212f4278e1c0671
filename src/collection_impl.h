// Collection::Impl: one collection's documents, embedder and index.
//
// Concurrency (checked by clang's -Wthread-safety, see the annotations):
// write_mu_ serializes everything that changes the collection (writes,
// refits, index saves). state_mu_ guards what searches read (the record,
// counters, embedder and index): searches hold it shared; a writer, holding
// write_mu_, reads the state under a shared lock too (never blocked: only
// write_mu_'s holder ever takes state_mu_ exclusively) and takes it
// exclusively only to swap in a new state or apply a committed batch to the
// index, so searches are never blocked for an embedding, a storage write or
// a whole refit. The order is write_mu_, state_mu_, then the mutexes of the
// search caches (src/search/).
//
// Consistency with storage: a batch is committed to RocksDB first, then
// applied to the in-memory index. The index log, written in the same batch,
// lets a reopen bring a saved index up to date; a saved index that does not
// match storage is rebuilt from the stored vectors.
#ifndef SEMDB_SRC_COLLECTION_IMPL_H_
#define SEMDB_SRC_COLLECTION_IMPL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "semdb/database.h"
#include "semdb/embedder.h"
#include "semdb/model_state.h"
#include "semdb/vector_index.h"
#include "src/chunker.h"
#include "src/document_indexes.h"
#include "src/label_directory.h"
#include "src/search/filter_estimate.h"
#include "src/search/recall_curve_cache.h"
#include "src/search/search_view.h"
#include "storage/store.h"

namespace semdb {

class WordVectorEmbedder;

// What a collection needs from its database.
struct CollectionEnv {
  Store* store = nullptr;  // valid until the collection is closed
  Options options;
  std::string index_dir;
  EmbedderContext embedder_context;
};

// The longest text of a document or a query.
inline constexpr size_t kMaxTextBytes = size_t{64} << 20;

// A text query needs something besides white space: InvalidArgument "the
// query is empty" (checked before the collection's state, so that an
// empty collection refuses it as any other does).
absl::Status CheckQueryText(std::string_view query);

// `s` with `context` before its message.
absl::Status WithContext(const absl::Status& s, const std::string& context);

// Metadata must serialize as JSON: strings valid UTF-8, numbers finite,
// nesting bounded. `depth` is that of `metadata` (0 at the top).
absl::Status ValidateMetadata(const nlohmann::json& metadata, int depth);

// Scales `v` to unit length (keeping one already of unit length, within
// what `storage` keeps of its values, as it is); errors for a size other
// than `dimension`, NaN/Inf and zero.
absl::Status NormalizeVector(std::vector<float>* v, int dimension, VectorStorage storage);

// How the vectors of `embedder` are stored under the vector_storage
// setting `setting` (CollectionRecord::vector_storage).
VectorStorage ResolveVectorStorage(const std::string& setting, const Embedder& embedder);

// Puts the vectors of `labels` (the rows of `vectors`, `dimension` wide,
// with what the embedder saw of each in `stats`) into `batch` as
// generation `gen` of collection `cid`, stored as `storage`, and adds their
// tokens to `counters`.
void PutVectors(StoreBatch& batch, uint32_t cid, uint32_t gen, VectorStorage storage,
                absl::Span<const uint64_t> labels, absl::Span<const float> vectors,
                absl::Span<const TextStats> stats, int dimension, Counters& counters);

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
  CollectionInfo Info() const ABSL_LOCKS_EXCLUDED(state_mu_);

  enum class WriteMode { kInsert, kUpsert };
  // With `fingerprint`, the documents carry vectors (and stats) embedded
  // under that model, which must be the collection's (WriteEmbedded).
  absl::StatusOr<std::vector<std::string>> Write(
      std::vector<Document> docs, WriteMode mode, const WriteOptions& wo,
      std::optional<std::string_view> fingerprint = std::nullopt) ABSL_LOCKS_EXCLUDED(write_mu_, state_mu_);
  absl::StatusOr<Document> Get(std::string_view id) const ABSL_LOCKS_EXCLUDED(state_mu_);
  // Deletes the documents that exist among `ids`; returns how many.
  absl::StatusOr<int64_t> Delete(absl::Span<const std::string> ids, const WriteOptions& wo)
      ABSL_LOCKS_EXCLUDED(write_mu_, state_mu_);
  absl::StatusOr<std::vector<Hit>> Search(std::string_view query,
                                          const SearchOptions& options) const ABSL_LOCKS_EXCLUDED(state_mu_);
  absl::StatusOr<std::vector<Hit>> SearchVector(absl::Span<const float> vector,
                                                const SearchOptions& options) const
      ABSL_LOCKS_EXCLUDED(state_mu_);
  // Several queries: texts, or rows of vectors.
  absl::StatusOr<std::vector<std::vector<Hit>>> SearchBatch(
      absl::Span<const std::string> queries, const SearchOptions& options) const
      ABSL_LOCKS_EXCLUDED(state_mu_);
  absl::StatusOr<std::vector<std::vector<Hit>>> SearchVectorBatch(
      absl::Span<const float> vectors, const SearchOptions& options) const
      ABSL_LOCKS_EXCLUDED(state_mu_);
  // The plan (and with `analyze`, the run) of a search.
  absl::StatusOr<SearchExplanation> Explain(std::string_view query, const SearchOptions& options,
                                            bool analyze) const ABSL_LOCKS_EXCLUDED(state_mu_);
  absl::StatusOr<SearchExplanation> ExplainVector(absl::Span<const float> vector,
                                                  const SearchOptions& options,
                                                  bool analyze) const
      ABSL_LOCKS_EXCLUDED(state_mu_);
  int64_t Count() const ABSL_LOCKS_EXCLUDED(state_mu_);
  absl::Status Refit() ABSL_LOCKS_EXCLUDED(write_mu_, state_mu_);
  absl::StatusOr<double> Similarity(std::string_view a, std::string_view b) const
      ABSL_LOCKS_EXCLUDED(state_mu_);
  absl::Status Checkpoint() ABSL_LOCKS_EXCLUDED(write_mu_, state_mu_);
  absl::Status SetIndex(const std::string& spec) ABSL_LOCKS_EXCLUDED(write_mu_, state_mu_);
  CollectionStats Stats() const ABSL_LOCKS_EXCLUDED(state_mu_);
  absl::StatusOr<std::vector<WordMatch>> NearestWords(std::string_view expression,
                                                      int k) const ABSL_LOCKS_EXCLUDED(state_mu_);
  absl::StatusOr<WordSimilarityResult> EvaluateWordSimilarity(const std::string& path) const
      ABSL_LOCKS_EXCLUDED(state_mu_);

  // Ends the collection's use: every later call returns `why` (NotFound
  // after DropCollection, FailedPrecondition when its database closes).
  // Waits for the calls in progress, then releases the index and the
  // embedder; nothing reads the store afterwards, so the database may then
  // close it.
  void Close(absl::Status why) ABSL_LOCKS_EXCLUDED(write_mu_, state_mu_);

  // Documents and embeddings (collection_documents.cc).
  // The documents that exist among `ids`, in that order.
  absl::StatusOr<std::vector<Document>> GetBatch(absl::Span<const std::string> ids) const
      ABSL_LOCKS_EXCLUDED(state_mu_);
  // Visits the documents (not passages) from label `first_label` on, in
  // label order, whose metadata matches `filter` (every one when null),
  // with the label of their first entry, until fn returns an error; a
  // Cancelled error stops the scan without being an error.
  absl::Status ScanDocuments(
      const Filter* filter, uint64_t first_label,
      const std::function<absl::Status(uint64_t label, const std::string& id)>& fn) const
      ABSL_LOCKS_EXCLUDED(state_mu_);
  // Replaces the documents' metadata, or with `merge` applies each as an
  // RFC 7386 merge patch to the stored metadata.
  absl::Status UpdateMetadata(absl::Span<const std::string> ids,
                              absl::Span<const nlohmann::json> metadatas, bool merge,
                              const WriteOptions& wo) ABSL_LOCKS_EXCLUDED(write_mu_, state_mu_);
  absl::StatusOr<std::vector<float>> Embed(absl::Span<const std::string_view> texts) const
      ABSL_LOCKS_EXCLUDED(state_mu_);

  // Exported models and keyword statistics (collection_model_state.cc).
  absl::StatusOr<ModelState> ExportModel() const ABSL_LOCKS_EXCLUDED(state_mu_);
  absl::Status InstallModel(const ModelState& model) ABSL_LOCKS_EXCLUDED(write_mu_, state_mu_);
  absl::StatusOr<KeywordStatistics> GetKeywordStatistics(std::string_view query) const
      ABSL_LOCKS_EXCLUDED(state_mu_);
  absl::StatusOr<std::vector<Hit>> KeywordSearch(std::string_view query,
                                                 const SearchOptions& options,
                                                 const KeywordStatistics* global) const
      ABSL_LOCKS_EXCLUDED(state_mu_);

 private:
  // `embedder` is null when it could not be created, and `embedder_error`
  // says why.
  Impl(const CollectionEnv& env, CollectionRecord record, std::unique_ptr<Embedder> embedder,
       absl::Status embedder_error);

  // What is stored for one document: its index entries (the document
  // itself, or its passages in a chunked collection) and their ids.
  struct StoredEntries {
    std::vector<uint64_t> labels;
    std::vector<std::string> ids;
  };
  absl::StatusOr<std::optional<StoredEntries>> FindEntries(std::string_view id) const;
  // FindEntries of many ids (of an unchunked collection: in one batched read).
  absl::StatusOr<std::vector<std::optional<StoredEntries>>> FindEntries(
      absl::Span<const std::string_view> ids) const;

  // Copies the record and the counters (under the shared lock): the state
  // as a writer sees it, which stays so while it holds write_mu_.
  void CopyStateLocked(CollectionRecord* record, Counters* counters) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_LOCKS_EXCLUDED(state_mu_);

  // Sets the state from storage at Open (chunker, counters, the embedder's
  // model); *refit says whether the model must be fitted first.
  absl::Status OpenStateLocked(bool* refit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, state_mu_);

  // A write built from the state (BuildWriteLocked), then committed by
  // CommitWriteLocked: the stored changes, the counters after them, and the
  // index entries removed and added (`vectors` holds those of `labels`).
  struct PendingWrite {
    PendingWrite(const Store& store, const DocumentIndexes& indexes)
        : batch(store), side_indexes(indexes) {}
    StoreBatch batch;
    DocumentIndexes::Update side_indexes;
    Counters counters;
    std::vector<uint64_t> removed;
    std::vector<uint64_t> labels;
    std::vector<float> vectors;
  };
  // Write's work between validation and commit, on validated `docs`
  // (`spans`: the passages of each in a chunked collection; `batch_ids`:
  // the ids the caller gave): checks the model, finds the documents
  // replaced, assigns ids and labels, embeds, and fills `w`.
  absl::Status BuildWriteLocked(WriteMode mode, std::optional<std::string_view> fingerprint,
                                const std::vector<std::vector<TextSpan>>& spans,
                                const absl::flat_hash_set<std::string_view>& batch_ids,
                                std::vector<Document>& docs, PendingWrite* w) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_SHARED_LOCKS_REQUIRED(state_mu_);

  // Adds the removal of a document's entries to `batch` and `side_indexes`
  // (documents, vectors, index log), updates `counters`, and appends the
  // labels removed to `removed`.
  absl::Status RemoveEntriesLocked(const StoredEntries& entries, StoreBatch& batch,
                                   DocumentIndexes::Update& side_indexes, Counters& counters,
                                   std::vector<uint64_t>* removed) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_SHARED_LOCKS_REQUIRED(state_mu_);
  // Commits a write built by Write or Delete: finishes `side_indexes`,
  // writes `batch` with `counters`, then publishes the counters and applies
  // `update_index` to the index under state_mu_, so that searches see
  // storage and index change together. Storage is authoritative: when the
  // index update fails, the index is rebuilt from it.
  absl::Status CommitWriteLocked(StoreBatch& batch, DocumentIndexes::Update& side_indexes,
                                 const Counters& counters, const WriteOptions& wo,
                                 const std::function<absl::Status(VectorIndex&)>& update_index)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_LOCKS_EXCLUDED(state_mu_);
  absl::Status RefitLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_)
      ABSL_LOCKS_EXCLUDED(state_mu_);
  // Embeds every document with `fresh` (holding `model`) into a new
  // generation beside the current one, rebuilds the index and switches to
  // it in one write; `installed` marks a model installed from elsewhere.
  absl::Status SwitchModelLocked(std::unique_ptr<Embedder> fresh, const ModelState& model,
                                 bool installed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_LOCKS_EXCLUDED(state_mu_);
  // The stored state of the model in use.
  absl::StatusOr<ModelState> ExportModelLocked() const ABSL_SHARED_LOCKS_REQUIRED(state_mu_);
  absl::StatusOr<std::string> ModelFingerprintLocked() const
      ABSL_SHARED_LOCKS_REQUIRED(state_mu_);
  // RefitLocked, then records its outcome in fit_error_ (searches read it).
  // Returns the outcome.
  absl::Status RefitAndRecordLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_)
      ABSL_LOCKS_EXCLUDED(state_mu_);
  // The index lifecycle: each reads the state under a shared lock and swaps
  // in a new index under the exclusive one.
  absl::Status LoadOrRebuildIndexLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_)
      ABSL_LOCKS_EXCLUDED(state_mu_);
  absl::Status RebuildIndexLocked(const std::string& reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_LOCKS_EXCLUDED(state_mu_);
  // Rebuilds when the index asks for it (see index_builder.h).
  absl::Status MaintainIndexLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_)
      ABSL_LOCKS_EXCLUDED(state_mu_);
  absl::Status SaveIndexLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_)
      ABSL_LOCKS_EXCLUDED(state_mu_);
  // Measures the index's recall curve unless one fits it, and stores it in
  // the record (src/search/recall_curve_cache.h): by the writer, so that no
  // search waits for it.
  absl::Status UpdateRecallCurveLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_)
      ABSL_LOCKS_EXCLUDED(state_mu_);
  void MaintainAfterWriteLocked(const WriteOptions& wo) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_)
      ABSL_LOCKS_EXCLUDED(state_mu_);

  // The search path: the functions of src/search/ run on this view of the
  // state (see src/search/search_view.h), valid while state_mu_ is held.
  SearchView SearchViewLocked() const ABSL_SHARED_LOCKS_REQUIRED(state_mu_);
  // Embeds a text query into `vector`.
  // `zero_vector` not null: a query with no word the model knows is not an
  // error; *zero_vector says whether it had none.
  absl::Status EmbedQueryLocked(std::string_view query, std::vector<float>* vector,
                                bool* zero_vector = nullptr) const
      ABSL_SHARED_LOCKS_REQUIRED(state_mu_);
  // Embeds a text query unless the keyword ranking alone answers it, and
  // returns the options to search with: a query with no word the model
  // knows is answered by the keyword ranking (hybrid 1), or, without a
  // keyword index, by nothing (nullopt).
  absl::StatusOr<std::optional<SearchOptions>> PrepareTextQueryLocked(
      std::string_view query, const SearchOptions& options, std::vector<float>* vector) const
      ABSL_SHARED_LOCKS_REQUIRED(state_mu_);
  absl::Status CheckUsableLocked() const ABSL_SHARED_LOCKS_REQUIRED(state_mu_);
  // CheckUsableLocked, and the hybrid option's preconditions.
  absl::Status CheckSearchableLocked(const SearchOptions& options, bool text) const
      ABSL_SHARED_LOCKS_REQUIRED(state_mu_);
  absl::Status NoIndexLocked() const ABSL_SHARED_LOCKS_REQUIRED(state_mu_);
  int64_t DocumentsLocked() const ABSL_SHARED_LOCKS_REQUIRED(state_mu_) {
    return chunker_.enabled() ? counters_.documents : counters_.live_docs;
  }
  // The embedder as word vectors, or why not.
  absl::StatusOr<const WordVectorEmbedder*> WordVectorsLocked() const
      ABSL_SHARED_LOCKS_REQUIRED(state_mu_);
  bool Sync(const WriteOptions& wo) const { return wo.sync.value_or(env_.options.sync); }

  const CollectionEnv env_;
  const std::string name_;
  const uint32_t id_;
  // The embedder's capabilities().caller_vectors ("vectors dim=N"): the
  // collection stores the caller's vectors and embeds no text.
  const bool caller_vectors_;
  Chunker chunker_;            // set by Open, then constant
  // Field and keyword indexes, fixed at creation; thread-safe to read.
  const std::unique_ptr<DocumentIndexes> doc_indexes_;

  mutable absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(state_mu_);
  mutable absl::Mutex state_mu_;
  // Changed only with write_mu_ held too.
  CollectionRecord record_ ABSL_GUARDED_BY(state_mu_);
  Counters counters_ ABSL_GUARDED_BY(state_mu_);
  // null when it could not be created (embedder_error_) or is closed
  std::unique_ptr<Embedder> embedder_ ABSL_GUARDED_BY(state_mu_);
  // null until there is a dimension
  std::unique_ptr<VectorIndex> index_ ABSL_GUARDED_BY(state_mu_);
  // why the collection is no longer usable (Close)
  absl::Status closed_ ABSL_GUARDED_BY(state_mu_);
  // why the embedder could not be created
  absl::Status embedder_error_ ABSL_GUARDED_BY(state_mu_);
  absl::Status fit_error_ ABSL_GUARDED_BY(state_mu_);    // why the last fit failed
  absl::Status probe_error_ ABSL_GUARDED_BY(state_mu_);  // the model is not the vectors'
  std::string index_origin_ ABSL_GUARDED_BY(state_mu_);  // how the index was obtained
  // Advanced whenever a writer publishes changed documents or counters
  // (CommitWriteLocked, a refit's switch): the version filter estimates are
  // valid for. Not the log sequence: a metadata update logs no index change.
  uint64_t state_version_ ABSL_GUARDED_BY(state_mu_) = 0;

  // Label -> id and passage position of the entries searches have hit.
  mutable LabelDirectory label_entries_;

  // The last log entry contained in the saved index.
  uint64_t saved_seq_ ABSL_GUARDED_BY(write_mu_) = 0;

  // Filled by searches (thread-safe on their own, so under the shared
  // state lock; their mutexes come after state_mu_).
  mutable FilterEstimateCache filter_estimates_;
  mutable RecallCurveCache recall_curves_;
};

}  // namespace semdb

#endif  // SEMDB_SRC_COLLECTION_IMPL_H_
