#include "src/index_builder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "index/index_factory.h"
#include "index/index_layout.h"
#include "storage/crash_point.h"

namespace semdb {
namespace {

constexpr size_t kAddBatch = 4096;

// The layout of a spec whose index must be trained, else nullopt.
std::optional<IndexLayout> TrainedLayout(const Spec& configured) {
  absl::StatusOr<IndexLayout> layout = IndexLayout::FromSpec(configured);
  if (!layout.ok() || !layout->needs_training()) return std::nullopt;
  return *layout;
}

}  // namespace

Spec ServingSpec(const Spec& configured, int64_t live) {
  std::optional<IndexLayout> trained_layout = TrainedLayout(configured);
  if (trained_layout && live < trained_layout->training_threshold()) return Spec{"flat", {}};
  return configured;
}

bool MayServe(const Spec& loaded, const Spec& configured) {
  return loaded == configured || (loaded.kind == "flat" && loaded.params.empty() &&
                                  TrainedLayout(configured).has_value());
}

std::optional<std::string> RebuildReason(const VectorIndex& index, const Spec& configured,
                                         int64_t live) {
  std::optional<IndexLayout> layout = TrainedLayout(configured);
  if (layout && !index.training_installed()) {
    if (index.spec() != configured) {
      if (live >= layout->training_threshold()) {
        return absl::StrCat(live, " vectors reach the training threshold of ",
                            layout->training_threshold());
      }
      return std::nullopt;
    }
    const int64_t trained = index.trained_size();
    if (trained < layout->training_sample() &&
        static_cast<double>(live) >= kRetrainGrowth * static_cast<double>(trained)) {
      return absl::StrCat("retraining: ", live, " vectors, ", kRetrainGrowth,
                          "x the ", trained, " it was trained on");
    }
  }
  if (index.needs_rebuild()) {
    return absl::StrCat("reclaiming tombstones (", index.Describe().value("tombstones", 0),
                        " deleted vectors)");
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<VectorIndex>> BuildIndexFromStore(const Store& store,
                                                                 uint32_t cid, uint32_t gen,
                                                                 VectorStorage storage,
                                                                 int dimension,
                                                                 const Spec& configured,
                                                                 int64_t live,
                                                                 std::string_view training,
                                                                 OperationReporter* reporter) {
  absl::StatusOr<std::unique_ptr<VectorIndex>> index =
      CreateVectorIndex(training.empty() ? ServingSpec(configured, live) : configured, dimension);
  if (!index.ok()) return index.status();
  if (!training.empty()) {
    if (absl::Status s = (*index)->InstallTraining(training); !s.ok()) return s;
  }
  auto check = [&](uint64_t label, const VectorRecord& v) -> absl::Status {
    if (v.values.size() != static_cast<size_t>(dimension)) {
      return absl::DataLossError(
          absl::StrCat("stored vector ", label, " has dimension ", v.values.size()));
    }
    return absl::OkStatus();
  };
  if (!(*index)->is_trained()) {
    // min(live, cap) evenly spaced vectors: deterministic, and spread over
    // the whole collection rather than its oldest part. Row i is taken when
    // floor(i * cap / live) steps up.
    const int64_t cap = TrainedLayout(configured)->training_sample();
    const int64_t n = std::max<int64_t>(live, 1);
    std::vector<float> sample;
    int64_t row = 0;
    absl::Status s = store.ScanVectors(cid, gen, storage, [&](uint64_t label, VectorRecord& v) {
      if (absl::Status c = check(label, v); !c.ok()) return c;
      if (live <= cap || (row + 1) * cap / n > row * cap / n) {
        sample.insert(sample.end(), v.values.begin(), v.values.end());
      }
      ++row;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    if (absl::Status t = (*index)->Train(sample); !t.ok()) return t;
    CrashPoint("build.trained");
  }
  (*index)->Reserve(live);
  std::vector<uint64_t> labels;
  std::vector<float> vectors;
  auto flush = [&]() -> absl::Status {
    CrashPoint("build.batch");
    absl::Status s = (*index)->Add(labels, vectors);
    if (reporter != nullptr) reporter->Advance(static_cast<int64_t>(labels.size()));
    labels.clear();
    vectors.clear();
    return s;
  };
  absl::Status s = store.ScanVectors(cid, gen, storage, [&](uint64_t label, VectorRecord& v) {
    if (absl::Status c = check(label, v); !c.ok()) return c;
    labels.push_back(label);
    vectors.insert(vectors.end(), v.values.begin(), v.values.end());
    return labels.size() == kAddBatch ? flush() : absl::OkStatus();
  });
  if (s.ok() && !labels.empty()) s = flush();
  if (!s.ok()) return s;
  return index;
}

}  // namespace semdb
