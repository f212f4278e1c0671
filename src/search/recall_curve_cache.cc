#include "src/search/recall_curve_cache.h"

#include <vector>

#include "index/index_layout.h"
#include "nlohmann/json.hpp"
#include "src/recall_calibration.h"

namespace semdb {
namespace {

// Stored vectors the recall calibration starts from, and the index size
// below which it is not worth it (an exact scan costs little there).
constexpr int kCalibrationQueries = 48;
constexpr int64_t kCalibrationMinSize = 1000;

bool Fits(const RecallCurve& curve, const SearchView& view) {
  const int64_t size = view.index->size();
  return curve.index_spec == view.index->spec().ToString() &&
         curve.generation == view.record.generation && size <= 2 * curve.index_size &&
         2 * size >= curve.index_size;
}

}  // namespace

bool RecallCurveCache::Calibrates(const IndexLayout& layout, const VectorIndex& index) {
  return layout.kind != IndexLayout::Kind::kFlat && index.can_search_exactly() &&
         index.size() >= kCalibrationMinSize;
}

std::shared_ptr<const RecallCurve> RecallCurveCache::Find(const SearchView& view) const {
  absl::MutexLock lock(&mu_);
  return curve_ != nullptr && Fits(*curve_, view) ? curve_ : nullptr;
}

absl::StatusOr<std::shared_ptr<const RecallCurve>> RecallCurveCache::Measure(
    const SearchView& view) {
  if (view.index == nullptr) return nullptr;
  const VectorIndex& index = *view.index;
  const IndexLayout layout = *IndexLayout::FromSpec(index.spec());
  if (!Calibrates(layout, index) || Find(view) != nullptr) return nullptr;
  // Stored vectors of evenly spread label numbers (deleted ones skipped).
  std::vector<uint64_t> labels;
  const uint64_t end = view.counters.next_label;
  for (int i = 0; i < 4 * kCalibrationQueries; ++i) {
    labels.push_back(1 + (end - 1) * (2 * i + 1) / (8 * kCalibrationQueries));
  }
  std::vector<std::optional<VectorRecord>> vectors;
  if (absl::Status s =
          view.store.MultiGetVectors(view.collection_id, view.record.generation,
                                     view.record.vector_encoding, labels, &vectors);
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
  absl::StatusOr<RecallCurve> curve =
      MeasureRecallCurve(index, layout, sample, sample_labels);
  if (!curve.ok()) return curve.status();
  curve->index_spec = index.spec().ToString();
  curve->generation = view.record.generation;
  auto measured = std::make_shared<const RecallCurve>(*std::move(curve));
  Install(measured);
  return measured;
}

void RecallCurveCache::Install(std::shared_ptr<const RecallCurve> curve) {
  absl::MutexLock lock(&mu_);
  curve_ = std::move(curve);
}

std::string EncodeRecallCurve(const RecallCurve& curve) {
  nlohmann::json samples = nlohmann::json::array();
  for (const RecallSample& s : curve.samples) samples.push_back({s.depth, s.width, s.recall});
  return nlohmann::json{{"index", curve.index_spec},
                        {"generation", curve.generation},
                        {"index_size", curve.index_size},
                        {"queries", curve.queries},
                        {"ms", curve.ms},
                        {"samples", samples}}
      .dump();
}

std::optional<RecallCurve> DecodeRecallCurve(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  RecallCurve curve;
  try {
    curve.index_spec = j.at("index").get<std::string>();
    curve.generation = j.at("generation").get<uint32_t>();
    curve.index_size = j.at("index_size").get<int64_t>();
    curve.queries = j.at("queries").get<int>();
    curve.ms = j.at("ms").get<double>();
    for (const nlohmann::json& s : j.at("samples")) {
      curve.samples.push_back(
          {.depth = s.at(0).get<int>(), .width = s.at(1).get<int>(), .recall = s.at(2).get<double>()});
    }
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  return curve;
}

}  // namespace semdb
