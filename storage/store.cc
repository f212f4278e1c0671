#include "storage/store.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/table.h"
#include "rocksdb/transaction_log.h"
#include "rocksdb/write_batch.h"
#include "checksum/crc32c.h"
#include "rocksdb/listener.h"
#include "storage/bounded_json.h"
#include "storage/crash_point.h"
#include "storage/vector_file.h"

namespace semdb {
namespace {

// Column family order in Store::handles_.
enum Family : size_t {
  kDefault = 0,
  kDocuments,
  kMetadata,
  kIds,
  kVectors,
  kLog,
  kState,
  kParents,
  kParentTexts,
  kFields,
  kPostings,
  kNumFamilies
};
const char* const kFamilyNames[kNumFamilies] = {
    "default", "documents", "metadata", "ids",
    "vectors", "log", "state", "parents", "parent_texts",
    "fields", "postings"};

Family AuxFamily(AuxIndex index) {
  return index == AuxIndex::kFields ? kFields : kPostings;
}

constexpr size_t kStateChunk = 4 << 20;
// The state family holds, per generation, the embedder state in chunks
// numbered from 0 and the installed index training in chunks numbered
// from this one (so both go with their generation).
constexpr uint32_t kIndexTrainingChunks = 0x80000000u;
constexpr char kCollectionPrefix[] = "collection/";
constexpr char kCountersPrefix[] = "counters/";
constexpr char kNextCollectionId[] = "next_collection_id";
// Present in vector-file mode: the number of the current vector file.
constexpr char kVectorFileKey[] = "vector_file";
// The dead bytes of the vector file, when counted: its number (4 bytes)
// and the bytes of its values no reference points to (8), both big-endian.
// Written in the batch of every write that deletes vectors, so that it
// never disagrees with the references; absent while not known (a dropped
// collection's range of vectors is not counted: the next Flush counts).
constexpr char kDeadBytesKey[] = "vector_dead_bytes";

std::string EncodeDeadBytes(uint32_t file, uint64_t dead) {
  std::string v;
  AppendBigEndian32(&v, file);
  AppendBigEndian64(&v, dead);
  return v;
}

std::string CollectionKey(const std::string& name) {
  return kCollectionPrefix + name;
}

std::string CountersKey(uint32_t cid) {
  std::string k = kCountersPrefix;
  AppendBigEndian32(&k, cid);
  return k;
}

std::string CidKey(uint32_t cid) {
  std::string k;
  AppendBigEndian32(&k, cid);
  return k;
}

std::string LabelKey(uint32_t cid, uint64_t label) {
  std::string k = CidKey(cid);
  AppendBigEndian64(&k, label);
  return k;
}

std::string GenKey(uint32_t cid, uint32_t gen) {
  std::string k = CidKey(cid);
  AppendBigEndian32(&k, gen);
  return k;
}

std::string VectorKey(uint32_t cid, uint32_t gen, uint64_t label) {
  std::string k = GenKey(cid, gen);
  AppendBigEndian64(&k, label);
  return k;
}

std::string IdKey(uint32_t cid, std::string_view id) {
  std::string k = CidKey(cid);
  k.append(id);
  return k;
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(std::string(context), ": ", s.ToString());
  // Corruption is a fact about stored data, whatever was being done when
  // RocksDB noticed it (often a write at open, after a read found it).
  if (s.IsCorruption()) {
    return absl::DataLossError(absl::StrCat("the database is corrupt: ", s.ToString()));
  }
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
  return absl::InternalError(msg);
}

// A value read by Store::ReadValue, decoded as a `Record`.
template <typename Record>
absl::StatusOr<std::optional<Record>> Decoded(absl::StatusOr<std::optional<std::string>> value) {
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::nullopt;
  absl::StatusOr<Record> r = Record::Decode(**value);
  if (!r.ok()) return r.status();
  return std::optional<Record>(*std::move(r));
}

// The reference `ref_bytes` encodes, which must be to `file` (the current
// vector file).
absl::StatusOr<VectorRef> DecodeRef(std::string_view ref_bytes, const VectorFile& file) {
  absl::StatusOr<VectorRef> ref = VectorRef::Decode(ref_bytes);
  if (!ref.ok()) return ref.status();
  if (ref->file != file.number()) {
    return absl::DataLossError(absl::StrCat("the database is corrupt: a vector refers to vector file ",
                                            ref->file, ", not to the current one (",
                                            file.number(), ")"));
  }
  return ref;
}

// DataLoss unless the values' `bytes`, read from the vector file at `path`,
// pass `ref`'s checksum.
absl::Status CheckVectorBytes(const VectorRef& ref, std::string_view bytes,
                              const std::string& path) {
  if (ExtendCrc32c(0, bytes.data(), bytes.size()) == ref.crc) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("the database is corrupt: the vector at bytes ",
                                          ref.offset, "-", ref.offset + ref.length, " of ", path,
                                          " fails its checksum"));
}

// The record of `ref` from its values' checked `bytes`.
absl::Status CheckedVector(const VectorRef& ref, std::string_view bytes, VectorStorage storage,
                           const std::string& path, VectorRecord* out) {
  if (absl::Status s = CheckVectorBytes(ref, bytes, path); !s.ok()) return s;
  out->tokens = ref.tokens;
  out->unknown_tokens = ref.unknown_tokens;
  if (!VectorRecord::DecodeValues(bytes, storage, &out->values)) {
    return absl::DataLossError("corrupt vector record: its length is not a whole number of values");
  }
  return absl::OkStatus();
}

// `type` when this RocksDB build has it, else no compression.
rocksdb::CompressionType Supported(rocksdb::CompressionType type) {
  for (rocksdb::CompressionType t : rocksdb::GetSupportedCompressions()) {
    if (t == type) return type;
  }
  return rocksdb::kNoCompression;
}

// What a family holds decides how it is stored, from `base` (the options
// of every family):
//   - vectors and the index log: no compression. float32 vectors shrink by
//     a few percent at most, yet compressing them (LZ4 at flush, ZSTD in
//     the bottom level) was a quarter of the CPU of a bulk ingest
//     (bench/ingest_bench.cc, perf); it also lets compactions of vectors
//     written in label order move files down a level instead of rewriting.
//   - ids (and parents, looked up by id too): whole-key Bloom filters in
//     the table files and the memtable. Every insert looks each of its ids
//     up to tell an insert from a replace, and those ids are mostly new:
//     the filters answer "absent" without reading a block.
rocksdb::ColumnFamilyOptions FamilyOptions(Family family,
                                           const rocksdb::ColumnFamilyOptions& base) {
  rocksdb::ColumnFamilyOptions o = base;
  if (family == kVectors || family == kLog) {
    o.compression = rocksdb::kNoCompression;
    o.bottommost_compression = rocksdb::kDisableCompressionOption;
  }
  if (family == kIds || family == kParents) {
    rocksdb::BlockBasedTableOptions table;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.whole_key_filtering = true;
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    o.memtable_prefix_bloom_size_ratio = 0.02;
    o.memtable_whole_key_filtering = true;
  }
  return o;
}

}  // namespace

// Syncs the current vector file as a memtable flush begins (Store's
// syncer_). Its own leaf mutex: a flush may wait behind a write that holds
// the store's vector locks.
class VectorFileSyncer : public rocksdb::EventListener {
 public:
  void Set(std::shared_ptr<VectorFile> file) {
    absl::MutexLock lock(&mu_);
    file_ = std::move(file);
  }
  void OnFlushBegin(rocksdb::DB*, const rocksdb::FlushJobInfo&) override {
    std::shared_ptr<VectorFile> file;
    {
      absl::MutexLock lock(&mu_);
      file = file_;
    }
    // A failure shows at the next explicit sync (Store::Flush, a synced
    // write), which reports it.
    if (file != nullptr) (void)file->Sync();
  }

 private:
  absl::Mutex mu_;
  std::shared_ptr<VectorFile> file_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                                   const StoreOptions& options) {
  auto store = std::unique_ptr<Store>(new Store());
  store->syncer_ = std::make_shared<VectorFileSyncer>();
  rocksdb::Options db_options;
  db_options.listeners.push_back(store->syncer_);
  db_options.create_if_missing = options.create_if_missing;
  db_options.error_if_exists = options.error_if_exists;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  // A process crash can leave at most an incomplete last WAL record, which
  // recovery drops; damage anywhere else is reported instead of silently
  // ending recovery there (RocksDB's default, kPointInTimeRecovery).
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_options.IncreaseParallelism(2);
  // The open opens the table files on its own thread: RocksDB's default
  // (16) starts 15 threads per column family for it, 165 thread starts per
  // open over the families for a few dozen small files.
  db_options.max_file_opening_threads = 1;
  // Memtables: RocksDB's level-style default budgets 512 MiB per column
  // family (128 MiB buffers, merged two at a time), so the memory of a
  // process that kept writing grew by what it wrote, over eleven families
  // (+136 MiB in the HTTP load benchmark). Here all the families together
  // hold at most 32 MiB (RocksDB flushes the largest beyond it), which
  // bounds the memory a stream of writes takes. 32, not 16: the records of
  // a 100k-vector ingest (the values are in the vector file) fit, so it is
  // flushed once, at close, instead of two or three times with a
  // compaction of level 0 that the close waited for (bench/ingest_bench:
  // CPU 0.71-0.82 s against 0.95-0.96 s, peak RSS unchanged, 117 MiB).
  db_options.OptimizeLevelStyleCompaction(size_t{64} << 20);
  db_options.db_write_buffer_size = size_t{32} << 20;
  db_options.keep_log_file_num = 4;
  // RocksDB's info log is a file on the same disk; Debian's RocksDB 7.8
  // (built with assertions) aborts the process when it logs an error after
  // a write to that file failed, e.g. on a full disk. Log only what cannot
  // be turned off.
  db_options.info_log_level = rocksdb::InfoLogLevel::HEADER_LEVEL;
  // Hits' records found in table files are kept by key (RocksDB's row
  // cache): a hit read again costs a hash lookup, not a block search.
  db_options.row_cache = rocksdb::NewLRUCache(size_t{16} << 20);

  rocksdb::ColumnFamilyOptions cf_options(db_options);
  // Each immutable memtable is flushed on its own. OptimizeLevelStyleCompaction
  // sets 2 (merge two before flushing), under which RocksDB 7.x's manual
  // Flush can wait forever for a memtable its flush job left out (RocksDB
  // issues 13280 and 12094): an import's refit hung in Store::Flush, every
  // background thread idle.
  cf_options.min_write_buffer_number_to_merge = 1;
  // Texts, metadata and postings compress well; OptimizeLevelStyleCompaction
  // leaves the first two levels, where a small database lives, uncompressed.
  cf_options.compression_per_level.clear();
  cf_options.compression = Supported(rocksdb::kLZ4Compression);
  cf_options.bottommost_compression = Supported(rocksdb::kZSTD);
  // Searches read their hits' documents and metadata by point lookups: a
  // Bloom filter per table file lets a lookup skip the files without the
  // key, and one block cache shared by the families keeps the blocks hits
  // were read from (RocksDB's default is 8 MiB; blocks enter it as they
  // are read, so a small database takes no more).
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(size_t{32} << 20);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (size_t f = 0; f < kNumFamilies; ++f) {
    families.emplace_back(kFamilyNames[f], FamilyOptions(static_cast<Family>(f), cf_options));
  }

  store->path_ = path;
  rocksdb::DB* db = nullptr;
  store->read_only_ = options.read_only;
  if (options.document_cache_bytes > 0) {
    store->cache_ = std::make_unique<DocumentCache>(options.document_cache_bytes);
  }
  // A new database is opened with the default family alone and the others
  // are created in one call: RocksDB rewrites and fsyncs its OPTIONS file
  // (40 KB) once per call, and create_missing_column_families creates the
  // families one at a time (11 rewrites at a new database's open, 2 now:
  // strace of bench/ingest_bench). A crash in between leaves a database
  // whose next open creates the missing families as before.
  const bool fresh = !options.read_only && options.create_if_missing &&
                     ::access((path + "/CURRENT").c_str(), F_OK) != 0;
  rocksdb::Status s =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, path, families, &store->handles_, &db)
          : rocksdb::DB::Open(db_options, path,
                              fresh ? std::vector{families[kDefault]} : families,
                              &store->handles_, &db);
  if (!s.ok()) {
    std::string text = s.ToString();
    if (s.IsIOError() && text.find("lock") != std::string::npos) {
      return absl::FailedPreconditionError(absl::StrCat(
          "database ", path, " is locked: another process has it open, or this one "
          "through another handle (close that one first)"));
    }
    if (s.IsInvalidArgument() && text.find("does not exist") != std::string::npos) {
      return absl::NotFoundError(absl::StrCat("no database at ", path));
    }
    if (s.IsInvalidArgument() && text.find("exists") != std::string::npos) {
      return absl::AlreadyExistsError(absl::StrCat("a database exists at ", path));
    }
    return FromRocks(s, absl::StrCat("cannot open database ", path));
  }
  store->db_.reset(db);
  if (fresh) {
    std::vector<rocksdb::ColumnFamilyHandle*> created;
    s = db->CreateColumnFamilies({families.begin() + 1, families.end()}, &created);
    store->handles_.insert(store->handles_.end(), created.begin(), created.end());
    if (!s.ok()) return FromRocks(s, absl::StrCat("cannot create database ", path));
  }
  if (absl::Status v = store->OpenVectorFile(options.read_only); !v.ok()) return v;
  return store;
}

absl::Status Store::OpenVectorFile(bool read_only) {
  absl::StatusOr<std::optional<std::string>> key =
      ReadValue(kDefault, kVectorFileKey, "reading the vector file's number");
  if (!key.ok()) return key.status();
  uint32_t number = 1;
  bool create = false;
  if (key->has_value()) {
    if ((*key)->size() != 4) return absl::DataLossError("corrupt vector file number");
    number = ReadBigEndian32((*key)->data());
  } else {
    // A database without collections has no vectors: it starts in
    // vector-file mode. One written before the mode stays as it is.
    absl::StatusOr<std::optional<std::string>> next =
        ReadValue(kDefault, kNextCollectionId, "reading collection ids");
    if (!next.ok()) return next.status();
    absl::StatusOr<std::vector<CollectionRecord>> collections = ListCollections();
    if (!collections.ok()) return collections.status();
    if (read_only || next->has_value() || !collections->empty()) return absl::OkStatus();
    create = true;
  }
  // The file before the key naming it: a crash between the two leaves an
  // empty database that starts again.
  absl::StatusOr<std::unique_ptr<VectorFile>> file =
      VectorFile::Open(path_, number, create, read_only);
  if (!file.ok()) return file.status();
  if (create) {
    std::string value;
    AppendBigEndian32(&value, number);
    rocksdb::WriteBatch start;
    start.Put(handles_[kDefault], kVectorFileKey, value);
    start.Put(handles_[kDefault], kDeadBytesKey, EncodeDeadBytes(number, 0));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (absl::Status s = FromRocks(db_->Write(wo, &start), "cannot start the vector file");
        !s.ok()) {
      return s;
    }
    absl::MutexLock lock(&vector_write_mu_);
    SetDeadBytes(0);
  } else {
    absl::StatusOr<std::optional<std::string>> dead =
        ReadValue(kDefault, kDeadBytesKey, "reading the vector file's dead bytes");
    if (!dead.ok()) return dead.status();
    // Absent (a database from before the count, or a collection dropped
    // since the last count), or of another file: not known.
    if (dead->has_value() && (*dead)->size() == 12 && ReadBigEndian32((*dead)->data()) == number) {
      absl::MutexLock lock(&vector_write_mu_);
      SetDeadBytes(ReadBigEndian64((*dead)->data() + 4));
    }
  }
  vector_file_mode_ = true;
  {
    absl::MutexLock lock(&vector_files_mu_);
    vector_file_ = *std::move(file);
    syncer_->Set(vector_file_);
  }
  if (read_only) return absl::OkStatus();
  // Other vector files are what a crashed reclaim left: the new file before
  // its switch was durable, or the old one after.
  DIR* dir = ::opendir(path_.c_str());
  if (dir == nullptr) return absl::OkStatus();
  std::vector<std::string> leftovers;
  while (dirent* e = ::readdir(dir)) {
    std::optional<uint32_t> n = VectorFile::ParseFileName(e->d_name);
    if (n && *n != number) leftovers.push_back(path_ + "/" + e->d_name);
  }
  ::closedir(dir);
  for (const std::string& f : leftovers) ::unlink(f.c_str());
  return absl::OkStatus();
}

Store::VectorFileUsage Store::vector_file_usage() const {
  absl::ReaderMutexLock lock(&vector_files_mu_);
  if (vector_file_ == nullptr) return {};
  const int64_t dead = dead_bytes_seen_.load(std::memory_order_relaxed);
  return {.number = vector_file_->number(),
          .bytes = vector_file_->size(),
          .dead_bytes = dead < 0 ? std::nullopt : std::optional<uint64_t>(dead)};
}

void Store::SetDeadBytes(std::optional<uint64_t> dead) {
  dead_bytes_ = dead;
  dead_bytes_seen_.store(dead ? static_cast<int64_t>(*dead) : -1, std::memory_order_relaxed);
}

absl::StatusOr<std::optional<uint64_t>> Store::CountDeadBytes(StoreBatch& batch) const {
  if (batch.drops_collection_) {
    batch.batch_->Delete(handles_[kDefault], kDeadBytesKey);
    return std::nullopt;
  }
  if (!dead_bytes_.has_value() || batch.deleted_vectors_.empty()) return dead_bytes_;
  // The references the batch deletes, as stored before it: a vector put
  // earlier in the same batch has none (its values are not appended).
  std::vector<std::string>& keys = batch.deleted_vectors_;
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), handles_[kVectors], keys.size(), slices.data(),
                values.data(), statuses.data(), /*sorted_input=*/true);
  uint64_t dead = *dead_bytes_;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return FromRocks(statuses[i], "reading vector references");
    absl::StatusOr<VectorRef> ref = VectorRef::Decode(values[i].ToStringView());
    if (!ref.ok()) return ref.status();
    if (ref->file == vector_file_->number()) dead += ref->length;
  }
  batch.batch_->Put(handles_[kDefault], kDeadBytesKey,
                    EncodeDeadBytes(vector_file_->number(), dead));
  return dead;
}

absl::Status Store::SyncVectorFile() const {
  std::shared_ptr<VectorFile> file;
  {
    absl::ReaderMutexLock lock(&vector_files_mu_);
    file = vector_file_;
  }
  return file == nullptr ? absl::OkStatus() : file->Sync();
}

absl::StatusOr<VectorRecord> Store::DecodeVector(std::string_view value,
                                                 VectorStorage storage) const {
  if (!vector_file_mode_) return VectorRecord::Decode(value, storage);
  VectorRecord r;
  if (absl::Status s = LoadVector(value, storage, &r); !s.ok()) return s;
  return r;
}

absl::Status Store::LoadVector(std::string_view ref_bytes, VectorStorage storage,
                               VectorRecord* out) const {
  absl::StatusOr<VectorRef> ref = DecodeRef(ref_bytes, *vector_file_);
  if (!ref.ok()) return ref.status();
  std::string bytes(ref->length, '\0');
  if (absl::Status s = vector_file_->Read(ref->offset, ref->length, bytes.data()); !s.ok()) {
    return s;
  }
  return CheckedVector(*ref, bytes, storage, vector_file_->path(), out);
}

Store::~Store() {
  if (db_ && WriteFailure().ok()) RetireWalFiles();
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    db_->DestroyColumnFamilyHandle(h);
  }
  if (db_) db_->Close();
}

void Store::RetireWalFiles() {
  if (!Flush().ok()) return;
  rocksdb::VectorLogPtr wal_files;
  if (!db_->GetSortedWalFiles(wal_files).ok() || wal_files.size() <= 1) return;
  // RocksDB deletes a WAL file once every column family's log number has
  // passed it, and the number of a family with nothing to flush advances
  // only when a new WAL file is started while it is idle. After an import,
  // families flushed earlier (by the memtable budget, their flush running
  // while the last WAL files were started) kept older numbers: the final
  // flush left 15-20 MB of WAL files in about half of the closes, which the
  // next open read and deleted. A tombstone, written and flushed now that
  // every family is flushed and idle, starts a WAL file that they all
  // advance to; the close deletes the older ones.
  constexpr char kRetireKey[] = "wal_retired_at_close";  // never a stored key
  if (!db_->Delete(rocksdb::WriteOptions(), handles_[kDefault], kRetireKey).ok()) return;
  rocksdb::FlushOptions fo;
  fo.wait = true;
  (void)db_->Flush(fo, handles_[kDefault]);
}

absl::Status Store::Write(StoreBatch& batch, bool sync) {
  if (absl::Status failed = WriteFailure(); !failed.ok()) return failed;
  if (!vector_file_mode_ || !batch.touches_vectors_) return ApplyBatch(batch, sync);
  absl::MutexLock write_lock(&vector_write_mu_);
  absl::ReaderMutexLock files_lock(&vector_files_mu_);
  absl::StatusOr<std::optional<uint64_t>> dead = CountDeadBytes(batch);
  if (!dead.ok()) return dead.status();
  if (absl::Status s = AppendVectors(batch, sync); !s.ok()) return s;
  vector_deletes_.fetch_add(batch.vector_deletes_, std::memory_order_relaxed);
  absl::Status written = ApplyBatch(batch, sync);
  if (written.ok()) SetDeadBytes(*dead);
  return written;
}

absl::Status Store::AppendVectors(StoreBatch& batch, bool sync) {
  if (batch.pending_vectors_.empty()) return absl::OkStatus();
  std::vector<iovec> parts;
  parts.reserve(batch.pending_vectors_.size());
  for (const StoreBatch::PendingVector& p : batch.pending_vectors_) {
    parts.push_back({const_cast<char*>(p.data), p.length});
  }
  absl::StatusOr<uint64_t> at = vector_file_->Append(parts);
  if (!at.ok()) return RecordFailure(at.status());
  if (sync) {
    if (absl::Status s = vector_file_->Sync(); !s.ok()) return RecordFailure(s);
  }
  CrashPoint("store.vectors_appended");
  // The references go after the batch's other writes: StoreBatch dropped
  // the pending vectors that a later delete of the batch removes.
  uint64_t offset = *at;
  for (const StoreBatch::PendingVector& p : batch.pending_vectors_) {
    const VectorRef ref{.tokens = p.tokens,
                        .unknown_tokens = p.unknown_tokens,
                        .file = vector_file_->number(),
                        .offset = offset,
                        .length = p.length,
                        .crc = p.crc};
    offset += p.length;
    batch.batch_->Put(handles_[kVectors], VectorKey(p.cid, p.gen, p.label), ref.Encode());
  }
  batch.pending_vectors_.clear();
  return absl::OkStatus();
}

absl::Status Store::ApplyBatch(StoreBatch& batch, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  // Written between BeginWrite and EndWrite when it changes documents, so
  // that the cache never holds a replaced value (document_cache.h).
  const bool changes_cached =
      cache_ != nullptr && (!batch.documents_.empty() || !batch.dropped_.empty());
  if (changes_cached) cache_->BeginWrite(batch.documents_, batch.dropped_);
  const rocksdb::Status written = db_->Write(wo, batch.batch_.get());
  if (changes_cached) cache_->EndWrite();
  return RecordFailure(FromRocks(written, "write failed"));
}

Store::CacheUsage Store::document_cache_usage() const {
  if (cache_ == nullptr) return {};
  return {.entries = cache_->entries(), .bytes = cache_->bytes()};
}

absl::Status Store::SyncWal() {
  if (absl::Status failed = WriteFailure(); !failed.ok()) return failed;
  // The values before the WAL that references them.
  if (absl::Status s = SyncVectorFile(); !s.ok()) return RecordFailure(s);
  return RecordFailure(FromRocks(db_->SyncWAL(), "WAL sync failed"));
}

absl::Status Store::Flush() {
  if (absl::Status failed = WriteFailure(); !failed.ok()) return failed;
  if (vector_deletes_.load(std::memory_order_relaxed) > 0) {
    if (absl::Status s = ReclaimVectorFile(/*recount=*/false); !s.ok()) return s;
  }
  // The values before the table files that reference them (the flush
  // listener syncs too; this one reports a failure).
  if (absl::Status s = SyncVectorFile(); !s.ok()) return RecordFailure(s);
  rocksdb::FlushOptions fo;
  fo.wait = true;
  return RecordFailure(FromRocks(db_->Flush(fo, handles_), "flush failed"));
}

absl::Status Store::Reclaim(uint32_t cid) {
  if (vector_file_mode_) {
    if (absl::Status s = ReclaimVectorFile(/*recount=*/true); !s.ok()) return s;
  }
  if (absl::Status s = Flush(); !s.ok()) return s;
  const std::string begin = CidKey(cid);
  const std::string end = CidKey(cid + 1);  // ids are < 2^32 - 1
  const rocksdb::Slice b(begin), e(end);
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    rocksdb::Status s = db_->CompactRange(co, h, &b, &e);
    if (!s.ok()) return RecordFailure(FromRocks(s, "compaction failed"));
  }
  return absl::OkStatus();
}

absl::Status Store::ReclaimVectorFile(bool recount) {
  absl::MutexLock write_lock(&vector_write_mu_);
  vector_deletes_.store(0, std::memory_order_relaxed);
  std::shared_ptr<VectorFile> old;
  {
    absl::ReaderMutexLock lock(&vector_files_mu_);
    old = vector_file_;
  }
  if (old == nullptr || old->size() == 0) return absl::OkStatus();
  // Counted dead bytes decide without reading a reference.
  if (!recount && dead_bytes_.has_value() &&
      *dead_bytes_ <= old->size() - std::min(*dead_bytes_, old->size())) {
    return absl::OkStatus();
  }
  // Every reference of every collection (no write can add one meanwhile).
  struct Live {
    std::string key;
    VectorRef ref;
  };
  std::vector<Live> live;
  uint64_t live_bytes = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), handles_[kVectors]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      absl::StatusOr<VectorRef> ref = VectorRef::Decode(it->value().ToStringView());
      if (!ref.ok()) return ref.status();
      live_bytes += ref->length;
      live.push_back({it->key().ToString(), *ref});
    }
    if (absl::Status s = FromRocks(it->status(), "scanning vectors"); !s.ok()) return s;
  }
  const uint64_t dead = old->size() - std::min(live_bytes, old->size());
  if (dead <= live_bytes) {
    // Counted now: later flushes decide from the count.
    rocksdb::WriteOptions wo;
    if (absl::Status s = FromRocks(db_->Put(wo, handles_[kDefault], kDeadBytesKey,
                                            EncodeDeadBytes(old->number(), dead)),
                                   "write failed");
        !s.ok()) {
      return RecordFailure(s);
    }
    SetDeadBytes(dead);
    return absl::OkStatus();
  }

  // Copy the live values in file order, checking each, in chunks of ~4 MB.
  std::sort(live.begin(), live.end(),
            [](const Live& a, const Live& b) { return a.ref.offset < b.ref.offset; });
  absl::StatusOr<std::unique_ptr<VectorFile>> created =
      VectorFile::Open(path_, old->number() + 1, /*create=*/true, /*read_only=*/false);
  if (!created.ok()) return RecordFailure(created.status());
  std::shared_ptr<VectorFile> fresh = *std::move(created);
  constexpr size_t kChunk = size_t{4} << 20;
  std::string chunk;
  for (size_t i = 0; i < live.size();) {
    chunk.clear();
    const size_t first = i;
    for (; i < live.size() && (i == first || chunk.size() + live[i].ref.length <= kChunk); ++i) {
      const VectorRef& ref = live[i].ref;
      const size_t at = chunk.size();
      chunk.resize(at + ref.length);
      if (absl::Status s = old->Read(ref.offset, ref.length, chunk.data() + at); !s.ok()) return s;
      // Damage stops the reclaim here rather than being copied.
      const std::string_view bytes = std::string_view(chunk).substr(at);
      if (absl::Status s = CheckVectorBytes(ref, bytes, old->path()); !s.ok()) return s;
    }
    const iovec part{chunk.data(), chunk.size()};
    absl::StatusOr<uint64_t> at = fresh->Append({&part, 1});
    if (!at.ok()) return RecordFailure(at.status());
    uint64_t offset = *at;
    for (size_t j = first; j < i; ++j) {
      live[j].ref.file = fresh->number();
      live[j].ref.offset = offset;
      offset += live[j].ref.length;
    }
  }
  if (absl::Status s = fresh->Sync(); !s.ok()) return RecordFailure(s);
  CrashPoint("store.vector_reclaim_copied");

  rocksdb::WriteBatch switch_batch;
  for (const Live& l : live) switch_batch.Put(handles_[kVectors], l.key, l.ref.Encode());
  std::string number;
  AppendBigEndian32(&number, fresh->number());
  switch_batch.Put(handles_[kDefault], kVectorFileKey, number);
  switch_batch.Put(handles_[kDefault], kDeadBytesKey, EncodeDeadBytes(fresh->number(), 0));
  {
    absl::MutexLock lock(&vector_files_mu_);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (absl::Status s = FromRocks(db_->Write(wo, &switch_batch), "write failed"); !s.ok()) {
      return RecordFailure(s);
    }
    vector_file_ = fresh;
    syncer_->Set(fresh);
  }
  SetDeadBytes(0);
  CrashPoint("store.vector_reclaim_switched");
  ::unlink(old->path().c_str());
  return absl::OkStatus();
}

absl::Status Store::WriteFailure() const {
  if (read_only_) {
    return absl::FailedPreconditionError("the database is open read-only: writes are refused");
  }
  absl::MutexLock lock(&failure_mu_);
  return failure_;
}

absl::Status Store::RecordFailure(absl::Status s) {
  if (s.ok() || absl::IsInvalidArgument(s)) return s;
  absl::MutexLock lock(&failure_mu_);
  if (failure_.ok()) {
    failure_ = absl::Status(
        s.code(), absl::StrCat(s.message(),
                               " (the database now refuses writes; what is stored stays "
                               "readable; reopen it once the cause is fixed)"));
  }
  return failure_;
}

absl::StatusOr<std::vector<CollectionRecord>> Store::ListCollections() const {
  std::vector<CollectionRecord> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handles_[kDefault]));
  for (it->Seek(kCollectionPrefix);
       it->Valid() && it->key().starts_with(kCollectionPrefix); it->Next()) {
    absl::StatusOr<CollectionRecord> r =
        CollectionRecord::Decode(it->value().ToStringView());
    if (!r.ok()) return r.status();
    out.push_back(*std::move(r));
  }
  if (absl::Status s = FromRocks(it->status(), "listing collections"); !s.ok()) {
    return s;
  }
  return out;
}

absl::StatusOr<std::optional<std::string>> Store::ReadValue(size_t family,
                                                            std::string_view key,
                                                            const char* what) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[family], key, &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s, what);
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<std::optional<CollectionRecord>> Store::GetCollection(
    const std::string& name) const {
  return Decoded<CollectionRecord>(ReadValue(kDefault, CollectionKey(name), "reading collection"));
}

absl::StatusOr<uint32_t> Store::NextCollectionId() const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kDefault],
                               kNextCollectionId, &value);
  if (s.IsNotFound()) return 1;
  if (!s.ok()) return FromRocks(s, "reading collection ids");
  if (value.size() != 4) return absl::DataLossError("corrupt collection id counter");
  return ReadBigEndian32(value.data());
}

absl::StatusOr<Counters> Store::GetCounters(uint32_t cid) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kDefault],
                               CountersKey(cid), &value);
  if (s.IsNotFound()) return Counters{};
  if (!s.ok()) return FromRocks(s, "reading counters");
  return Counters::Decode(value);
}

absl::StatusOr<std::optional<uint64_t>> Store::GetLabel(uint32_t cid,
                                                        std::string_view id) const {
  std::vector<std::optional<uint64_t>> labels;
  if (absl::Status s = MultiGetLabels(cid, {id}, &labels); !s.ok()) return s;
  return labels[0];
}

absl::Status Store::MultiGetLabels(uint32_t cid, absl::Span<const std::string_view> ids,
                                   std::vector<std::optional<uint64_t>>* labels) const {
  const size_t n = ids.size();
  labels->assign(n, std::nullopt);
  if (n == 0) return absl::OkStatus();
  std::vector<std::string> keys;
  std::vector<rocksdb::Slice> slices;
  keys.reserve(n);
  slices.reserve(n);
  for (std::string_view id : ids) {
    keys.push_back(IdKey(cid, id));
    slices.emplace_back(keys.back());
  }
  std::vector<rocksdb::PinnableSlice> values(n);
  std::vector<rocksdb::Status> statuses(n);
  db_->MultiGet(rocksdb::ReadOptions(), handles_[kIds], n, slices.data(), values.data(),
                statuses.data());
  for (size_t i = 0; i < n; ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return FromRocks(statuses[i], "reading document ids");
    if (values[i].size() != 8) return absl::DataLossError("corrupt document id record");
    (*labels)[i] = ReadBigEndian64(values[i].data());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<DocumentRecord>> Store::GetDocument(
    uint32_t cid, uint64_t label) const {
  return Decoded<DocumentRecord>(ReadValue(kDocuments, LabelKey(cid, label), "reading document"));
}

absl::StatusOr<std::optional<std::string>> Store::GetMetadata(uint32_t cid,
                                                              uint64_t label) const {
  return ReadValue(kMetadata, LabelKey(cid, label), "reading metadata");
}

absl::Status Store::MultiGetDocuments(
    uint32_t cid, absl::Span<const uint64_t> doc_labels, absl::Span<const uint64_t> meta_labels,
    std::vector<std::optional<DocumentRecord>>* docs,
    std::vector<MetadataValue>* metadata) const {
  // Nothing asked (a search for ids and scores only): not even the cache's
  // lock is taken.
  if (cache_ == nullptr || (doc_labels.empty() && meta_labels.empty())) {
    return ReadDocuments(cid, doc_labels, meta_labels, docs, metadata);
  }
  docs->assign(doc_labels.size(), std::nullopt);
  metadata->assign(meta_labels.size(), std::nullopt);
  const DocumentCache::Found found =
      cache_->Lookup(cid, doc_labels, meta_labels, docs, metadata);
  if (found.doc_misses.empty() && found.meta_misses.empty()) return absl::OkStatus();
  std::vector<uint64_t> doc_misses, meta_misses;
  for (size_t i : found.doc_misses) doc_misses.push_back(doc_labels[i]);
  for (size_t i : found.meta_misses) meta_misses.push_back(meta_labels[i]);
  std::vector<std::optional<DocumentRecord>> read_docs;
  std::vector<MetadataValue> read_metadata;
  if (absl::Status s = ReadDocuments(cid, doc_misses, meta_misses, &read_docs, &read_metadata);
      !s.ok()) {
    return s;
  }
  for (size_t j = 0; j < found.doc_misses.size(); ++j) {
    (*docs)[found.doc_misses[j]] = std::move(read_docs[j]);
  }
  for (size_t j = 0; j < found.meta_misses.size(); ++j) {
    (*metadata)[found.meta_misses[j]] = std::move(read_metadata[j]);
  }
  if (cache_->Fill(cid, found, doc_labels, meta_labels, *docs, *metadata)) {
    return absl::OkStatus();
  }
  return ReadDocuments(cid, doc_labels, meta_labels, docs, metadata);
}

absl::Status Store::ReadDocuments(uint32_t cid, absl::Span<const uint64_t> doc_labels,
                                  absl::Span<const uint64_t> meta_labels,
                                  std::vector<std::optional<DocumentRecord>>* docs,
                                  std::vector<MetadataValue>* metadata) const {
  const size_t nd = doc_labels.size(), n = nd + meta_labels.size();
  docs->assign(nd, std::nullopt);
  metadata->assign(meta_labels.size(), std::nullopt);
  if (n == 0) return absl::OkStatus();
  // One batched read of both families (RocksDB's column-family-array
  // MultiGet), into pinned slices: values in the block cache are not copied.
  std::vector<std::string> keys;
  std::vector<rocksdb::Slice> slices;
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  keys.reserve(n);
  slices.reserve(n);
  families.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const bool doc = i < nd;
    keys.push_back(LabelKey(cid, doc ? doc_labels[i] : meta_labels[i - nd]));
    slices.emplace_back(keys.back());
    families.push_back(handles_[doc ? kDocuments : kMetadata]);
  }
  std::vector<rocksdb::PinnableSlice> values(n);
  std::vector<rocksdb::Status> statuses(n);
  db_->MultiGet(rocksdb::ReadOptions(), n, families.data(), slices.data(), values.data(),
                statuses.data());
  for (size_t i = 0; i < n; ++i) {
    const rocksdb::Status& s = statuses[i];
    if (s.IsNotFound()) continue;
    if (i < nd) {
      if (!s.ok()) return FromRocks(s, "reading documents");
      absl::StatusOr<DocumentRecord> r = DocumentRecord::Decode(values[i].ToStringView());
      if (!r.ok()) return r.status();
      (*docs)[i] = *std::move(r);
    } else {
      if (!s.ok()) return FromRocks(s, "reading metadata");
      (*metadata)[i - nd] = ParseJsonOrDiscarded(values[i].ToStringView());
    }
  }
  return absl::OkStatus();
}

namespace {

// Visits every key of `family` starting with `prefix`, passing the rest of
// the key after the prefix.
// `from`, when given, is a suffix to start at (keys before it are skipped).
// Visits the keys of `family` under `prefix` from `prefix + from` on, as
// of `snapshot` (null: as of now).
absl::Status ScanPrefix(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, const std::string& prefix,
    const std::function<absl::Status(std::string_view suffix, std::string_view value)>& fn,
    std::string_view from = {}, const rocksdb::Snapshot* snapshot = nullptr) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::string end = PrefixEnd(prefix);
  rocksdb::Slice upper(end);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, family));
  for (it->Seek(prefix + std::string(from)); it->Valid(); it->Next()) {
    std::string_view key = it->key().ToStringView();
    if (absl::Status s = fn(key.substr(prefix.size()), it->value().ToStringView());
        !s.ok()) {
      return s;
    }
  }
  return FromRocks(it->status(), "scanning");
}

}  // namespace

absl::Status Store::ScanDocuments(
    uint32_t cid, const std::function<absl::Status(uint64_t, DocumentRecord&)>& fn,
    uint64_t first_label) const {
  std::string from;
  AppendBigEndian64(&from, first_label);
  return ScanPrefix(
      db_.get(), handles_[kDocuments], CidKey(cid),
      [&](std::string_view suffix, std::string_view value) {
        if (suffix.size() != 8) {
          return absl::DataLossError("corrupt document key");
        }
        absl::StatusOr<DocumentRecord> r = DocumentRecord::Decode(value);
        if (!r.ok()) return r.status();
        return fn(ReadBigEndian64(suffix.data()), *r);
      },
      from);
}

absl::Status Store::ScanMetadata(
    uint32_t cid,
    const std::function<absl::Status(uint64_t, std::string_view)>& fn) const {
  return ScanPrefix(db_.get(), handles_[kMetadata], CidKey(cid),
                    [&](std::string_view suffix, std::string_view value) {
                      if (suffix.size() != 8) {
                        return absl::DataLossError("corrupt metadata key");
                      }
                      return fn(ReadBigEndian64(suffix.data()), value);
                    });
}

absl::Status Store::MultiGetVectors(uint32_t cid, uint32_t gen, VectorStorage storage,
                                    absl::Span<const uint64_t> labels,
                                    std::vector<std::optional<VectorRecord>>* vectors) const {
  std::vector<std::string> keys;
  keys.reserve(labels.size());
  for (uint64_t label : labels) keys.push_back(VectorKey(cid, gen, label));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::ColumnFamilyHandle*> families(labels.size(), handles_[kVectors]);
  std::vector<std::string> values;
  absl::ReaderMutexLock lock(&vector_files_mu_);
  std::vector<rocksdb::Status> statuses =
      db_->MultiGet(rocksdb::ReadOptions(), families, slices, &values);
  vectors->assign(labels.size(), std::nullopt);
  for (size_t i = 0; i < labels.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return FromRocks(statuses[i], "reading vectors");
    absl::StatusOr<VectorRecord> r = DecodeVector(values[i], storage);
    if (!r.ok()) return r.status();
    (*vectors)[i] = *std::move(r);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> Store::GetAux(AuxIndex index, uint32_t cid,
                                                         std::string_view key) const {
  std::string full = CidKey(cid);
  full.append(key);
  return ReadValue(AuxFamily(index), full, "reading an index entry");
}

absl::Status Store::ScanAux(
    AuxIndex index, uint32_t cid, std::string_view begin, std::string_view end,
    const std::function<absl::Status(std::string_view key, std::string_view value)>& fn)
    const {
  const std::string prefix = CidKey(cid);
  std::string lower = prefix;
  lower.append(begin);
  std::string upper = prefix;
  upper.append(end);
  if (end.empty()) upper = PrefixEnd(prefix);
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[AuxFamily(index)]));
  for (it->Seek(lower); it->Valid(); it->Next()) {
    std::string_view key = it->key().ToStringView();
    absl::Status s = fn(key.substr(prefix.size()), it->value().ToStringView());
    if (absl::IsCancelled(s)) return absl::OkStatus();
    if (!s.ok()) return s;
  }
  return FromRocks(it->status(), "scanning an index");
}

absl::StatusOr<std::optional<VectorRecord>> Store::GetVector(uint32_t cid, uint32_t gen,
                                                            VectorStorage storage,
                                                            uint64_t label) const {
  absl::ReaderMutexLock lock(&vector_files_mu_);
  absl::StatusOr<std::optional<std::string>> value =
      ReadValue(kVectors, VectorKey(cid, gen, label), "reading vector");
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::nullopt;
  absl::StatusOr<VectorRecord> r = DecodeVector(**value, storage);
  if (!r.ok()) return r.status();
  return std::optional<VectorRecord>(*std::move(r));
}

absl::Status Store::ScanVectors(
    uint32_t cid, uint32_t gen, VectorStorage storage,
    const std::function<absl::Status(uint64_t, VectorRecord&)>& fn) const {
  if (vector_file_mode_) return ScanVectorFile(cid, gen, storage, fn);
  return ScanPrefix(db_.get(), handles_[kVectors], GenKey(cid, gen),
                    [&](std::string_view suffix, std::string_view value) {
                      if (suffix.size() != 8) return absl::DataLossError("corrupt vector key");
                      absl::StatusOr<VectorRecord> r = VectorRecord::Decode(value, storage);
                      if (!r.ok()) return r.status();
                      return fn(ReadBigEndian64(suffix.data()), *r);
                    });
}

absl::Status Store::ScanVectorFile(
    uint32_t cid, uint32_t gen, VectorStorage storage,
    const std::function<absl::Status(uint64_t, VectorRecord&)>& fn) const {
  // The references a few thousand at a time; values written together
  // (adjacent in the file, as a batch's are) are read with one call.
  constexpr size_t kRefs = 4096;
  struct Entry {
    uint64_t label;
    VectorRef ref;
  };
  std::vector<Entry> entries;
  entries.reserve(kRefs);
  std::string bytes;
  VectorRecord record;
  // The file and a snapshot of the references taken together, so that
  // every reference read points into this file; then the lock goes: the
  // caller's fn (an index build) may run for minutes and must not hold up
  // writes and a reclaim. A reclaim meanwhile unlinks the old file, which
  // stays readable through the descriptor held here.
  std::shared_ptr<const VectorFile> current;
  const rocksdb::Snapshot* snapshot;
  {
    absl::ReaderMutexLock lock(&vector_files_mu_);
    current = vector_file_;
    snapshot = db_->GetSnapshot();
  }
  const rocksdb::ManagedSnapshot release(db_.get(), snapshot);
  const VectorFile& file = *current;
  auto visit = [&]() -> absl::Status {
    for (size_t i = 0; i < entries.size();) {
      size_t end = i + 1;
      uint64_t run = entries[i].ref.length;
      while (end < entries.size() &&
             entries[end].ref.offset == entries[i].ref.offset + run) {
        run += entries[end++].ref.length;
      }
      bytes.resize(run);
      if (absl::Status s = file.Read(entries[i].ref.offset, run, bytes.data()); !s.ok()) {
        return s;
      }
      for (size_t at = 0; i < end; at += entries[i++].ref.length) {
        const VectorRef& ref = entries[i].ref;
        if (absl::Status s = CheckedVector(ref, std::string_view(bytes).substr(at, ref.length),
                                           storage, file.path(), &record);
            !s.ok()) {
          return s;
        }
        if (absl::Status s = fn(entries[i].label, record); !s.ok()) return s;
      }
    }
    entries.clear();
    return absl::OkStatus();
  };
  absl::Status s = ScanPrefix(
      db_.get(), handles_[kVectors], GenKey(cid, gen),
      [&](std::string_view suffix, std::string_view value) {
        if (suffix.size() != 8) return absl::DataLossError("corrupt vector key");
        absl::StatusOr<VectorRef> ref = DecodeRef(value, file);
        if (!ref.ok()) return ref.status();
        entries.push_back({ReadBigEndian64(suffix.data()), *ref});
        return entries.size() == kRefs ? visit() : absl::OkStatus();
      },
      /*from=*/{}, snapshot);
  if (!s.ok()) return s;
  return visit();
}

absl::StatusOr<bool> Store::HasOtherGenerations(uint32_t cid, uint32_t keep) const {
  const std::string ranges[2][2] = {{CidKey(cid), GenKey(cid, keep)},
                                    {GenKey(cid, keep + 1), PrefixEnd(CidKey(cid))}};
  for (size_t f : {kVectors, kState}) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[f]));
    for (const auto& [begin, end] : ranges) {
      it->Seek(begin);
      if (it->Valid() && it->key().compare(end) < 0) return true;
    }
    if (!it->status().ok()) return FromRocks(it->status(), "reading generations");
  }
  return false;
}

absl::Status Store::ScanLog(
    uint32_t cid, uint64_t from,
    const std::function<absl::Status(uint64_t, const LogOp&)>& fn) const {
  rocksdb::ReadOptions ro;
  std::string end = PrefixEnd(CidKey(cid));
  rocksdb::Slice upper(end);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[kLog]));
  for (it->Seek(LabelKey(cid, from)); it->Valid(); it->Next()) {
    std::string_view key = it->key().ToStringView();
    if (key.size() != 12) return absl::DataLossError("corrupt index log key");
    absl::StatusOr<LogOp> op = LogOp::Decode(it->value().ToStringView());
    if (!op.ok()) return op.status();
    if (absl::Status s = fn(ReadBigEndian64(key.data() + 4), *op); !s.ok()) return s;
  }
  return FromRocks(it->status(), "reading the index log");
}

absl::StatusOr<std::optional<uint64_t>> Store::FirstLogSeq(uint32_t cid) const {
  std::optional<uint64_t> first;
  absl::Status s = ScanLog(cid, 0, [&](uint64_t seq, const LogOp&) {
    first = seq;
    return absl::CancelledError();  // stop after the first entry
  });
  if (!s.ok() && !absl::IsCancelled(s)) return s;
  return first;
}

absl::StatusOr<std::optional<std::string>> Store::GetStateChunks(uint32_t cid, uint32_t gen,
                                                                 uint32_t first) const {
  std::optional<std::string> state;
  uint32_t expected = first;
  std::string from;
  AppendBigEndian32(&from, first);
  absl::Status s = ScanPrefix(
      db_.get(), handles_[kState], GenKey(cid, gen),
      [&](std::string_view suffix, std::string_view value) {
        if (suffix.size() != 4) return absl::DataLossError("corrupt embedder state: bad key");
        const uint32_t chunk = ReadBigEndian32(suffix.data());
        if (first == 0 && chunk >= kIndexTrainingChunks) return absl::CancelledError();
        if (chunk != expected++) {
          return absl::DataLossError("corrupt embedder state: missing chunk");
        }
        if (!state) state.emplace();
        state->append(value);
        return absl::OkStatus();
      },
      from);
  if (!s.ok() && !absl::IsCancelled(s)) return s;
  return state;
}

absl::StatusOr<std::optional<std::string>> Store::GetEmbedderState(
    uint32_t cid, uint32_t gen) const {
  return GetStateChunks(cid, gen, 0);
}

absl::StatusOr<std::optional<std::string>> Store::GetIndexTraining(uint32_t cid,
                                                                   uint32_t gen) const {
  return GetStateChunks(cid, gen, kIndexTrainingChunks);
}

absl::StatusOr<std::optional<ParentRecord>> Store::GetParent(uint32_t cid,
                                                             std::string_view id) const {
  return Decoded<ParentRecord>(ReadValue(kParents, IdKey(cid, id), "reading parent document"));
}

absl::StatusOr<std::optional<std::string>> Store::GetParentText(uint32_t cid,
                                                                std::string_view id) const {
  return ReadValue(kParentTexts, IdKey(cid, id), "reading parent text");
}

StoreBatch::StoreBatch(const Store& store)
    : store_(store), batch_(std::make_unique<rocksdb::WriteBatch>()) {}

StoreBatch::~StoreBatch() = default;

void StoreBatch::PutCollection(const CollectionRecord& record) {
  batch_->Put(store_.handles_[kDefault], CollectionKey(record.name), record.Encode());
}

void StoreBatch::DeleteCollection(const CollectionRecord& record) {
  batch_->Delete(store_.handles_[kDefault], CollectionKey(record.name));
  batch_->Delete(store_.handles_[kDefault], CountersKey(record.id));
  dropped_.push_back(record.id);
  if (store_.vector_file_mode_) {
    DropPendingVectors([&](uint32_t cid, uint32_t, uint64_t) { return cid == record.id; });
    ++vector_deletes_;
    drops_collection_ = true;
  }
  const std::string begin = CidKey(record.id);
  const std::string end = PrefixEnd(begin);
  for (size_t f = kDocuments; f < kNumFamilies; ++f) {
    batch_->DeleteRange(store_.handles_[f], begin, end);
  }
}

void StoreBatch::PutNextCollectionId(uint32_t next) {
  std::string v;
  AppendBigEndian32(&v, next);
  batch_->Put(store_.handles_[kDefault], kNextCollectionId, v);
}

void StoreBatch::PutCounters(uint32_t cid, const Counters& counters) {
  batch_->Put(store_.handles_[kDefault], CountersKey(cid), counters.Encode());
}

void StoreBatch::PutDocument(uint32_t cid, uint64_t label, const DocumentRecord& doc,
                             std::string_view metadata_json) {
  documents_.push_back({cid, label});
  const std::string key = LabelKey(cid, label);
  batch_->Put(store_.handles_[kDocuments], key, doc.Encode());
  batch_->Put(store_.handles_[kMetadata], key,
              rocksdb::Slice(metadata_json.data(), metadata_json.size()));
  std::string label_bytes;
  AppendBigEndian64(&label_bytes, label);
  batch_->Put(store_.handles_[kIds], IdKey(cid, doc.id), label_bytes);
}

void StoreBatch::DeleteDocument(uint32_t cid, uint64_t label, std::string_view id) {
  documents_.push_back({cid, label});
  const std::string key = LabelKey(cid, label);
  batch_->Delete(store_.handles_[kDocuments], key);
  batch_->Delete(store_.handles_[kMetadata], key);
  batch_->Delete(store_.handles_[kIds], IdKey(cid, id));
}

void StoreBatch::AddPendingVector(uint32_t cid, uint32_t gen, uint64_t label, int32_t tokens,
                                  int32_t unknown_tokens, const char* data, size_t length) {
  touches_vectors_ = true;
  pending_vectors_.push_back({.cid = cid,
                              .gen = gen,
                              .label = label,
                              .tokens = tokens,
                              .unknown_tokens = unknown_tokens,
                              .data = data,
                              .length = static_cast<uint32_t>(length),
                              .crc = ExtendCrc32c(0, data, length)});
}

void StoreBatch::DropPendingVectors(
    const std::function<bool(uint32_t cid, uint32_t gen, uint64_t label)>& deleted) {
  touches_vectors_ = true;
  std::erase_if(pending_vectors_, [&](const PendingVector& p) {
    return deleted(p.cid, p.gen, p.label);
  });
}

void StoreBatch::PutVector(uint32_t cid, uint32_t gen, VectorStorage storage, uint64_t label,
                           const VectorRecord& vector) {
  if (!store_.vector_file_mode_) {
    batch_->Put(store_.handles_[kVectors], VectorKey(cid, gen, label), vector.Encode(storage));
    return;
  }
  std::string& values = owned_values_.emplace_back();
  VectorRecord::AppendValues(storage, vector.values, &values);
  AddPendingVector(cid, gen, label, vector.tokens, vector.unknown_tokens, values.data(),
                   values.size());
}

void StoreBatch::PutVector(uint32_t cid, uint32_t gen, VectorStorage storage, uint64_t label,
                           int32_t tokens, int32_t unknown_tokens,
                           absl::Span<const float> values) {
  if (store_.vector_file_mode_) {
    if (storage == VectorStorage::kFloat32) {
      AddPendingVector(cid, gen, label, tokens, unknown_tokens,
                       reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
      return;
    }
    std::string& converted = owned_values_.emplace_back();
    VectorRecord::AppendValues(storage, values, &converted);
    AddPendingVector(cid, gen, label, tokens, unknown_tokens, converted.data(),
                     converted.size());
    return;
  }
  const std::string key = VectorKey(cid, gen, label);
  std::string header = VectorRecord::EncodeHeader(tokens, unknown_tokens);
  if (storage != VectorStorage::kFloat32) {
    // Converted: the record is half the floats' size, one copy is cheap.
    VectorRecord::AppendValues(storage, values, &header);
    batch_->Put(store_.handles_[kVectors], key, header);
    return;
  }
  const rocksdb::Slice key_slice(key);
  const rocksdb::Slice parts[2] = {
      rocksdb::Slice(header),
      rocksdb::Slice(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float))};
  batch_->Put(store_.handles_[kVectors], rocksdb::SliceParts(&key_slice, 1),
              rocksdb::SliceParts(parts, 2));
}

void StoreBatch::DeleteVector(uint32_t cid, uint32_t gen, uint64_t label) {
  if (store_.vector_file_mode_) {
    DropPendingVectors([&](uint32_t c, uint32_t g, uint64_t l) {
      return c == cid && g == gen && l == label;
    });
    ++vector_deletes_;
    deleted_vectors_.push_back(VectorKey(cid, gen, label));
    batch_->Delete(store_.handles_[kVectors], deleted_vectors_.back());
    return;
  }
  batch_->Delete(store_.handles_[kVectors], VectorKey(cid, gen, label));
}

void StoreBatch::DeleteOtherGenerations(uint32_t cid, uint32_t keep) {
  if (store_.vector_file_mode_) {
    DropPendingVectors([&](uint32_t c, uint32_t g, uint64_t) { return c == cid && g != keep; });
  }
  for (size_t f : {kVectors, kState}) {
    if (keep > 0) batch_->DeleteRange(store_.handles_[f], CidKey(cid), GenKey(cid, keep));
    batch_->DeleteRange(store_.handles_[f], GenKey(cid, keep + 1),
                        PrefixEnd(CidKey(cid)));
  }
}

void StoreBatch::PutAux(AuxIndex index, uint32_t cid, std::string_view key,
                        std::string_view value) {
  std::string full = CidKey(cid);
  full.append(key);
  batch_->Put(store_.handles_[AuxFamily(index)], full,
              rocksdb::Slice(value.data(), value.size()));
}

void StoreBatch::DeleteAux(AuxIndex index, uint32_t cid, std::string_view key) {
  std::string full = CidKey(cid);
  full.append(key);
  batch_->Delete(store_.handles_[AuxFamily(index)], full);
}

void StoreBatch::AppendLog(uint32_t cid, uint64_t seq, const LogOp& op) {
  batch_->Put(store_.handles_[kLog], LabelKey(cid, seq), op.Encode());
}

void StoreBatch::TruncateLog(uint32_t cid, uint64_t end) {
  batch_->DeleteRange(store_.handles_[kLog], LabelKey(cid, 0), LabelKey(cid, end));
}

void StoreBatch::PutStateChunks(uint32_t cid, uint32_t gen, uint32_t first,
                                std::string_view bytes) {
  uint32_t chunk = first;
  do {
    std::string key = GenKey(cid, gen);
    AppendBigEndian32(&key, chunk++);
    std::string_view part = bytes.substr(0, kStateChunk);
    batch_->Put(store_.handles_[kState], key, rocksdb::Slice(part.data(), part.size()));
    bytes.remove_prefix(part.size());
  } while (!bytes.empty());
}

void StoreBatch::PutEmbedderState(uint32_t cid, uint32_t gen, std::string_view state) {
  PutStateChunks(cid, gen, 0, state);
}

void StoreBatch::PutIndexTraining(uint32_t cid, uint32_t gen, std::string_view training) {
  PutStateChunks(cid, gen, kIndexTrainingChunks, training);
}

void StoreBatch::PutParent(uint32_t cid, std::string_view id, const ParentRecord& parent,
                           std::string_view text) {
  const std::string key = IdKey(cid, id);
  batch_->Put(store_.handles_[kParents], key, parent.Encode());
  batch_->Put(store_.handles_[kParentTexts], key, rocksdb::Slice(text.data(), text.size()));
}

void StoreBatch::DeleteParent(uint32_t cid, std::string_view id) {
  const std::string key = IdKey(cid, id);
  batch_->Delete(store_.handles_[kParents], key);
  batch_->Delete(store_.handles_[kParentTexts], key);
}

size_t StoreBatch::ByteSize() const { return batch_->GetDataSize(); }
size_t StoreBatch::Count() const { return batch_->Count() + pending_vectors_.size(); }

}  // namespace semdb
