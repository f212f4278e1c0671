#include "embedders/word_vector_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

#include "text/utf8.h"
#include "fmt/format.h"

namespace semdb {
namespace {

static_assert(std::endian::native == std::endian::little,
              "word2vec binary floats are read as little-endian");

constexpr size_t kChunk = size_t{4} << 20;
constexpr size_t kMaxBinaryWordBytes = 4096;

// Sequential reads through a buffer holding a window [pos, end) of the
// file; Fill grows the window on demand so a row is always contiguous.
class ChunkedFile {
 public:
  ~ChunkedFile() {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Open(const std::string& path) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      return absl::Status(
          errno == ENOENT ? absl::StatusCode::kNotFound : absl::StatusCode::kInvalidArgument,
          fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    }
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    buffer_.resize(kChunk);
    return absl::OkStatus();
  }

  // Makes at least `n` bytes available from pos unless the file ends first.
  // Returns the bytes available.
  absl::StatusOr<size_t> Fill(size_t n) {
    while (end_ - pos_ < n && !eof_) {
      if (pos_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
        end_ -= pos_;
        consumed_ += pos_;
        pos_ = 0;
      }
      if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
      ssize_t got = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
      if (got < 0) {
        if (errno == EINTR) continue;
        return absl::InternalError(
            fmt::format("cannot read {}: {}", path_, std::strerror(errno)));
      }
      if (got == 0) eof_ = true;
      end_ += static_cast<size_t>(got);
    }
    return end_ - pos_;
  }

  // The next line without its '\n'; false at the end of the file.
  absl::StatusOr<bool> NextLine(std::string_view* line) {
    size_t scanned = 0;
    for (;;) {
      const char* start = buffer_.data() + pos_;
      const void* nl = std::memchr(start + scanned, '\n', end_ - pos_ - scanned);
      if (nl != nullptr) {
        size_t len = static_cast<const char*>(nl) - start;
        *line = std::string_view(start, len);
        pos_ += len + 1;
        return true;
      }
      scanned = end_ - pos_;
      if (eof_) {
        if (scanned == 0) return false;
        *line = std::string_view(start, scanned);
        pos_ = end_;
        return true;
      }
      absl::StatusOr<size_t> got = Fill(scanned + kChunk);
      if (!got.ok()) return got.status();
    }
  }

  // Bytes up to (not including) `delim`, which is consumed. False when the
  // file ends first or more than `max` bytes come without it.
  absl::StatusOr<bool> ReadUntil(char delim, size_t max, std::string_view* out) {
    absl::StatusOr<size_t> got = Fill(max + 1);
    if (!got.ok()) return got.status();
    const char* start = buffer_.data() + pos_;
    const void* d = std::memchr(start, delim, std::min(*got, max + 1));
    if (d == nullptr) return false;
    size_t len = static_cast<const char*>(d) - start;
    *out = std::string_view(start, len);
    pos_ += len + 1;
    return true;
  }

  // Exactly `n` bytes; false when the file ends first.
  absl::StatusOr<bool> ReadExact(size_t n, std::string_view* out) {
    absl::StatusOr<size_t> got = Fill(n);
    if (!got.ok()) return got.status();
    if (*got < n) return false;
    *out = std::string_view(buffer_.data() + pos_, n);
    pos_ += n;
    return true;
  }

  // Skips bytes in `chars`; returns the next byte or -1 at the end.
  absl::StatusOr<int> SkipAny(std::string_view chars) {
    for (;;) {
      absl::StatusOr<size_t> got = Fill(1);
      if (!got.ok()) return got.status();
      if (*got == 0) return -1;
      char c = buffer_[pos_];
      if (chars.find(c) == std::string_view::npos) return static_cast<unsigned char>(c);
      ++pos_;
    }
  }

  uint64_t offset() const { return consumed_ + pos_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<char> buffer_;
  size_t pos_ = 0, end_ = 0;
  uint64_t consumed_ = 0;  // file bytes before buffer_[0]
  bool eof_ = false;
};

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (IsSpace(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Splits on runs of spaces and tabs.
void SplitFields(std::string_view line, std::vector<std::string_view>* fields) {
  fields->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    if (i == line.size()) break;
    size_t j = i;
    while (j < line.size() && !IsSpace(line[j])) ++j;
    fields->push_back(line.substr(i, j - i));
    i = j;
  }
}

bool ParseFloat(std::string_view s, float* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseInt(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// "count dim" as the first line of word2vec and fastText files.
bool ParseHeader(const std::vector<std::string_view>& fields, int64_t* count, int64_t* dim) {
  return fields.size() == 2 && ParseInt(fields[0], count) && ParseInt(fields[1], dim);
}

// The common row "word v1 ... vdim" (a word without spaces, dim finite
// numbers), parsed without splitting the line first. False for anything
// else, which the general path then reads or reports.
bool ParseSimpleRow(std::string_view line, int dim, std::string_view* word, float* values) {
  const char* p = line.data();
  const char* const end = p + line.size();
  while (p < end && !IsSpace(*p)) ++p;
  if (p == line.data()) return false;
  *word = std::string_view(line.data(), p - line.data());
  for (int k = 0; k < dim; ++k) {
    if (p == end || !IsSpace(*p)) return false;
    while (p < end && IsSpace(*p)) ++p;
    auto [next, ec] = std::from_chars(p, end, values[k]);
    if (ec != std::errc() || (next < end && !IsSpace(*next)) || !std::isfinite(values[k])) {
      return false;
    }
    p = next;
  }
  return p == end;
}

absl::Status CheckHeader(const std::string& where, int64_t count, int64_t dim) {
  if (count < 0 || dim < 1 || dim > kMaxWordVectorDim) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: header '{} {}' is not a valid '<count> <dim>' (dim must be in [1, {}])",
        where, count, dim, kMaxWordVectorDim));
  }
  return absl::OkStatus();
}

// What is wrong with a word read from a file, or "" when nothing is.
std::string WordProblem(std::string_view word) {
  if (word.empty()) return "empty word";
  if (absl::Status s = ValidateUtf8(word); !s.ok()) {
    return fmt::format("the word is not valid UTF-8 ({})", std::string(s.message()));
  }
  return "";
}

absl::Status NonFinite(const std::string& where, std::string_view word, size_t index,
                       std::string_view value) {
  return absl::InvalidArgumentError(fmt::format(
      "{}: value {} of '{}' is not finite ({})", where, index + 1, word, value));
}

absl::Status EmptyFile(const std::string& path) {
  return absl::InvalidArgumentError(
      fmt::format("{} holds no word vectors (empty file)", path));
}

}  // namespace

absl::Status ReadWordVectorText(const std::string& path, WordVectorSink& sink) {
  ChunkedFile file;
  if (absl::Status s = file.Open(path); !s.ok()) return s;
  int64_t rows = 0;
  int64_t declared = -1;
  int dim = 0;
  std::vector<std::string_view> fields;
  std::vector<float> values;
  int64_t line_no = 0;
  std::string_view line;
  for (;;) {
    absl::StatusOr<bool> more = file.NextLine(&line);
    if (!more.ok()) return more.status();
    if (!*more) break;
    ++line_no;
    if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    line = TrimRight(line);
    if (line.empty()) continue;
    // Formatted only for an error.
    auto where = [&] { return fmt::format("{}:{}", path, line_no); };
    std::string_view word;
    if (dim == 0 || !ParseSimpleRow(line, dim, &word, values.data())) {
      SplitFields(line, &fields);
      if (dim == 0) {
        int64_t count, d;
        if (ParseHeader(fields, &count, &d)) {
          if (absl::Status s = CheckHeader(where(), count, d); !s.ok()) return s;
          declared = count;
          dim = static_cast<int>(d);
          if (absl::Status s = sink.Begin(dim); !s.ok()) return s;
          values.resize(dim);
          continue;
        }
        if (fields.size() < 2) {
          return absl::InvalidArgumentError(
              fmt::format("{}: expected a word followed by its vector values", where()));
        }
        if (fields.size() - 1 > kMaxWordVectorDim) {
          return absl::InvalidArgumentError(fmt::format(
              "{}: {} values, more than the {} supported", where(), fields.size() - 1,
              kMaxWordVectorDim));
        }
        dim = static_cast<int>(fields.size() - 1);
        if (absl::Status s = sink.Begin(dim); !s.ok()) return s;
        values.resize(dim);
      }
      // The last dim fields are the values; what precedes them is the word,
      // which may itself contain spaces (GloVe 840B has such words) as long
      // as its last part is not a number, which would mean a value too many.
      const size_t n = fields.size();
      if (n < static_cast<size_t>(dim) + 1) {
        return absl::InvalidArgumentError(fmt::format(
            "{}: expected {} values after the word, found {}", where(), dim,
            static_cast<int64_t>(n) - 1));
      }
      const size_t first_value = n - dim;
      float probe;
      if (first_value > 1 && ParseFloat(fields[first_value - 1], &probe)) {
        return absl::InvalidArgumentError(fmt::format(
            "{}: expected {} values after the word, found {}", where(), dim, n - 1));
      }
      word = line.substr(
          0, fields[first_value - 1].data() + fields[first_value - 1].size() - line.data());
      for (int k = 0; k < dim; ++k) {
        std::string_view f = fields[first_value + k];
        if (!ParseFloat(f, &values[k])) {
          return absl::InvalidArgumentError(fmt::format(
              "{}: value {} of '{}' is not a number: '{}'", where(), k + 1, word, f));
        }
        if (!std::isfinite(values[k])) return NonFinite(where(), word, k, f);
      }
    }
    if (std::string problem = WordProblem(word); !problem.empty()) {
      return absl::InvalidArgumentError(fmt::format("{}: {}", where(), problem));
    }
    if (absl::Status s = sink.Add(word, values); !s.ok()) return s;
    ++rows;
  }
  if (dim == 0) return EmptyFile(path);
  if (rows == 0) {
    return absl::InvalidArgumentError(fmt::format("{} holds a header but no vectors", path));
  }
  if (declared >= 0 && declared != rows) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: the header declares {} vectors but the file holds {}{}", path, declared,
        rows, declared > rows ? " (truncated?)" : ""));
  }
  return absl::OkStatus();
}

absl::Status ReadWord2VecBinary(const std::string& path, WordVectorSink& sink) {
  ChunkedFile file;
  if (absl::Status s = file.Open(path); !s.ok()) return s;
  std::string_view header;
  absl::StatusOr<bool> got = file.ReadUntil('\n', 256, &header);
  if (!got.ok()) return got.status();
  std::vector<std::string_view> fields;
  int64_t declared = 0, dim = 0;
  if (*got) SplitFields(TrimRight(header), &fields);
  if (!*got || !ParseHeader(fields, &declared, &dim)) {
    if (!*got && file.offset() == 0) {
      absl::StatusOr<size_t> size = file.Fill(1);
      if (size.ok() && *size == 0) return EmptyFile(path);
    }
    return absl::InvalidArgumentError(fmt::format(
        "{}: not a word2vec binary file: the first line must be '<count> <dim>'", path));
  }
  if (absl::Status s = CheckHeader(path + ":1", declared, dim); !s.ok()) return s;
  if (declared == 0) {
    return absl::InvalidArgumentError(fmt::format("{} holds a header but no vectors", path));
  }
  if (absl::Status s = sink.Begin(static_cast<int>(dim)); !s.ok()) return s;
  std::vector<float> values(dim);
  const size_t vector_bytes = static_cast<size_t>(dim) * sizeof(float);
  for (int64_t i = 0; i < declared; ++i) {
    // word2vec.c separates entries with '\n'; gensim writes none.
    absl::StatusOr<int> next = file.SkipAny("\n\r");
    if (!next.ok()) return next.status();
    const uint64_t offset = file.offset();
    auto where = [&] {
      return fmt::format("{}: word {} of {} (byte {})", path, i + 1, declared, offset);
    };
    auto truncated = [&](const char* what) {
      return absl::InvalidArgumentError(
          fmt::format("{}: the file is truncated: {}", where(), what));
    };
    if (*next < 0) return truncated("it ends before the word");
    std::string_view word_view;
    got = file.ReadUntil(' ', kMaxBinaryWordBytes, &word_view);
    if (!got.ok()) return got.status();
    if (!*got) {
      absl::StatusOr<size_t> left = file.Fill(kMaxBinaryWordBytes + 1);
      if (left.ok() && *left <= kMaxBinaryWordBytes) return truncated("it ends inside the word");
      return absl::InvalidArgumentError(fmt::format(
          "{}: no space after the word within {} bytes (not a word2vec binary file?)",
          where(), kMaxBinaryWordBytes));
    }
    const std::string word(word_view);
    if (std::string problem = WordProblem(word); !problem.empty()) {
      return absl::InvalidArgumentError(fmt::format("{}: {}", where(), problem));
    }
    std::string_view raw;
    got = file.ReadExact(vector_bytes, &raw);
    if (!got.ok()) return got.status();
    if (!*got) {
      return truncated(fmt::format("'{}' needs {} bytes of floats", word, vector_bytes).c_str());
    }
    std::memcpy(values.data(), raw.data(), vector_bytes);
    for (int64_t k = 0; k < dim; ++k) {
      if (!std::isfinite(values[k])) {
        return NonFinite(where(), word, k, fmt::format("{}", values[k]));
      }
    }
    if (absl::Status s = sink.Add(word, values); !s.ok()) return s;
  }
  absl::StatusOr<int> rest = file.SkipAny("\n\r \t");
  if (!rest.ok()) return rest.status();
  if (*rest >= 0) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: unexpected data at byte {} after the {} vectors the header declares", path,
        file.offset(), declared));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> IsWord2VecBinary(const std::string& path) {
  ChunkedFile file;
  if (absl::Status s = file.Open(path); !s.ok()) return s;
  std::string_view header;
  absl::StatusOr<bool> got = file.ReadUntil('\n', 256, &header);
  if (!got.ok()) return got.status();
  if (!*got) return false;
  absl::StatusOr<size_t> n = file.Fill(64 << 10);
  if (!n.ok()) return n.status();
  std::string_view sample;
  got = file.ReadExact(*n, &sample);
  if (!got.ok()) return got.status();
  if (sample.find('\0') != std::string_view::npos) return true;
  // A UTF-8 sequence cut by the end of the sample is not evidence.
  for (int cut = 0; cut < 4 && cut <= static_cast<int>(sample.size()); ++cut) {
    if (ValidateUtf8(sample.substr(0, sample.size() - cut)).ok()) return false;
  }
  return true;
}

}  // namespace semdb
