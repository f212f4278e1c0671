#include "index/index_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "zlib.h"

namespace semdb {
namespace {

uint32_t Crc(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = static_cast<uint32_t>(crc32(crc, p, chunk));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

std::string ErrnoText() { return std::strerror(errno); }

}  // namespace

ChecksummedFileWriter::ChecksummedFileWriter(const std::string& path)
    : path_(path), file_(std::fopen(path.c_str(), "wb")) {
  name = path;
  if (file_ == nullptr) {
    status_ = absl::InternalError(
        absl::StrCat("cannot create ", path, ": ", ErrnoText()));
  }
}

ChecksummedFileWriter::~ChecksummedFileWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

size_t ChecksummedFileWriter::operator()(const void* ptr, size_t size,
                                         size_t nitems) {
  if (!status_.ok()) return 0;
  if (size == 0 || nitems == 0) return nitems;  // empty arrays may pass null
  size_t written = std::fwrite(ptr, size, nitems, file_);
  if (written != nitems) {
    status_ = absl::ResourceExhaustedError(
        absl::StrCat("cannot write ", path_, ": ", ErrnoText()));
  }
  crc_ = Crc(crc_, ptr, size * written);
  return written;
}

absl::Status ChecksummedFileWriter::Close() {
  if (status_.ok()) {
    uint32_t crc = crc_;
    if (std::fwrite(&crc, sizeof(crc), 1, file_) != 1 || std::fflush(file_) != 0 ||
        ::fsync(::fileno(file_)) != 0) {
      status_ = absl::ResourceExhaustedError(
          absl::StrCat("cannot write ", path_, ": ", ErrnoText()));
    }
  }
  if (file_ != nullptr && std::fclose(file_) != 0 && status_.ok()) {
    status_ = absl::InternalError(absl::StrCat("cannot close ", path_));
  }
  file_ = nullptr;
  return status_;
}

ChecksummedFileReader::ChecksummedFileReader(const std::string& path)
    : path_(path), file_(std::fopen(path.c_str(), "rb")) {
  name = path;
  if (file_ == nullptr) {
    status_ = absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", ErrnoText()));
    return;
  }
  if (std::fseek(file_, 0, SEEK_END) != 0) {
    status_ = absl::InternalError(absl::StrCat("cannot seek ", path));
    return;
  }
  long size = std::ftell(file_);
  std::rewind(file_);
  if (size < static_cast<long>(sizeof(uint32_t))) {
    status_ = absl::DataLossError(absl::StrCat(path, " is truncated"));
    return;
  }
  payload_left_ = static_cast<uint64_t>(size) - sizeof(uint32_t);
  // The checksum is verified before anything is parsed: FAISS's readers
  // trust sizes inside the data and may crash on damaged bytes.
  std::vector<char> buffer(1 << 20);
  uint32_t crc = 0;
  for (uint64_t left = payload_left_; left > 0;) {
    size_t n = std::fread(buffer.data(), 1, std::min<uint64_t>(buffer.size(), left), file_);
    if (n == 0) {
      status_ = absl::DataLossError(absl::StrCat(path, " is truncated"));
      return;
    }
    crc = Crc(crc, buffer.data(), n);
    left -= n;
  }
  uint32_t stored;
  if (std::fread(&stored, sizeof(stored), 1, file_) != 1 || stored != crc) {
    status_ = absl::DataLossError(absl::StrCat(path, ": checksum mismatch"));
    return;
  }
  std::rewind(file_);
}

ChecksummedFileReader::~ChecksummedFileReader() {
  if (file_ != nullptr) std::fclose(file_);
}

size_t ChecksummedFileReader::operator()(void* ptr, size_t size, size_t nitems) {
  if (!status_.ok()) return 0;
  if (size == 0 || nitems == 0) return nitems;
  size_t items = std::min<uint64_t>(nitems, payload_left_ / size);
  size_t got = std::fread(ptr, size, items, file_);
  payload_left_ -= got * size;
  crc_ = Crc(crc_, ptr, got * size);
  if (got != nitems) {
    status_ = absl::DataLossError(absl::StrCat(path_, " is truncated or corrupt"));
  }
  return got;
}

absl::Status ChecksummedFileReader::VerifyChecksum() {
  if (!status_.ok()) return status_;
  uint32_t stored;
  if (payload_left_ != 0) {
    return absl::DataLossError(absl::StrCat(path_, " has trailing bytes"));
  }
  if (std::fread(&stored, sizeof(stored), 1, file_) != 1 || stored != crc_) {
    return absl::DataLossError(absl::StrCat(path_, ": checksum mismatch"));
  }
  return absl::OkStatus();
}

}  // namespace semdb
