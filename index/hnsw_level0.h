// PackedLevel0: level 0 of an HNSW graph laid out for search, each node's
// links next to its vector in one 64-byte aligned block:
//
//   block v = [2M links of node v at level 0, -1 padded][dim floats of v][pad]
//
// A search step reads one node's links and then its neighbours' vectors;
// FAISS keeps the links in faiss::HNSW::neighbors and the vectors in its
// storage, two distant arrays, so each neighbour costs a cache miss for its
// list and another for its vector. hnswlib keeps level 0 this way; here it
// is a copy made from FAISS's arrays (the index file stays a FAISS file) and
// kept up to date by the owner when the graph changes.
#ifndef SEMDB_INDEX_HNSW_LEVEL0_H_
#define SEMDB_INDEX_HNSW_LEVEL0_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

namespace faiss {
struct HNSW;
}

namespace semdb {

class PackedLevel0 {
 public:
  // Copies level 0 of `graph` (whose nodes are rows of `vectors`, `dim`
  // floats each). Rows below `old_rows` are taken to be packed already from
  // the same graph and vectors, except the links of the rows in `relinked`
  // (BuildHnsw's result), copied again; rows from `old_rows` on are packed
  // in full. Capacity grows geometrically.
  void Update(const faiss::HNSW& graph, const float* vectors, int dim, size_t old_rows,
              const std::vector<int32_t>& relinked);

  size_t size() const { return size_; }
  int width() const { return width_; }  // link slots per node
  int dim() const { return dim_; }
  const int32_t* links(int32_t v) const {
    return reinterpret_cast<const int32_t*>(blocks_.get() + stride_ * static_cast<size_t>(v));
  }
  const float* vector(int32_t v) const {
    return reinterpret_cast<const float*>(blocks_.get() + stride_ * static_cast<size_t>(v) +
                                          links_bytes_);
  }
  void Prefetch(int32_t v) const {
    const char* block = blocks_.get() + stride_ * static_cast<size_t>(v);
    for (size_t off = 0; off < stride_; off += 64) __builtin_prefetch(block + off, 0, 3);
  }
  // Bytes held (the capacity, not only the used blocks).
  size_t memory_bytes() const { return stride_ * capacity_; }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char[], Free> blocks_;
  size_t stride_ = 0, links_bytes_ = 0, size_ = 0, capacity_ = 0;
  int width_ = 0, dim_ = 0;
};

}  // namespace semdb

#endif  // SEMDB_INDEX_HNSW_LEVEL0_H_
