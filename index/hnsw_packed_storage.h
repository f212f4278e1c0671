// PackedStorage: the storage of a faiss::IndexHNSW whose float vectors live
// only in a PackedLevel0 (index/hnsw_level0.h), so that an HNSW index holds
// one copy of its vectors instead of FAISS's IndexFlat codes plus the packed
// blocks semdb's search reads.
//
// It is a faiss::Index (inner product) over the blocks' vectors:
// reconstruct, exact search and FAISS's distance computer work on it,
// scoring with FAISS's fvec_inner_product as FAISS's IndexFlatIP does. add()
// appends vectors without links; the owner, PackedHnsw
// (index/hnsw_packed_index.h), links them into the blocks (BuildHnsw).
// FAISS's write_index does not know this class: index/hnsw_file.h writes and
// reads it as an IndexHNSWFlat.
#ifndef SEMDB_INDEX_HNSW_PACKED_STORAGE_H_
#define SEMDB_INDEX_HNSW_PACKED_STORAGE_H_

#include "faiss/Index.h"
#include "index/hnsw_level0.h"

namespace semdb {

struct PackedStorage : faiss::Index {
  // Vectors of `dim` floats beside `width` level-0 links each.
  PackedStorage(int dim, int width);

  void add(idx_t n, const float* x) override;
  void reset() override;
  // Exact inner-product top-k (index/flat_scan.h); params->sel is honoured.
  void search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
              const faiss::SearchParameters* params = nullptr) const override;
  void reconstruct(idx_t key, float* recons) const override;
  faiss::DistanceComputer* get_distance_computer() const override;

  PackedLevel0 level0;
};

}  // namespace semdb

#endif  // SEMDB_INDEX_HNSW_PACKED_STORAGE_H_
