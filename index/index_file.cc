#include "index/index_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "checksum/crc32c.h"
#include "zlib.h"

namespace semdb {
namespace {

// Reads smaller than this are served from a buffer of this size.
constexpr size_t kBufferBytes = size_t{64} << 10;
// Large reads are checksummed in chunks of this size, each right after it
// is read, while it is still in the cache.
constexpr size_t kChunkBytes = size_t{256} << 10;

std::string ErrnoText() { return std::strerror(errno); }

// read(2) of up to n bytes, retried when interrupted; -1 on an error.
ssize_t ReadSome(int fd, void* dst, size_t n) {
  ssize_t got;
  do {
    got = ::read(fd, dst, n);
  } while (got < 0 && errno == EINTR);
  return got;
}

}  // namespace

uint32_t ExtendChecksum(ChecksumKind kind, uint32_t crc, const void* data, size_t n) {
  if (kind == ChecksumKind::kCrc32c) return ExtendCrc32c(crc, data, n);
  const auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = static_cast<uint32_t>(crc32(crc, p, chunk));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

uint32_t ExtendChecksumRows(ChecksumKind kind, uint32_t crc, const void* first, size_t stride,
                            size_t row_bytes, size_t rows) {
  if (kind == ChecksumKind::kCrc32c) return ExtendCrc32cRows(crc, first, stride, row_bytes, rows);
  const auto* row = static_cast<const char*>(first);
  for (; rows > 0; --rows, row += stride) crc = ExtendChecksum(kind, crc, row, row_bytes);
  return crc;
}

uint32_t CombineChecksums(ChecksumKind kind, uint32_t first, uint32_t second,
                          uint64_t second_bytes) {
  if (kind == ChecksumKind::kCrc32c) return CombineCrc32c(first, second, second_bytes);
  return static_cast<uint32_t>(
      crc32_combine64(first, second, static_cast<z_off64_t>(second_bytes)));
}

ChecksummedFileWriter::ChecksummedFileWriter(const std::string& path, ChecksumKind kind)
    : path_(path), kind_(kind), file_(std::fopen(path.c_str(), "wb")) {
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
  crc_ = ExtendChecksum(kind_, crc_, ptr, size * written);
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

ChecksummedFileReader::ChecksummedFileReader(const std::string& path, ChecksumKind kind)
    : path_(path), kind_(kind), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
  name = path;
  if (fd_ < 0) {
    status_ = absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", ErrnoText()));
    return;
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    status_ = absl::InternalError(absl::StrCat("cannot stat ", path, ": ", ErrnoText()));
    return;
  }
  if (st.st_size < static_cast<off_t>(sizeof(uint32_t))) {
    status_ = absl::DataLossError(absl::StrCat(path, " is truncated"));
    return;
  }
  payload_end_ = static_cast<uint64_t>(st.st_size) - sizeof(uint32_t);
  file_left_ = payload_end_;
  // The whole file is read front to back, once.
  (void)::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

ChecksummedFileReader::~ChecksummedFileReader() {
  if (fd_ >= 0) ::close(fd_);
}

void ChecksummedFileReader::Checksum(const void* data, size_t n) {
  if (!verified_ahead_) crc_ = ExtendChecksum(kind_, crc_, data, n);
}

bool ChecksummedFileReader::ReadDirect(char* dst, size_t n) {
  while (n > 0) {
    const ssize_t got = ReadSome(fd_, dst, std::min(n, kChunkBytes));
    if (got <= 0) return false;
    Checksum(dst, static_cast<size_t>(got));
    file_left_ -= static_cast<uint64_t>(got);
    dst += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

size_t ChecksummedFileReader::TakeBuffered(char* dst, size_t n) {
  const size_t taken = std::min(n, buffered_);
  std::memcpy(dst, buffer_.data() + buffer_at_, taken);
  buffer_at_ += taken;
  buffered_ -= taken;
  return taken;
}

size_t ChecksummedFileReader::operator()(void* ptr, size_t size, size_t nitems) {
  if (!status_.ok()) return 0;
  if (size == 0 || nitems == 0) return nitems;
  const size_t items = static_cast<size_t>(std::min<uint64_t>(nitems, bytes_left() / size));
  char* dst = static_cast<char*>(ptr);
  const size_t taken = TakeBuffered(dst, items * size);
  const size_t want = items * size - taken;
  bool ok = true;
  if (want >= kBufferBytes) {
    ok = ReadDirect(dst + taken, want);
  } else if (want > 0) {
    // Refill the buffer with as much of the payload as fits.
    buffer_.resize(kBufferBytes);
    const size_t fill = static_cast<size_t>(std::min<uint64_t>(kBufferBytes, file_left_));
    ok = ReadDirect(buffer_.data(), fill);
    if (ok) {
      buffer_at_ = 0;
      buffered_ = fill;
      TakeBuffered(dst + taken, want);
    }
  }
  if (!ok || items != nitems) {
    status_ = absl::DataLossError(absl::StrCat(path_, " is truncated or corrupt"));
    return ok ? items : 0;
  }
  return items;
}

bool ChecksummedFileReader::ReadStrided(void* first, size_t stride, size_t row_bytes,
                                        size_t rows) {
  if (!status_.ok()) return false;
  if (row_bytes == 0 || rows == 0) return true;
  auto truncated = [&] {
    status_ = absl::DataLossError(absl::StrCat(path_, " is truncated or corrupt"));
    return false;
  };
  if (rows > bytes_left() / row_bytes) return truncated();
  char* row = static_cast<char*>(first);
  // Rows (or a row's head) still in the buffer, the rest of that row from
  // the file.
  for (; rows > 0 && buffered_ > 0; --rows, row += stride) {
    const size_t taken = TakeBuffered(row, row_bytes);
    if (taken < row_bytes && !ReadDirect(row + taken, row_bytes - taken)) return truncated();
  }
  uint32_t checksum;
  if (rows > 0 && (!PreadStrided(position(), row, stride, row_bytes, rows, &checksum) ||
                   !SkipPreRead(rows * row_bytes, checksum))) {
    return truncated();
  }
  return true;
}

bool ChecksummedFileReader::PreadStrided(uint64_t at, void* first, size_t stride,
                                         size_t row_bytes, size_t rows,
                                         uint32_t* checksum) const {
  // Only what never changes after the constructor is read here (fd_,
  // kind_, payload_end_): another thread may be reading meanwhile.
  if (fd_ < 0 || at > payload_end_ || (row_bytes != 0 && rows > (payload_end_ - at) / row_bytes)) {
    return false;
  }
  if (row_bytes == 0) rows = 0;
  // IOV_MAX rows per preadv, each batch checksummed while it is in the cache.
  std::vector<iovec> iov(std::min<size_t>(rows, IOV_MAX));
  char* row = static_cast<char*>(first);
  uint32_t crc = 0;
  while (rows > 0) {
    const size_t batch = std::min(rows, iov.size());
    for (size_t i = 0; i < batch; ++i) iov[i] = {row + i * stride, row_bytes};
    ssize_t got;
    do {
      got = ::preadv(fd_, iov.data(), static_cast<int>(batch), static_cast<off_t>(at));
    } while (got < 0 && errno == EINTR);
    if (got <= 0) return false;
    at += static_cast<uint64_t>(got);
    const size_t whole = static_cast<size_t>(got) / row_bytes;
    const size_t part = static_cast<size_t>(got) % row_bytes;
    crc = ExtendChecksumRows(kind_, crc, row, stride, row_bytes, whole);
    row += whole * stride;
    rows -= whole;
    if (part > 0) {
      // A short read ended inside a row: finish that row.
      for (size_t done = part; done < row_bytes;) {
        const ssize_t more = ::pread(fd_, row + done, row_bytes - done, static_cast<off_t>(at));
        if (more <= 0) return false;
        at += static_cast<uint64_t>(more);
        done += static_cast<size_t>(more);
      }
      crc = ExtendChecksum(kind_, crc, row, row_bytes);
      row += stride;
      --rows;
    }
  }
  *checksum = crc;
  return true;
}

bool ChecksummedFileReader::SkipPreRead(uint64_t bytes, uint32_t checksum) {
  if (!status_.ok() || buffered_ != 0 || bytes > file_left_ ||
      ::lseek(fd_, static_cast<off_t>(bytes), SEEK_CUR) < 0) {
    return false;
  }
  file_left_ -= bytes;
  if (!verified_ahead_) crc_ = CombineChecksums(kind_, crc_, checksum, bytes);
  return true;
}

bool ChecksummedFileReader::ReadStoredChecksum(uint32_t* stored) const {
  return ::pread(fd_, stored, sizeof(*stored), static_cast<off_t>(payload_end_)) ==
         static_cast<ssize_t>(sizeof(*stored));
}

absl::Status ChecksummedFileReader::VerifyAhead() {
  if (!status_.ok()) return status_;
  uint32_t crc = crc_;
  std::vector<char> chunk(kChunkBytes);
  for (uint64_t at = payload_end_ - file_left_; at < payload_end_;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), payload_end_ - at));
    const ssize_t got = ::pread(fd_, chunk.data(), n, static_cast<off_t>(at));
    if (got <= 0) return absl::DataLossError(absl::StrCat(path_, " is truncated"));
    crc = ExtendChecksum(kind_, crc, chunk.data(), static_cast<size_t>(got));
    at += static_cast<uint64_t>(got);
  }
  uint32_t stored;
  if (!ReadStoredChecksum(&stored) || stored != crc) {
    return absl::DataLossError(absl::StrCat(path_, ": checksum mismatch"));
  }
  verified_ahead_ = true;
  return absl::OkStatus();
}

absl::Status ChecksummedFileReader::VerifyChecksum() {
  if (!status_.ok()) return status_;
  if (bytes_left() != 0) {
    return absl::DataLossError(absl::StrCat(path_, " has trailing bytes"));
  }
  if (verified_ahead_) return absl::OkStatus();
  uint32_t stored;
  if (!ReadStoredChecksum(&stored) || stored != crc_) {
    return absl::DataLossError(absl::StrCat(path_, ": checksum mismatch"));
  }
  return absl::OkStatus();
}

}  // namespace semdb
