// The on-disk form of a saved index: a checksummed file whose payload is
// the label table, tombstones and the FAISS index bytes. The checksum makes
// a torn or corrupted file detectable, so that the collection rebuilds the
// index from storage instead of serving it.
#ifndef SEMDB_INDEX_INDEX_FILE_H_
#define SEMDB_INDEX_INDEX_FILE_H_

#include <cstdio>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "faiss/impl/io.h"

namespace semdb {

// A faiss::IOWriter over a file that keeps a CRC-32 of what it wrote.
// Close() appends the checksum and fsyncs the file.
class ChecksummedFileWriter : public faiss::IOWriter {
 public:
  explicit ChecksummedFileWriter(const std::string& path);
  ~ChecksummedFileWriter() override;

  absl::Status status() const { return status_; }
  size_t operator()(const void* ptr, size_t size, size_t nitems) override;
  absl::Status Close();

 private:
  std::string path_;
  FILE* file_ = nullptr;
  uint32_t crc_ = 0;
  absl::Status status_;
};

// A faiss::IOReader over a file written by ChecksummedFileWriter. The
// whole file's checksum is verified when it is opened (status() tells), so
// that damaged bytes are never parsed. Reads never go past the payload;
// VerifyChecksum() checks the whole payload was read and matches.
class ChecksummedFileReader : public faiss::IOReader {
 public:
  explicit ChecksummedFileReader(const std::string& path);
  ~ChecksummedFileReader() override;

  absl::Status status() const { return status_; }
  size_t operator()(void* ptr, size_t size, size_t nitems) override;
  absl::Status VerifyChecksum();

 private:
  std::string path_;
  FILE* file_ = nullptr;
  uint64_t payload_left_ = 0;
  uint32_t crc_ = 0;
  absl::Status status_;
};

}  // namespace semdb

#endif  // SEMDB_INDEX_INDEX_FILE_H_
