// PackedHnsw: a faiss::IndexHNSW over PackedStorage whose level 0 lives only
// in the storage's packed blocks (index/hnsw_level0.h: each node's vector and
// level-0 links in one block); its faiss::HNSW holds the levels above.
//
// How faiss::HNSW holds only the upper levels: FAISS lays a node's links out
// level after level from offsets[v], level l from cum_nneighbor_per_level[l]
// on. Here cum_nneighbor_per_level[1] is 0, so level 0 has no slots and
// FAISS's own layout holds exactly levels >= 1: neighbor_range,
// prepare_level_tab and the level distribution work on it unchanged, and
// level 0's links (2M slots, 128 bytes a node at M=16, most of the graph)
// are held once, in the blocks. The index file is still FAISS's
// IndexHNSWFlat: index/hnsw_file.h puts level 0 back when it writes and takes
// it out when it reads.
//
// FAISS's own code would find level 0 empty, so the calls that walk the
// graph are overridden: add links the new vectors by semdb's builder
// (index/hnsw_build.h), search runs semdb's loop with FAISS's stopping rule
// and FAISS's kernel (the results faiss::IndexHNSW::search gives on the same
// graph in FAISS's layout, index/hnsw_search.h). FAISS's other graph
// functions (search_level_0, shrink_level_0_neighbors, reorder_links, ...)
// are not virtual: semdb never calls them on this index. range_search is
// refused by faiss::Index's default.
#ifndef SEMDB_INDEX_HNSW_PACKED_INDEX_H_
#define SEMDB_INDEX_HNSW_PACKED_INDEX_H_

#include "faiss/IndexHNSW.h"
#include "index/hnsw_level0.h"
#include "index/hnsw_packed_storage.h"

namespace semdb {

struct PackedHnsw : faiss::IndexHNSW {
  // Inner product over `dim` floats, M = m (2m level-0 links a node).
  PackedHnsw(int dim, int m);

  // Appends the vectors to the blocks and links them into the graph, on
  // omp_get_max_threads() threads.
  void add(idx_t n, const float* x) override;
  // FAISS's IndexHNSW::search on this graph: efSearch and sel from a
  // SearchParametersHNSW (or hnsw.efSearch), inner products by FAISS's
  // kernel, one query after another on the calling thread. The same ids
  // and scores as FAISS 1.7.3 when the params' efSearch is hnsw.efSearch
  // (FAISS sizes its candidate heap by hnsw.efSearch whatever the params
  // say; semdb's loop has one ef).
  void search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
              const faiss::SearchParameters* params = nullptr) const override;

  PackedLevel0& level0() { return static_cast<PackedStorage*>(storage)->level0; }
  const PackedLevel0& level0() const { return static_cast<const PackedStorage*>(storage)->level0; }
};

}  // namespace semdb

#endif  // SEMDB_INDEX_HNSW_PACKED_INDEX_H_
