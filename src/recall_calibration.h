// Recall calibration: how wide an ANN search of one index must be to find
// the true top D, measured against the same index's exact search.
//
// How much ef_search or nprobe a recall needs depends on the data (tight
// clusters need little, overlapping ones much more), so the planner cannot
// derive it from the index's parameters alone. The calibration runs sample
// queries near stored vectors at a ladder of depths D and widths, and the
// planner (src/query_planner.h) reads from the curve the narrowest search
// whose recall@D reaches the target, D being the depth a filtered search
// must reach: about k / selectivity.
#ifndef SEMDB_SRC_RECALL_CALIBRATION_H_
#define SEMDB_SRC_RECALL_CALIBRATION_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "index/index_layout.h"
#include "semdb/vector_index.h"
#include "src/query_planner.h"

namespace semdb {

// `queries` are stored vectors (rows of the index's dimension) with labels
// `self`: each query's own vector is left out of its results and of its
// truth, so that it stands for a query of the data's distribution. (Its
// own graph links still lead the walk to its neighbours; moving it off its
// vector by noise made harder queries than the data's own, and widths far
// beyond what held-out queries need.) For each depth D of 10, 40, 160 and
// (IVF) 640, those at most size / 8, and each width of a ladder (ef_search
// from D up to 16 D; nprobe 1, 2, 4 .. nlist), recall@D against the exact
// top D, until a width reaches recall 0.999. One batched search per width
// serves every depth, and nprobe = nlist (exact) is not searched.
absl::StatusOr<RecallCurve> MeasureRecallCurve(const VectorIndex& index,
                                               const IndexLayout& layout,
                                               absl::Span<const float> queries,
                                               const std::vector<uint64_t>& self);

}  // namespace semdb

#endif  // SEMDB_SRC_RECALL_CALIBRATION_H_
