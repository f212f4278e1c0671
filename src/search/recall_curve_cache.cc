#include "src/search/recall_curve_cache.h"

#include <optional>
#include <vector>

#include "index/index_layout.h"
#include "src/recall_calibration.h"

namespace semdb {
namespace {

// Stored vectors the recall calibration starts from, and the index size
// below which it is not worth it (an exact scan costs little there).
constexpr int kCalibrationQueries = 48;
constexpr int64_t kCalibrationMinSize = 1000;

}  // namespace

absl::StatusOr<std::shared_ptr<const RecallCurve>> RecallCurveCache::Get(const SearchView& view) {
  const VectorIndex& index = *view.index;
  const IndexLayout layout = *IndexLayout::FromSpec(index.spec());
  const int64_t size = index.size();
  if (layout.kind == IndexLayout::Kind::kFlat || !index.can_search_exactly() ||
      size < kCalibrationMinSize) {
    return nullptr;
  }
  const std::string spec = index.spec().ToString();
  absl::MutexLock lock(&mu_);
  if (curve_ != nullptr && spec_ == spec && size <= 2 * curve_->index_size &&
      2 * size >= curve_->index_size) {
    return curve_;
  }
  // Stored vectors of evenly spread label numbers (deleted ones skipped).
  std::vector<uint64_t> labels;
  const uint64_t end = view.counters.next_label;
  for (int i = 0; i < 4 * kCalibrationQueries; ++i) {
    labels.push_back(1 + (end - 1) * (2 * i + 1) / (8 * kCalibrationQueries));
  }
  std::vector<std::optional<VectorRecord>> vectors;
  if (absl::Status s =
          view.store.MultiGetVectors(view.collection_id, view.record.generation, labels, &vectors);
      !s.ok()) {
    return s;
  }
  std::vector<float> sample;
  std::vector<uint64_t> sample_labels;
  for (size_t i = 0; i < labels.size() && sample_labels.size() < kCalibrationQueries; ++i) {
    const std::optional<VectorRecord>& v = vectors[i];
    if (!v || static_cast<int>(v->values.size()) != index.dimension()) continue;
    sample.insert(sample.end(), v->values.begin(), v->values.end());
    sample_labels.push_back(labels[i]);
  }
  absl::StatusOr<RecallCurve> curve = MeasureRecallCurve(index, layout, sample, sample_labels);
  if (!curve.ok()) return curve.status();
  curve_ = std::make_shared<const RecallCurve>(*std::move(curve));
  spec_ = spec;
  return curve_;
}

}  // namespace semdb
