#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "fmt/format.h"
#include "embedders/embedder_factory.h"
#include "embedders/nearest_words.h"
#include "embedders/word_similarity.h"
#include "embedders/word_vector_embedder.h"
#include "embedders/word_tokenizer.h"
#include "index/index_factory.h"
#include "src/collection_impl.h"
#include "src/crash_point.h"
#include "src/operation_log.h"
#include "src/document_indexes.h"
#include "src/index_builder.h"
#include "src/index_files.h"
#include "src/model_probe.h"
#include "src/passage_context.h"
#include "storage/bounded_json.h"

namespace semdb {
namespace {

constexpr size_t kMaxIdBytes = 512;
constexpr size_t kMaxTextBytes = size_t{64} << 20;
constexpr int kMaxMetadataDepth = 32;
constexpr size_t kEmbedBatch = 512;

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

absl::Status WithContext(const absl::Status& s, const std::string& context) {
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
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
absl::Status NormalizeVector(std::vector<float>* v, int dimension) {
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
  // A vector already of unit length (within float rounding) is kept as
  // given, so that a stored vector read back and written again (export,
  // import) stays the same bytes.
  if (std::abs(norm - 1) < 1e-6) return absl::OkStatus();
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& x : *v) x *= inv;
  return absl::OkStatus();
}

namespace {

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
  if (absl::Status s = NormalizeVector(&given, dimension); !s.ok()) return s;
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

}  // namespace

absl::StatusOr<int> VectorsDimension(const Spec& spec) {
  SpecReader r(spec);
  int dim = static_cast<int>(r.GetInt("dim", 0, 1, 65536));
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  if (!r.Has("dim")) return absl::InvalidArgumentError("'vectors' needs dim=N (1 to 65536)");
  return dim;
}

Collection::Impl::Impl(const CollectionEnv& env, CollectionRecord record)
    : env_(env),
      name_(record.name),
      id_(record.id),
      caller_vectors_(record.embedder_spec == kVectorsKind ||
                      record.embedder_spec.starts_with(std::string(kVectorsKind) + " ")),
      doc_indexes_(std::make_unique<DocumentIndexes>(env.store, record.id,
                                                     record.indexed_fields,
                                                     record.keyword_index)),
      record_(std::move(record)) {}

absl::StatusOr<std::unique_ptr<Collection::Impl>> Collection::Impl::Open(
    const CollectionEnv& env, CollectionRecord record, std::unique_ptr<Embedder> embedder) {
  auto impl = std::unique_ptr<Impl>(new Impl(env, std::move(record)));
  std::lock_guard<std::mutex> write_lock(impl->write_mu_);
  absl::StatusOr<Chunker> chunker = Chunker::Create(impl->record_.chunking);
  if (!chunker.ok()) return chunker.status();
  impl->chunker_ = *std::move(chunker);
  absl::StatusOr<Counters> counters = env.store->GetCounters(impl->id_);
  if (!counters.ok()) return counters.status();
  impl->counters_ = *counters;

  absl::StatusOr<Spec> spec = Spec::Parse(impl->record_.embedder_spec);
  if (!spec.ok()) return spec.status();
  if (spec->kind != kVectorsKind) {
    if (embedder == nullptr) {
      absl::StatusOr<std::unique_ptr<Embedder>> created =
          CreateEmbedder(*spec, env.embedder_context);
      if (created.ok()) {
        embedder = *std::move(created);
      } else {
        // The collection stays readable (get, delete, drop); text operations
        // report why its embedder is unavailable.
        impl->embedder_error_ = WithContext(
            created.status(), absl::StrCat("collection '", impl->name_,
                                           "': cannot create its embedder"));
      }
    }
    impl->embedder_ = std::move(embedder);
  }

  const uint32_t gen = impl->record_.generation;
  if (!env.options.read_only) {
    StoreBatch cleanup(*env.store);
    cleanup.DeleteOtherGenerations(impl->id_, gen);  // leftovers of a crashed refit
    if (absl::Status s = env.store->Write(cleanup, false); !s.ok()) return s;
  }

  const bool fittable = impl->embedder_ != nullptr && impl->embedder_->fittable();
  bool need_refit = false;
  if (fittable && gen > 0) {
    absl::StatusOr<std::optional<std::string>> state =
        env.store->GetEmbedderState(impl->id_, gen);
    absl::Status loaded = !state.ok()  ? state.status()
                          : !*state    ? absl::DataLossError("embedder state is missing")
                                       : impl->embedder_->LoadState(**state);
    if (loaded.ok() && !impl->record_.probe.empty()) {
      loaded = CheckProbe(*impl->embedder_, impl->record_.probe);
    }
    // The state can be recomputed from the stored texts.
    need_refit = !loaded.ok();
    if (need_refit && impl->record_.model_installed) {
      // An installed model is shared with other collections: refitting it
      // here would part from them. Text operations refuse until reinstalled.
      impl->probe_error_ = absl::FailedPreconditionError(absl::StrCat(
          "collection '", impl->name_, "': its installed model (fingerprint ",
          impl->record_.model_fingerprint, ") cannot be loaded: ", loaded.message(),
          "; install it again"));
      need_refit = false;
    }
  } else if (impl->embedder_ != nullptr && !fittable && !impl->record_.probe.empty()) {
    // A file-based model must be the one that made the vectors; until the
    // collection is refitted (re-embedded), text operations refuse.
    impl->probe_error_ = CheckProbe(*impl->embedder_, impl->record_.probe);
  }
  if (need_refit || (fittable && gen == 0 && impl->counters_.live_docs > 0)) {
    impl->RefitAndRecordLocked().IgnoreError();
  } else if (impl->record_.dimension > 0) {
    if (absl::Status s = impl->LoadOrRebuildIndexLocked(); !s.ok()) return s;
  }
  return impl;
}

CollectionInfo Collection::Impl::Info() const {
  std::shared_lock lock(state_mu_);
  CollectionInfo info;
  info.name = name_;
  info.embedder = record_.embedder_spec;
  info.index = record_.index_spec;
  info.dimension = record_.dimension;
  info.documents = DocumentsLocked();
  info.model_version = record_.generation;
  info.chunking = chunker_.spec();
  info.passages = counters_.live_docs;
  return info;
}

int64_t Collection::Impl::Count() const {
  std::shared_lock lock(state_mu_);
  return DocumentsLocked();
}

void Collection::Impl::Close(absl::Status why) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  std::unique_lock lock(state_mu_);
  if (!closed_.ok()) return;  // dropped, then its database closed
  closed_ = std::move(why);
  index_.reset();
  embedder_.reset();
}

absl::Status Collection::Impl::CheckUsableLocked() const { return closed_; }

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

  std::lock_guard<std::mutex> write_lock(write_mu_);
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  if (!embedder_error_.ok()) return embedder_error_;
  if (!probe_error_.ok()) return probe_error_;
  const uint32_t gen = record_.generation;
  const int dim = record_.dimension;
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
  // passages) by upsert.
  std::vector<StoredEntries> replaced;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (docs[i].id.empty()) continue;
    absl::StatusOr<std::optional<StoredEntries>> existing = FindEntries(docs[i].id);
    if (!existing.ok()) return existing.status();
    if (!existing->has_value()) continue;
    if (mode == WriteMode::kInsert) {
      return absl::AlreadyExistsError(absl::StrCat(
          "document '", docs[i].id, "' already exists (upsert replaces it)"));
    }
    replaced.push_back(**std::move(existing));
  }

  // Generated ids (GeneratedId: numbered in insertion order, skipping any
  // a user took), then the index entries with their labels: one per
  // document, or one per passage.
  Counters counters = counters_;
  std::vector<DocumentRecord> entries;
  std::vector<size_t> entry_doc;  // the document of each entry
  std::vector<uint64_t> labels;
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
  std::vector<float> vectors;
  std::vector<TextStats> stats(entries.size());
  if (caller_vectors) {
    vectors.reserve(docs.size() * dim);
    for (size_t i = 0; i < docs.size(); ++i) {
      if (absl::Status s = NormalizeVector(&docs[i].vector, dim); !s.ok()) {
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

  StoreBatch batch(*env_.store);
  DocumentIndexes::Update side_indexes(*doc_indexes_);
  const bool indexed = index_ != nullptr;
  std::vector<uint64_t> old_labels;
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
    if (have_vectors) {
      VectorRecord v;
      v.tokens = stats[e].tokens;
      v.unknown_tokens = stats[e].unknown_tokens;
      v.values.assign(vectors.begin() + e * dim, vectors.begin() + (e + 1) * dim);
      batch.PutVector(id_, gen, labels[e], v);
      counters.tokens += v.tokens;
      counters.unknown_tokens += v.unknown_tokens;
    }
    if (indexed) batch.AppendLog(id_, counters.next_seq++, {LogOp::kAdd, labels[e]});
    ++counters.live_docs;
  }
  if (chunker_.enabled()) {
    for (size_t e = 0, i = 0; i < docs.size(); ++i) {
      ParentRecord parent{metadata_json[i], {}};
      for (; e < entries.size() && entry_doc[e] == i; ++e) parent.passage_labels.push_back(labels[e]);
      batch.PutParent(id_, docs[i].id, parent, docs[i].text);
      ++counters.documents;
    }
  }
  if (absl::Status s = CommitWriteLocked(batch, side_indexes, counters, wo,
                                         [&](VectorIndex& index) {
                                           absl::StatusOr<int64_t> removed =
                                               index.Remove(old_labels);
                                           return removed.ok() ? index.Add(labels, vectors)
                                                               : removed.status();
                                         });
      !s.ok()) {
    return s;
  }
  std::vector<std::string> ids;
  for (const Document& d : docs) ids.push_back(d.id);
  return ids;
}

absl::Status Collection::Impl::CommitWriteLocked(
    StoreBatch& batch, DocumentIndexes::Update& side_indexes, const Counters& counters,
    const WriteOptions& wo, const std::function<absl::Status(VectorIndex&)>& update_index) {
  if (absl::Status s = side_indexes.Finish(batch); !s.ok()) return s;
  batch.PutCounters(id_, counters);
  if (absl::Status s = env_.store->Write(batch, Sync(wo)); !s.ok()) return s;
  absl::Status applied;
  {
    std::unique_lock lock(state_mu_);
    counters_ = counters;
    if (index_ != nullptr) applied = update_index(*index_);
  }
  if (!applied.ok()) {
    // Storage is committed and authoritative; bring the index back in line.
    absl::Status s = RebuildIndexLocked(absl::StrCat("index update failed: ", applied.message()));
    if (!s.ok()) return s;
  }
  MaintainAfterWriteLocked();
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
    absl::StatusOr<std::optional<VectorRecord>> old = env_.store->GetVector(id_, gen, label);
    if (!old.ok()) return old.status();
    if (old->has_value()) {
      counters.tokens -= (*old)->tokens;
      counters.unknown_tokens -= (*old)->unknown_tokens;
    }
    batch.DeleteDocument(id_, label, entries.ids[e]);
    batch.DeleteVector(id_, gen, label);
    if (index_ != nullptr) batch.AppendLog(id_, counters.next_seq++, {LogOp::kRemove, label});
    --counters.live_docs;
    removed->push_back(label);
  }
  return absl::OkStatus();
}

void Collection::Impl::MaintainAfterWriteLocked() {
  const bool fittable = embedder_ != nullptr && embedder_->fittable();
  if (fittable && !record_.model_installed && counters_.live_docs > 0 &&
      static_cast<double>(counters_.live_docs) >=
          env_.options.refit_growth * static_cast<double>(record_.fitted_docs)) {
    // A failed fit keeps the previous model; the error shows in Stats and in
    // searches of a never-fitted collection.
    RefitAndRecordLocked().IgnoreError();
    return;
  }
  // A failed rebuild keeps the current index, which is correct, only slower
  // or holding tombstones; it is retried after the next write.
  (void)MaintainIndexLocked();
  if (index_ != nullptr &&
      counters_.next_seq - 1 - saved_seq_ >=
          static_cast<uint64_t>(env_.options.index_save_interval)) {
    // A failed save only means a longer log replay at the next open.
    (void)SaveIndexLocked();
  }
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

absl::StatusOr<Document> Collection::Impl::Get(std::string_view id) const {
  // Held throughout, so that Close waits until the store is no longer read.
  std::shared_lock lock(state_mu_);
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  const uint32_t gen = record_.generation;
  const std::string not_found =
      absl::StrCat("no document '", std::string(id), "' in '", name_, "'");
  Document out;
  std::vector<uint64_t> labels;
  if (chunker_.enabled()) {
    absl::StatusOr<std::optional<ParentRecord>> parent = env_.store->GetParent(id_, id);
    absl::StatusOr<std::optional<std::string>> text = env_.store->GetParentText(id_, id);
    if (!parent.ok()) return parent.status();
    if (!text.ok()) return text.status();
    if (!parent->has_value() || !text->has_value()) return absl::NotFoundError(not_found);
    out.id = std::string(id);
    out.text = std::move(**text);
    out.metadata = ParseJsonOrDiscarded((*parent)->metadata_json);
    labels = std::move((*parent)->passage_labels);
  } else {
    absl::StatusOr<std::optional<uint64_t>> label = env_.store->GetLabel(id_, id);
    if (!label.ok()) return label.status();
    if (!label->has_value()) return absl::NotFoundError(not_found);
    absl::StatusOr<std::optional<DocumentRecord>> doc = env_.store->GetDocument(id_, **label);
    absl::StatusOr<std::optional<std::string>> meta = env_.store->GetMetadata(id_, **label);
    if (!doc.ok()) return doc.status();
    if (!meta.ok()) return meta.status();
    if (!doc->has_value()) return absl::NotFoundError(not_found);
    out.id = std::move((*doc)->id);
    out.text = std::move((*doc)->text);
    out.metadata = ParseJsonOrDiscarded(meta->value_or("{}"));
    labels.push_back(**label);
  }
  // What the embedder saw: summed over a chunked document's passages.
  bool all_zero = !labels.empty();
  for (uint64_t label : labels) {
    absl::StatusOr<std::optional<VectorRecord>> vec = env_.store->GetVector(id_, gen, label);
    if (!vec.ok()) return vec.status();
    if (!vec->has_value()) {
      all_zero = false;
      continue;
    }
    out.stats.tokens += (*vec)->tokens;
    out.stats.unknown_tokens += (*vec)->unknown_tokens;
    all_zero = all_zero && std::all_of((*vec)->values.begin(), (*vec)->values.end(),
                                       [](float x) { return x == 0.0f; });
    if (caller_vectors_) out.vector = std::move((*vec)->values);
  }
  out.stats.zero_vector = all_zero;
  return out;
}

absl::StatusOr<int64_t> Collection::Impl::Delete(absl::Span<const std::string> ids,
                                                 const WriteOptions& wo) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  Counters counters = counters_;
  StoreBatch batch(*env_.store);
  std::vector<uint64_t> removed;
  DocumentIndexes::Update side_indexes(*doc_indexes_);
  absl::flat_hash_set<std::string_view> seen;
  int64_t deleted = 0;
  for (const std::string& id : ids) {
    if (!seen.insert(id).second) continue;
    absl::StatusOr<std::optional<StoredEntries>> found = FindEntries(id);
    if (!found.ok()) return found.status();
    if (!found->has_value()) continue;
    if (absl::Status s = RemoveEntriesLocked(**found, batch, side_indexes, counters, &removed);
        !s.ok()) {
      return s;
    }
    if (chunker_.enabled()) {
      batch.DeleteParent(id_, id);
      --counters.documents;
    }
    ++deleted;
  }
  if (deleted == 0) return 0;
  if (absl::Status s = CommitWriteLocked(
          batch, side_indexes, counters, wo,
          [&](VectorIndex& index) { return index.Remove(removed).status(); });
      !s.ok()) {
    return s;
  }
  return deleted;
}

absl::Status Collection::Impl::EmbedQueryLocked(std::string_view query,
                                                std::vector<float>* vector,
                                                bool* zero_vector) const {
  if (query.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return absl::InvalidArgumentError("the query is empty");
  }
  if (query.size() > kMaxTextBytes) return absl::InvalidArgumentError("the query is too long");
  if (!embedder_error_.ok()) return embedder_error_;
  if (!probe_error_.ok()) return probe_error_;
  if (embedder_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", name_, "' stores caller-supplied vectors: search it with a vector"));
  }
  vector->assign(record_.dimension, 0);
  std::vector<TextStats> stats;
  std::string_view texts[] = {query};
  if (absl::Status s = embedder_->EmbedQueries(texts, absl::MakeSpan(*vector), &stats); !s.ok()) {
    return WithContext(s, "query");
  }
  if (zero_vector != nullptr) {
    *zero_vector = stats[0].zero_vector;
  } else if (stats[0].zero_vector) {
    return absl::InvalidArgumentError(
        "none of the query's words are known to the collection's model");
  }
  return absl::OkStatus();
}

absl::StatusOr<double> Collection::Impl::Similarity(std::string_view a,
                                                    std::string_view b) const {
  std::shared_lock lock(state_mu_);
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  std::vector<float> va, vb;
  bool zero_a = false, zero_b = false;
  if (absl::Status s = EmbedQueryLocked(a, &va, &zero_a); !s.ok()) return s;
  if (absl::Status s = EmbedQueryLocked(b, &vb, &zero_b); !s.ok()) return s;
  if (zero_a || zero_b) return 0.0;
  double dot = 0;
  for (size_t i = 0; i < va.size(); ++i) dot += static_cast<double>(va[i]) * vb[i];
  return std::clamp(dot, -1.0, 1.0);
}

absl::StatusOr<std::optional<SearchOptions>> Collection::Impl::PrepareTextQueryLocked(
    std::string_view query, const SearchOptions& options, std::vector<float>* vector) const {
  if (options.hybrid.value_or(0) >= 1) {
    if (query.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      return absl::InvalidArgumentError("the query is empty");
    }
    vector->assign(record_.dimension, 0);  // the keyword ranking alone answers
    return options;
  }
  bool zero = false;
  if (absl::Status s = EmbedQueryLocked(query, vector, &zero); !s.ok()) return s;
  if (!zero) return options;
  if (doc_indexes_->keywords() == nullptr) return std::nullopt;
  SearchOptions keyword_only = options;
  keyword_only.hybrid = 1;
  return keyword_only;
}

absl::StatusOr<nlohmann::json> Collection::Impl::Explain(std::string_view query,
                                                         const SearchOptions& options,
                                                         bool analyze) const {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  std::shared_lock lock(state_mu_);
  if (absl::Status s = CheckSearchableLocked(options, true); !s.ok()) return s;
  if (index_ == nullptr) return NoIndexLocked();
  std::vector<float> vector;
  absl::StatusOr<std::optional<SearchOptions>> effective =
      PrepareTextQueryLocked(query, options, &vector);
  if (!effective.ok()) return effective.status();
  if (!effective->has_value()) {
    return nlohmann::json{{"plan", "none: no word of the query is known to the model "
                                   "(stop words or unknown words) and there is no keyword index"}};
  }
  nlohmann::json explain;
  absl::StatusOr<std::vector<Hit>> hits =
      SearchLocked(vector, **effective, query, &explain, analyze);
  if (!hits.ok()) return hits.status();
  if (effective->value().hybrid != options.hybrid && options.hybrid.value_or(0) < 1) {
    explain["note"] =
        "no word of the query is known to the model (stop words or unknown words): "
        "answered by the keyword ranking alone";
  }
  return explain;
}

absl::StatusOr<nlohmann::json> Collection::Impl::ExplainVector(absl::Span<const float> vector,
                                                               const SearchOptions& options,
                                                               bool analyze) const {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  std::shared_lock lock(state_mu_);
  if (absl::Status s = CheckSearchableLocked(options, false); !s.ok()) return s;
  if (index_ == nullptr) return NoIndexLocked();
  std::vector<float> normalized(vector.begin(), vector.end());
  if (absl::Status s = NormalizeVector(&normalized, record_.dimension); !s.ok()) {
    return WithContext(s, "query vector");
  }
  nlohmann::json explain;
  absl::StatusOr<std::vector<Hit>> hits = SearchLocked(normalized, options, "", &explain, analyze);
  if (!hits.ok()) return hits.status();
  return explain;
}

absl::Status Collection::Impl::CheckSearchableLocked(const SearchOptions& options,
                                                     bool text) const {
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  if (options.hybrid.value_or(0) > 0) {
    if (!text) {
      return absl::InvalidArgumentError("hybrid search needs a text query, not a vector");
    }
    if (doc_indexes_->keywords() == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "collection '", name_, "' keeps no keyword index (created without one)"));
    }
  }
  return absl::OkStatus();
}

absl::Status Collection::Impl::NoIndexLocked() const {
  return absl::FailedPreconditionError(absl::StrCat(
      "collection '", name_, "' has no fitted model yet",
      fit_error_.ok() ? "" : absl::StrCat(": ", fit_error_.message())));
}

absl::StatusOr<std::vector<Hit>> Collection::Impl::Search(
    std::string_view query, const SearchOptions& options) const {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  std::shared_lock lock(state_mu_);
  if (absl::Status s = CheckSearchableLocked(options, true); !s.ok()) return s;
  if (index_ == nullptr && embedder_ != nullptr && embedder_error_.ok()) {
    if (counters_.live_docs == 0) return std::vector<Hit>{};
    return NoIndexLocked();
  }
  std::vector<float> vector;
  absl::StatusOr<std::optional<SearchOptions>> effective =
      PrepareTextQueryLocked(query, options, &vector);
  if (!effective.ok()) return effective.status();
  if (!effective->has_value()) return std::vector<Hit>{};
  return SearchLocked(vector, **effective, query, nullptr, false);
}

absl::StatusOr<std::vector<Hit>> Collection::Impl::SearchVector(
    absl::Span<const float> vector, const SearchOptions& options) const {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  std::shared_lock lock(state_mu_);
  if (absl::Status s = CheckSearchableLocked(options, false); !s.ok()) return s;
  if (index_ == nullptr) {
    if (counters_.live_docs == 0) return std::vector<Hit>{};
    return NoIndexLocked();
  }
  std::vector<float> normalized(vector.begin(), vector.end());
  if (absl::Status s = NormalizeVector(&normalized, record_.dimension); !s.ok()) {
    return WithContext(s, "query vector");
  }
  return SearchLocked(normalized, options, "", nullptr, false);
}

absl::Status Collection::Impl::Refit() {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  if (!embedder_error_.ok()) return embedder_error_;
  if (caller_vectors_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", name_, "' stores caller-supplied vectors; nothing to refit"));
  }
  if (record_.model_installed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", name_, "' has an installed model (fingerprint ",
        record_.model_fingerprint, "); install a new one instead of refitting"));
  }
  return RefitAndRecordLocked();
}

absl::Status Collection::Impl::RefitAndRecordLocked() {
  absl::Status status = RefitLocked();
  if (status.ok() && !env_.options.read_only) {
    // The refit rewrote every vector: the replaced generation leaves the
    // disk now, and the WAL holding the rewrite is flushed (best effort: the
    // refit itself is committed).
    (void)env_.store->Reclaim(id_);
  }
  std::unique_lock state_lock(state_mu_);
  fit_error_ = status;
  return status;
}

absl::Status Collection::Impl::RefitLocked() {
  absl::StatusOr<Spec> spec = Spec::Parse(record_.embedder_spec);
  if (!spec.ok()) return spec.status();
  absl::StatusOr<std::unique_ptr<Embedder>> fresh =
      CreateEmbedder(*spec, env_.embedder_context);
  if (!fresh.ok()) return fresh.status();
  Store* store = env_.store;

  TextCorpus corpus;
  corpus.size = counters_.live_docs;
  corpus.for_each = [&](const std::function<absl::Status(std::string_view)>& visit) {
    return store->ScanDocuments(
        id_, [&](uint64_t, DocumentRecord& doc) { return visit(doc.text); });
  };
  if ((*fresh)->fittable()) {
    if (absl::Status s = (*fresh)->Fit(corpus); !s.ok()) return s;
  }
  ModelState model;
  model.embedder = record_.embedder_spec;
  model.dimension = (*fresh)->dimension();
  absl::StatusOr<std::string> state = (*fresh)->SaveState();
  if (!state.ok()) return state.status();
  model.state = *std::move(state);
  absl::StatusOr<std::vector<float>> probe = ProbeEmbedder(**fresh);
  if (!probe.ok()) return probe.status();
  model.probe = *std::move(probe);
  return SwitchModelLocked(*std::move(fresh), model, /*installed=*/false);
}

absl::Status Collection::Impl::SwitchModelLocked(std::unique_ptr<Embedder> fresh,
                                                 const ModelState& model, bool installed) {
  Store* store = env_.store;
  // Embed every document into the new generation, beside the current one
  // that searches keep using until the switch below.
  const uint32_t gen = record_.generation + 1;
  const int dim = fresh->dimension();
  absl::StatusOr<Spec> index_spec = Spec::Parse(record_.index_spec);
  if (!index_spec.ok()) return index_spec.status();
  if (absl::Status s = ValidateIndexSpec(*index_spec, dim); !s.ok()) return s;
  Counters counters = counters_;
  counters.tokens = counters.unknown_tokens = 0;
  std::vector<uint64_t> labels;
  std::vector<std::string> texts;
  OperationReporter reporter(env_.options, name_, "refit", counters.live_docs);
  auto flush = [&]() -> absl::Status {
    if (labels.empty()) return absl::OkStatus();
    reporter.Advance(static_cast<int64_t>(labels.size()));
    std::vector<std::string_view> views(texts.begin(), texts.end());
    std::vector<float> vectors(labels.size() * dim);
    std::vector<TextStats> stats;
    if (absl::Status s = fresh->Embed(views, absl::MakeSpan(vectors), &stats); !s.ok()) {
      return s;
    }
    StoreBatch batch(*store);
    for (size_t i = 0; i < labels.size(); ++i) {
      VectorRecord v;
      v.tokens = stats[i].tokens;
      v.unknown_tokens = stats[i].unknown_tokens;
      v.values.assign(vectors.begin() + i * dim, vectors.begin() + (i + 1) * dim);
      batch.PutVector(id_, gen, labels[i], v);
      counters.tokens += v.tokens;
      counters.unknown_tokens += v.unknown_tokens;
    }
    if (absl::Status s = store->Write(batch, false); !s.ok()) return s;
    CrashPoint("refit.batch_written");
    labels.clear();
    texts.clear();
    return absl::OkStatus();
  };
  absl::Status s = store->ScanDocuments(id_, [&](uint64_t label, DocumentRecord& doc) {
    labels.push_back(label);
    texts.push_back(std::move(doc.text));
    return labels.size() == kEmbedBatch ? flush() : absl::OkStatus();
  });
  if (s.ok()) s = flush();
  if (!s.ok()) return s;
  absl::StatusOr<std::unique_ptr<VectorIndex>> index =
      BuildIndexFromStore(*store, id_, gen, dim, *index_spec, counters.live_docs,
                          model.index_training);
  if (!index.ok()) return index.status();

  // Switch atomically: the record names the new generation, the old one's
  // vectors and state go, and the log restarts (the new index is saved
  // below; until then a reopen rebuilds it from the new vectors).
  StoreBatch state_batch(*store);
  state_batch.PutEmbedderState(id_, gen, model.state);
  if (!model.index.empty()) state_batch.PutIndexTraining(id_, gen, model.index_training);
  if (absl::Status w = store->Write(state_batch, false); !w.ok()) return w;
  CollectionRecord record = record_;
  record.generation = gen;
  record.dimension = dim;
  record.fitted_docs = counters.live_docs;
  record.probe = model.probe;
  record.model_fingerprint = model.Fingerprint();
  record.model_installed = installed;
  StoreBatch sw(*store);
  sw.PutCollection(record);
  sw.PutCounters(id_, counters);
  sw.DeleteOtherGenerations(id_, gen);
  sw.TruncateLog(id_, counters.next_seq);
  if (absl::Status w = store->Write(sw, true); !w.ok()) return w;
  CrashPoint("refit.switched");
  {
    std::unique_lock lock(state_mu_);
    record_ = record;
    counters_ = counters;
    embedder_ = std::move(fresh);
    index_ = *std::move(index);
    index_origin_ = absl::StrCat("built by the refit to model version ", gen);
    probe_error_ = absl::OkStatus();
  }
  saved_seq_ = 0;
  // A failed save only means the next open rebuilds from stored vectors.
  (void)SaveIndexLocked();
  return absl::OkStatus();
}

absl::Status Collection::Impl::LoadOrRebuildIndexLocked() {
  const uint32_t gen = record_.generation;
  const uint64_t last_seq = counters_.next_seq - 1;
  std::optional<SavedIndex> saved = FindSavedIndex(env_.index_dir, id_);
  std::string reason = "no saved index";
  if (saved && saved->generation != gen) {
    reason = "the saved index is of another model version";
  } else if (saved && saved->seq > last_seq) {
    reason = "the saved index is ahead of storage";
  } else if (saved) {
    absl::StatusOr<std::optional<uint64_t>> first = env_.store->FirstLogSeq(id_);
    if (!first.ok()) return first.status();
    const bool contiguous =
        saved->seq == last_seq || (first->has_value() && **first <= saved->seq + 1);
    const absl::Status sized =
        CheckSavedIndexSize(saved->path, counters_.next_label - 1, record_.dimension);
    absl::StatusOr<std::unique_ptr<VectorIndex>> loaded =
        !contiguous  ? absl::DataLossError("the index log does not reach back to it")
        : !sized.ok() ? sized
                      : LoadVectorIndex(saved->path);
    if (loaded.ok() && ((*loaded)->dimension() != record_.dimension ||
                        !MayServe((*loaded)->spec(), *Spec::Parse(record_.index_spec)))) {
      loaded = absl::DataLossError("it has another dimension or type");
    }
    int64_t replayed = 0;
    if (loaded.ok() && saved->seq < last_seq) {
      OperationReporter reporter(env_.options, name_, "log replay",
                                 static_cast<int64_t>(last_seq - saved->seq));
      absl::Status s = env_.store->ScanLog(
          id_, saved->seq + 1, [&](uint64_t, const LogOp& op) -> absl::Status {
            ++replayed;
            reporter.Advance(1);
            uint64_t label[] = {op.label};
            if (op.kind == LogOp::kRemove) return (*loaded)->Remove(label).status();
            absl::StatusOr<std::optional<VectorRecord>> v =
                env_.store->GetVector(id_, gen, op.label);
            if (!v.ok()) return v.status();
            if (!v->has_value()) return absl::OkStatus();  // removed later in the log
            return (*loaded)->Add(label, (*v)->values);
          });
      if (!s.ok()) loaded = s;
    }
    if (loaded.ok() && (*loaded)->size() != counters_.live_docs) {
      loaded = absl::DataLossError(absl::StrCat("it holds ", (*loaded)->size(),
                                                " vectors, storage ", counters_.live_docs));
    }
    if (loaded.ok()) {
      {
        std::unique_lock lock(state_mu_);
        index_ = *std::move(loaded);
        index_origin_ = absl::StrCat("loaded from its saved file, ", replayed,
                                     " logged operations replayed");
      }
      saved_seq_ = saved->seq;
      // E.g. IVF reaching its training threshold during the replay (a
      // rebuild, which takes state_mu_ itself).
      return MaintainIndexLocked();
    }
    reason = absl::StrCat("the saved index was not usable: ", loaded.status().message());
  }
  return RebuildIndexLocked(reason);
}

absl::Status Collection::Impl::RebuildIndexLocked(const std::string& reason) {
  // Built beside the serving index, which searches keep using (state_mu_ is
  // not held); writers wait on write_mu_, so nothing is logged meanwhile
  // and the new index is current when it is swapped in.
  absl::StatusOr<Spec> spec = Spec::Parse(record_.index_spec);
  if (!spec.ok()) return spec.status();
  OperationReporter reporter(env_.options, name_, "index rebuild",
                            counters_.live_docs);
  absl::StatusOr<std::optional<std::string>> training =
      env_.store->GetIndexTraining(id_, record_.generation);  // installed with the model
  if (!training.ok()) return training.status();
  absl::StatusOr<std::unique_ptr<VectorIndex>> index =
      BuildIndexFromStore(*env_.store, id_, record_.generation, record_.dimension, *spec,
                          counters_.live_docs, training->value_or(""), &reporter);
  if (!index.ok()) return index.status();
  {
    std::unique_lock lock(state_mu_);
    index_ = *std::move(index);
    index_origin_ = absl::StrCat("rebuilt from ", index_->size(), " stored vectors (",
                                 reason, ")");
  }
  saved_seq_ = 0;
  (void)SaveIndexLocked();
  return absl::OkStatus();
}

absl::Status Collection::Impl::MaintainIndexLocked() {
  if (index_ == nullptr) return absl::OkStatus();
  std::optional<std::string> reason =
      RebuildReason(*index_, *Spec::Parse(record_.index_spec), counters_.live_docs);
  return reason ? RebuildIndexLocked(*reason) : absl::OkStatus();
}

absl::Status Collection::Impl::SetIndex(const std::string& spec_text) {
  absl::StatusOr<Spec> spec = Spec::Parse(spec_text);
  if (!spec.ok()) return spec.status();
  std::lock_guard<std::mutex> write_lock(write_mu_);
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  if (absl::Status s = ValidateIndexSpec(*spec, record_.dimension); !s.ok()) return s;
  if (index_ != nullptr && index_->training_installed() && spec->ToString() != record_.index_spec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", name_, "' builds its index from the training installed with its model; "
        "install a model trained for '", spec->ToString(), "' (TrainIndex) instead"));
  }
  CollectionRecord record = record_;
  record.index_spec = spec->ToString();
  // The record first: a crash before the rebuild below leaves a saved index
  // of the old spec, which reopen refuses and rebuilds.
  StoreBatch batch(*env_.store);
  batch.PutCollection(record);
  if (absl::Status s = env_.store->Write(batch, true); !s.ok()) return s;
  {
    std::unique_lock lock(state_mu_);
    record_ = record;
  }
  if (index_ == nullptr) return absl::OkStatus();  // built at the first fit
  return RebuildIndexLocked(absl::StrCat("index changed to '", record.index_spec, "'"));
}

absl::Status Collection::Impl::SaveIndexLocked() {
  if (index_ == nullptr || !closed_.ok()) return absl::OkStatus();
  // The saved index must never be ahead of durable storage.
  if (absl::Status s = env_.store->SyncWal(); !s.ok()) return s;
  const uint64_t seq = counters_.next_seq - 1;
  if (absl::Status s = SaveIndex(*index_, env_.index_dir, id_, record_.generation, seq);
      !s.ok()) {
    return s;
  }
  CrashPoint("index_save.saved");
  StoreBatch batch(*env_.store);
  batch.TruncateLog(id_, seq + 1);
  if (absl::Status s = env_.store->Write(batch, false); !s.ok()) return s;
  saved_seq_ = seq;
  return absl::OkStatus();
}

absl::Status Collection::Impl::Checkpoint() {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  if (index_ == nullptr) return absl::OkStatus();
  if (saved_seq_ == counters_.next_seq - 1 &&
      FindSavedIndex(env_.index_dir, id_).has_value()) {
    return absl::OkStatus();
  }
  return SaveIndexLocked();
}

nlohmann::json Collection::Impl::Stats() const {
  std::shared_lock lock(state_mu_);
  nlohmann::json j;
  j["name"] = name_;
  j["documents"] = DocumentsLocked();
  if (chunker_.enabled()) {
    j["chunking"] = chunker_.spec();
    j["passages"] = counters_.live_docs;
  }
  j["embedder"] = record_.embedder_spec;
  j["index"] = record_.index_spec;
  j["dimension"] = record_.dimension;
  j["model_version"] = record_.generation;
  j["tokens"] = counters_.tokens;
  j["unknown_tokens"] = counters_.unknown_tokens;
  if (embedder_ != nullptr) {
    j["embedder_facts"] = embedder_->Describe();
    if (embedder_->fittable()) {
      j["fitted_documents"] = record_.fitted_docs;
      j["next_refit_at"] = static_cast<int64_t>(
          std::ceil(env_.options.refit_growth * std::max<int64_t>(1, record_.fitted_docs)));
    }
  }
  if (index_ != nullptr) {
    j["index_facts"] = index_->Describe();
    j["index_origin"] = index_origin_;
  }
  j["indexed_fields"] = doc_indexes_->fields().fields();
  if (!closed_.ok()) {
    j["error"] = std::string(closed_.message());
  } else if (const KeywordIndex* keywords = doc_indexes_->keywords()) {
    absl::StatusOr<KeywordIndex::Totals> totals = keywords->GetTotals();
    if (totals.ok()) {
      j["keyword_index"] = {{"documents", totals->documents},
                            {"term_occurrences", totals->length}};
    }
  }
  if (!embedder_error_.ok()) j["embedder_error"] = std::string(embedder_error_.message());
  if (!fit_error_.ok()) j["fit_error"] = std::string(fit_error_.message());
  if (!probe_error_.ok()) j["model_error"] = std::string(probe_error_.message());
  return j;
}

absl::StatusOr<const WordVectorEmbedder*> Collection::Impl::WordVectorsLocked() const {
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  if (!embedder_error_.ok()) return embedder_error_;
  if (!probe_error_.ok()) return probe_error_;
  const WordVectorEmbedder* words = embedder_ ? embedder_->word_vectors() : nullptr;
  if (words == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", name_, "' has no word vectors (its embedder is ",
        record_.embedder_spec, "); word queries need glove, word2vec or fasttext"));
  }
  return words;
}

absl::StatusOr<std::vector<WordMatch>> Collection::Impl::NearestWords(
    std::string_view expression, int k) const {
  if (k < 1 || k > kMaxK) {
    return absl::InvalidArgumentError(absl::StrCat("k must be between 1 and ", kMaxK));
  }
  std::shared_lock lock(state_mu_);
  absl::StatusOr<const WordVectorEmbedder*> words = WordVectorsLocked();
  if (!words.ok()) return words.status();
  return semdb::NearestWords(**words, expression, k);
}

absl::StatusOr<WordSimilarityResult> Collection::Impl::EvaluateWordSimilarity(
    const std::string& path) const {
  std::shared_lock lock(state_mu_);
  absl::StatusOr<const WordVectorEmbedder*> words = WordVectorsLocked();
  if (!words.ok()) return words.status();
  return semdb::EvaluateWordSimilarity(**words, path);
}

// --- Collection: the public face of Impl.

Collection::Collection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Collection::~Collection() = default;

const std::string& Collection::name() const { return impl_->name(); }
CollectionInfo Collection::Info() const { return impl_->Info(); }

absl::StatusOr<std::string> Collection::Insert(Document doc, const WriteOptions& wo) {
  std::vector<Document> docs;
  docs.push_back(std::move(doc));
  absl::StatusOr<std::vector<std::string>> ids =
      impl_->Write(std::move(docs), Impl::WriteMode::kInsert, wo);
  if (!ids.ok()) return ids.status();
  return std::move(ids->front());
}

absl::StatusOr<std::vector<std::string>> Collection::InsertBatch(std::vector<Document> docs,
                                                                 const WriteOptions& wo) {
  return impl_->Write(std::move(docs), Impl::WriteMode::kInsert, wo);
}

absl::Status Collection::Upsert(Document doc, const WriteOptions& wo) {
  std::vector<Document> docs;
  docs.push_back(std::move(doc));
  return UpsertBatch(std::move(docs), wo);
}

absl::Status Collection::UpsertBatch(std::vector<Document> docs, const WriteOptions& wo) {
  return impl_->Write(std::move(docs), Impl::WriteMode::kUpsert, wo).status();
}

absl::StatusOr<Document> Collection::Get(std::string_view id) const { return impl_->Get(id); }

absl::Status Collection::Delete(std::string_view id, const WriteOptions& wo) {
  const std::string ids[] = {std::string(id)};
  absl::StatusOr<int64_t> deleted = impl_->Delete(ids, wo);
  if (!deleted.ok()) return deleted.status();
  if (*deleted == 0) {
    return absl::NotFoundError(
        absl::StrCat("no document '", std::string(id), "' in '", name(), "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Collection::DeleteBatch(const std::vector<std::string>& ids,
                                                const WriteOptions& wo) {
  return impl_->Delete(ids, wo);
}

absl::StatusOr<std::vector<Hit>> Collection::Search(std::string_view query,
                                                    const SearchOptions& options) const {
  return impl_->Search(query, options);
}

absl::StatusOr<std::vector<Hit>> Collection::SearchVector(
    absl::Span<const float> vector, const SearchOptions& options) const {
  return impl_->SearchVector(vector, options);
}

int64_t Collection::Count() const { return impl_->Count(); }
absl::Status Collection::Refit() { return impl_->Refit(); }
absl::StatusOr<double> Collection::Similarity(std::string_view a, std::string_view b) const {
  return impl_->Similarity(a, b);
}
absl::Status Collection::Checkpoint() { return impl_->Checkpoint(); }
absl::Status Collection::SetIndex(const std::string& spec) { return impl_->SetIndex(spec); }

absl::StatusOr<nlohmann::json> Collection::Explain(std::string_view query,
                                                   const SearchOptions& options,
                                                   bool analyze) const {
  return impl_->Explain(query, options, analyze);
}

absl::StatusOr<nlohmann::json> Collection::ExplainVector(absl::Span<const float> vector,
                                                         const SearchOptions& options,
                                                         bool analyze) const {
  return impl_->ExplainVector(vector, options, analyze);
}
nlohmann::json Collection::Stats() const { return impl_->Stats(); }

absl::StatusOr<std::vector<WordMatch>> Collection::NearestWords(std::string_view expression,
                                                                int k) const {
  return impl_->NearestWords(expression, k);
}

absl::StatusOr<WordSimilarityResult> Collection::EvaluateWordSimilarity(
    const std::string& path) const {
  return impl_->EvaluateWordSimilarity(path);
}

}  // namespace semdb
