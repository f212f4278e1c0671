// PackedLevel0: level 0 of an HNSW graph laid out for search, each node's
// links next to its vector in one 64-byte aligned block:
//
//   block v = [width links of node v at level 0, -1 padded][dim floats of v][pad]
//
// A search step reads one node's links and then its neighbours' vectors;
// FAISS keeps the links in faiss::HNSW::neighbors and the vectors in its
// storage, two distant arrays, so each neighbour costs a cache miss for its
// list and another for its vector. hnswlib keeps level 0 this way.
//
// The blocks are the only copy of the vectors (PackedStorage serves them to
// FAISS, index/hnsw_packed_storage.h) and of level 0's links: the graph's
// faiss::HNSW holds the levels above (index/hnsw_packed_index.h), the
// builder writes level 0 here (index/hnsw_build.h) and the file reader reads
// it straight into the blocks (index/hnsw_file.h). The blocks are an
// anonymous mapping grown by mremap, so growth never holds the old and the
// new array at once and untouched capacity is not resident.
#ifndef SEMDB_INDEX_HNSW_LEVEL0_H_
#define SEMDB_INDEX_HNSW_LEVEL0_H_

#include <cstddef>
#include <cstdint>

namespace semdb {

class PackedLevel0 {
 public:
  // Blocks of `width` links (2M, FAISS's level-0 width) and `dim` floats.
  PackedLevel0(int dim, int width);
  ~PackedLevel0();
  PackedLevel0(const PackedLevel0&) = delete;
  PackedLevel0& operator=(const PackedLevel0&) = delete;

  // Sets the row count to n: new rows have no links (all -1) and a zero
  // vector until written; fewer rows forget the last ones. Throws
  // std::bad_alloc when the memory cannot be mapped.
  void Resize(size_t n);
  // Resize for rows whose vectors and links the caller writes at once: new
  // rows are left as they are (zero pages), without Resize's pass that
  // marks their links empty.
  void ResizeForOverwrite(size_t n);
  // ResizeForOverwrite without faulting the new rows' pages in: the threads
  // that write them call PopulateRows, each for its part, or they fault in
  // as they are first written.
  void ResizeUnpopulated(size_t n);
  // Faults in the pages of rows [first, first + count) by one call, cheaper
  // than a fault per page as they are first written (kernels before 5.14
  // ignore it). Contents are kept; pages already in are left as they are.
  void PopulateRows(size_t first, size_t count);
  // Appends n rows (row-major, dim floats each), without links.
  void Append(const float* vectors, size_t n);

  size_t size() const { return size_; }
  int width() const { return width_; }  // link slots per node
  int dim() const { return dim_; }
  // Floats from one row's vector to the next's (rows are vector(0) +
  // row_floats() * v).
  size_t row_floats() const { return stride_ / sizeof(float); }
  // Node v's level-0 links: width() slots, filled from the front, -1 after.
  const int32_t* links(int32_t v) const {
    return reinterpret_cast<const int32_t*>(blocks_ + stride_ * static_cast<size_t>(v));
  }
  int32_t* mutable_links(int32_t v) { return const_cast<int32_t*>(links(v)); }
  const float* vector(int32_t v) const {
    return reinterpret_cast<const float*>(blocks_ + stride_ * static_cast<size_t>(v) +
                                          links_bytes_);
  }
  float* mutable_vector(int32_t v) { return const_cast<float*>(vector(v)); }
  void Prefetch(int32_t v) const {
    const char* block = blocks_ + stride_ * static_cast<size_t>(v);
    for (size_t off = 0; off < stride_; off += 64) __builtin_prefetch(block + off, 0, 3);
  }
  // Bytes of the blocks in use (mapped capacity beyond them is never
  // touched, so not resident).
  size_t memory_bytes() const { return stride_ * size_; }

 private:
  char* blocks_ = nullptr;
  size_t mapped_bytes_ = 0;
  size_t stride_, links_bytes_, size_ = 0;
  int width_, dim_;
};

}  // namespace semdb

#endif  // SEMDB_INDEX_HNSW_LEVEL0_H_
