// Writes tests/data/index/hnsw_before_one_copy.index: an HNSW index file
// saved by semdb before its HNSW index kept one copy of the vectors
// (commit 745cbe4, when the FAISS storage held them besides the packed
// level 0), for the test that such files still load
// (tests/faiss_index_test.cc, "an HNSW file saved before ..."). 300
// clustered unit vectors of dimension 16 (tests/vector_data.h, seed 7),
// labels 1000 + row, rows 0..9 removed. Built at that commit as a
// temporary target of bench/CMakeLists.txt:
//   add_executable(make_hnsw_index_golden ${PROJECT_SOURCE_DIR}/tests/golden/make_hnsw_index_golden.cc)
//   target_link_libraries(make_hnsw_index_golden PRIVATE semdb_index faiss)
//   target_include_directories(make_hnsw_index_golden PRIVATE ${PROJECT_SOURCE_DIR}/tests)
// and run as `make_hnsw_index_golden tests/data/index/hnsw_before_one_copy.index`.
#include <cstdio>
#include <vector>

#include "index/faiss_index.h"
#include "vector_data.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const int dim = 16, n = 300;
  const std::vector<float> data = semdb::testing::ClusteredVectors(n, dim, 8, 7);
  std::vector<uint64_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = 1000 + i;
  auto index = semdb::FaissIndex::Create(*semdb::Spec::Parse("hnsw m=8 ef_construction=40"), dim);
  if (!index.ok() || !(*index)->Add(labels, data).ok()) return 1;
  if (!(*index)->Remove(absl::MakeConstSpan(labels).subspan(0, 10)).ok()) return 1;
  return (*index)->Save(argv[1]).ok() ? 0 : 1;
}
