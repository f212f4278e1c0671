// HNSW search over a FAISS graph (faiss::HNSW: levels, offsets, neighbors)
// with semdb's own loop, in place of faiss::IndexHNSW::search.
//
// The algorithm is FAISS 1.7.3's (greedy descent through the upper levels,
// then a best-first search of level 0 keeping the ef closest vectors seen;
// the results are the best k accepted by the selector among every vector
// scored), with a choice of stopping rule (HnswQuery::faiss_stop_rule): with
// FAISS's, on the same graph and with the same kernel it returns what FAISS
// returns. What differs is the cost per step: vector kernels chosen at
// run time instead of Debian FAISS's scalar loop, direct calls instead of a
// virtual distance computer per vector, binary heaps instead of FAISS's
// linear-scan candidate heap, a per-thread visited table reset by bumping a
// tag instead of allocating and clearing ntotal bytes per query, the
// next neighbours' vectors prefetched while one is scored, and (with
// SearchHnswPacked) level 0 read from one block per node holding its links
// and its vector (index/hnsw_level0.h).
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

class PackedLevel0;

struct HnswQuery {
  const float* vector = nullptr;
  int k = 10;
  int ef = 16;                             // search list size; max(ef, k) is used
  const faiss::IDSelector* sel = nullptr;  // positions that may be returned
  // FAISS 1.7.3 counts the unexpanded entries among the ef kept and stops
  // at zero, but also decrements the count when it evicts an entry that was
  // already expanded, so some searches stop early. true: that rule, for
  // results identical to faiss::IndexHNSW::search (the tests use it).
  // false: stop only when the best unexpanded vector is worse than all ef
  // kept (hnswlib's rule), which scores more vectors per ef but reaches a
  // given recall at a smaller ef and a lower cost (bench/ann_comparison).
  bool faiss_stop_rule = false;
};

// Writes the best query.k positions and their inner products, best first,
// to `positions`/`scores` (query.k slots each; unfilled slots get position
// -1). The graph's vectors are `vectors`, row-major with `dim` floats per
// position (a faiss::IndexFlat's storage), scored by `ip`.
void SearchHnswFlat(const faiss::HNSW& graph, const float* vectors, int dim, InnerProductFn ip,
                    const HnswQuery& query, float* scores, int64_t* positions);

// The same over a graph whose level 0 is packed (index/hnsw_level0.h):
// `graph` holds the levels above 0 (its level 0 has no slots,
// index/hnsw_packed_index.h), `level0` level 0's links and the vectors. The
// same results as SearchHnswFlat on the same graph in FAISS's layout, the
// same vectors and kernel, at a lower cost per step.
void SearchHnswPacked(const faiss::HNSW& graph, const PackedLevel0& level0, InnerProductFn ip,
                      const HnswQuery& query, float* scores, int64_t* positions);

// The same over any FAISS storage (SQ8 codes): `similarity` must have had
// set_query(query.vector) called and return inner products.
void SearchHnswCodes(const faiss::HNSW& graph, faiss::DistanceComputer& similarity,
                     const HnswQuery& query, float* scores, int64_t* positions);

}  // namespace semdb

#endif  // SEMDB_INDEX_HNSW_SEARCH_H_
