// IVF-Flat search by inner product, scored with semdb's vector kernel
// (index/inner_product.h). Debian's FAISS is a generic build: its IVF-Flat
// scanner and its coarse quantizer score with the scalar
// fvec_inner_product_ref, which was half of an IVF query's samples in perf.
// The lists are FAISS's (assigned by its quantizer, which flat_scan.h's
// SearchFlatOrFaiss also scores with semdb's kernel for a few queries),
// probed in FAISS's order and fed to FAISS's heap in FAISS's order, so the
// hits and the order of ties are FAISS's; scores differ by a few float ulps
// (the kernel's summation order).
#ifndef SEMDB_INDEX_IVF_SCAN_H_
#define SEMDB_INDEX_IVF_SCAN_H_

#include <cstddef>
#include <cstdint>

namespace faiss {
struct IDSelector;
struct IndexIVFFlat;
}  // namespace faiss

namespace semdb {

// The k best entries of the `nprobe` lists nearest to the query, for one
// query (`dim` = ivf.d floats), as IndexIVF::search with that nprobe and
// selector returns them: k scores and list ids, best first (-1 in unfilled
// slots). `lists` are the query's nprobe coarse assignments, best first
// (the quantizer's search; -1 entries are skipped). ivf must be IVF-Flat
// by inner product.
void ScanIvfLists(const faiss::IndexIVFFlat& ivf, const float* query, const int64_t* lists,
                  size_t nprobe, int k, const faiss::IDSelector* sel, float* scores,
                  int64_t* ids);

}  // namespace semdb

#endif  // SEMDB_INDEX_IVF_SCAN_H_
