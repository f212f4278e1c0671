// The write path: inserts, upserts and deletes. Write validates the
// documents (ids, texts, metadata, vectors), then under write_mu_ builds
// the batch (BuildWriteLocked: replaced documents, generated ids, labels,
// passages, embedding) and commits it to storage and then to the index
// (CommitWriteLocked), which may trigger a refit, an index rebuild or save.
#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "fmt/format.h"
#include "src/collection_impl.h"
#include "src/index_files.h"
#include "src/model_probe.h"
#include "text/utf8.h"

namespace semdb {
namespace {

constexpr size_t kMaxIdBytes = 512;
constexpr int kMaxMetadataDepth = 32;

absl::Status ValidateId(std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("document id is empty");
  if (id.size() > kMaxIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("document id is ", id.size(), " bytes; the limit is ", kMaxIdBytes));
  }
  if (absl::Status s = ValidateUtf8(id); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("document id: ", s.message()));
  }
  for (char c : id) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return absl::InvalidArgumentError("document id contains a control character");
    }
  }
  return absl::OkStatus();
}

std::string DocName(const Document& doc, size_t index) {
  return doc.id.empty() ? absl::StrCat("document ", index + 1)
                        : absl::StrCat("document '", doc.id, "'");
}

// The rule for a caller's vector in a collection that embeds its texts
// (README, "Vectors in text collections"): it must be the model's own. An
// inserted one is checked against the model's vector of its text, row
// `row` of `model` (unchunked collections: one row per document): a
// cosine of at least kSameModelCosine, the threshold of the model probe.
absl::Status CheckModelVector(std::vector<float>& given, const std::vector<float>& model,
                              size_t row, int dimension) {
  if (dimension == 0) {
    return absl::FailedPreconditionError(
        "the collection has no fitted model yet, so a vector cannot be checked to be its "
        "model's: give the text alone");
  }
  if (absl::Status s = NormalizeVector(&given, dimension, VectorStorage::kFloat32); !s.ok()) {
    return s;
  }
  double cosine = 0;
  for (int j = 0; j < dimension; ++j) {
    cosine += static_cast<double>(given[j]) * model[row * dimension + j];
  }
  if (cosine < kSameModelCosine) {
    return absl::InvalidArgumentError(fmt::format(
        "the vector is not the collection model's vector of the text (cosine {:.4f}); a text "
        "collection embeds its texts itself: give the text alone",
        cosine));
  }
  return absl::OkStatus();
}

// Whether writes log their index operations for `index` (null: none yet).
// Only an index saved to a file replays the log at open; any other (flat,
// or flat serving until IVF trains) is built from the stored vectors at
// open and reads no log, and its saves truncate the log to nothing. So
// such an index logs nothing: a bulk ingest into a flat collection writes
// a fifth fewer records. The sequence numbers advance all the same, so a
// stale saved file of an earlier index never looks current (open finds
// the log does not reach back to it and rebuilds).
bool LogsIndexOperations(const VectorIndex* index) {
  return index != nullptr && IsSavedToFile(index->spec());
}

}  // namespace

// Metadata must serialize as JSON: strings (keys too) valid UTF-8, numbers
// finite (JSON has no NaN), nesting bounded (serializing and matching
// recurse).
absl::Status ValidateMetadata(const nlohmann::json& j, int depth) {
  if (depth > kMaxMetadataDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("nested deeper than ", kMaxMetadataDepth, " levels"));
  }
  if (j.is_string()) return ValidateUtf8(j.get_ref<const std::string&>());
  if (j.is_number_float() && !std::isfinite(j.get<double>())) {
    return absl::InvalidArgumentError("holds a number that is NaN or infinite");
  }
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (absl::Status s = ValidateUtf8(key); !s.ok()) return WithContext(s, "a key");
      if (absl::Status s = ValidateMetadata(value, depth + 1); !s.ok()) {
        return WithContext(s, absl::StrCat("'", key, "'"));
      }
    }
  } else if (j.is_array()) {
    for (const nlohmann::json& value : j) {
      if (absl::Status s = ValidateMetadata(value, depth + 1); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// Scales `v` to unit length; errors for wrong sizes, NaN/Inf and zero.
absl::Status NormalizeVector(std::vector<float>* v, int dimension, VectorStorage storage) {
  if (v->size() != static_cast<size_t>(dimension)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "vector has dimension ", v->size(), ", the collection has ", dimension));
  }
  double norm = 0;
  for (float x : *v) {
    if (!std::isfinite(x)) {
      return absl::InvalidArgumentError("vector contains NaN or infinity");
    }
    norm += static_cast<double>(x) * x;
  }
  if (!(norm > 0) || !std::isfinite(norm)) {
    return absl::InvalidArgumentError("vector has zero length (or overflows float)");
  }
  // A vector already of unit length (within the rounding of its stored
  // values) is kept as given, so that a stored vector read back and written
  // again (export, import) stays the same bytes. Rounding each value to a
  // half moves it by at most 2^-11 of itself, the squared length by at
  // most about 2^-10.
  const double tolerance = storage == VectorStorage::kFloat16 ? 0x1p-9 : 1e-6;
  if (std::abs(norm - 1) < tolerance) return absl::OkStatus();
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& x : *v) x *= inv;
  return absl::OkStatus();
}

VectorStorage ResolveVectorStorage(const std::string& setting, const Embedder& embedder) {
  if (std::optional<VectorStorage> fixed = ParseVectorStorage(setting)) return *fixed;
  return embedder.capabilities().half_precision ? VectorStorage::kFloat16
                                                : VectorStorage::kFloat32;
}

void PutVectors(StoreBatch& batch, uint32_t cid, uint32_t gen, VectorStorage storage,
                absl::Span<const uint64_t> labels, absl::Span<const float> vectors,
                absl::Span<const TextStats> stats, int dimension, Counters& counters) {
  for (size_t i = 0; i < labels.size(); ++i) {
    batch.PutVector(cid, gen, storage, labels[i], stats[i].tokens, stats[i].unknown_tokens,
                    vectors.subspan(i * dimension, dimension));
    counters.tokens += stats[i].tokens;
    counters.unknown_tokens += stats[i].unknown_tokens;
  }
}

absl::StatusOr<std::vector<std::string>> Collection::Impl::Write(
    std::vector<Document> docs, WriteMode mode, const WriteOptions& wo,
    std::optional<std::string_view> fingerprint) {
  // Validation that needs no lock.
  if (docs.empty()) return std::vector<std::string>{};
  const bool caller_vectors = caller_vectors_;
  absl::flat_hash_set<std::string_view> batch_ids;
  for (size_t i = 0; i < docs.size(); ++i) {
    Document& d = docs[i];
    const std::string name = DocName(d, i);
    if (d.id.empty() && mode == WriteMode::kUpsert) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": upsert needs an id"));
    }
    if (!d.id.empty()) {
      if (absl::Status s = ValidateId(d.id); !s.ok()) return WithContext(s, name);
      if (!batch_ids.insert(d.id).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, " appears twice in the batch"));
      }
    }
    if (d.text.size() > kMaxTextBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": text is ", d.text.size() >> 20, " MiB; the limit is ",
          kMaxTextBytes >> 20, " MiB (split the document into passages)"));
    }
    if (absl::Status s = ValidateUtf8(d.text); !s.ok()) {
      return WithContext(s, absl::StrCat(name, ": text"));
    }
    if (d.metadata.is_null()) d.metadata = nlohmann::json::object();
    if (!d.metadata.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": metadata must be a JSON object"));
    }
    if (absl::Status s = ValidateMetadata(d.metadata, 0); !s.ok()) {
      return WithContext(s, absl::StrCat(name, ": metadata"));
    }
    if (caller_vectors && d.vector.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": collection '", name_, "' stores caller-supplied vectors; give a vector"));
    }
    if (!caller_vectors && !d.vector.empty() && chunker_.enabled() && !fingerprint) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": collection '", name_,
          "' embeds each passage of its texts itself: give no vector"));
    }
    if (fingerprint && (caller_vectors || chunker_.enabled() || d.vector.empty())) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": writes of embedded texts need an unchunked text collection and a "
                "vector for every document"));
    }
    if (!caller_vectors && d.text.find_first_not_of(" \t\r\n") == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": text is empty"));
    }
  }

  // Passages, computed before taking the lock: chunking a long text takes
  // a while and needs no collection state.
  std::vector<std::vector<TextSpan>> spans(chunker_.enabled() ? docs.size() : 0);
  for (size_t i = 0; i < spans.size(); ++i) {
    spans[i] = chunker_.Split(docs[i].text);
    if (spans[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(DocName(docs[i], i), ": text has nothing but white space"));
    }
  }

  absl::MutexLock write_lock(&write_mu_);
  PendingWrite w(*env_.store, *doc_indexes_);
  {
    absl::ReaderMutexLock lock(&state_mu_);
    absl::Status s = BuildWriteLocked(mode, fingerprint, spans, batch_ids, docs, &w);
    if (!s.ok()) return s;
  }
  if (absl::Status s = CommitWriteLocked(w.batch, w.side_indexes, w.counters, wo,
                                         [&](VectorIndex& index) {
                                           absl::StatusOr<int64_t> removed =
                                               index.Remove(w.removed);
                                           return removed.ok() ? index.Add(w.labels, w.vectors)
                                                               : removed.status();
                                         });
      !s.ok()) {
    return s;
  }
  std::vector<std::string> ids;
  for (const Document& d : docs) ids.push_back(d.id);
  return ids;
}

absl::Status Collection::Impl::BuildWriteLocked(
    WriteMode mode, std::optional<std::string_view> fingerprint,
    const std::vector<std::vector<TextSpan>>& spans,
    const absl::flat_hash_set<std::string_view>& batch_ids, std::vector<Document>& docs,
    PendingWrite* w) const {
  const bool caller_vectors = caller_vectors_;
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  if (!embedder_error_.ok()) return embedder_error_;
  if (!probe_error_.ok()) return probe_error_;
  const uint32_t gen = record_.generation;
  const int dim = record_.dimension;
  const VectorStorage storage = record_.vector_encoding;
  if (fingerprint) {
    // The model-version guard: vectors of another model are not comparable.
    absl::StatusOr<std::string> current = ModelFingerprintLocked();
    if (!current.ok()) return current.status();
    if (*current != *fingerprint) {
      return absl::FailedPreconditionError(absl::StrCat(
          "collection '", name_, "' refuses vectors embedded under model ",
          std::string(*fingerprint), ": its model is ", *current, " (version ", gen, ")"));
    }
  }

  // Existing documents: an error for insert, replaced (with all their
  // passages) by upsert. Looked up in one batched read.
  std::vector<std::string_view> ids;
  for (const Document& d : docs) {
    if (!d.id.empty()) ids.push_back(d.id);
  }
  absl::StatusOr<std::vector<std::optional<StoredEntries>>> existing = FindEntries(ids);
  if (!existing.ok()) return existing.status();
  std::vector<StoredEntries> replaced;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!(*existing)[i].has_value()) continue;
    if (mode == WriteMode::kInsert) {
      return absl::AlreadyExistsError(
          absl::StrCat("document '", std::string(ids[i]), "' already exists (upsert replaces it)"));
    }
    replaced.push_back(*std::move((*existing)[i]));
  }

  // Generated ids (GeneratedId: numbered in insertion order, skipping any
  // a user took), then the index entries with their labels: one per
  // document, or one per passage.
  Counters& counters = w->counters;
  counters = counters_;
  std::vector<DocumentRecord> entries;
  std::vector<size_t> entry_doc;  // the document of each entry
  std::vector<uint64_t>& labels = w->labels;
  for (size_t i = 0; i < docs.size(); ++i) {
    Document& d = docs[i];
    while (d.id.empty()) {
      std::string candidate = GeneratedId(counters.next_generated_id++);
      absl::StatusOr<std::optional<StoredEntries>> taken = FindEntries(candidate);
      if (!taken.ok()) return taken.status();
      if (!taken->has_value() && !batch_ids.contains(candidate)) d.id = std::move(candidate);
    }
    if (!chunker_.enabled()) {
      entries.push_back({d.id, std::move(d.text)});
      entry_doc.push_back(i);
      labels.push_back(counters.next_label++);
      continue;
    }
    const uint32_t count = static_cast<uint32_t>(spans[i].size());
    for (uint32_t p = 0; p < count; ++p) {
      const TextSpan& span = spans[i][p];
      entries.push_back({PassageId(d.id, p), d.text.substr(span.begin, span.end - span.begin),
                         PassageLocation{d.id, p, count, span.begin, span.end}});
      entry_doc.push_back(i);
      labels.push_back(counters.next_label++);
    }
  }

  // Vectors: the caller's, or embedded by the current model (none while a
  // fittable embedder awaits its first fit, the only time dim is 0).
  const bool have_vectors = dim > 0;
  std::vector<float>& vectors = w->vectors;
  std::vector<TextStats> stats(entries.size());
  if (caller_vectors) {
    vectors.reserve(docs.size() * dim);
    for (size_t i = 0; i < docs.size(); ++i) {
      if (absl::Status s = NormalizeVector(&docs[i].vector, dim, storage); !s.ok()) {
        return WithContext(s, DocName(docs[i], i));
      }
      vectors.insert(vectors.end(), docs[i].vector.begin(), docs[i].vector.end());
    }
  } else if (fingerprint) {
    // Embedded elsewhere by this very model (Model::Embed): unit length or
    // zero, as the embedder gives them, with what it saw.
    vectors.reserve(docs.size() * dim);
    for (size_t i = 0; i < docs.size(); ++i) {
      const std::vector<float>& v = docs[i].vector;
      if (v.size() != static_cast<size_t>(dim) ||
          !std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); })) {
        return absl::InvalidArgumentError(absl::StrCat(
            DocName(docs[i], i), ": vector has dimension ", v.size(), " or a NaN/infinity; the "
            "collection's model gives ", dim));
      }
      vectors.insert(vectors.end(), v.begin(), v.end());
      stats[i] = docs[i].stats;
    }
  } else if (have_vectors) {
    std::vector<std::string_view> texts;
    for (const DocumentRecord& e : entries) texts.push_back(e.text);
    vectors.resize(entries.size() * dim);
    if (absl::Status s = embedder_->Embed(texts, absl::MakeSpan(vectors), &stats);
        !s.ok()) {
      return s;
    }
  }
  if (!caller_vectors && !fingerprint) {  // (the fingerprint vouches for those)
    for (size_t i = 0; i < docs.size(); ++i) {
      if (docs[i].vector.empty()) continue;
      if (absl::Status s = CheckModelVector(docs[i].vector, vectors, i, dim); !s.ok()) {
        return WithContext(s, DocName(docs[i], i));
      }
    }
  }
  // The index gets what storage keeps: exact search then ranks the stored
  // vectors, and a reopen (which builds from them) finds the same.
  RoundToStorage(storage, absl::MakeSpan(vectors));

  StoreBatch& batch = w->batch;
  DocumentIndexes::Update& side_indexes = w->side_indexes;
  const bool indexed = index_ != nullptr;
  const bool logged = LogsIndexOperations(index_.get());
  std::vector<uint64_t>& old_labels = w->removed;
  for (const StoredEntries& r : replaced) {
    if (absl::Status s = RemoveEntriesLocked(r, batch, side_indexes, counters, &old_labels);
        !s.ok()) {
      return s;
    }
    if (chunker_.enabled()) --counters.documents;  // its parent record is overwritten below
  }
  std::vector<std::string> metadata_json(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) metadata_json[i] = docs[i].metadata.dump();
  for (size_t e = 0; e < entries.size(); ++e) {
    side_indexes.Add(labels[e], entries[e].text, docs[entry_doc[e]].metadata);
    batch.PutDocument(id_, labels[e], entries[e], metadata_json[entry_doc[e]]);
    if (logged) batch.AppendLog(id_, counters.next_seq, {LogOp::kAdd, labels[e]});
    if (indexed) ++counters.next_seq;
    ++counters.live_docs;
  }
  if (have_vectors) {
    PutVectors(batch, id_, gen, storage, labels, vectors, stats, dim, counters);
  }
  if (chunker_.enabled()) {
    for (size_t e = 0, i = 0; i < docs.size(); ++i) {
      ParentRecord parent{metadata_json[i], {}};
      for (; e < entries.size() && entry_doc[e] == i; ++e) parent.passage_labels.push_back(labels[e]);
      batch.PutParent(id_, docs[i].id, parent, docs[i].text);
      ++counters.documents;
    }
  }
  return absl::OkStatus();
}

absl::Status Collection::Impl::CommitWriteLocked(
    StoreBatch& batch, DocumentIndexes::Update& side_indexes, const Counters& counters,
    const WriteOptions& wo, const std::function<absl::Status(VectorIndex&)>& update_index) {
  if (absl::Status s = side_indexes.Finish(batch); !s.ok()) return s;
  batch.PutCounters(id_, counters);
  if (absl::Status s = env_.store->Write(batch, Sync(wo)); !s.ok()) return s;
  absl::Status applied;
  {
    absl::MutexLock lock(&state_mu_);
    counters_ = counters;
    ++state_version_;
    if (index_ != nullptr) applied = update_index(*index_);
  }
  if (!applied.ok()) {
    // Storage is committed and authoritative; bring the index back in line.
    absl::Status s = RebuildIndexLocked(absl::StrCat("index update failed: ", applied.message()));
    if (!s.ok()) return s;
  }
  MaintainAfterWriteLocked(wo);
  return absl::OkStatus();
}

absl::Status Collection::Impl::RemoveEntriesLocked(const StoredEntries& entries,
                                                   StoreBatch& batch,
                                                   DocumentIndexes::Update& side_indexes,
                                                   Counters& counters,
                                                   std::vector<uint64_t>* removed) const {
  const uint32_t gen = record_.generation;
  for (size_t e = 0; e < entries.labels.size(); ++e) {
    const uint64_t label = entries.labels[e];
    if (absl::Status s = side_indexes.Remove(label); !s.ok()) return s;
    absl::StatusOr<std::optional<VectorRecord>> old =
        env_.store->GetVector(id_, gen, record_.vector_encoding, label);
    if (!old.ok()) return old.status();
    if (old->has_value()) {
      counters.tokens -= (*old)->tokens;
      counters.unknown_tokens -= (*old)->unknown_tokens;
    }
    batch.DeleteDocument(id_, label, entries.ids[e]);
    batch.DeleteVector(id_, gen, label);
    if (LogsIndexOperations(index_.get())) {
      batch.AppendLog(id_, counters.next_seq, {LogOp::kRemove, label});
    }
    if (index_ != nullptr) ++counters.next_seq;
    --counters.live_docs;
    removed->push_back(label);
  }
  return absl::OkStatus();
}

void Collection::Impl::MaintainAfterWriteLocked(const WriteOptions& wo) {
  bool refit = false;
  if (!wo.defer_refit) {
    absl::ReaderMutexLock lock(&state_mu_);
    const bool fittable = embedder_ != nullptr && embedder_->fittable();
    refit = fittable && !record_.model_installed && counters_.live_docs > 0 &&
            static_cast<double>(counters_.live_docs) >=
                env_.options.refit_growth * static_cast<double>(record_.fitted_docs);
  }
  if (refit) {
    // A failed fit keeps the previous model; the error shows in Stats and in
    // searches of a never-fitted collection.
    RefitAndRecordLocked().IgnoreError();
    return;
  }
  // A failed rebuild keeps the current index, which is correct, only slower
  // or holding tombstones; it is retried after the next write.
  (void)MaintainIndexLocked();
  bool save = false;
  {
    absl::ReaderMutexLock lock(&state_mu_);
    save = index_ != nullptr && counters_.next_seq - 1 - saved_seq_ >=
                                    static_cast<uint64_t>(env_.options.index_save_interval);
  }
  if (save) {
    // A failed save only means a longer log replay at the next open.
    (void)SaveIndexLocked();
  }
}

absl::StatusOr<std::vector<std::optional<Collection::Impl::StoredEntries>>>
Collection::Impl::FindEntries(absl::Span<const std::string_view> ids) const {
  std::vector<std::optional<StoredEntries>> found(ids.size());
  if (!chunker_.enabled()) {
    std::vector<std::optional<uint64_t>> labels;
    if (absl::Status s = env_.store->MultiGetLabels(id_, ids, &labels); !s.ok()) return s;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (labels[i]) found[i] = StoredEntries{{*labels[i]}, {std::string(ids[i])}};
    }
    return found;
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    absl::StatusOr<std::optional<StoredEntries>> one = FindEntries(ids[i]);
    if (!one.ok()) return one.status();
    found[i] = *std::move(one);
  }
  return found;
}

absl::StatusOr<std::optional<Collection::Impl::StoredEntries>> Collection::Impl::FindEntries(
    std::string_view id) const {
  StoredEntries found;
  if (!chunker_.enabled()) {
    absl::StatusOr<std::optional<uint64_t>> label = env_.store->GetLabel(id_, id);
    if (!label.ok()) return label.status();
    if (!label->has_value()) return std::nullopt;
    found.labels.push_back(**label);
    found.ids.emplace_back(id);
    return found;
  }
  absl::StatusOr<std::optional<ParentRecord>> parent = env_.store->GetParent(id_, id);
  if (!parent.ok()) return parent.status();
  if (!parent->has_value()) return std::nullopt;
  found.labels = std::move((*parent)->passage_labels);
  for (size_t p = 0; p < found.labels.size(); ++p) {
    found.ids.push_back(PassageId(id, static_cast<uint32_t>(p)));
  }
  return found;
}

absl::StatusOr<int64_t> Collection::Impl::Delete(absl::Span<const std::string> ids,
                                                 const WriteOptions& wo) {
  absl::MutexLock write_lock(&write_mu_);
  PendingWrite w(*env_.store, *doc_indexes_);
  int64_t deleted = 0;
  {
    absl::ReaderMutexLock lock(&state_mu_);
    if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
    w.counters = counters_;
    absl::flat_hash_set<std::string_view> seen;
    for (const std::string& id : ids) {
      if (!seen.insert(id).second) continue;
      absl::StatusOr<std::optional<StoredEntries>> found = FindEntries(id);
      if (!found.ok()) return found.status();
      if (!found->has_value()) continue;
      if (absl::Status s =
              RemoveEntriesLocked(**found, w.batch, w.side_indexes, w.counters, &w.removed);
          !s.ok()) {
        return s;
      }
      if (chunker_.enabled()) {
        w.batch.DeleteParent(id_, id);
        --w.counters.documents;
      }
      ++deleted;
    }
  }
  if (deleted == 0) return 0;
  if (absl::Status s = CommitWriteLocked(
          w.batch, w.side_indexes, w.counters, wo,
          [&](VectorIndex& index) { return index.Remove(w.removed).status(); });
      !s.ok()) {
    return s;
  }
  return deleted;
}

}  // namespace semdb
