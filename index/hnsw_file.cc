#include "index/hnsw_file.h"

#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "faiss/impl/FaissAssert.h"
#include "index/hnsw_packed_index.h"
#include "index/index_file.h"

namespace semdb {
namespace {

constexpr int64_t kHeaderDummy = int64_t{1} << 20;  // FAISS writes it, never reads it

uint32_t Fourcc(const char (&code)[5]) {
  uint32_t v;
  std::memcpy(&v, code, 4);
  return v;
}

template <typename T>
void Write(faiss::IOWriter* w, const T& v) {
  FAISS_THROW_IF_NOT_MSG((*w)(&v, sizeof(T), 1) == 1, "write failed");
}

template <typename T>
void WriteVector(faiss::IOWriter* w, const std::vector<T>& v) {
  Write(w, static_cast<uint64_t>(v.size()));
  FAISS_THROW_IF_NOT_MSG((*w)(v.data(), sizeof(T), v.size()) == v.size(), "write failed");
}

void WriteHeader(faiss::IOWriter* w, int d, int64_t ntotal) {
  Write(w, static_cast<int32_t>(d));
  Write(w, ntotal);
  Write(w, kHeaderDummy);
  Write(w, kHeaderDummy);
  Write(w, static_cast<uint8_t>(1));  // is_trained
  Write(w, static_cast<int32_t>(faiss::METRIC_INNER_PRODUCT));
}

template <typename T>
T Read(faiss::IOReader* r) {
  T v;
  FAISS_THROW_IF_NOT_MSG((*r)(&v, sizeof(T), 1) == 1, "truncated HNSW data");
  return v;
}

// The size of an array that follows: at most `max_size` items, and at
// most what is left of the file (both checked before it is allocated).
template <typename T>
uint64_t ReadArraySize(ChecksummedFileReader* r, uint64_t max_size) {
  const uint64_t size = Read<uint64_t>(r);
  FAISS_THROW_IF_NOT_MSG(size <= max_size && size <= r->bytes_left() / sizeof(T),
                         "HNSW array of an unexpected size");
  return size;
}

template <typename T>
std::vector<T> ReadItems(ChecksummedFileReader* r, uint64_t size) {
  std::vector<T> v(size);
  FAISS_THROW_IF_NOT_MSG((*r)(v.data(), sizeof(T), size) == size, "truncated HNSW data");
  return v;
}

template <typename T>
std::vector<T> ReadVector(ChecksummedFileReader* r, uint64_t max_size) {
  return ReadItems<T>(r, ReadArraySize<T>(r, max_size));
}

// An index header's bytes: d, ntotal, two dummies, is_trained, the metric.
constexpr uint64_t kHeaderBytes = 4 + 8 + 8 + 8 + 1 + 4;
// Indexes whose vectors take this many bytes read their second half on
// another thread, while the graph and the first half are read.
constexpr uint64_t kSplitReadBytes = uint64_t{4} << 20;
// Links read at a time (256 KiB) before they are copied to their nodes.
constexpr size_t kStagingLinks = size_t{64} << 10;

// Whether -1 <= link < rows for every link: one branch-free pass of signed
// compares over local values, which the compiler vectorizes (SSE2 has no
// unsigned compare of 32-bit lanes).
__attribute__((noinline)) bool LinksInRange(const int32_t* links, size_t count, int32_t rows) {
  int32_t out_of_range = 0;
  for (size_t j = 0; j < count; ++j) out_of_range |= (links[j] < -1) | (links[j] >= rows);
  return out_of_range == 0;
}

// Checks an index header: `d` floats per vector, `rows` vectors, trained,
// inner product; returns d.
int ReadHeader(faiss::IOReader* r, int64_t rows) {
  const int32_t d = Read<int32_t>(r);
  const int64_t ntotal = Read<int64_t>(r);
  Read<int64_t>(r);
  Read<int64_t>(r);
  const uint8_t trained = Read<uint8_t>(r);
  const int32_t metric = Read<int32_t>(r);
  FAISS_THROW_IF_NOT_MSG(d > 0 && d <= 65536 && ntotal == rows && trained == 1 &&
                             metric == faiss::METRIC_INNER_PRODUCT,
                         "unexpected HNSW index header");
  return d;
}

}  // namespace

uint32_t HnswFlatFourcc() { return Fourcc("IHNf"); }

void WriteHnswFlat(const PackedHnsw& index, faiss::IOWriter* w) {
  const faiss::HNSW& g = index.hnsw;  // the levels above 0
  const PackedLevel0& level0 = index.level0();
  const size_t n = g.levels.size();
  const size_t width = static_cast<size_t>(level0.width());
  FAISS_THROW_IF_NOT_MSG(n == static_cast<size_t>(index.ntotal) && n == level0.size(),
                         "HNSW graph and vectors differ in size");
  // FAISS's layout: level 0's slots first in every node's range.
  std::vector<int> cum = g.cum_nneighbor_per_level;
  for (size_t l = 1; l < cum.size(); ++l) cum[l] += static_cast<int>(width);
  std::vector<size_t> offsets = g.offsets;
  for (size_t v = 0; v < offsets.size(); ++v) offsets[v] += v * width;
  Write(w, HnswFlatFourcc());
  WriteHeader(w, index.d, index.ntotal);
  WriteVector(w, g.assign_probas);
  WriteVector(w, cum);
  WriteVector(w, g.levels);
  WriteVector(w, offsets);
  Write(w, static_cast<uint64_t>(offsets[n]));
  for (size_t v = 0; v < n; ++v) {
    const size_t upper = g.offsets[v + 1] - g.offsets[v];
    FAISS_THROW_IF_NOT_MSG(
        (*w)(level0.links(static_cast<int32_t>(v)), sizeof(int), width) == width &&
            (upper == 0 ||
             (*w)(g.neighbors.data() + g.offsets[v], sizeof(int), upper) == upper),
        "write failed");
  }
  for (int v : {g.entry_point, g.max_level, g.efConstruction, g.efSearch, g.upper_beam}) {
    Write(w, static_cast<int32_t>(v));
  }
  Write(w, Fourcc("IxFI"));
  WriteHeader(w, index.d, index.ntotal);
  Write(w, static_cast<uint64_t>(index.ntotal) * static_cast<uint64_t>(index.d));
  const size_t d = static_cast<size_t>(index.d);
  for (size_t v = 0; v < n; ++v) {
    FAISS_THROW_IF_NOT_MSG((*w)(level0.vector(static_cast<int32_t>(v)), sizeof(float), d) == d,
                           "write failed");
  }
}

std::unique_ptr<PackedHnsw> ReadHnswFlat(ChecksummedFileReader* r, int64_t rows) {
  FAISS_THROW_IF_NOT_MSG(rows >= 0 && rows < (int64_t{1} << 31), "too many HNSW nodes");
  const uint64_t n = static_cast<uint64_t>(rows);
  const int d = ReadHeader(r, rows);
  constexpr uint64_t kMaxLevels = 64;
  std::vector<double> assign_probas = ReadVector<double>(r, kMaxLevels);
  std::vector<int> cum = ReadVector<int>(r, kMaxLevels + 1);
  std::vector<int> levels = ReadVector<int>(r, n);
  std::vector<size_t> offsets = ReadVector<size_t>(r, n + 1);
  FAISS_THROW_IF_NOT_MSG(cum.size() >= 2 && cum[0] == 0 && levels.size() == n &&
                             offsets.size() == n + 1 && offsets[0] == 0,
                         "inconsistent HNSW graph");
  for (size_t l = 1; l < cum.size(); ++l) {
    FAISS_THROW_IF_NOT_MSG(cum[l] > cum[l - 1], "inconsistent HNSW graph");
  }
  for (uint64_t v = 0; v < n; ++v) {
    FAISS_THROW_IF_NOT_MSG(levels[v] >= 1 && static_cast<size_t>(levels[v]) < cum.size() &&
                               offsets[v + 1] == offsets[v] + static_cast<size_t>(cum[levels[v]]),
                           "inconsistent HNSW graph");
  }
  const uint64_t links = ReadArraySize<int>(r, offsets[n]);
  FAISS_THROW_IF_NOT_MSG(links == offsets[n], "inconsistent HNSW graph");
  // After the links: five int32 (entry point ... upper beam), the storage's
  // fourcc, index header and float count, then the vectors.
  const uint64_t row_bytes = sizeof(float) * static_cast<uint64_t>(d);
  const uint64_t vectors_at = r->position() + links * sizeof(int) + 5 * 4 + 4 + kHeaderBytes + 8;
  const uint64_t payload_end = r->position() + r->bytes_left();
  FAISS_THROW_IF_NOT_MSG(vectors_at <= payload_end && n <= (payload_end - vectors_at) / row_bytes,
                         "truncated HNSW vectors");

  const int width = cum[1];  // level 0's, 2M
  FAISS_THROW_IF_NOT_MSG(width % 2 == 0, "inconsistent HNSW graph");
  auto index = std::make_unique<PackedHnsw>(d, width / 2);
  PackedLevel0& level0 = index->level0();
  level0.ResizeUnpopulated(n);
  const size_t stride = level0.row_floats() * sizeof(float);
  // The second half of a large index's vectors comes by another thread
  // (joined before `index` goes, also when a throw leaves early), which
  // first faults in that half's pages while this one does the first's.
  uint64_t head = n * row_bytes >= kSplitReadBytes ? n / 2 : n;
  bool tail_read = false;
  uint32_t tail_checksum = 0;
  std::jthread tail_reader;
  if (head < n) {
    try {
      tail_reader = std::jthread([&] {
        level0.PopulateRows(head, n - head);
        tail_read = r->PreadStrided(vectors_at + head * row_bytes,
                                    level0.mutable_vector(static_cast<int32_t>(head)), stride,
                                    row_bytes, n - head, &tail_checksum);
      });
    } catch (const std::system_error&) {
      head = n;  // no thread to be had: all on this one
    }
  }
  level0.PopulateRows(0, head);

  // Each node's links: level 0's into its block, the rest into the upper
  // levels' array (at the node's offset less the level-0 slots before it).
  // They are read a batch of nodes at a time into `staging` (one read,
  // checksummed while in the cache), checked there in one pass, then
  // copied out: no call per node.
  const size_t level0_slots = static_cast<size_t>(width);
  std::vector<int> upper(links - n * level0_slots);
  std::vector<int> staging(kStagingLinks);
  for (uint64_t v = 0; v < n;) {
    uint64_t end = v + 1;  // the batch: nodes v .. end - 1, at least one
    while (end < n && offsets[end + 1] - offsets[v] <= staging.size()) ++end;
    const size_t count = offsets[end] - offsets[v];
    if (count > staging.size()) staging.resize(count);  // a node above the buffer's size
    FAISS_THROW_IF_NOT_MSG((*r)(staging.data(), sizeof(int), count) == count,
                           "truncated HNSW data");
    FAISS_THROW_IF_NOT_MSG(LinksInRange(staging.data(), count, static_cast<int32_t>(rows)),
                           "HNSW link out of range");
    const int* from = staging.data();
    for (; v < end; ++v) {
      std::memcpy(level0.mutable_links(static_cast<int32_t>(v)), from, level0_slots * sizeof(int));
      const size_t upper_count = offsets[v + 1] - offsets[v] - level0_slots;
      if (upper_count > 0) {
        std::memcpy(upper.data() + offsets[v] - v * level0_slots, from + level0_slots,
                    upper_count * sizeof(int));
      }
      from += level0_slots + upper_count;
    }
  }
  for (uint64_t v = 0; v <= n; ++v) offsets[v] -= v * level0_slots;
  for (size_t l = 1; l < cum.size(); ++l) cum[l] -= width;
  const int entry_point = Read<int32_t>(r), max_level = Read<int32_t>(r);
  const int ef_construction = Read<int32_t>(r), ef_search = Read<int32_t>(r);
  const int upper_beam = Read<int32_t>(r);
  FAISS_THROW_IF_NOT_MSG(
      (n == 0 ? entry_point == -1
              : entry_point >= 0 && entry_point < rows && max_level == levels[entry_point] - 1),
      "bad HNSW entry point");
  FAISS_THROW_IF_NOT_MSG(Read<uint32_t>(r) == Fourcc("IxFI") && ReadHeader(r, rows) == d &&
                             Read<uint64_t>(r) == n * static_cast<uint64_t>(d),
                         "the HNSW storage is not inner-product flat vectors");
  FAISS_THROW_IF_NOT_MSG(r->position() == vectors_at, "inconsistent HNSW data");
  FAISS_THROW_IF_NOT_MSG(head == 0 || r->ReadStrided(level0.mutable_vector(0), stride,
                                                     static_cast<size_t>(row_bytes), head),
                         "truncated HNSW vectors");
  if (tail_reader.joinable()) tail_reader.join();
  FAISS_THROW_IF_NOT_MSG(head == n || (tail_read && r->SkipPreRead((n - head) * row_bytes,
                                                                   tail_checksum)),
                         "truncated HNSW vectors");
  index->storage->ntotal = rows;
  index->ntotal = rows;
  faiss::HNSW& g = index->hnsw;
  g.assign_probas = std::move(assign_probas);
  g.cum_nneighbor_per_level = std::move(cum);
  g.levels = std::move(levels);
  g.offsets = std::move(offsets);
  g.neighbors = std::move(upper);
  g.entry_point = entry_point;
  g.max_level = max_level;
  g.efConstruction = ef_construction;
  g.efSearch = ef_search;
  g.upper_beam = upper_beam;
  return index;
}

}  // namespace semdb
