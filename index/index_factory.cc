#include "index/index_factory.h"

#include "index/faiss_index.h"
#include "index/index_layout.h"
#include "semdb/components.h"

namespace semdb {

absl::StatusOr<std::unique_ptr<VectorIndex>> CreateVectorIndex(const Spec& spec,
                                                               int dimension) {
  absl::StatusOr<std::unique_ptr<FaissIndex>> index = FaissIndex::Create(spec, dimension);
  if (!index.ok()) return index.status();
  return std::unique_ptr<VectorIndex>(*std::move(index));
}

absl::StatusOr<std::unique_ptr<VectorIndex>> LoadVectorIndex(const std::string& path) {
  absl::StatusOr<std::unique_ptr<FaissIndex>> index = FaissIndex::Load(path);
  if (!index.ok()) return index.status();
  return std::unique_ptr<VectorIndex>(*std::move(index));
}

absl::Status ValidateIndexSpec(const Spec& spec, int dimension) {
  absl::StatusOr<IndexLayout> layout = IndexLayout::FromSpec(spec);
  if (!layout.ok()) return layout.status();
  return dimension > 0 ? layout->CheckDimension(dimension) : absl::OkStatus();
}

std::vector<ComponentKind> IndexKinds() { return IndexLayout::Kinds(); }

}  // namespace semdb
