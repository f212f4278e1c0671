// A collection's vector index over its life: loaded from its saved file and
// brought up to date from the index log at open, rebuilt from the stored
// vectors when that is not possible (or when the index asks for it, or its
// spec changes), and saved, which truncates the log. A flat index is built
// from the stored vectors at every open and never saved (index_files.h).
#include "absl/strings/str_cat.h"
#include "index/index_factory.h"
#include "src/collection_impl.h"
#include "storage/crash_point.h"
#include "src/index_builder.h"
#include "src/index_files.h"
#include "src/operation_log.h"

namespace semdb {

absl::Status Collection::Impl::LoadOrRebuildIndexLocked() {
  CollectionRecord record;
  Counters counters;
  CopyStateLocked(&record, &counters);
  const uint32_t gen = record.generation;
  const uint64_t last_seq = counters.next_seq - 1;
  const bool saves_file = IsSavedToFile(*Spec::Parse(record.index_spec));
  std::optional<SavedIndex> saved =
      saves_file ? FindSavedIndex(env_.index_dir, id_) : std::nullopt;
  std::string reason = saves_file ? "no saved index" : "a flat index is built at open";
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
        CheckSavedIndexSize(saved->path, counters.next_label - 1, record.dimension);
    absl::StatusOr<std::unique_ptr<VectorIndex>> loaded =
        !contiguous  ? absl::DataLossError("the index log does not reach back to it")
        : !sized.ok() ? sized
                      : LoadVectorIndex(saved->path);
    if (loaded.ok() && ((*loaded)->dimension() != record.dimension ||
                        !MayServe((*loaded)->spec(), *Spec::Parse(record.index_spec)))) {
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
                env_.store->GetVector(id_, gen, record.vector_encoding, op.label);
            if (!v.ok()) return v.status();
            if (!v->has_value()) return absl::OkStatus();  // removed later in the log
            return (*loaded)->Add(label, (*v)->values);
          });
      if (!s.ok()) loaded = s;
    }
    if (loaded.ok() && (*loaded)->size() != counters.live_docs) {
      loaded = absl::DataLossError(absl::StrCat("it holds ", (*loaded)->size(),
                                                " vectors, storage ", counters.live_docs));
    }
    if (loaded.ok()) {
      // A flat index serving until IVF trains, saved by an older version:
      // SaveIndexLocked removes its file.
      const bool obsolete_file = !IsSavedToFile((*loaded)->spec());
      {
        absl::MutexLock lock(&state_mu_);
        index_ = *std::move(loaded);
        index_origin_ = absl::StrCat("loaded from its saved file, ", replayed,
                                     " logged operations replayed");
      }
      saved_seq_ = saved->seq;
      if (obsolete_file) (void)SaveIndexLocked();
      // E.g. IVF reaching its training threshold during the replay (a
      // rebuild, which takes state_mu_ itself).
      return MaintainIndexLocked();
    }
    reason = absl::StrCat("the saved index was not usable: ", loaded.status().message());
  }
  return RebuildIndexLocked(reason);
}

absl::Status Collection::Impl::RebuildIndexLocked(const std::string& reason) {
  CollectionRecord record;
  Counters counters;
  CopyStateLocked(&record, &counters);
  // Built beside the serving index, which searches keep using (state_mu_ is
  // not held); writers wait on write_mu_, so nothing is logged meanwhile
  // and the new index is current when it is swapped in.
  absl::StatusOr<Spec> spec = Spec::Parse(record.index_spec);
  if (!spec.ok()) return spec.status();
  OperationReporter reporter(env_.options, name_, "index rebuild",
                            counters.live_docs);
  absl::StatusOr<std::optional<std::string>> training =
      env_.store->GetIndexTraining(id_, record.generation);  // installed with the model
  if (!training.ok()) return training.status();
  absl::StatusOr<std::unique_ptr<VectorIndex>> index =
      BuildIndexFromStore(*env_.store, id_, record.generation, record.vector_encoding,
                          record.dimension, *spec, counters.live_docs, training->value_or(""),
                          &reporter);
  if (!index.ok()) return index.status();
  {
    absl::MutexLock lock(&state_mu_);
    index_ = *std::move(index);
    index_origin_ = absl::StrCat("rebuilt from ", index_->size(), " stored vectors (",
                                 reason, ")");
  }
  saved_seq_ = 0;
  (void)SaveIndexLocked();
  return absl::OkStatus();
}

absl::Status Collection::Impl::MaintainIndexLocked() {
  std::optional<std::string> reason;
  {
    absl::ReaderMutexLock lock(&state_mu_);
    if (index_ == nullptr) return absl::OkStatus();
    reason = RebuildReason(*index_, *Spec::Parse(record_.index_spec), counters_.live_docs);
  }
  return reason ? RebuildIndexLocked(*reason) : absl::OkStatus();
}

absl::Status Collection::Impl::SetIndex(const std::string& spec_text) {
  absl::StatusOr<Spec> spec = Spec::Parse(spec_text);
  if (!spec.ok()) return spec.status();
  absl::MutexLock write_lock(&write_mu_);
  CollectionRecord record;
  {
    absl::ReaderMutexLock lock(&state_mu_);
    if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
    if (absl::Status s = ValidateIndexSpec(*spec, record_.dimension); !s.ok()) return s;
    if (index_ != nullptr && index_->training_installed() &&
        spec->ToString() != record_.index_spec) {
      return absl::FailedPreconditionError(absl::StrCat(
          "collection '", name_, "' builds its index from the training installed with its "
          "model; install a model trained for '", spec->ToString(), "' (TrainIndex) instead"));
    }
    record = record_;
  }
  record.index_spec = spec->ToString();
  // The record first: a crash before the rebuild below leaves a saved index
  // of the old spec, which reopen refuses and rebuilds.
  StoreBatch batch(*env_.store);
  batch.PutCollection(record);
  if (absl::Status s = env_.store->Write(batch, true); !s.ok()) return s;
  bool indexed = false;
  {
    absl::MutexLock lock(&state_mu_);
    record_ = record;
    indexed = index_ != nullptr;
  }
  if (!indexed) return absl::OkStatus();  // built at the first fit
  return RebuildIndexLocked(absl::StrCat("index changed to '", record.index_spec, "'"));
}

absl::Status Collection::Impl::SaveIndexLocked() {
  {
    // Shared: searches go on while the index is written out.
    absl::ReaderMutexLock lock(&state_mu_);
    if (index_ == nullptr || !closed_.ok()) return absl::OkStatus();
    const uint64_t seq = counters_.next_seq - 1;
    bool truncate_log = true;
    if (IsSavedToFile(index_->spec())) {
      // The saved index must never be ahead of durable storage.
      if (absl::Status s = env_.store->SyncWal(); !s.ok()) return s;
      if (absl::Status s = SaveIndex(*index_, env_.index_dir, id_, record_.generation, seq);
          !s.ok()) {
        return s;
      }
      CrashPoint("index_save.saved");
    } else {
      // Open builds it from the stored vectors and reads no log: the log and
      // any file an older version saved go.
      if (env_.options.read_only) return absl::OkStatus();
      RemoveSavedIndexes(env_.index_dir, id_);
      absl::StatusOr<std::optional<uint64_t>> first = env_.store->FirstLogSeq(id_);
      if (!first.ok()) return first.status();
      truncate_log = first->has_value() && **first <= seq;
    }
    if (truncate_log) {
      StoreBatch batch(*env_.store);
      batch.TruncateLog(id_, seq + 1);
      if (absl::Status s = env_.store->Write(batch, false); !s.ok()) return s;
    }
    saved_seq_ = seq;
  }
  return UpdateRecallCurveLocked();
}

absl::Status Collection::Impl::UpdateRecallCurveLocked() {
  std::shared_ptr<const RecallCurve> curve;
  CollectionRecord record;
  {
    // Shared: searches go on (planning without a curve) while it measures.
    absl::ReaderMutexLock lock(&state_mu_);
    if (index_ == nullptr || !closed_.ok() || env_.options.read_only) return absl::OkStatus();
    absl::StatusOr<std::shared_ptr<const RecallCurve>> measured =
        recall_curves_.Measure(SearchViewLocked());
    if (!measured.ok()) return measured.status();
    if (*measured == nullptr) return absl::OkStatus();
    curve = *std::move(measured);
    record = record_;
  }
  record.recall_curve = EncodeRecallCurve(*curve);
  StoreBatch batch(*env_.store);
  batch.PutCollection(record);
  if (absl::Status s = env_.store->Write(batch, false); !s.ok()) return s;
  absl::MutexLock lock(&state_mu_);
  record_.recall_curve = std::move(record.recall_curve);
  return absl::OkStatus();
}

absl::Status Collection::Impl::Checkpoint() {
  absl::MutexLock write_lock(&write_mu_);
  bool save = false;
  {
    absl::ReaderMutexLock lock(&state_mu_);
    if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
    save = index_ != nullptr &&
           (saved_seq_ != counters_.next_seq - 1 ||
            (IsSavedToFile(index_->spec()) && !FindSavedIndex(env_.index_dir, id_)));
  }
  // Saving measures the recall curve; without a save, it is measured here
  // if the index has none yet (e.g. a database written before curves were
  // kept).
  if (absl::Status s = save ? SaveIndexLocked() : UpdateRecallCurveLocked(); !s.ok()) return s;
  // The memtables to table files too (the log truncation included), so
  // that the next open, even after a crash, replays no write-ahead log.
  return env_.store->Flush();
}

}  // namespace semdb
