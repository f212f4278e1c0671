#include "index/index_factory.h"

#include "index/faiss_index.h"

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

std::vector<std::string> IndexKindsHelp() {
  return {"flat  exact inner-product search over all vectors (default)"};
}

}  // namespace semdb
