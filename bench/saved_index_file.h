// The FAISS part of a semdb index file, for benchmarks whose peer is FAISS's
// own read_index of the identical bytes.
#ifndef SEMDB_BENCH_SAVED_INDEX_FILE_H_
#define SEMDB_BENCH_SAVED_INDEX_FILE_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace semdb::bench {

// The FAISS bytes of a semdb index file (index/faiss_index.cc, Save):
// magic, version, spec, dimension, training size (v2+), training flag (v3+),
// count, labels, tombstones, then FAISS's bytes, then a CRC-32. Nothing when
// the file is shorter than its header says.
inline std::optional<std::string> FaissBytesOfIndexFile(const std::string& file) {
  size_t at = 8;
  bool truncated = false;
  auto take = [&](size_t n) {
    const size_t was = at;
    if (at + n > file.size()) truncated = true;
    at = truncated ? file.size() : at + n;
    return was;
  };
  uint32_t version = 0, spec_size = 0;
  uint64_t count = 0;
  if (const size_t p = take(4); !truncated) std::memcpy(&version, file.data() + p, 4);
  if (const size_t p = take(4); !truncated) std::memcpy(&spec_size, file.data() + p, 4);
  take(static_cast<size_t>(spec_size) + 4);
  if (version >= 2) take(8);
  if (version >= 3) take(1);
  if (const size_t p = take(8); !truncated) std::memcpy(&count, file.data() + p, 8);
  if (count > file.size()) truncated = true;
  if (!truncated) take(count * 8 + (count + 7) / 8);
  if (truncated || file.size() < at + 4) return std::nullopt;
  return file.substr(at, file.size() - at - 4);
}

}  // namespace semdb::bench

#endif  // SEMDB_BENCH_SAVED_INDEX_FILE_H_
