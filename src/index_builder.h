// How a collection's vector index follows its configured spec as the
// collection grows and shrinks, and how it is built from stored vectors.
//
// - IVF and SQ8 codes need training. Below the training threshold (39 x
//   nlist vectors for IVF, see IndexLayout) a collection configured for
//   them serves an exact flat index; at the threshold it trains on up to
//   training_sample() stored vectors (evenly spaced, e.g. 100 x nlist), and
//   it retrains when it has grown to kRetrainGrowth times the vectors it
//   was trained on, as long as that sample was not yet full (a larger
//   collection would give a sample of the same size).
// - An index whose training was installed with the model (TrainIndex in
//   semdb/model_state.h: the shards of semdb.distributed share one) is
//   built with it at any size and never trained on the collection's own
//   vectors.
// - HNSW cannot delete: past 20% tombstones the index asks to be rebuilt.
// - Every rebuild reads the stored vectors (the source of truth), so that a
//   crash at any point leaves the previous saved index plus the log, which
//   reopen replays or rebuilds from.
#ifndef SEMDB_SRC_INDEX_BUILDER_H_
#define SEMDB_SRC_INDEX_BUILDER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "semdb/spec.h"
#include "semdb/vector_index.h"
#include "src/operation_log.h"
#include "storage/store.h"

namespace semdb {

inline constexpr double kRetrainGrowth = 4.0;

// The spec of the index to serve `live` vectors under `configured`.
Spec ServingSpec(const Spec& configured, int64_t live);

// True when an index of spec `loaded` may serve a collection configured
// with `configured` (the same spec, or flat while the configured kind awaits training).
bool MayServe(const Spec& loaded, const Spec& configured);

// Why `index` should be rebuilt now (training, retraining, tombstones), or
// nullopt when it is fine.
std::optional<std::string> RebuildReason(const VectorIndex& index, const Spec& configured,
                                         int64_t live);

// Builds the serving index from the vectors of generation `gen` (stored as
// `storage` says; the index gets them widened to float32): with
// `training` (VectorIndex::ExportTraining bytes) installed, or else trained
// on a sample first when it needs training. `live` is how many vectors
// there are. Reads storage only; the caller swaps the result in.
// `reporter`, when given, advances by the vectors added.
absl::StatusOr<std::unique_ptr<VectorIndex>> BuildIndexFromStore(
    const Store& store, uint32_t cid, uint32_t gen, VectorStorage storage, int dimension,
    const Spec& configured,
    int64_t live, std::string_view training, OperationReporter* reporter = nullptr);

}  // namespace semdb

#endif  // SEMDB_SRC_INDEX_BUILDER_H_
