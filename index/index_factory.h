// Creates and loads vector indexes by spec. The kind is the first word of an
// index spec ("flat", "ivf", "hnsw"; see index/index_layout.h).
#ifndef SEMDB_INDEX_INDEX_FACTORY_H_
#define SEMDB_INDEX_INDEX_FACTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "semdb/spec.h"
#include "semdb/vector_index.h"

namespace semdb {

absl::StatusOr<std::unique_ptr<VectorIndex>> CreateVectorIndex(const Spec& spec,
                                                               int dimension);

// Loads a file written by VectorIndex::Save. DataLoss when it is corrupt.
absl::StatusOr<std::unique_ptr<VectorIndex>> LoadVectorIndex(const std::string& path);

// Checks a spec without building an index; dimension 0 means not known yet
// (dimension-dependent checks are then left to creation).
absl::Status ValidateIndexSpec(const Spec& spec, int dimension);

}  // namespace semdb

#endif  // SEMDB_INDEX_INDEX_FACTORY_H_
