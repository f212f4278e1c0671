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

void PackedLevel0::ResizeForOverwrite(size_t n) {
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
  if (n > size_) {
    // The new rows are written next: their pages are faulted in by one
    // call, cheaper than a fault per page as they are first written
    // (kernels before 5.14 ignore it, and they fault as before).
    static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    const size_t from = stride_ * size_ / page * page;
    (void)::madvise(blocks_ + from, needed - from, MADV_POPULATE_WRITE);
  }
  if (n < size_) {
    // Forgotten rows go back to zero pages, as new rows expect.
    std::memset(blocks_ + stride_ * n, 0, stride_ * (size_ - n));
  }
  size_ = n;
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
