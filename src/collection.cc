// A collection's life and reads of single items: open (state from storage,
// first fit or index load), info, count, close, get, stats; and the public
// Collection, which forwards to Impl. The other parts of Impl: the write
// path (collection_write.cc), the index lifecycle (collection_index.cc),
// refits (collection_refit.cc), queries (collection_query.cc, then the
// search path in src/search/), sets of documents
// (collection_documents.cc), models and keyword statistics shared between
// collections (collection_model_state.cc), word queries
// (collection_words.cc).
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "embedders/embedder_factory.h"
#include "embedders/thread_pool.h"
#include "src/collection_impl.h"
#include "src/model_probe.h"
#include "storage/bounded_json.h"

namespace semdb {

absl::Status WithContext(const absl::Status& s, const std::string& context) {
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

Collection::Impl::Impl(const CollectionEnv& env, CollectionRecord record,
                       std::unique_ptr<Embedder> embedder, absl::Status embedder_error)
    : env_(env),
      name_(record.name),
      id_(record.id),
      caller_vectors_(embedder != nullptr && embedder->capabilities().caller_vectors),
      doc_indexes_(std::make_unique<DocumentIndexes>(env.store, record.id,
                                                     record.indexed_fields,
                                                     record.keyword_index)),
      record_(std::move(record)),
      embedder_(std::move(embedder)),
      embedder_error_(std::move(embedder_error)) {}

absl::StatusOr<std::unique_ptr<Collection::Impl>> Collection::Impl::Open(
    const CollectionEnv& env, CollectionRecord record, std::unique_ptr<Embedder> embedder) {
  absl::Status embedder_error;
  if (embedder == nullptr) {
    absl::StatusOr<Spec> spec = Spec::Parse(record.embedder_spec);
    if (!spec.ok()) return spec.status();
    absl::StatusOr<std::unique_ptr<Embedder>> created =
        CreateEmbedder(*spec, env.embedder_context);
    if (created.ok()) {
      embedder = *std::move(created);
    } else {
      // The collection stays readable (get, delete, drop); text operations
      // report why its embedder is unavailable.
      embedder_error = WithContext(
          created.status(),
          absl::StrCat("collection '", record.name, "': cannot create its embedder"));
    }
  }
  auto impl = std::unique_ptr<Impl>(
      new Impl(env, std::move(record), std::move(embedder), std::move(embedder_error)));
  absl::MutexLock write_lock(&impl->write_mu_);
  bool refit = false;
  bool load_index = false;
  {
    // Nothing else sees the collection yet; the lock is for the analysis.
    absl::MutexLock state_lock(&impl->state_mu_);
    absl::Status s = impl->OpenStateLocked(&refit);
    if (!s.ok()) return s;
    load_index = !refit && impl->record_.dimension > 0;
    // The recall curve measured before, if it still fits the index.
    if (std::optional<RecallCurve> curve = DecodeRecallCurve(impl->record_.recall_curve)) {
      impl->recall_curves_.Install(std::make_shared<const RecallCurve>(*std::move(curve)));
    }
  }
  if (refit) {
    impl->RefitAndRecordLocked().IgnoreError();
  } else if (load_index) {
    if (absl::Status s = impl->LoadOrRebuildIndexLocked(); !s.ok()) return s;
  }
  return impl;
}

absl::Status Collection::Impl::OpenStateLocked(bool* refit) {
  absl::StatusOr<Chunker> chunker = Chunker::Create(record_.chunking);
  if (!chunker.ok()) return chunker.status();
  chunker_ = *std::move(chunker);
  absl::StatusOr<Counters> counters = env_.store->GetCounters(id_);
  if (!counters.ok()) return counters.status();
  counters_ = *counters;

  const uint32_t gen = record_.generation;
  if (!env_.options.read_only) {
    // Leftovers of a crashed refit, deleted when there are any: an open that
    // writes nothing leaves no log for the next open to replay into a new
    // table file (and, open after open, to compact).
    absl::StatusOr<bool> leftovers = env_.store->HasOtherGenerations(id_, gen);
    if (!leftovers.ok()) return leftovers.status();
    if (*leftovers) {
      StoreBatch cleanup(*env_.store);
      cleanup.DeleteOtherGenerations(id_, gen);
      if (absl::Status s = env_.store->Write(cleanup, false); !s.ok()) return s;
    }
  }

  const bool fittable = embedder_ != nullptr && embedder_->fittable();
  bool need_refit = false;
  if (fittable && gen > 0) {
    absl::StatusOr<std::optional<std::string>> state =
        env_.store->GetEmbedderState(id_, gen);
    absl::Status loaded = !state.ok()  ? state.status()
                          : !*state    ? absl::DataLossError("embedder state is missing")
                                       : embedder_->LoadState(**state);
    if (loaded.ok() && !record_.probe.empty()) {
      loaded = CheckProbe(*embedder_, record_.probe);
    }
    // The state can be recomputed from the stored texts.
    need_refit = !loaded.ok();
    if (need_refit && record_.model_installed) {
      // An installed model is shared with other collections: refitting it
      // here would part from them. Text operations refuse until reinstalled.
      probe_error_ = absl::FailedPreconditionError(absl::StrCat(
          "collection '", name_, "': its installed model (fingerprint ",
          record_.model_fingerprint, ") cannot be loaded: ", loaded.message(),
          "; install it again"));
      need_refit = false;
    }
  } else if (embedder_ != nullptr && !fittable && !record_.probe.empty()) {
    // A file-based model must be the one that made the vectors; until the
    // collection is refitted (re-embedded), text operations refuse.
    probe_error_ = CheckProbe(*embedder_, record_.probe);
  }
  *refit = need_refit || (fittable && gen == 0 && counters_.live_docs > 0);
  return absl::OkStatus();
}

void Collection::Impl::CopyStateLocked(CollectionRecord* record, Counters* counters) const {
  absl::ReaderMutexLock lock(&state_mu_);
  *record = record_;
  *counters = counters_;
}

CollectionInfo Collection::Impl::Info() const {
  absl::ReaderMutexLock lock(&state_mu_);
  CollectionInfo info;
  info.name = name_;
  info.embedder = record_.embedder_spec;
  info.index = record_.index_spec;
  info.dimension = record_.dimension;
  info.documents = DocumentsLocked();
  info.model_version = record_.generation;
  info.chunking = chunker_.spec();
  info.passages = counters_.live_docs;
  info.caller_vectors = caller_vectors_;
  return info;
}

int64_t Collection::Impl::Count() const {
  absl::ReaderMutexLock lock(&state_mu_);
  return DocumentsLocked();
}

void Collection::Impl::Close(absl::Status why) {
  absl::MutexLock write_lock(&write_mu_);
  absl::MutexLock lock(&state_mu_);
  if (!closed_.ok()) return;  // dropped, then its database closed
  closed_ = std::move(why);
  index_.reset();
  embedder_.reset();
}

absl::Status Collection::Impl::CheckUsableLocked() const { return closed_; }

absl::StatusOr<Document> Collection::Impl::Get(std::string_view id) const {
  // Held throughout, so that Close waits until the store is no longer read.
  absl::ReaderMutexLock lock(&state_mu_);
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
    absl::StatusOr<std::optional<VectorRecord>> vec =
        env_.store->GetVector(id_, gen, record_.vector_encoding, label);
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

CollectionStats Collection::Impl::Stats() const {
  absl::ReaderMutexLock lock(&state_mu_);
  CollectionStats st;
  st.name = name_;
  st.documents = DocumentsLocked();
  if (chunker_.enabled()) {
    st.chunking = chunker_.spec();
    st.passages = counters_.live_docs;
  }
  st.embedder = record_.embedder_spec;
  st.index = record_.index_spec;
  st.dimension = record_.dimension;
  st.model_version = record_.generation;
  st.vector_storage = record_.vector_storage;
  st.vector_encoding = VectorStorageName(record_.vector_encoding);
  st.tokens = counters_.tokens;
  st.unknown_tokens = counters_.unknown_tokens;
  if (embedder_ != nullptr && !caller_vectors_) {
    st.embedder_facts = embedder_->Describe();
    if (embedder_->fittable()) {
      st.fitted_documents = record_.fitted_docs;
      st.next_refit_at = static_cast<int64_t>(
          std::ceil(env_.options.refit_growth * std::max<int64_t>(1, record_.fitted_docs)));
    }
  }
  if (index_ != nullptr) {
    st.index_facts = index_->Describe();
    st.index_origin = index_origin_;
  }
  st.indexed_fields = doc_indexes_->fields().fields();
  if (!closed_.ok()) {
    st.error = std::string(closed_.message());
  } else {
    // The pool is the database's: gone once it closed (threads stays 0).
    const ThreadPool* pool = env_.embedder_context.pool;
    st.threads = pool != nullptr ? pool->size() : 0;
    if (const KeywordIndex* keywords = doc_indexes_->keywords()) {
      absl::StatusOr<KeywordIndex::Totals> totals = keywords->GetTotals();
      if (totals.ok()) st.keyword_index = {totals->documents, totals->length};
    }
  }
  st.embedder_error = std::string(embedder_error_.message());
  st.fit_error = std::string(fit_error_.message());
  st.model_error = std::string(probe_error_.message());
  return st;
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

absl::StatusOr<std::vector<std::vector<Hit>>> Collection::SearchBatch(
    absl::Span<const std::string> queries, const SearchOptions& options) const {
  return impl_->SearchBatch(queries, options);
}

absl::StatusOr<std::vector<std::vector<Hit>>> Collection::SearchVectorBatch(
    absl::Span<const float> vectors, const SearchOptions& options) const {
  return impl_->SearchVectorBatch(vectors, options);
}

int64_t Collection::Count() const { return impl_->Count(); }
absl::Status Collection::Refit() { return impl_->Refit(); }
absl::StatusOr<double> Collection::Similarity(std::string_view a, std::string_view b) const {
  return impl_->Similarity(a, b);
}
absl::Status Collection::Checkpoint() { return impl_->Checkpoint(); }
absl::Status Collection::SetIndex(const std::string& spec) { return impl_->SetIndex(spec); }

absl::StatusOr<SearchExplanation> Collection::Explain(std::string_view query,
                                                      const SearchOptions& options,
                                                   bool analyze) const {
  return impl_->Explain(query, options, analyze);
}

absl::StatusOr<SearchExplanation> Collection::ExplainVector(absl::Span<const float> vector,
                                                         const SearchOptions& options,
                                                         bool analyze) const {
  return impl_->ExplainVector(vector, options, analyze);
}
CollectionStats Collection::Stats() const { return impl_->Stats(); }

absl::StatusOr<std::vector<WordMatch>> Collection::NearestWords(std::string_view expression,
                                                                int k) const {
  return impl_->NearestWords(expression, k);
}

absl::StatusOr<WordSimilarityResult> Collection::EvaluateWordSimilarity(
    const std::string& path) const {
  return impl_->EvaluateWordSimilarity(path);
}

}  // namespace semdb
