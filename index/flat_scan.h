// Exact top-k by inner product over rows of floats, scored with semdb's
// vector kernel (index/inner_product.h): Debian's FAISS scores a few
// queries with its scalar loop, which was most of a search's time in the
// HTTP load benchmark. The heap is FAISS's, fed in position order as FAISS
// feeds it, so the hits and the order of ties are FAISS's; scores differ by
// a few float ulps (the kernel's summation order).
#ifndef SEMDB_INDEX_FLAT_SCAN_H_
#define SEMDB_INDEX_FLAT_SCAN_H_

#include <cstddef>
#include <cstdint>

namespace faiss {
struct IDSelector;
struct Index;
}  // namespace faiss

namespace semdb {

// The k best of `count` rows for each of n queries (row-major, `dim` floats
// each): row i is rows + i * row_floats. Writes n x k scores and positions,
// best first (position -1 in unfilled slots); only positions accepted by
// `sel` (null: all) are returned.
void ScanRows(const float* rows, size_t row_floats, int64_t count, int dim,
              const float* queries, int64_t n, int k, const faiss::IDSelector* sel,
              float* scores, int64_t* positions);

// index.search(n, queries, k, ...) with `sel` (null: all): by ScanRows
// when `index` is a faiss::IndexFlat by inner product and n is below
// FAISS's BLAS threshold (beyond it FAISS's matrix products are faster),
// else by FAISS.
void SearchFlatOrFaiss(const faiss::Index& index, const float* queries, int64_t n, int k,
                       const faiss::IDSelector* sel, float* scores, int64_t* positions);

}  // namespace semdb

#endif  // SEMDB_INDEX_FLAT_SCAN_H_
