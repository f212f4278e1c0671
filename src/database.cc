#include "src/operation_log.h"
#include "semdb/database.h"

#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "embedders/embedder_factory.h"
#include "embedders/thread_pool.h"
#include "embedders/word_vector_loader.h"
#include "index/index_factory.h"
#include "src/chunker.h"
#include "src/collection_impl.h"
#include "src/field_index.h"
#include "src/index_files.h"
#include "src/model_probe.h"

namespace semdb {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxNameLength = 64;
constexpr int kMaxThreads = 4096;  // Options::threads

absl::Status ValidateName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "collection names have 1 to ", kMaxNameLength, " characters, got '", name, "'"));
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return absl::InvalidArgumentError(absl::StrCat(
          "collection name '", name, "' may only hold letters, digits, '_', '-', '.'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

// Whether `asked` agrees with the spec `have` a collection was created
// with: the same kind, and every parameter asked for has the value
// recorded (the record also holds parameters filled in at creation, such
// as a transformer's prefixes). Empty when it agrees, else what differs.
std::string SpecMismatch(const char* what, const Spec& asked, const std::string& have_text) {
  absl::StatusOr<Spec> have = Spec::Parse(have_text);
  bool same = have.ok() && have->kind == asked.kind;
  for (const auto& [key, value] : asked.params) {
    same = same && have->params.contains(key) && have->params.at(key) == value;
  }
  return same ? "" : absl::StrCat(what, " '", have_text, "', not '", asked.ToString(), "'");
}

// What differs between an existing collection and the spec a
// get-or-create asked for, or empty.
std::string SpecDifference(const CollectionInfo& info, const CollectionStats& stats,
                           const Spec& embedder, const Spec& index, const std::string& chunking,
                           const CollectionSpec& spec) {
  std::vector<std::string> differences;
  for (std::string d : {SpecMismatch("embedder", embedder, info.embedder),
                        SpecMismatch("index", index, info.index)}) {
    if (!d.empty()) differences.push_back(std::move(d));
  }
  if (chunking != info.chunking) {
    differences.push_back(absl::StrCat("chunking '", info.chunking, "', not '", chunking, "'"));
  }
  const std::vector<std::string>& fields = stats.indexed_fields;
  if (std::set<std::string>(fields.begin(), fields.end()) !=
      std::set<std::string>(spec.indexed_fields.begin(), spec.indexed_fields.end())) {
    differences.push_back(absl::StrCat("indexed fields [", absl::StrJoin(fields, ","),
                                       "], not [", absl::StrJoin(spec.indexed_fields, ","),
                                       "]"));
  }
  if (spec.vector_storage != "auto" && spec.vector_storage != stats.vector_storage) {
    differences.push_back(absl::StrCat("vector storage '", stats.vector_storage, "', not '",
                                       spec.vector_storage, "'"));
  }
  if (stats.keyword_index.has_value() != spec.keyword_index) {
    differences.push_back(stats.keyword_index ? "a keyword index, not none"
                                              : "no keyword index");
  }
  return absl::StrJoin(differences, "; ");
}

}  // namespace

class Database::Impl {
 public:
  static absl::StatusOr<std::unique_ptr<Impl>> Open(const std::string& path,
                                                    const Options& options);
  ~Impl();

  // With `existing_ok`, a collection of that name is returned when its
  // spec agrees with `spec` (SpecDifference), else FailedPrecondition.
  absl::StatusOr<std::shared_ptr<Collection>> Create(const std::string& name,
                                                     const CollectionSpec& spec,
                                                     bool existing_ok) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::shared_ptr<Collection>> Get(const std::string& name) const
      ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<CollectionInfo> List() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Drop(const std::string& name) ABSL_LOCKS_EXCLUDED(mu_);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  // The embedders' threads (Options::threads); outlives the collections.
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Store> store_;
  CollectionEnv env_;
  mutable absl::Mutex mu_;  // serializes create/drop
  std::map<std::string, std::shared_ptr<Collection>> collections_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<Database::Impl>> Database::Impl::Open(
    const std::string& path, const Options& options) {
  if (absl::Status s = SetLogLevel(options.log_level); !s.ok()) return s;
  if (options.threads < 0 || options.threads > kMaxThreads) {
    return absl::InvalidArgumentError(absl::StrCat(
        "threads must be 0 (one per hardware thread) to ", kMaxThreads, ", not ", options.threads));
  }
  if (path.empty()) return absl::InvalidArgumentError("the database path is empty");
  std::error_code ec;
  const bool exists = fs::exists(fs::path(path) / "store" / "CURRENT", ec);
  if (!exists && !options.create_if_missing) {
    return absl::NotFoundError(absl::StrCat("no database at ", path));
  }
  if (exists && options.error_if_exists) {
    return absl::AlreadyExistsError(absl::StrCat("a database exists at ", path));
  }
  if (fs::exists(path, ec) && !fs::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a directory"));
  }
  if (options.read_only && !exists) {
    return absl::NotFoundError(absl::StrCat("no database at ", path, " to open read-only"));
  }
  for (const char* dir : {"", "/indexes", "/cache"}) {
    if (options.read_only) break;
    fs::create_directories(path + dir, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create ", path, dir, ": ", ec.message()));
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->path_ = path;
  StoreOptions so;
  so.create_if_missing = options.create_if_missing;
  so.read_only = options.read_only;
  so.document_cache_bytes = options.document_cache_bytes;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(path + "/store", so);
  if (!store.ok()) return store.status();
  impl->store_ = *std::move(store);
  impl->env_.store = impl->store_.get();
  impl->env_.options = options;
  impl->env_.index_dir = path + "/indexes";
  impl->env_.embedder_context.cache_dir =
      options.cache_dir.empty() ? path + "/cache" : options.cache_dir;
  impl->env_.embedder_context.progress = options.progress;
  impl->pool_ = std::make_unique<ThreadPool>(options.threads);
  impl->env_.embedder_context.pool = impl->pool_.get();
  impl->env_.embedder_context.word_vector_models = std::make_shared<WordVectorModels>();

  absl::StatusOr<std::vector<CollectionRecord>> records = impl->store_->ListCollections();
  if (!records.ok()) return records.status();
  for (CollectionRecord& r : *records) {
    std::string name = r.name;
    absl::StatusOr<std::unique_ptr<Collection::Impl>> c =
        Collection::Impl::Open(impl->env_, std::move(r), nullptr);
    if (!c.ok()) {
      return absl::Status(c.status().code(), absl::StrCat("opening collection '", name,
                                                          "': ", c.status().message()));
    }
    absl::MutexLock lock(&impl->mu_);  // (nothing else sees impl yet)
    impl->collections_.emplace(
        name, std::shared_ptr<Collection>(new Collection(*std::move(c))));
  }
  return impl;
}

Database::Impl::~Impl() {
  for (auto& [name, collection] : collections_) {
    // Best effort: a failed save means the next open replays or rebuilds.
    (void)collection->Checkpoint();
    // Handles the caller still holds must not reach the store, which is
    // closed with this Impl.
    collection->impl_->Close(absl::FailedPreconditionError(
        absl::StrCat("database '", path_, "' is closed")));
  }
  collections_.clear();
  // Best effort too: without it the next open replays the whole WAL.
  if (store_ != nullptr && !env_.options.read_only) (void)store_->Flush();
}

absl::StatusOr<std::shared_ptr<Collection>> Database::Impl::Create(
    const std::string& name, const CollectionSpec& spec, bool existing_ok) {
  if (absl::Status s = ValidateName(name); !s.ok()) return s;
  absl::StatusOr<Spec> embedder_spec = Spec::Parse(spec.embedder);
  if (!embedder_spec.ok()) return embedder_spec.status();
  absl::StatusOr<Spec> index_spec = Spec::Parse(spec.index);
  if (!index_spec.ok()) return index_spec.status();
  absl::StatusOr<Chunker> chunker = Chunker::Create(spec.chunking);
  if (!chunker.ok()) return chunker.status();
  if (spec.vector_storage != "auto" && !ParseVectorStorage(spec.vector_storage)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "vector_storage is auto, float32 or float16, not '", spec.vector_storage, "'"));
  }

  absl::MutexLock lock(&mu_);
  if (auto it = collections_.find(name); it != collections_.end()) {
    if (!existing_ok) {
      return absl::AlreadyExistsError(absl::StrCat("collection '", name, "' already exists"));
    }
    const std::string difference =
        SpecDifference(it->second->Info(), it->second->Stats(), *embedder_spec, *index_spec,
                       chunker->spec(), spec);
    if (!difference.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "collection '", name, "' exists with another spec: ", difference));
    }
    return it->second;
  }
  CollectionRecord record;
  record.name = name;
  record.chunking = chunker->spec();
  absl::StatusOr<std::unique_ptr<Embedder>> created =
      CreateEmbedder(*embedder_spec, env_.embedder_context);
  if (!created.ok()) return created.status();
  std::unique_ptr<Embedder> embedder = *std::move(created);
  const EmbedderCapabilities can = embedder->capabilities();
  if (chunker->enabled() && can.caller_vectors) {
    return absl::InvalidArgumentError(
        "a 'vectors' collection takes one caller-supplied vector per document: it cannot "
        "be chunked");
  }
  record.embedder_spec = embedder->spec().ToString();
  record.vector_storage = spec.vector_storage;
  // Of the fitted model for a fittable embedder: set again by each fit.
  record.vector_encoding = ResolveVectorStorage(spec.vector_storage, *embedder);
  record.dimension = can.fittable ? 0 : embedder->dimension();
  if (!can.fittable && !can.caller_vectors) {
    absl::StatusOr<std::vector<float>> probe = ProbeEmbedder(*embedder);
    if (!probe.ok()) return probe.status();
    record.probe = *std::move(probe);
  }
  // Validate the index spec now rather than at the first insert.
  if (absl::Status s = ValidateIndexSpec(*index_spec, record.dimension); !s.ok()) return s;
  record.index_spec = index_spec->ToString();
  if (absl::Status s = ValidateIndexedFields(spec.indexed_fields); !s.ok()) return s;
  record.indexed_fields = spec.indexed_fields;
  record.keyword_index = spec.keyword_index;
  absl::StatusOr<uint32_t> cid = store_->NextCollectionId();
  if (!cid.ok()) return cid.status();
  record.id = *cid;
  record.created_unix = static_cast<int64_t>(std::time(nullptr));
  // A crashed earlier collection with this id may have left an index file.
  RemoveSavedIndexes(env_.index_dir, record.id);

  StoreBatch batch(*store_);
  batch.PutCollection(record);
  batch.PutCounters(record.id, Counters{});
  batch.PutNextCollectionId(record.id + 1);
  if (absl::Status s = store_->Write(batch, true); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<Collection::Impl>> c =
      Collection::Impl::Open(env_, record, std::move(embedder));
  if (!c.ok()) return c.status();
  auto collection = std::shared_ptr<Collection>(new Collection(*std::move(c)));
  collections_.emplace(name, collection);
  return collection;
}

absl::StatusOr<std::shared_ptr<Collection>> Database::Impl::Get(
    const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = collections_.find(name);
  if (it == collections_.end()) {
    std::vector<std::string> names;
    for (const auto& [n, c] : collections_) names.push_back(n);
    return absl::NotFoundError(absl::StrCat(
        "no collection '", name, "'",
        names.empty() ? " (the database has none)"
                      : absl::StrCat(" (have: ", absl::StrJoin(names, ", "), ")")));
  }
  return it->second;
}

std::vector<CollectionInfo> Database::Impl::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<CollectionInfo> out;
  for (const auto& [name, c] : collections_) out.push_back(c->Info());
  return out;
}

absl::Status Database::Impl::Drop(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = collections_.find(name);
  if (it == collections_.end()) {
    return absl::NotFoundError(absl::StrCat("no collection '", name, "'"));
  }
  absl::StatusOr<std::optional<CollectionRecord>> record = store_->GetCollection(name);
  if (!record.ok()) return record.status();
  if (*record) {
    StoreBatch batch(*store_);
    batch.DeleteCollection(**record);
    if (absl::Status s = store_->Write(batch, true); !s.ok()) return s;
  }
  it->second->impl_->Close(
      absl::NotFoundError(absl::StrCat("collection '", name, "' was dropped")));
  RemoveSavedIndexes(env_.index_dir, it->second->impl_->id());
  collections_.erase(it);
  return absl::OkStatus();
}

// --- Database: the public face of Impl.

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                         const Options& options) {
  absl::StatusOr<std::unique_ptr<Impl>> impl = Impl::Open(path, options);
  if (!impl.ok()) return impl.status();
  return std::unique_ptr<Database>(new Database(*std::move(impl)));
}

absl::StatusOr<std::shared_ptr<Collection>> Database::CreateCollection(
    const std::string& name, const CollectionSpec& spec) {
  return impl_->Create(name, spec, /*existing_ok=*/false);
}

absl::StatusOr<std::shared_ptr<Collection>> Database::GetOrCreateCollection(
    const std::string& name, const CollectionSpec& spec) {
  return impl_->Create(name, spec, /*existing_ok=*/true);
}

absl::StatusOr<std::shared_ptr<Collection>> Database::GetCollection(
    const std::string& name) const {
  return impl_->Get(name);
}

std::vector<CollectionInfo> Database::ListCollections() const { return impl_->List(); }

absl::Status Database::DropCollection(const std::string& name) { return impl_->Drop(name); }

const std::string& Database::path() const { return impl_->path(); }

}  // namespace semdb
