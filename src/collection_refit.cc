// Refits and model versions: a new model (fitted on the stored texts, or
// installed from elsewhere, collection_model_state.cc) embeds every
// document into a new generation beside the serving one, gets its own
// index, and replaces the old generation in one write.
#include "absl/strings/str_cat.h"
#include "embedders/embedder_factory.h"
#include "index/index_factory.h"
#include "src/collection_impl.h"
#include "storage/crash_point.h"
#include "src/index_builder.h"
#include "src/model_probe.h"
#include "src/operation_log.h"

namespace semdb {
namespace {

// Texts embedded (and vectors written) per batch of a refit.
constexpr size_t kEmbedBatch = 512;

}  // namespace

absl::Status Collection::Impl::Refit() {
  absl::MutexLock write_lock(&write_mu_);
  {
    absl::ReaderMutexLock lock(&state_mu_);
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
  absl::MutexLock state_lock(&state_mu_);
  fit_error_ = status;
  return status;
}

absl::Status Collection::Impl::RefitLocked() {
  CollectionRecord record;
  Counters counters;
  CopyStateLocked(&record, &counters);
  absl::StatusOr<Spec> spec = Spec::Parse(record.embedder_spec);
  if (!spec.ok()) return spec.status();
  absl::StatusOr<std::unique_ptr<Embedder>> fresh =
      CreateEmbedder(*spec, env_.embedder_context);
  if (!fresh.ok()) return fresh.status();
  Store* store = env_.store;

  TextCorpus corpus;
  corpus.size = counters.live_docs;
  corpus.for_each = [&](const std::function<absl::Status(std::string_view)>& visit) {
    return store->ScanDocuments(
        id_, [&](uint64_t, DocumentRecord& doc) { return visit(doc.text); });
  };
  if ((*fresh)->fittable()) {
    if (absl::Status s = (*fresh)->Fit(corpus); !s.ok()) return s;
  }
  ModelState model;
  model.embedder = record.embedder_spec;
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
  CollectionRecord record;
  Counters counters;
  CopyStateLocked(&record, &counters);
  // Embed every document into the new generation, beside the current one
  // that searches keep using until the switch below.
  const uint32_t gen = record.generation + 1;
  const int dim = fresh->dimension();
  const VectorStorage storage = ResolveVectorStorage(record.vector_storage, *fresh);
  absl::StatusOr<Spec> index_spec = Spec::Parse(record.index_spec);
  if (!index_spec.ok()) return index_spec.status();
  if (absl::Status s = ValidateIndexSpec(*index_spec, dim); !s.ok()) return s;
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
    PutVectors(batch, id_, gen, storage, labels, vectors, stats, dim, counters);
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
      BuildIndexFromStore(*store, id_, gen, storage, dim, *index_spec, counters.live_docs,
                          model.index_training);
  if (!index.ok()) return index.status();

  // Switch atomically: the record names the new generation, the old one's
  // vectors and state go, and the log restarts (the new index is saved
  // below; until then a reopen rebuilds it from the new vectors).
  StoreBatch state_batch(*store);
  state_batch.PutEmbedderState(id_, gen, model.state);
  if (!model.index.empty()) state_batch.PutIndexTraining(id_, gen, model.index_training);
  if (absl::Status w = store->Write(state_batch, false); !w.ok()) return w;
  record.generation = gen;
  record.vector_encoding = storage;
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
    absl::MutexLock lock(&state_mu_);
    record_ = record;
    counters_ = counters;
    ++state_version_;
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

}  // namespace semdb
