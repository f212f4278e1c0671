// The on-disk form of a saved index: a checksummed file whose payload is
// the label table, tombstones and the FAISS index bytes. The checksum makes
// a torn or corrupted file detectable, so that the collection rebuilds the
// index from storage instead of serving it.
//
// The file is the payload followed by its checksum (4 bytes): a CRC-32C
// (checksum/crc32c.h) in files of format version 4 on, zlib's CRC-32 before.
#ifndef SEMDB_INDEX_INDEX_FILE_H_
#define SEMDB_INDEX_INDEX_FILE_H_

#include <cstdio>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "faiss/impl/io.h"

namespace semdb {

enum class ChecksumKind {
  kCrc32,   // zlib's crc32 (format versions 1-3)
  kCrc32c,  // CRC-32C (format version 4 on)
};

// The checksum of `kind` of `n` bytes following bytes whose checksum is `crc`.
uint32_t ExtendChecksum(ChecksumKind kind, uint32_t crc, const void* data, size_t n);
// ExtendChecksum over `rows` rows of `row_bytes` at first, first + stride, ...
uint32_t ExtendChecksumRows(ChecksumKind kind, uint32_t crc, const void* first, size_t stride,
                            size_t row_bytes, size_t rows);
// The checksum of a followed by b from theirs and b's length.
uint32_t CombineChecksums(ChecksumKind kind, uint32_t first, uint32_t second,
                          uint64_t second_bytes);

// A faiss::IOWriter over a file that keeps a checksum of what it wrote.
// Close() appends the checksum and fsyncs the file.
class ChecksummedFileWriter : public faiss::IOWriter {
 public:
  ChecksummedFileWriter(const std::string& path, ChecksumKind kind);
  ~ChecksummedFileWriter() override;

  absl::Status status() const { return status_; }
  size_t operator()(const void* ptr, size_t size, size_t nitems) override;
  absl::Status Close();

 private:
  std::string path_;
  ChecksumKind kind_;
  FILE* file_ = nullptr;
  uint32_t crc_ = 0;
  absl::Status status_;
};

// A faiss::IOReader over a file written by ChecksummedFileWriter, read once:
// each read is checksummed as it arrives (a chunk at a time, while it is in
// the cache), and VerifyChecksum() at the end compares the whole payload's
// checksum with the stored one. What was read must not be used before
// VerifyChecksum() succeeds; parsers that cannot be trusted with damaged
// bytes call VerifyAhead() first. Reads never go past the payload.
class ChecksummedFileReader : public faiss::IOReader {
 public:
  ChecksummedFileReader(const std::string& path, ChecksumKind kind);
  ~ChecksummedFileReader() override;

  absl::Status status() const { return status_; }
  // Payload bytes not read yet: an upper bound for any size read from the
  // data, checked before allocating by it.
  uint64_t bytes_left() const { return file_left_ + buffered_; }
  // The offset in the file of the next byte a read returns.
  uint64_t position() const { return payload_end_ - bytes_left(); }
  size_t operator()(void* ptr, size_t size, size_t nitems) override;
  // Reads `rows` rows of `row_bytes` each into first, first + stride, ...
  // (scattered reads straight into place). False on a short read.
  bool ReadStrided(void* first, size_t stride, size_t row_bytes, size_t rows);
  // Reads rows as ReadStrided does, but from file offset `at` on, past
  // bytes not read yet, and returns their checksum (of this reader's kind,
  // from 0), or false on a short read or past the payload. It changes
  // nothing in the reader: another thread may run it while this one reads
  // the bytes before `at`, which then calls SkipPreRead.
  bool PreadStrided(uint64_t at, void* first, size_t stride, size_t row_bytes, size_t rows,
                    uint32_t* checksum) const;
  // Goes past `bytes` at the position, read by PreadStrided with
  // checksum `checksum`, adding it to the file's. False unless the buffer
  // is empty and the bytes are in the payload.
  bool SkipPreRead(uint64_t bytes, uint32_t checksum);
  // Checksums the rest of the payload without consuming it and compares
  // with the stored checksum, for parsers that may crash on damaged data
  // (FAISS's readers trust sizes inside it); later reads are not
  // checksummed again.
  absl::Status VerifyAhead();
  // Checks the whole payload was read and its checksum matches.
  absl::Status VerifyChecksum();

 private:
  // Copies up to n unconsumed bytes of the buffer to dst; returns how many.
  size_t TakeBuffered(char* dst, size_t n);
  // Reads n bytes at the file position straight into dst, checksummed a
  // chunk at a time.
  bool ReadDirect(char* dst, size_t n);
  // Adds bytes read from the file, in file order, to the checksum.
  void Checksum(const void* data, size_t n);
  // The stored checksum; false when it cannot be read.
  bool ReadStoredChecksum(uint32_t* stored) const;

  std::string path_;
  ChecksumKind kind_;
  int fd_ = -1;
  uint64_t payload_end_ = 0;   // file offset of the stored checksum
  uint64_t file_left_ = 0;     // payload bytes after the file position
  std::vector<char> buffer_;   // small reads are served from here
  size_t buffer_at_ = 0;       // the first unconsumed byte of buffer_
  size_t buffered_ = 0;        // unconsumed bytes in buffer_ (read, checksummed)
  bool verified_ahead_ = false;
  uint32_t crc_ = 0;
  absl::Status status_;
};

}  // namespace semdb

#endif  // SEMDB_INDEX_INDEX_FILE_H_
