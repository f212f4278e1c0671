// HNSW search over a FAISS graph (faiss::HNSW: levels, offsets, neighbors)
// with semdb's own loop, in place of faiss::IndexHNSW::search.
//
// The algorithm is FAISS 1.7.3's (greedy descent through the upper levels,
// then a best-first search of level 0 keeping the ef closest vectors seen,
// stopping when the closest unexpanded one is worse than all of them; the
// results are the best k accepted by the selector among every vector
// scored), so on the same graph and with the same kernel it returns what
// FAISS returns. What differs is the cost per step: vector kernels chosen at
// run time instead of Debian FAISS's scalar loop, direct calls instead of a
// virtual distance computer per vector, binary heaps instead of FAISS's
// linear-scan candidate heap, a per-thread visited table reset by bumping a
// tag instead of allocating and clearing ntotal bytes per query, and the
// next neighbours' vectors prefetched while one is scored.
#ifndef SEMDB_INDEX_HNSW_SEARCH_H_
#define SEMDB_INDEX_HNSW_SEARCH_H_

#include <cstdint>

#include "index/inner_product.h"

namespace faiss {
struct HNSW;
struct IDSelector;
struct DistanceComputer;
}  // namespace faiss

namespace semdb {

struct HnswQuery {
  const float* vector = nullptr;
  int k = 10;
  int ef = 16;                             // search list size; max(ef, k) is used
  const faiss::IDSelector* sel = nullptr;  // positions that may be returned
};

// Writes the best query.k positions and their inner products, best first,
// to `positions`/`scores` (query.k slots each; unfilled slots get position
// -1). The graph's vectors are `vectors`, row-major with `dim` floats per
// position (a faiss::IndexFlat's storage), scored by `ip`.
void SearchHnswFlat(const faiss::HNSW& graph, const float* vectors, int dim, InnerProductFn ip,
                    const HnswQuery& query, float* scores, int64_t* positions);

// The same over any FAISS storage (SQ8 codes): `similarity` must have had
// set_query(query.vector) called and return inner products.
void SearchHnswCodes(const faiss::HNSW& graph, faiss::DistanceComputer& similarity,
                     const HnswQuery& query, float* scores, int64_t* positions);

}  // namespace semdb

#endif  // SEMDB_INDEX_HNSW_SEARCH_H_
