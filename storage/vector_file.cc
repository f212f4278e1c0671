#include "storage/vector_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace semdb {
namespace {

constexpr char kPrefix[] = "vectors-";
constexpr char kSuffix[] = ".svf";

absl::Status ErrnoError(const std::string& what, int err) {
  const std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(msg);
  return absl::InternalError(msg);
}

}  // namespace

std::string VectorFile::FileName(uint32_t number) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%06u%s", kPrefix, number, kSuffix);
  return buf;
}

std::optional<uint32_t> VectorFile::ParseFileName(std::string_view name) {
  const std::string_view prefix = kPrefix, suffix = kSuffix;
  if (name.size() <= prefix.size() + suffix.size() || name.substr(0, prefix.size()) != prefix ||
      name.substr(name.size() - suffix.size()) != suffix) {
    return std::nullopt;
  }
  const std::string_view digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9' || n > UINT32_MAX / 10) return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(n);
}

absl::StatusOr<std::unique_ptr<VectorFile>> VectorFile::Open(const std::string& dir,
                                                             uint32_t number, bool create,
                                                             bool read_only) {
  std::string path = absl::StrCat(dir, "/", FileName(number));
  int flags = O_CLOEXEC | (read_only ? O_RDONLY : O_RDWR);
  if (create) flags |= O_CREAT | O_TRUNC;
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::DataLossError(absl::StrCat(
          "the database is corrupt: its vector file ", path, " is missing"));
    }
    return ErrnoError(absl::StrCat("cannot open vector file ", path), errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoError(absl::StrCat("cannot stat vector file ", path), err);
  }
  if (create) {
    // The new name must survive a power loss before any reference to it.
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool synced = dfd >= 0 && ::fsync(dfd) == 0;
    const int err = errno;
    if (dfd >= 0) ::close(dfd);
    if (!synced) {
      ::close(fd);
      return ErrnoError(absl::StrCat("cannot sync folder ", dir), err);
    }
  }
  return std::unique_ptr<VectorFile>(
      new VectorFile(std::move(path), number, fd, static_cast<uint64_t>(st.st_size)));
}

VectorFile::~VectorFile() { ::close(fd_); }

absl::StatusOr<uint64_t> VectorFile::Append(absl::Span<const iovec> parts) {
  const uint64_t start = end_.load(std::memory_order_relaxed);
  uint64_t at = start;
  // pwritev takes at most IOV_MAX parts and may write fewer bytes than
  // asked: continue from where it stopped.
  std::vector<iovec> rest(parts.begin(), parts.end());
  size_t first = 0;
  while (first < rest.size()) {
    const int count = static_cast<int>(std::min<size_t>(rest.size() - first, IOV_MAX));
    const ssize_t n = ::pwritev(fd_, rest.data() + first, count, static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(absl::StrCat("cannot write vector file ", path_), errno);
    }
    at += static_cast<uint64_t>(n);
    size_t left = static_cast<size_t>(n);
    while (first < rest.size() && left >= rest[first].iov_len) left -= rest[first++].iov_len;
    if (left > 0) {
      rest[first].iov_base = static_cast<char*>(rest[first].iov_base) + left;
      rest[first].iov_len -= left;
    }
  }
  end_.store(at, std::memory_order_release);
  return start;
}

absl::Status VectorFile::Read(uint64_t offset, uint64_t length, char* out) const {
  if (offset > size() || length > size() - offset) {
    return absl::DataLossError(absl::StrCat(
        "the database is corrupt: a vector at bytes ", offset, "-", offset + length,
        " of ", path_, " is past its end (", size(), " bytes)"));
  }
  while (length > 0) {
    const ssize_t n = ::pread(fd_, out, length, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(absl::StrCat("cannot read vector file ", path_), errno);
    }
    if (n == 0) {
      return absl::DataLossError(absl::StrCat("the database is corrupt: vector file ", path_,
                                              " ends at byte ", offset, ", before its "
                                              "referenced vectors"));
    }
    out += n;
    offset += static_cast<uint64_t>(n);
    length -= static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status VectorFile::Sync() const {
  if (::fdatasync(fd_) != 0) {
    return ErrnoError(absl::StrCat("cannot sync vector file ", path_), errno);
  }
  return absl::OkStatus();
}

}  // namespace semdb
