// RecallCurveCache: the measured recall curve of a collection's index
// (src/recall_calibration.h) that filtered ANN searches are planned with,
// measured on first use and again when the index spec changes or its size
// has halved or doubled since.
#ifndef SEMDB_SRC_SEARCH_RECALL_CURVE_CACHE_H_
#define SEMDB_SRC_SEARCH_RECALL_CURVE_CACHE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "src/query_planner.h"
#include "src/search/search_view.h"

namespace semdb {

class RecallCurveCache {
 public:
  // The curve of view.index; null when it cannot be measured (a flat
  // index, compressed codes, fewer than 1,000 vectors). Thread-safe: held
  // while measuring, so that concurrent searches measure once.
  absl::StatusOr<std::shared_ptr<const RecallCurve>> Get(const SearchView& view)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  std::shared_ptr<const RecallCurve> curve_ ABSL_GUARDED_BY(mu_);
  std::string spec_ ABSL_GUARDED_BY(mu_);  // of the index measured
};

}  // namespace semdb

#endif  // SEMDB_SRC_SEARCH_RECALL_CURVE_CACHE_H_
