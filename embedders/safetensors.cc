#include "embedders/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "storage/bounded_json.h"
#include "storage/half_float.h"

namespace semdb {
namespace {

// Every dtype name safetensors defines, with its element size in bytes.
int DtypeSize(const std::string& dtype) {
  static const std::map<std::string, int> kSizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},   {"F8_E4M3", 1}, {"F8_E5M2", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2},  {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"F64", 8},  {"I64", 8},     {"U64", 8}};
  auto it = kSizes.find(dtype);
  return it == kSizes.end() ? 0 : it->second;
}

constexpr uint64_t kMaxHeaderBytes = 100 << 20;  // the format's own limit

uint64_t ReadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

int64_t SafeTensor::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

float Bfloat16ToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

absl::StatusOr<std::unique_ptr<SafeTensorsFile>> SafeTensorsFile::Open(const std::string& path) {
  std::unique_ptr<SafeTensorsFile> file(new SafeTensorsFile());
  file->path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string msg = fmt::format("cannot open {}: {}", path, std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(msg) : absl::PermissionDeniedError(msg);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(fmt::format("{} is not a regular file", path));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    return absl::InvalidArgumentError(
        fmt::format("{}: {} bytes is too short for a safetensors file", path, size));
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    return absl::InternalError(fmt::format("cannot map {}: {}", path, std::strerror(errno)));
  }
  file->map_ = map;
  file->map_size_ = size;
  const auto* bytes = static_cast<const uint8_t*>(map);

  const uint64_t header_size = ReadLe64(bytes);
  if (header_size > kMaxHeaderBytes || header_size > size - 8) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: header length {} exceeds the file ({} bytes): not a safetensors file, or truncated",
        path, header_size, size));
  }
  const char* header_begin = reinterpret_cast<const char*>(bytes + 8);
  absl::StatusOr<nlohmann::json> parsed =
      ParseJson(std::string_view(header_begin, header_size));
  if (!parsed.ok() || !parsed->is_object()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: the header is not a JSON object", path));
  }
  const nlohmann::json& header = *parsed;
  const uint8_t* data = bytes + 8 + header_size;
  const uint64_t data_size = size - 8 - header_size;
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (const auto& item : header.items()) {
    const std::string& name = item.key();
    const nlohmann::json& entry = item.value();
    if (name == "__metadata__") continue;
    auto bad = [&](const std::string& what) {
      return absl::InvalidArgumentError(fmt::format("{}: tensor '{}': {}", path, name, what));
    };
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets")) {
      return bad("header entry needs dtype, shape and data_offsets");
    }
    const nlohmann::json& dtype = entry["dtype"];
    const nlohmann::json& shape = entry["shape"];
    const nlohmann::json& offsets = entry["data_offsets"];
    if (!dtype.is_string() || DtypeSize(dtype.get<std::string>()) == 0) {
      return bad(fmt::format("unknown dtype {}", dtype.dump()));
    }
    SafeTensor t;
    t.dtype = dtype.get<std::string>();
    if (!shape.is_array()) return bad("shape is not an array");
    uint64_t elements = 1;
    for (const nlohmann::json& d : shape) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > (uint64_t{1} << 40)) {
        return bad(fmt::format("bad shape {}", shape.dump()));
      }
      t.shape.push_back(d.get<int64_t>());
      elements *= d.get<uint64_t>();
      if (elements > (uint64_t{1} << 40)) return bad(fmt::format("bad shape {}", shape.dump()));
    }
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      return bad(fmt::format("bad data_offsets {}", offsets.dump()));
    }
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end) return bad(fmt::format("data_offsets [{}, {}] are reversed", begin, end));
    if (end > data_size) {
      return bad(fmt::format(
          "data_offsets [{}, {}] run past the {} data bytes of the file (truncated?)", begin,
          end, data_size));
    }
    const uint64_t expected = elements * static_cast<uint64_t>(DtypeSize(t.dtype));
    if (end - begin != expected) {
      return bad(fmt::format("shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {}",
                             shape.dump(), t.dtype, expected, begin, end, end - begin));
    }
    t.data = data + begin;
    t.bytes = end - begin;
    spans.emplace_back(begin, end);
    file->tensors_.emplace(name, std::move(t));
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].first < spans[i - 1].second) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: tensors overlap at data_offsets {} and {}", path, spans[i - 1].first,
          spans[i].first));
    }
  }
  return file;
}

SafeTensorsFile::~SafeTensorsFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

const SafeTensor* SafeTensorsFile::Find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::unique_ptr<SafeTensorsFile> SafeTensorsFile::FromMemory(
    std::string path, std::map<std::string, SafeTensor> tensors,
    std::map<std::string, std::string> storage) {
  std::unique_ptr<SafeTensorsFile> file(new SafeTensorsFile());
  file->path_ = std::move(path);
  file->tensors_ = std::move(tensors);
  file->storage_ = std::move(storage);  // map nodes move: the data pointers stay valid
  return file;
}

absl::Status SafeTensorsFile::ReadFloat(const std::string& name, absl::Span<float> out) const {
  const SafeTensor* t = Find(name);
  if (t == nullptr) {
    return absl::NotFoundError(fmt::format("{}: no tensor '{}'", path_, name));
  }
  const int64_t n = t->elements();
  if (static_cast<int64_t>(out.size()) != n) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: tensor '{}' has {} elements, expected {}", path_, name, n, out.size()));
  }
  if (t->dtype == "F32") {
    std::memcpy(out.data(), t->data, t->bytes);
  } else if (t->dtype == "F16" || t->dtype == "BF16") {
    const bool half = t->dtype == "F16";
    for (int64_t i = 0; i < n; ++i) {
      uint16_t v;
      std::memcpy(&v, t->data + 2 * i, 2);
      out[i] = half ? HalfToFloat(v) : Bfloat16ToFloat(v);
    }
  } else {
    return absl::InvalidArgumentError(fmt::format(
        "{}: tensor '{}' is {}; only F32, F16 and BF16 weights are supported", path_, name,
        t->dtype));
  }
  ReleasePages(*t);
  return absl::OkStatus();
}

void SafeTensorsFile::ReleasePages(const SafeTensor& t) const {
  if (map_ == nullptr) return;  // FromMemory: nothing mapped
  // The whole pages inside the tensor's bytes: a page it shares with a
  // neighbour stays until that one is read.
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(t.data) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(t.data) + t.bytes) / page * page;
  // A private read-only file mapping: dropped pages are read from the file
  // again if touched, so this only frees memory (its failure changes
  // nothing but the resident size).
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace semdb
