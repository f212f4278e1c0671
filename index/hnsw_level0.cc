#include "index/hnsw_level0.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace semdb {

PackedLevel0::PackedLevel0(int dim, int width)
    : stride_((sizeof(int32_t) * static_cast<size_t>(width) +
               sizeof(float) * static_cast<size_t>(dim) + 63) / 64 * 64),
      links_bytes_(sizeof(int32_t) * static_cast<size_t>(width)),
      width_(width),
      dim_(dim) {}

PackedLevel0::~PackedLevel0() {
  if (blocks_ != nullptr) ::munmap(blocks_, mapped_bytes_);
}

void PackedLevel0::ResizeUnpopulated(size_t n) {
  const size_t needed = stride_ * n;
  if (needed > mapped_bytes_) {
    // Geometric growth; pages are zero-filled and become resident when
    // written, so the spare capacity costs address space only.
    static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    const size_t bytes = (std::max(needed, mapped_bytes_ + mapped_bytes_ / 2) + page - 1) /
                         page * page;
    void* p = blocks_ == nullptr
                  ? ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0)
                  : ::mremap(blocks_, mapped_bytes_, bytes, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) throw std::bad_alloc();
    blocks_ = static_cast<char*>(p);
    mapped_bytes_ = bytes;
  }
  if (n < size_) {
    // Forgotten rows go back to zero pages, as new rows expect.
    std::memset(blocks_ + stride_ * n, 0, stride_ * (size_ - n));
  }
  size_ = n;
}

void PackedLevel0::PopulateRows(size_t first, size_t count) {
  if (count == 0) return;
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t from = stride_ * first / page * page;
  (void)::madvise(blocks_ + from, stride_ * (first + count) - from, MADV_POPULATE_WRITE);
}

void PackedLevel0::ResizeForOverwrite(size_t n) {
  const size_t old_size = size_;
  ResizeUnpopulated(n);
  if (n > old_size) PopulateRows(old_size, n - old_size);
}

void PackedLevel0::Resize(size_t n) {
  const size_t old_size = size_;
  ResizeForOverwrite(n);
  for (size_t v = old_size; v < n; ++v) std::memset(blocks_ + stride_ * v, 0xff, links_bytes_);
}

void PackedLevel0::Append(const float* vectors, size_t n) {
  const size_t first = size_;
  Resize(first + n);
  const size_t row_bytes = sizeof(float) * static_cast<size_t>(dim_);
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(mutable_vector(static_cast<int32_t>(first + i)),
                vectors + static_cast<size_t>(dim_) * i, row_bytes);
  }
}

}  // namespace semdb
