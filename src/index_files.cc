#include "src/index_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "storage/crash_point.h"

namespace semdb {
namespace {

namespace fs = std::filesystem;

constexpr char kSuffix[] = ".index";

// Parses "<cid>-<gen>-<seq>.index".
std::optional<SavedIndex> ParseName(const fs::path& path) {
  std::string name = path.filename().string();
  if (!name.ends_with(kSuffix)) return std::nullopt;
  name.resize(name.size() - sizeof(kSuffix) + 1);
  std::vector<std::string> parts = absl::StrSplit(name, '-');
  uint32_t cid;
  SavedIndex saved;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &cid) ||
      !absl::SimpleAtoi(parts[1], &saved.generation) ||
      !absl::SimpleAtoi(parts[2], &saved.seq)) {
    return std::nullopt;
  }
  saved.path = path.string();
  return saved;
}

// The collection id a file belongs to: its leading digits, for saved
// indexes ("<cid>-...") and temporary files ("<cid>.tmp") alike.
std::optional<uint32_t> CidOf(const fs::path& path) {
  std::string name = path.filename().string();
  size_t end = name.find_first_of("-.");
  uint32_t cid;
  if (end == std::string::npos || !absl::SimpleAtoi(name.substr(0, end), &cid)) {
    return std::nullopt;
  }
  return cid;
}

absl::Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open directory ", dir));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::InternalError(absl::StrCat("cannot sync directory ", dir));
  return absl::OkStatus();
}

}  // namespace

bool IsSavedToFile(const Spec& spec) { return spec.kind != "flat"; }

std::optional<SavedIndex> FindSavedIndex(const std::string& dir, uint32_t cid) {
  std::optional<SavedIndex> best;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    std::optional<SavedIndex> saved = ParseName(e.path());
    if (saved && CidOf(e.path()) == cid &&
        (!best || saved->generation > best->generation ||
         (saved->generation == best->generation && saved->seq > best->seq))) {
      best = saved;
    }
  }
  return best;
}

absl::Status SaveIndex(const VectorIndex& index, const std::string& dir, uint32_t cid,
                       uint32_t generation, uint64_t seq) {
  const std::string final_path =
      absl::StrCat(dir, "/", cid, "-", generation, "-", seq, kSuffix);
  const std::string tmp_path = absl::StrCat(dir, "/", cid, ".tmp");
  if (absl::Status s = index.Save(tmp_path); !s.ok()) {
    std::remove(tmp_path.c_str());
    return s;
  }
  CrashPoint("index_save.written");
  if (std::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    std::remove(tmp_path.c_str());
    return absl::InternalError(absl::StrCat("cannot rename index file to ", final_path));
  }
  if (absl::Status s = SyncDirectory(dir); !s.ok()) return s;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (CidOf(e.path()) == cid && e.path().string() != final_path) {
      fs::remove(e.path(), ec);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSavedIndexSize(const std::string& path, uint64_t max_vectors, int dimension) {
  // Per vector: its floats twice (IVF-flat keeps codes and a copy while
  // training), 4 KiB of graph links and ids; 64 MiB for headers, centroids
  // and quantizer tables.
  constexpr uint64_t kPerVectorOverhead = 4096, kFixed = uint64_t{64} << 20;
  const uint64_t bound =
      kFixed + max_vectors * (2 * sizeof(float) * static_cast<uint64_t>(dimension) +
                              kPerVectorOverhead);
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return absl::DataLossError(absl::StrCat("cannot stat ", path, ": ", ec.message()));
  if (size > bound) {
    return absl::DataLossError(absl::StrCat("the file is ", size, " bytes, more than the ",
                                            bound, " an index of ", max_vectors,
                                            " vectors can take"));
  }
  return absl::OkStatus();
}

void RemoveSavedIndexes(const std::string& dir, uint32_t cid) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (CidOf(e.path()) == cid) fs::remove(e.path(), ec);
  }
}

}  // namespace semdb
