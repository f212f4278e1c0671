// Checks that an embedder is the model that made a collection's vectors.
//
// A collection's vectors are only comparable with queries embedded by the
// same model. Embedders loaded from files (word vectors, transformer model
// folders) could be replaced under the same path; fitted state could be
// damaged. So the collection records the vectors its embedder gives for a
// few fixed probe texts whenever the model is set (creation, refit), and on
// every open requires the reopened embedder to reproduce them to a cosine
// of 0.999 (exact bit equality would be too strict across CPUs' kernels).
#ifndef SEMDB_SRC_MODEL_PROBE_H_
#define SEMDB_SRC_MODEL_PROBE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "semdb/embedder.h"

namespace semdb {

// The cosine at or above which two vectors of one text are taken to come
// from the same model.
inline constexpr double kSameModelCosine = 0.999;

// The concatenated vectors of the probe texts.
absl::StatusOr<std::vector<float>> ProbeEmbedder(const Embedder& embedder);

// OK when `embedder` reproduces `recorded` (from ProbeEmbedder); otherwise a
// FailedPrecondition explaining that the model changed.
absl::Status CheckProbe(const Embedder& embedder, const std::vector<float>& recorded);

}  // namespace semdb

#endif  // SEMDB_SRC_MODEL_PROBE_H_
