// HNSW graph construction with hnswlib's algorithm: level 0's links into
// the blocks of a PackedLevel0 (index/hnsw_level0.h), the levels above into
// FAISS's arrays (faiss::HNSW: levels, offsets, neighbors, entry_point,
// max_level, with a level 0 of no slots: index/hnsw_packed_index.h), so
// that index files stay FAISS files (index/hnsw_file.h puts level 0 back)
// and FAISS can still read and search the graph.
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

#include "index/inner_product.h"

namespace faiss {
struct HNSW;
}

namespace semdb {

class PackedLevel0;

// Links rows [graph.levels.size(), level0.size()) of `level0` (new rows:
// their links all -1) into the graph whose nodes are rows
// [0, graph.levels.size()), scoring by the inner product `ip`, on up to
// `threads` threads. `graph` holds the levels above 0 (its level
// distribution and links per level from faiss::HNSW(M), level 0's width
// set to zero: PackedHnsw); level 0's links (2M slots, level0.width()) are
// in `level0`. efConstruction is graph.efConstruction.
void BuildHnsw(faiss::HNSW& graph, PackedLevel0& level0, InnerProductFn ip, int threads);

}  // namespace semdb

#endif  // SEMDB_INDEX_HNSW_BUILD_H_
