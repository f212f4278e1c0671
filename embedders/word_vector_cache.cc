#include "embedders/word_vector_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "fmt/format.h"

namespace semdb {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the cache format is little-endian");

constexpr char kMagic[8] = {'S', 'E', 'M', 'D', 'B', 'W', 'V', '\0'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kAlign = 64;
constexpr size_t kWriteBuffer = size_t{1} << 20;

struct CacheHeader {
  char magic[8];
  uint32_t version;
  uint32_t dim;
  uint64_t source_size;
  int64_t source_mtime_ns;
  uint32_t source_format;
  uint32_t reserved;
  uint64_t rows;
  uint64_t duplicates;
  uint64_t vectors_offset;
  uint64_t norms_offset;
  uint64_t word_offsets_offset;
  uint64_t word_bytes_offset;
  uint64_t word_bytes_size;
  uint64_t index_offset;
  uint64_t index_slots;
  uint64_t file_size;
  uint64_t header_hash;  // WordHash of the bytes before this field
};
static_assert(sizeof(CacheHeader) == 128);

// The index uses the low bits: mix the high bits down.
uint64_t WordHash(std::string_view s) {
  const uint64_t h = StableHash(s);
  return h ^ (h >> 29);
}

uint64_t AlignUp(uint64_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

uint64_t HeaderHash(const CacheHeader& h) {
  return WordHash(std::string_view(reinterpret_cast<const char*>(&h),
                                   offsetof(CacheHeader, header_hash)));
}

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return absl::Status(errno == ENOENT   ? absl::StatusCode::kNotFound
                      : errno == EACCES ? absl::StatusCode::kPermissionDenied
                                        : absl::StatusCode::kInternal,
                      fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

}  // namespace

uint64_t StableHash(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

absl::StatusOr<SourceStamp> StampOf(const std::string& path, uint32_t format) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("cannot stat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(fmt::format("{} is not a regular file", path));
  }
  SourceStamp s;
  s.size = static_cast<uint64_t>(st.st_size);
  s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  s.format = format;
  return s;
}

size_t WordVectorCacheWriter::RowHash::operator()(uint32_t row) const {
  return WordHash(w->WordAt(row));
}
size_t WordVectorCacheWriter::RowHash::operator()(std::string_view word) const {
  return WordHash(word);
}

WordVectorCacheWriter::WordVectorCacheWriter(std::string path,
                                             std::string temp_path, int fd,
                                             int dim, SourceStamp stamp)
    : path_(std::move(path)),
      temp_path_(std::move(temp_path)),
      fd_(fd),
      dim_(dim),
      stamp_(stamp),
      seen_(0, RowHash{this}, RowEq{this}) {
  buffer_.reserve(kWriteBuffer);
}

WordVectorCacheWriter::~WordVectorCacheWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!finished_) ::unlink(temp_path_.c_str());
}

absl::StatusOr<std::unique_ptr<WordVectorCacheWriter>>
WordVectorCacheWriter::Create(const std::string& path, int dim,
                              const SourceStamp& stamp) {
  std::string temp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0) return ErrnoError("cannot create cache file", temp);
  ::fchmod(fd, 0644);
  std::unique_ptr<WordVectorCacheWriter> w(
      new WordVectorCacheWriter(path, temp, fd, dim, stamp));
  // The header is written last; reserve its place.
  w->buffer_.assign(sizeof(CacheHeader), '\0');
  w->written_ = sizeof(CacheHeader);
  if (absl::Status s = w->PadTo(kAlign); !s.ok()) return s;
  return w;
}

std::string_view WordVectorCacheWriter::WordAt(uint32_t row) const {
  return std::string_view(words_).substr(offsets_[row],
                                         offsets_[row + 1] - offsets_[row]);
}

absl::Status WordVectorCacheWriter::Flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write cache file", temp_path_);
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status WordVectorCacheWriter::Write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    size_t n = std::min(size, kWriteBuffer - buffer_.size());
    buffer_.append(p, n);
    p += n;
    size -= n;
    written_ += n;
    if (buffer_.size() == kWriteBuffer) {
      if (absl::Status s = Flush(); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status WordVectorCacheWriter::PadTo(uint64_t alignment) {
  static const char zeros[kAlign] = {};
  uint64_t target = (written_ + alignment - 1) / alignment * alignment;
  return Write(zeros, target - written_);
}

absl::StatusOr<bool> WordVectorCacheWriter::Add(std::string_view word,
                                                absl::Span<const float> vector) {
  if (static_cast<int>(vector.size()) != dim_) {
    return absl::InvalidArgumentError(fmt::format(
        "vector of '{}' has {} values, expected {}", word, vector.size(), dim_));
  }
  if (seen_.contains(word)) {
    ++duplicates_;
    return false;
  }
  if (rows() >= int64_t{UINT32_MAX} - 1) {
    return absl::ResourceExhaustedError("more than 4 billion words");
  }
  const uint32_t row = static_cast<uint32_t>(rows());
  words_.append(word);
  offsets_.push_back(words_.size());
  seen_.insert(row);
  double norm = 0;
  for (float v : vector) norm += static_cast<double>(v) * v;
  inverse_norms_.push_back(norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f);
  if (absl::Status s = Write(vector.data(), vector.size() * sizeof(float)); !s.ok()) {
    return s;
  }
  return true;
}

absl::Status WordVectorCacheWriter::Finish() {
  CacheHeader h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kVersion;
  h.dim = static_cast<uint32_t>(dim_);
  h.source_size = stamp_.size;
  h.source_mtime_ns = stamp_.mtime_ns;
  h.source_format = stamp_.format;
  h.rows = static_cast<uint64_t>(rows());
  h.duplicates = static_cast<uint64_t>(duplicates_);
  h.vectors_offset = AlignUp(sizeof(CacheHeader));

  absl::Status s = PadTo(kAlign);
  h.norms_offset = written_;
  if (s.ok()) s = Write(inverse_norms_.data(), inverse_norms_.size() * sizeof(float));
  if (s.ok()) s = PadTo(kAlign);
  h.word_offsets_offset = written_;
  if (s.ok()) s = Write(offsets_.data(), offsets_.size() * sizeof(uint64_t));
  if (s.ok()) s = PadTo(kAlign);
  h.word_bytes_offset = written_;
  h.word_bytes_size = words_.size();
  if (s.ok()) s = Write(words_.data(), words_.size());
  if (s.ok()) s = PadTo(kAlign);
  h.index_offset = written_;
  // Load factor at most 1/2 keeps probe sequences short.
  h.index_slots = std::bit_ceil(std::max<uint64_t>(16, 2 * h.rows));
  {
    std::vector<uint32_t> slots(h.index_slots, 0);
    const uint64_t mask = h.index_slots - 1;
    for (uint32_t row = 0; row < h.rows; ++row) {
      uint64_t i = WordHash(WordAt(row)) & mask;
      while (slots[i] != 0) i = (i + 1) & mask;
      slots[i] = row + 1;
    }
    if (s.ok()) s = Write(slots.data(), slots.size() * sizeof(uint32_t));
  }
  if (s.ok()) s = Flush();
  if (!s.ok()) return s;
  h.file_size = written_;
  h.header_hash = HeaderHash(h);
  if (::pwrite(fd_, &h, sizeof(h), 0) != static_cast<ssize_t>(sizeof(h)) ||
      ::fsync(fd_) != 0) {
    return ErrnoError("cannot write cache file", temp_path_);
  }
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    return ErrnoError("cannot install cache file", path_);
  }
  finished_ = true;
  return absl::OkStatus();
}

MappedWordVectors::~MappedWordVectors() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

absl::StatusOr<std::unique_ptr<MappedWordVectors>> MappedWordVectors::Open(
    const std::string& path, const SourceStamp& expected) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open cache", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return ErrnoError("cannot stat cache", path);
  }
  auto corrupt = [&](const char* what) {
    return absl::DataLossError(fmt::format("cache {} is damaged: {}", path, what));
  };
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < sizeof(CacheHeader)) {
    ::close(fd);
    return corrupt("shorter than its header");
  }
  void* map = ::mmap(nullptr, file_size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return ErrnoError("cannot map cache", path);
  std::unique_ptr<MappedWordVectors> m(new MappedWordVectors());
  m->path_ = path;
  m->map_ = map;
  m->map_size_ = file_size;

  CacheHeader h;
  std::memcpy(&h, map, sizeof(h));
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) {
    return corrupt("not a semdb word-vector cache");
  }
  if (h.version != kVersion) {
    return absl::FailedPreconditionError(fmt::format(
        "cache {} has format version {}, this build writes {}", path, h.version,
        kVersion));
  }
  if (h.header_hash != HeaderHash(h)) return corrupt("header checksum");
  SourceStamp stamp{h.source_size, h.source_mtime_ns, h.source_format};
  if (!(stamp == expected)) {
    return absl::FailedPreconditionError(fmt::format(
        "cache {} is stale: its source file has changed since it was built", path));
  }
  // Every section must lie inside the file, in order, at its computed size.
  const uint64_t rows = h.rows;
  if (h.file_size != file_size) return corrupt("file size differs from its header");
  if (h.dim == 0 || h.dim > (1u << 20) || rows >= UINT32_MAX) {
    return corrupt("dimension or row count");
  }
  struct Section {
    uint64_t offset, bytes;
  };
  const Section sections[] = {
      {h.vectors_offset, rows * h.dim * sizeof(float)},
      {h.norms_offset, rows * sizeof(float)},
      {h.word_offsets_offset, (rows + 1) * sizeof(uint64_t)},
      {h.word_bytes_offset, h.word_bytes_size},
      {h.index_offset, h.index_slots * sizeof(uint32_t)},
  };
  uint64_t end = sizeof(CacheHeader);
  for (const Section& sec : sections) {
    if (sec.offset % kAlign != 0 || sec.offset < end || sec.bytes > file_size ||
        sec.offset > file_size - sec.bytes) {
      return corrupt("section bounds");
    }
    end = sec.offset + sec.bytes;
  }
  if (!std::has_single_bit(h.index_slots) || h.index_slots < 2 * rows) {
    return corrupt("index size");
  }
  const char* base = static_cast<const char*>(map);
  m->dim_ = static_cast<int>(h.dim);
  m->rows_ = static_cast<int64_t>(rows);
  m->duplicates_ = static_cast<int64_t>(h.duplicates);
  m->vectors_ = reinterpret_cast<const float*>(base + h.vectors_offset);
  m->inverse_norms_ = reinterpret_cast<const float*>(base + h.norms_offset);
  m->word_offsets_ = reinterpret_cast<const uint64_t*>(base + h.word_offsets_offset);
  m->word_bytes_ = base + h.word_bytes_offset;
  m->index_ = reinterpret_cast<const uint32_t*>(base + h.index_offset);
  m->index_mask_ = h.index_slots - 1;
  // Offsets and slots are what lookups dereference: check them all (a
  // sequential pass over a few tens of MB even for millions of words).
  if (m->word_offsets_[0] != 0 || m->word_offsets_[rows] != h.word_bytes_size) {
    return corrupt("word offsets");
  }
  for (uint64_t i = 0; i < rows; ++i) {
    if (m->word_offsets_[i] > m->word_offsets_[i + 1]) return corrupt("word offsets");
  }
  uint64_t used = 0;
  for (uint64_t i = 0; i < h.index_slots; ++i) {
    if (m->index_[i] > rows) return corrupt("index");
    used += m->index_[i] != 0;
  }
  // Find stops at an empty slot: there must be one.
  if (used != rows) return corrupt("index");
  return m;
}

std::string_view MappedWordVectors::word(int64_t i) const {
  return std::string_view(word_bytes_ + word_offsets_[i],
                          word_offsets_[i + 1] - word_offsets_[i]);
}

int64_t MappedWordVectors::Find(std::string_view w) const {
  // The table is at most half full, so probing ends at an empty slot.
  for (uint64_t i = WordHash(w) & index_mask_;; i = (i + 1) & index_mask_) {
    const uint32_t slot = index_[i];
    if (slot == 0) return -1;
    if (word(slot - 1) == w) return slot - 1;
  }
}

WordSource MappedWordVectors::Lookup(std::string_view w, absl::Span<float> out) const {
  const int64_t row = Find(w);
  if (row < 0) {
    std::fill(out.begin(), out.end(), 0.0f);
    return WordSource::kUnknown;
  }
  std::memcpy(out.data(), vectors_ + row * dim_, dim_ * sizeof(float));
  return WordSource::kVocabulary;
}

nlohmann::json MappedWordVectors::Describe() const {
  nlohmann::json j;
  j["cache"] = path_;
  j["vocabulary"] = rows_;
  j["dim"] = dim_;
  if (duplicates_ > 0) j["duplicate_words_ignored"] = duplicates_;
  return j;
}

}  // namespace semdb
