// Creates embedders by kind. Every embedder semdb ships is listed here; the
// kind is the first word of an embedder spec ("tfidf dim=256").
#ifndef SEMDB_EMBEDDERS_EMBEDDER_FACTORY_H_
#define SEMDB_EMBEDDERS_EMBEDDER_FACTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "semdb/embedder.h"
#include "semdb/spec.h"

namespace semdb {

// A new, unfitted embedder for `spec` ("vectors dim=N" included: an embedder
// whose capabilities().caller_vectors is set), whose calls run their
// parallel loops on context.pool when it is set. Unknown kinds and bad parameters are
// InvalidArgument errors naming the offending part; missing model files are
// NotFound.
absl::StatusOr<std::unique_ptr<Embedder>> CreateEmbedder(
    const Spec& spec, const EmbedderContext& context);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_EMBEDDER_FACTORY_H_
