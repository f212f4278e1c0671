// VectorFile: one append-only file of vector values beside the RocksDB
// database (vector-file mode, storage/store.h). RocksDB's vectors family
// then holds a VectorRef per vector (records.h): where its values are in
// this file and their CRC-32C. The file holds nothing but the values, back
// to back, each written once (RocksDB would write them to its WAL, a
// memtable, a level-0 table and again at each compaction).
//
// Appends go at the end of the file as found at open: bytes a crash left
// after the last referenced record (the values were written, the batch
// referencing them was not) stay as dead space, which Store counts and
// reclaims with the rest. Finding the last referenced end instead would
// read every reference at each open.
//
// Thread safety: Append and Sync are called by one writer at a time
// (Store serializes them); Read may run concurrently with them.
#ifndef SEMDB_STORAGE_VECTOR_FILE_H_
#define SEMDB_STORAGE_VECTOR_FILE_H_

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace semdb {

class VectorFile {
 public:
  // "vectors-000001.svf" for number 1.
  static std::string FileName(uint32_t number);
  // The number of a FileName, or nullopt for any other name.
  static std::optional<uint32_t> ParseFileName(std::string_view name);

  // Opens file `number` in folder `dir`. `create`: creates it (empty,
  // truncating a leftover of that name) and makes its directory entry
  // durable; else it must exist.
  static absl::StatusOr<std::unique_ptr<VectorFile>> Open(const std::string& dir,
                                                          uint32_t number, bool create,
                                                          bool read_only);
  ~VectorFile();
  VectorFile(const VectorFile&) = delete;
  VectorFile& operator=(const VectorFile&) = delete;

  uint32_t number() const { return number_; }
  const std::string& path() const { return path_; }
  // Bytes written so far (the file's size).
  uint64_t size() const { return end_.load(std::memory_order_acquire); }

  // Writes the `parts` back to back at the end of the file (pwritev, as few
  // calls as the kernel allows) and returns the offset of the first byte.
  // On an error the end does not move (a partial write is dead space).
  absl::StatusOr<uint64_t> Append(absl::Span<const iovec> parts);
  // Reads `length` bytes at `offset` into `out`; a range past the end is
  // DataLoss (a reference to values that were never written, or a
  // truncated file).
  absl::Status Read(uint64_t offset, uint64_t length, char* out) const;
  // fdatasync: what was appended survives a power loss.
  absl::Status Sync() const;

 private:
  VectorFile(std::string path, uint32_t number, int fd, uint64_t size)
      : path_(std::move(path)), number_(number), fd_(fd), end_(size) {}
  const std::string path_;
  const uint32_t number_;
  const int fd_;
  std::atomic<uint64_t> end_;
};

}  // namespace semdb

#endif  // SEMDB_STORAGE_VECTOR_FILE_H_
