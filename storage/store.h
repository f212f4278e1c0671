// Store: semdb's records in one RocksDB database, the source of truth.
//
// Writes go through StoreBatch, one rocksdb::WriteBatch applied atomically
// with the write-ahead log on. Reads are typed point lookups and prefix
// scans. A Store is thread-safe, as RocksDB is; callers order their own
// read-modify-write sequences (see Collection).
//
// Vector-file mode (every database created since it exists): the values of
// the vectors live in an append-only file beside RocksDB
// (storage/vector_file.h), written once with one write call per batch
// before the WriteBatch that references them (a VectorRef per vector,
// records.h); with sync, the file is fdatasync'ed before the WAL. A
// database written before keeps its vectors inside RocksDB, read and
// written as before (the key "vector_file" of the default family says
// which). Dead bytes of the file (deleted or replaced vectors, dropped
// generations and collections, a crash's unreferenced tail) are reclaimed
// by Reclaim, and by Flush once a vector or collection was deleted (a
// count of them kept with the deletes decides without a scan): when
// they outnumber the live ones, the live values are copied to a new file, the references switched
// in one synced WriteBatch, and the old file deleted (a crash at any step
// leaves one consistent file; the other is deleted at open).
#ifndef SEMDB_STORAGE_STORE_H_
#define SEMDB_STORAGE_STORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "storage/document_cache.h"
#include "storage/records.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace semdb {

class StoreBatch;
class VectorFile;
class VectorFileSyncer;

// Secondary structures kept beside the documents, one column family each.
// Their key layout belongs to their owners (src/field_index.h,
// src/keyword_index.h); the store prefixes every key with the collection
// id, and dropping a collection deletes them with the rest.
enum class AuxIndex { kFields, kPostings };

struct StoreOptions {
  bool create_if_missing = true;
  bool error_if_exists = false;
  bool read_only = false;  // Options::read_only: every write is refused
  // Options::document_cache_bytes: the budget of the cache of hits'
  // documents and metadata (storage/document_cache.h); 0: no cache.
  size_t document_cache_bytes = 0;
};

class Store {
 public:
  // Opens (or creates) the RocksDB database in `path`. Another process
  // holding it open gives FailedPrecondition "database is locked".
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     const StoreOptions& options);
  ~Store();

  // Applies `batch` atomically; with sync, the WAL is fsynced first. After a
  // failed write (a full disk, an I/O error) every later write and sync
  // returns that first failure: RocksDB stops accepting writes then, and its
  // file writers must not be used again (Debian's build asserts).
  absl::Status Write(StoreBatch& batch, bool sync);
  // Makes every write so far durable (fsync of the WAL).
  absl::Status SyncWal();
  // Writes the memtables to table files, so that the WAL can be deleted and
  // the next open has nothing to replay (RocksDB does not flush at close
  // when the WAL holds the writes). The vector file is synced first, and
  // rewritten first when vectors were deleted and its dead bytes outnumber
  // the live ones.
  absl::Status Flush();
  // Reclaims the vector file's dead bytes when they outnumber the live ones
  // (see above), flushes, then compacts collection `cid`'s keys in every
  // family: drops
  // what range deletes removed (the vectors of replaced model generations
  // after a refit, a truncated index log) from disk now rather than at some
  // later compaction.
  absl::Status Reclaim(uint32_t cid);

  // --- collections
  absl::StatusOr<std::vector<CollectionRecord>> ListCollections() const;
  absl::StatusOr<std::optional<CollectionRecord>> GetCollection(
      const std::string& name) const;
  absl::StatusOr<uint32_t> NextCollectionId() const;
  absl::StatusOr<Counters> GetCounters(uint32_t cid) const;
  // Whether the collection has vectors or embedder state of a generation
  // other than `keep` (what StoreBatch::DeleteOtherGenerations deletes).
  absl::StatusOr<bool> HasOtherGenerations(uint32_t cid, uint32_t keep) const;

  // --- documents
  absl::StatusOr<std::optional<uint64_t>> GetLabel(uint32_t cid,
                                                   std::string_view id) const;
  // The labels of many ids in one batched read (RocksDB's MultiGet: one
  // pass over the memtables and each table file's filter); missing ones are
  // nullopt.
  absl::Status MultiGetLabels(uint32_t cid, absl::Span<const std::string_view> ids,
                              std::vector<std::optional<uint64_t>>* labels) const;
  absl::StatusOr<std::optional<DocumentRecord>> GetDocument(uint32_t cid,
                                                            uint64_t label) const;
  // Metadata JSON text, "{}" when a document has none stored.
  absl::StatusOr<std::optional<std::string>> GetMetadata(uint32_t cid,
                                                         uint64_t label) const;
  // Looks up the documents of `doc_labels` and the metadata of
  // `meta_labels` (either may be empty): from the document cache, the rest
  // in one batched read (which fills the cache); missing ones are nullopt
  // (documents and metadata). Metadata comes parsed (MetadataValue,
  // document_cache.h), a value of the caller's own.
  absl::Status MultiGetDocuments(
      uint32_t cid, absl::Span<const uint64_t> doc_labels,
      absl::Span<const uint64_t> meta_labels,
      std::vector<std::optional<DocumentRecord>>* docs,
      std::vector<MetadataValue>* metadata) const;

  // Visits every document from label `first_label` on (label order) until
  // fn returns an error.
  absl::Status ScanDocuments(
      uint32_t cid, const std::function<absl::Status(uint64_t label, DocumentRecord&)>& fn,
      uint64_t first_label = 0) const;
  absl::Status ScanMetadata(
      uint32_t cid,
      const std::function<absl::Status(uint64_t label, std::string_view json)>& fn)
      const;

  // --- vectors of generation `gen`, stored as `storage` says (the
  // collection record's vector_encoding: the records do not say it)
  absl::StatusOr<std::optional<VectorRecord>> GetVector(uint32_t cid, uint32_t gen,
                                                        VectorStorage storage,
                                                        uint64_t label) const;
  absl::Status ScanVectors(
      uint32_t cid, uint32_t gen, VectorStorage storage,
      const std::function<absl::Status(uint64_t label, VectorRecord&)>& fn) const;
  // Looks up many vectors at once; missing ones are nullopt.
  absl::Status MultiGetVectors(uint32_t cid, uint32_t gen, VectorStorage storage,
                               absl::Span<const uint64_t> labels,
                               std::vector<std::optional<VectorRecord>>* vectors) const;

  // --- auxiliary indexes: keys relative to the collection
  absl::StatusOr<std::optional<std::string>> GetAux(AuxIndex index, uint32_t cid,
                                                    std::string_view key) const;
  // Visits the keys in [begin, end) in order (an empty end: to the last
  // key) until fn returns an error; a Cancelled error stops the scan
  // without being an error.
  absl::Status ScanAux(
      AuxIndex index, uint32_t cid, std::string_view begin, std::string_view end,
      const std::function<absl::Status(std::string_view key, std::string_view value)>& fn)
      const;

  // --- index log, from sequence number `from` on
  absl::Status ScanLog(
      uint32_t cid, uint64_t from,
      const std::function<absl::Status(uint64_t seq, const LogOp&)>& fn) const;
  // The smallest sequence number still in the log, if any.
  absl::StatusOr<std::optional<uint64_t>> FirstLogSeq(uint32_t cid) const;

  // --- parents of chunked collections
  absl::StatusOr<std::optional<ParentRecord>> GetParent(uint32_t cid,
                                                        std::string_view id) const;
  absl::StatusOr<std::optional<std::string>> GetParentText(uint32_t cid,
                                                           std::string_view id) const;

  // --- embedder state of generation `gen` (reassembled from chunks)
  absl::StatusOr<std::optional<std::string>> GetEmbedderState(uint32_t cid,
                                                             uint32_t gen) const;
  // --- index training installed with the model of generation `gen`
  // (VectorIndex::ExportTraining bytes; none for an index trained on its own)
  absl::StatusOr<std::optional<std::string>> GetIndexTraining(uint32_t cid,
                                                              uint32_t gen) const;

  const std::string& path() const { return path_; }
  // Whether vector values live in the vector file (else inside RocksDB).
  bool vector_file_mode() const { return vector_file_mode_; }
  // The vector file's number and size in bytes ({0, 0} without one), and
  // its dead bytes when counted (see kDeadBytesKey in store.cc).
  struct VectorFileUsage {
    uint32_t number = 0;
    uint64_t bytes = 0;
    std::optional<uint64_t> dead_bytes;
  };
  VectorFileUsage vector_file_usage() const ABSL_LOCKS_EXCLUDED(vector_files_mu_);
  // What the document cache holds now: entries and their estimated bytes
  // (both 0 without a cache).
  struct CacheUsage {
    size_t entries = 0, bytes = 0;
  };
  CacheUsage document_cache_usage() const;

 private:
  friend class StoreBatch;
  Store() = default;

  // At close: flushes, then makes RocksDB delete the WAL files the flush
  // made obsolete (store.cc says why it has to be asked). Best effort.
  void RetireWalFiles();

  // Opens the vector file the database names, or starts one in a new
  // database; deletes files a crashed reclaim left.
  absl::Status OpenVectorFile(bool read_only);
  // ScanVectors in vector-file mode.
  absl::Status ScanVectorFile(
      uint32_t cid, uint32_t gen, VectorStorage storage,
      const std::function<absl::Status(uint64_t label, VectorRecord&)>& fn) const
      ABSL_LOCKS_EXCLUDED(vector_files_mu_);
  // The values `ref_bytes` (an encoded VectorRef) point to, checked against
  // the reference's CRC.
  absl::Status LoadVector(std::string_view ref_bytes, VectorStorage storage,
                          VectorRecord* out) const ABSL_SHARED_LOCKS_REQUIRED(vector_files_mu_);
  // A vector record as stored (legacy) or referenced (vector-file mode).
  absl::StatusOr<VectorRecord> DecodeVector(std::string_view value, VectorStorage storage) const
      ABSL_SHARED_LOCKS_REQUIRED(vector_files_mu_);
  // Appends the batch's vector values to the file and adds their references
  // to the batch.
  absl::Status AppendVectors(StoreBatch& batch, bool sync)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(vector_write_mu_) ABSL_SHARED_LOCKS_REQUIRED(vector_files_mu_);
  // Applies the batch's WriteBatch (with the document cache's bracketing).
  absl::Status ApplyBatch(StoreBatch& batch, bool sync);
  // Rewrites the vector file without its dead bytes when they outnumber the
  // live ones (see the class comment). The dead bytes counted by writes
  // decide, unless `recount` or not known: then every reference is read,
  // and the count recorded.
  absl::Status ReclaimVectorFile(bool recount)
      ABSL_LOCKS_EXCLUDED(vector_write_mu_, vector_files_mu_);
  // The dead bytes once `batch` is written: the lengths of the references
  // it deletes added to the count, which goes into the batch; nullopt (and
  // the count's record deleted) when it drops a collection or when the
  // count is not known.
  absl::StatusOr<std::optional<uint64_t>> CountDeadBytes(StoreBatch& batch) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(vector_write_mu_) ABSL_SHARED_LOCKS_REQUIRED(vector_files_mu_);
  void SetDeadBytes(std::optional<uint64_t> dead) ABSL_EXCLUSIVE_LOCKS_REQUIRED(vector_write_mu_);
  absl::Status SyncVectorFile() const ABSL_LOCKS_EXCLUDED(vector_files_mu_);

  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned, see ~Store

  // The value at `key` in column family `family` (store.cc's Family), or
  // nullopt; `what` says what was read in an error.
  absl::StatusOr<std::optional<std::string>> ReadValue(size_t family, std::string_view key,
                                                       const char* what) const;
  // MultiGetDocuments from RocksDB alone, in one consistent state.
  absl::Status ReadDocuments(uint32_t cid, absl::Span<const uint64_t> doc_labels,
                             absl::Span<const uint64_t> meta_labels,
                             std::vector<std::optional<DocumentRecord>>* docs,
                             std::vector<MetadataValue>* metadata) const;
  absl::Status WriteFailure() const ABSL_LOCKS_EXCLUDED(failure_mu_);
  // The chunks of generation `gen`'s state from chunk number `first` on,
  // concatenated (see store.cc, kIndexTrainingChunks).
  absl::StatusOr<std::optional<std::string>> GetStateChunks(uint32_t cid, uint32_t gen,
                                                            uint32_t first) const;
  absl::Status RecordFailure(absl::Status s) ABSL_LOCKS_EXCLUDED(failure_mu_);
  bool read_only_ = false;
  std::unique_ptr<DocumentCache> cache_;  // null when off

  bool vector_file_mode_ = false;
  // Held by writes that touch vectors (append + WriteBatch, in file order)
  // and by a reclaim from start to end.
  absl::Mutex vector_write_mu_ ABSL_ACQUIRED_BEFORE(vector_files_mu_);
  // Shared by readers from a reference's read to its values' read;
  // exclusive while a reclaim switches files.
  mutable absl::Mutex vector_files_mu_;
  std::shared_ptr<VectorFile> vector_file_ ABSL_GUARDED_BY(vector_files_mu_);
  // Syncs the vector file before RocksDB flushes a memtable: a table file
  // never holds references to values that a power loss could take.
  std::shared_ptr<VectorFileSyncer> syncer_;
  // Vector deletes written since the last reclaim decision.
  std::atomic<uint64_t> vector_deletes_{0};
  // The vector file's dead bytes, when known (kDeadBytesKey), and a copy
  // for vector_file_usage (-1: not known) that takes no lock a reclaim
  // holds.
  std::optional<uint64_t> dead_bytes_ ABSL_GUARDED_BY(vector_write_mu_);
  std::atomic<int64_t> dead_bytes_seen_{-1};
  mutable absl::Mutex failure_mu_;
  absl::Status failure_ ABSL_GUARDED_BY(failure_mu_);  // the first failed write
};

// A set of writes applied atomically by Store::Write.
class StoreBatch {
 public:
  explicit StoreBatch(const Store& store);
  ~StoreBatch();

  void PutCollection(const CollectionRecord& record);
  void DeleteCollection(const CollectionRecord& record);  // and all its data
  void PutNextCollectionId(uint32_t next);
  void PutCounters(uint32_t cid, const Counters& counters);

  void PutDocument(uint32_t cid, uint64_t label, const DocumentRecord& doc,
                   std::string_view metadata_json);
  void DeleteDocument(uint32_t cid, uint64_t label, std::string_view id);

  // The values are stored as `storage` says (float16: each rounded to the
  // nearest half).
  void PutVector(uint32_t cid, uint32_t gen, VectorStorage storage, uint64_t label,
                 const VectorRecord& vector);
  // The same record from its parts: float32 values are not copied (a bulk
  // write of pre-embedded vectors spends its time copying them): they must
  // stay valid until the batch is written or destroyed.
  void PutVector(uint32_t cid, uint32_t gen, VectorStorage storage, uint64_t label,
                 int32_t tokens, int32_t unknown_tokens, absl::Span<const float> values);
  void DeleteVector(uint32_t cid, uint32_t gen, uint64_t label);
  // Deletes the vectors and embedder state of every generation except `keep`.
  void DeleteOtherGenerations(uint32_t cid, uint32_t keep);

  void PutAux(AuxIndex index, uint32_t cid, std::string_view key, std::string_view value);
  void DeleteAux(AuxIndex index, uint32_t cid, std::string_view key);

  void AppendLog(uint32_t cid, uint64_t seq, const LogOp& op);
  // Deletes log entries with sequence numbers below `end`.
  void TruncateLog(uint32_t cid, uint64_t end);

  void PutEmbedderState(uint32_t cid, uint32_t gen, std::string_view state);
  void PutIndexTraining(uint32_t cid, uint32_t gen, std::string_view training);

  // A chunked document's record and text (its passages are PutDocument'ed).
  void PutParent(uint32_t cid, std::string_view id, const ParentRecord& parent,
                 std::string_view text);
  void DeleteParent(uint32_t cid, std::string_view id);

  size_t ByteSize() const;
  size_t Count() const;

 private:
  friend class Store;
  void PutStateChunks(uint32_t cid, uint32_t gen, uint32_t first, std::string_view bytes);
  // Vector-file mode: a vector whose values are appended to the file when
  // the batch is written, and whose reference is added to the batch then.
  void AddPendingVector(uint32_t cid, uint32_t gen, uint64_t label, int32_t tokens,
                        int32_t unknown_tokens, const char* data, size_t length);
  // Forgets pending vectors a later delete in the batch removes (their
  // references are added after every other write of the batch).
  void DropPendingVectors(const std::function<bool(uint32_t cid, uint32_t gen, uint64_t label)>&
                              deleted);
  const Store& store_;
  std::unique_ptr<rocksdb::WriteBatch> batch_;
  // What the batch changes of the documents, for the document cache.
  std::vector<DocumentCache::Key> documents_;
  std::vector<uint32_t> dropped_;  // collections deleted whole

  struct PendingVector {
    uint32_t cid, gen;
    uint64_t label;
    int32_t tokens, unknown_tokens;
    const char* data;  // the caller's floats or an owned_values_ string
    uint32_t length;
    uint32_t crc;
  };
  std::vector<PendingVector> pending_vectors_;
  std::deque<std::string> owned_values_;  // converted or copied values
  // Vector-file mode: whether the batch writes or deletes vectors, and how
  // many deletes of vectors or collections it holds (a dropped collection
  // counts one). DeleteOtherGenerations counts none: each open clears a
  // crashed refit's generation with it, normally nothing, and counting it
  // would make every close look for dead bytes; a refit calls Reclaim.
  bool touches_vectors_ = false;
  uint64_t vector_deletes_ = 0;
  // Vector-file mode: the keys of the vectors it deletes one by one (their
  // references' lengths are the dead bytes it adds), and whether it drops a
  // collection (whose vectors are not counted one by one).
  std::vector<std::string> deleted_vectors_;
  bool drops_collection_ = false;
};

}  // namespace semdb

#endif  // SEMDB_STORAGE_STORE_H_
