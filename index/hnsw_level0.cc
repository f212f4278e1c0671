#include "index/hnsw_level0.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "faiss/impl/HNSW.h"

namespace semdb {

void PackedLevel0::Update(const faiss::HNSW& graph, const float* vectors, int dim,
                          size_t unchanged_rows) {
  const size_t n = graph.levels.size();
  const int width = graph.nb_neighbors(0);
  const size_t links_bytes = sizeof(int32_t) * static_cast<size_t>(width);
  const size_t stride = (links_bytes + sizeof(float) * static_cast<size_t>(dim) + 63) / 64 * 64;
  if (stride != stride_ || dim != dim_) unchanged_rows = 0;  // a new shape: repack all
  unchanged_rows = std::min(unchanged_rows, size_);
  if (n > capacity_ || stride != stride_) {
    const size_t capacity = std::max(n, stride == stride_ ? capacity_ + capacity_ / 2 : n);
    char* blocks =
        static_cast<char*>(std::aligned_alloc(64, stride * std::max<size_t>(capacity, 1)));
    if (blocks == nullptr) throw std::bad_alloc();
    if (unchanged_rows > 0) std::memcpy(blocks, blocks_.get(), stride * unchanged_rows);
    blocks_.reset(blocks);
    capacity_ = capacity;
  }
  stride_ = stride;
  links_bytes_ = links_bytes;
  width_ = width;
  dim_ = dim;
  size_ = n;
  const size_t row_bytes = sizeof(float) * static_cast<size_t>(dim);
  for (size_t v = 0; v < n; ++v) {
    char* block = blocks_.get() + stride * v;
    std::memcpy(block, graph.neighbors.data() + graph.offsets[v], links_bytes);
    if (v >= unchanged_rows) {
      std::memcpy(block + links_bytes, vectors + static_cast<size_t>(dim) * v, row_bytes);
      std::memset(block + links_bytes + row_bytes, 0, stride - links_bytes - row_bytes);
    }
  }
}

}  // namespace semdb
