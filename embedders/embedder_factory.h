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

// The "vectors" kind: the collection stores the caller's vectors (no
// embedder is created for it).
ComponentKind VectorsKind();

// A new, unfitted embedder for `spec`. Unknown kinds and bad parameters are
// InvalidArgument errors naming the offending part; missing model files are
// NotFound.
absl::StatusOr<std::unique_ptr<Embedder>> CreateEmbedder(
    const Spec& spec, const EmbedderContext& context);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_EMBEDDER_FACTORY_H_
