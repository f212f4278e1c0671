// Sharing one model between collections, and keyword statistics across
// collections: what semdb.distributed builds its shards on
// (include/semdb/model_state.h, include/semdb/keyword_statistics.h).
#include "absl/strings/str_cat.h"
#include "embedders/embedder_factory.h"
#include "src/collection_impl.h"
#include "src/search/keyword_ranking.h"
#include "src/model_probe.h"

namespace semdb {

absl::StatusOr<ModelState> Collection::Impl::ExportModelLocked() const {
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  if (caller_vectors_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", name_, "' stores caller-supplied vectors: it has no model to export"));
  }
  if (!embedder_error_.ok()) return embedder_error_;
  if (!probe_error_.ok()) return probe_error_;
  if (record_.dimension == 0) return NoIndexLocked();
  ModelState model;
  model.embedder = record_.embedder_spec;
  model.dimension = record_.dimension;
  model.probe = record_.probe;
  if (embedder_->fittable()) {
    // The stored bytes, not a new SaveState: an installed model exports as
    // it was installed, with the same fingerprint.
    absl::StatusOr<std::optional<std::string>> state =
        env_.store->GetEmbedderState(id_, record_.generation);
    if (!state.ok()) return state.status();
    if (!state->has_value()) return absl::DataLossError("embedder state is missing");
    model.state = **std::move(state);
  }
  absl::StatusOr<std::optional<std::string>> training =
      env_.store->GetIndexTraining(id_, record_.generation);
  if (!training.ok()) return training.status();
  if (training->has_value()) {
    model.index = record_.index_spec;
    model.index_training = **std::move(training);
  }
  return model;
}

absl::StatusOr<std::string> Collection::Impl::ModelFingerprintLocked() const {
  if (!record_.model_fingerprint.empty()) return record_.model_fingerprint;
  absl::StatusOr<ModelState> model = ExportModelLocked();  // a record from before fingerprints
  if (!model.ok()) return model.status();
  return model->Fingerprint();
}

absl::StatusOr<ModelState> Collection::Impl::ExportModel() const {
  absl::ReaderMutexLock lock(&state_mu_);
  return ExportModelLocked();
}

absl::Status Collection::Impl::InstallModel(const ModelState& model) {
  absl::MutexLock write_lock(&write_mu_);
  std::string previous_spec, index_spec;
  {
    absl::ReaderMutexLock lock(&state_mu_);
    if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
    previous_spec = record_.embedder_spec;
    index_spec = record_.index_spec;
  }
  if (caller_vectors_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", name_, "' stores caller-supplied vectors: it takes no model"));
  }
  absl::StatusOr<Spec> mine = Spec::Parse(previous_spec);
  absl::StatusOr<Spec> theirs = Spec::Parse(model.embedder);
  if (!mine.ok()) return mine.status();
  if (!theirs.ok()) return theirs.status();
  if (mine->kind != theirs->kind) {
    return absl::InvalidArgumentError(
        absl::StrCat("collection '", name_, "' embeds with '", previous_spec,
                     "'; the model to install is a '", model.embedder, "' model"));
  }
  if (!model.index.empty()) {
    absl::StatusOr<Spec> index = Spec::Parse(model.index);
    if (!index.ok()) return index.status();
    if (index->ToString() != index_spec) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the model carries the training of a '", model.index, "' index; collection '",
          name_, "' has a '", index_spec, "' index"));
    }
  }
  absl::StatusOr<std::unique_ptr<Embedder>> fresh =
      CreateEmbedder(*theirs, env_.embedder_context);
  if (!fresh.ok()) return fresh.status();
  if ((*fresh)->fittable()) {
    if (absl::Status s = (*fresh)->LoadState(model.state); !s.ok()) return s;
  }
  if ((*fresh)->dimension() != model.dimension ||
      (!model.probe.empty() && !CheckProbe(**fresh, model.probe).ok())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the model '", model.embedder, "' (fingerprint ", model.Fingerprint(),
        ") does not reproduce its exported vectors here"));
  }
  // The collection now embeds with this spec (e.g. "tfidf dim=128" for a
  // collection created as "tfidf").
  {
    absl::MutexLock lock(&state_mu_);
    record_.embedder_spec = model.embedder;
  }
  absl::Status s = SwitchModelLocked(*std::move(fresh), model, /*installed=*/true);
  absl::MutexLock lock(&state_mu_);  // searches read both under the shared lock
  if (!s.ok() && record_.model_fingerprint != model.Fingerprint()) {
    record_.embedder_spec = previous_spec;
  }
  if (s.ok()) fit_error_ = absl::OkStatus();
  return s;
}

absl::StatusOr<KeywordStatistics> Collection::Impl::GetKeywordStatistics(
    std::string_view query) const {
  absl::ReaderMutexLock lock(&state_mu_);
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  if (doc_indexes_->keywords() == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", name_, "' keeps no keyword index (created without one)"));
  }
  return doc_indexes_->keywords()->Statistics(query);
}

absl::StatusOr<std::vector<Hit>> Collection::Impl::KeywordSearch(
    std::string_view query, const SearchOptions& options, const KeywordStatistics* global) const {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  if (absl::Status s = CheckQueryText(query); !s.ok()) return s;
  absl::ReaderMutexLock lock(&state_mu_);
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  if (doc_indexes_->keywords() == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", name_, "' keeps no keyword index (created without one)"));
  }
  return RunKeywordSearch(SearchViewLocked(), query, options, global);
}

// --- Collection: the public face.

absl::StatusOr<ModelState> Collection::ExportModel() const { return impl_->ExportModel(); }

absl::Status Collection::InstallModel(const ModelState& model) {
  return impl_->InstallModel(model);
}

absl::StatusOr<std::vector<std::string>> Collection::WriteEmbedded(std::vector<Document> docs,
                                                                   std::string_view fingerprint,
                                                                   bool upsert,
                                                                   const WriteOptions& wo) {
  return impl_->Write(std::move(docs), upsert ? Impl::WriteMode::kUpsert : Impl::WriteMode::kInsert,
                      wo, fingerprint);
}

absl::StatusOr<KeywordStatistics> Collection::GetKeywordStatistics(std::string_view query) const {
  return impl_->GetKeywordStatistics(query);
}

absl::StatusOr<std::vector<Hit>> Collection::KeywordSearch(std::string_view query,
                                                           const SearchOptions& options,
                                                           const KeywordStatistics* global) const {
  return impl_->KeywordSearch(query, options, global);
}

}  // namespace semdb
