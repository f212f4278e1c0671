#include "index/kernel_flat_storage.h"

#include <typeinfo>

#include "faiss/IndexHNSW.h"
#include "faiss/impl/DistanceComputer.h"

namespace semdb {
namespace {

struct KernelIPComputer : faiss::FlatCodesDistanceComputer {
  KernelIPComputer(const KernelFlatIP& storage)
      : faiss::FlatCodesDistanceComputer(storage.codes.data(), storage.code_size),
        vectors(reinterpret_cast<const float*>(storage.codes.data())),
        dim(static_cast<size_t>(storage.d)),
        ip(storage.ip) {}

  void set_query(const float* x) override { query = x; }
  float distance_to_code(const uint8_t* code) override {
    return ip(query, reinterpret_cast<const float*>(code), dim);
  }
  float symmetric_dis(idx_t i, idx_t j) override {
    return ip(vectors + i * dim, vectors + j * dim, dim);
  }

  const float* vectors;
  size_t dim;
  InnerProductFn ip;
  const float* query = nullptr;
};

}  // namespace

faiss::FlatCodesDistanceComputer* KernelFlatIP::get_FlatCodesDistanceComputer() const {
  return new KernelIPComputer(*this);
}

void UseKernelStorage(faiss::IndexHNSW* hnsw, InnerProductFn ip) {
  auto* flat = dynamic_cast<faiss::IndexFlat*>(hnsw->storage);
  if (flat == nullptr || typeid(*flat) == typeid(KernelFlatIP) ||
      flat->metric_type != faiss::METRIC_INNER_PRODUCT) {
    return;
  }
  auto* kernel = new KernelFlatIP(flat->d, ip);
  kernel->codes = std::move(flat->codes);
  kernel->ntotal = flat->ntotal;
  if (hnsw->own_fields) delete flat;
  hnsw->storage = kernel;
  hnsw->own_fields = true;
}

}  // namespace semdb
