// HNSW graph construction with hnswlib's algorithm, written into FAISS's
// arrays (faiss::HNSW: levels, offsets, neighbors, entry_point, max_level),
// so that index files stay FAISS files and FAISS can still read and search
// the graph.
//
// Why not faiss::IndexHNSW::add: on the same data, M and efConstruction,
// FAISS 1.7.3's graph gives a lower recall at equal ef than hnswlib's, and
// its build takes 2-4 times as long (bench/results/ann_comparison_*.md).
// This builder follows hnswlib (Malkov and Yashunin, arXiv 1603.09320):
//   - a node's top level is drawn from FAISS's level distribution, which is
//     hnswlib's floor(-ln(U) * mL) with mL = 1/ln(M);
//   - greedy descent through the levels above it, then at each of its levels
//     a best-first search keeping efConstruction candidates;
//   - its links at a level are the M chosen by the neighbour-selection
//     heuristic (a candidate is kept only when it is closer to the new node
//     than to every neighbour kept before it);
//   - each chosen neighbour links back; a full list (M slots above level 0,
//     2M on level 0, FAISS's widths) is cut back by the same heuristic.
// Inserts run in parallel with spin locks striped over the node lists, each
// held only while one list is read or written, never two at once; a node
// whose level is above the graph's top holds the entry-point lock for its
// insertion.
#ifndef SEMDB_INDEX_HNSW_BUILD_H_
#define SEMDB_INDEX_HNSW_BUILD_H_

#include <cstdint>
#include <vector>

#include "index/inner_product.h"

namespace faiss {
struct HNSW;
}

namespace semdb {

// Links rows [graph.levels.size(), n) of `vectors` (`dim` floats per row,
// rows `row_floats` floats apart, 0 meaning `dim`: the vectors of a
// PackedLevel0 are rows of its blocks; scored by the inner product `ip`)
// into `graph`, whose nodes are
// rows [0, graph.levels.size()), on up to `threads` threads. `graph` must
// come from faiss::HNSW(M) (its level distribution and links per level);
// efConstruction is graph.efConstruction. Returns the nodes that were in
// the graph before and whose level-0 links changed, in increasing order
// (what a packed level 0 must copy again besides the new rows).
std::vector<int32_t> BuildHnsw(faiss::HNSW& graph, const float* vectors, int dim, int64_t n,
                               InnerProductFn ip, int threads, size_t row_floats = 0);

}  // namespace semdb

#endif  // SEMDB_INDEX_HNSW_BUILD_H_
