// KernelFlatIP: the float storage of semdb's HNSW-Flat graphs, a
// faiss::IndexFlatIP whose distance computer scores with semdb's vector
// kernels (index/inner_product.h) instead of Debian FAISS's scalar loop.
// FAISS's own graph construction (IndexHNSW::add, parallel over OpenMP
// threads) scores through this computer, so it speeds up builds too.
//
// Files are unchanged: FAISS writes it as the IndexFlatIP it derives from,
// and UseKernelStorage puts one back under a graph read from a file.
#ifndef SEMDB_INDEX_KERNEL_FLAT_STORAGE_H_
#define SEMDB_INDEX_KERNEL_FLAT_STORAGE_H_

#include "faiss/IndexFlat.h"
#include "index/inner_product.h"

namespace faiss {
struct IndexHNSW;
}

namespace semdb {

struct KernelFlatIP : faiss::IndexFlatIP {
  KernelFlatIP(idx_t d, InnerProductFn ip) : faiss::IndexFlatIP(d), ip(ip) {}
  faiss::FlatCodesDistanceComputer* get_FlatCodesDistanceComputer() const override;

  InnerProductFn ip;
};

// Replaces the storage of an HNSW graph over an inner-product IndexFlat by a
// KernelFlatIP holding the same vectors; other storages are left alone.
void UseKernelStorage(faiss::IndexHNSW* hnsw, InnerProductFn ip);

}  // namespace semdb

#endif  // SEMDB_INDEX_KERNEL_FLAT_STORAGE_H_
