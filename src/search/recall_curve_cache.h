// RecallCurveCache: the measured recall curve of a collection's index
// (src/recall_calibration.h) that filtered ANN searches are planned with.
//
// The curve is measured off the query path: by the writer that saves the
// index (after a build, a rebuild, a periodic save, a checkpoint; see
// Collection::Impl::UpdateRecallCurveLocked), and kept in the collection's
// record, so that a reopen finds it without measuring. Searches only look
// it up (Find) and never wait for a measurement: until a curve exists the
// planner plans conservatively (PlannerInput::calibration_pending).
#ifndef SEMDB_SRC_SEARCH_RECALL_CURVE_CACHE_H_
#define SEMDB_SRC_SEARCH_RECALL_CURVE_CACHE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "src/query_planner.h"
#include "src/search/search_view.h"

namespace semdb {

class RecallCurveCache {
 public:
  // Whether a curve is measured for `index` (of the parsed `layout`): HNSW
  // or IVF with full vectors and at least 1,000 of them (below, an exact
  // scan costs little).
  static bool Calibrates(const IndexLayout& layout, const VectorIndex& index);

  // The curve of view.index (non-null; the caller checked Calibrates):
  // measured on an index of the same spec and model generation, with
  // between half and twice its size; else null. Never measures, never
  // waits for a measurement.
  std::shared_ptr<const RecallCurve> Find(const SearchView& view) const ABSL_LOCKS_EXCLUDED(mu_);

  // Measures the curve of view.index unless Find has one or it is not
  // calibrated, keeps it and returns it (null when nothing was measured).
  // mu_ is not held while measuring: searches go on meanwhile. The caller
  // serializes measurements (the collection's writer lock).
  absl::StatusOr<std::shared_ptr<const RecallCurve>> Measure(const SearchView& view)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Keeps a curve read from storage (Find checks that it fits the index).
  void Install(std::shared_ptr<const RecallCurve> curve) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const RecallCurve> curve_ ABSL_GUARDED_BY(mu_);
};

// A curve as stored in CollectionRecord::recall_curve (JSON), and back;
// nullopt for an empty or unreadable text (the curve is then measured
// again, so that a damaged one costs a measurement, never an error).
std::string EncodeRecallCurve(const RecallCurve& curve);
std::optional<RecallCurve> DecodeRecallCurve(std::string_view text);

}  // namespace semdb

#endif  // SEMDB_SRC_SEARCH_RECALL_CURVE_CACHE_H_
