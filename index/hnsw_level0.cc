#include "index/hnsw_level0.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "faiss/impl/HNSW.h"

namespace semdb {

void PackedLevel0::Update(const faiss::HNSW& graph, const float* vectors, int dim,
                          size_t old_rows, const std::vector<int32_t>& relinked) {
  const size_t n = graph.levels.size();
  const int width = graph.nb_neighbors(0);
  const size_t links_bytes = sizeof(int32_t) * static_cast<size_t>(width);
  const size_t stride = (links_bytes + sizeof(float) * static_cast<size_t>(dim) + 63) / 64 * 64;
  if (stride != stride_ || dim != dim_) old_rows = 0;  // a new shape: repack all
  old_rows = std::min({old_rows, size_, n});
  if (n > capacity_ || stride != stride_) {
    const size_t capacity = std::max(n, stride == stride_ ? capacity_ + capacity_ / 2 : n);
    char* blocks =
        static_cast<char*>(std::aligned_alloc(64, stride * std::max<size_t>(capacity, 1)));
    if (blocks == nullptr) throw std::bad_alloc();
    if (old_rows > 0) std::memcpy(blocks, blocks_.get(), stride * old_rows);
    blocks_.reset(blocks);
    capacity_ = capacity;
  }
  stride_ = stride;
  links_bytes_ = links_bytes;
  width_ = width;
  dim_ = dim;
  size_ = n;
  auto copy_links = [&](size_t v) {
    std::memcpy(blocks_.get() + stride * v, graph.neighbors.data() + graph.offsets[v],
                links_bytes);
  };
  for (int32_t v : relinked) {
    if (static_cast<size_t>(v) < old_rows) copy_links(static_cast<size_t>(v));
  }
  const size_t row_bytes = sizeof(float) * static_cast<size_t>(dim);
  for (size_t v = old_rows; v < n; ++v) {
    char* block = blocks_.get() + stride * v;
    copy_links(v);
    std::memcpy(block + links_bytes, vectors + static_cast<size_t>(dim) * v, row_bytes);
    std::memset(block + links_bytes + row_bytes, 0, stride - links_bytes - row_bytes);
  }
}

}  // namespace semdb
