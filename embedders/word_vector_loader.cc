#include "embedders/word_vector_loader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

#include "embedders/fasttext_model.h"
#include "embedders/word_vector_cache.h"
#include "embedders/word_vector_reader.h"
#include "fmt/format.h"

namespace semdb {
namespace {

namespace fs = std::filesystem;

// Streams rows into a cache writer created once the dimension is known.
class CacheSink : public WordVectorSink {
 public:
  CacheSink(std::string path, SourceStamp stamp)
      : path_(std::move(path)), stamp_(stamp) {}
  absl::Status Begin(int dim) override {
    absl::StatusOr<std::unique_ptr<WordVectorCacheWriter>> w =
        WordVectorCacheWriter::Create(path_, dim, stamp_);
    if (!w.ok()) return w.status();
    writer_ = *std::move(w);
    return absl::OkStatus();
  }
  absl::Status Add(std::string_view word, absl::Span<const float> vector) override {
    return writer_->Add(word, vector).status();
  }
  WordVectorCacheWriter* writer() { return writer_.get(); }

 private:
  std::string path_;
  SourceStamp stamp_;
  std::unique_ptr<WordVectorCacheWriter> writer_;
};

bool StartsWithFastTextMagic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  int32_t magic = 0;
  return in.read(reinterpret_cast<char*>(&magic), sizeof(magic)) && magic == kFastTextMagic;
}

// Writable for us, and not marked read-only for everyone: root may write
// anywhere, but a folder without write bits (shared reference data) is
// meant to stay as it is.
bool WritableDir(const fs::path& dir) {
  struct stat st;
  return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
         (st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) != 0 && ::access(dir.c_str(), W_OK) == 0;
}

std::string UserCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return fs::path(xdg) / "semdb" / "word-vectors";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr && *home != '\0' ? home : "/tmp") / ".cache" / "semdb" /
         "word-vectors";
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

const char* WordVectorFormatName(WordVectorFormat format) {
  switch (format) {
    case WordVectorFormat::kText:
      return "text";
    case WordVectorFormat::kWord2VecBinary:
      return "word2vec-binary";
    case WordVectorFormat::kFastTextBinary:
      return "fasttext-bin";
  }
  return "unknown";
}

absl::StatusOr<WordVectorFormat> ResolveWordVectorFormat(const WordVectorSource& source) {
  std::error_code ec;
  if (!fs::exists(source.path, ec)) {
    return absl::NotFoundError(fmt::format("word-vector file {} not found", source.path));
  }
  switch (source.kind) {
    case WordVectorKind::kGlove:
      return WordVectorFormat::kText;
    case WordVectorKind::kWord2Vec: {
      if (source.binary == BinaryChoice::kBinary) return WordVectorFormat::kWord2VecBinary;
      if (source.binary == BinaryChoice::kText) return WordVectorFormat::kText;
      absl::StatusOr<bool> binary = IsWord2VecBinary(source.path);
      if (!binary.ok()) return binary.status();
      return *binary ? WordVectorFormat::kWord2VecBinary : WordVectorFormat::kText;
    }
    case WordVectorKind::kFastText:
      if (StartsWithFastTextMagic(source.path) || fs::path(source.path).extension() == ".bin") {
        return WordVectorFormat::kFastTextBinary;
      }
      return WordVectorFormat::kText;
  }
  return absl::InternalError("unknown word-vector kind");
}

absl::StatusOr<std::string> WordVectorCachePath(const std::string& path,
                                                const std::string& cache_dir) {
  const fs::path source(path);
  const std::string name = fmt::format("{}.{:016x}.wvcache", source.filename().string(),
                                       StableHash(path));
  std::error_code ec;
  if (!cache_dir.empty()) {
    fs::create_directories(cache_dir, ec);
    if (ec || !WritableDir(cache_dir)) {
      return absl::PermissionDeniedError(fmt::format(
          "cannot write word-vector caches in {}{}", cache_dir,
          ec ? ": " + ec.message() : std::string()));
    }
    return (fs::path(cache_dir) / name).string();
  }
  if (WritableDir(source.parent_path())) return path + ".wvcache";
  const std::string fallback = UserCacheDir();
  fs::create_directories(fallback, ec);
  if (ec || !WritableDir(fallback)) {
    return absl::PermissionDeniedError(fmt::format(
        "cannot write a cache for {}: neither its folder nor {} is writable; set cache_dir",
        path, fallback));
  }
  return (fs::path(fallback) / name).string();
}

absl::StatusOr<LoadedWordVectors> LoadWordVectors(const WordVectorSource& input,
                                                  WordVectorModels* shared) {
  const auto start = std::chrono::steady_clock::now();
  WordVectorSource source = input;
  std::error_code ec;
  source.path = fs::absolute(source.path, ec).lexically_normal().string();
  absl::StatusOr<WordVectorFormat> format = ResolveWordVectorFormat(source);
  if (!format.ok()) return format.status();
  absl::StatusOr<SourceStamp> stamp = StampOf(source.path, static_cast<uint32_t>(*format));
  if (!stamp.ok()) return stamp.status();

  LoadedWordVectors loaded;
  loaded.format = *format;
  if (*format != WordVectorFormat::kFastTextBinary) {
    absl::StatusOr<std::string> cache = WordVectorCachePath(source.path, source.cache_dir);
    if (!cache.ok()) return cache.status();
    loaded.cache_path = *std::move(cache);
  }

  WordVectorModels own;  // nothing to share with
  WordVectorModels& models = shared != nullptr ? *shared : own;
  absl::MutexLock lock(&models.mu_);
  const WordVectorModels::Key key{source.path, stamp->format, loaded.cache_path, stamp->size,
                                  stamp->mtime_ns};
  if (auto it = models.open_.find(key); it != models.open_.end()) {
    if (std::shared_ptr<const WordVectorModel> model = it->second.lock()) {
      loaded.model = std::move(model);
      loaded.seconds = SecondsSince(start);
      return loaded;
    }
  }

  if (*format == WordVectorFormat::kFastTextBinary) {
    absl::StatusOr<std::unique_ptr<FastTextModel>> m = FastTextModel::Open(source.path);
    if (!m.ok()) return m.status();
    loaded.model = *std::move(m);
  } else {
    absl::StatusOr<std::unique_ptr<MappedWordVectors>> mapped =
        MappedWordVectors::Open(loaded.cache_path, *stamp);
    if (!mapped.ok() && !absl::IsNotFound(mapped.status()) &&
        !absl::IsFailedPrecondition(mapped.status()) && !absl::IsDataLoss(mapped.status())) {
      return mapped.status();
    }
    if (!mapped.ok()) {
      CacheSink sink(loaded.cache_path, *stamp);
      absl::Status read = *format == WordVectorFormat::kText
                              ? ReadWordVectorText(source.path, sink)
                              : ReadWord2VecBinary(source.path, sink);
      if (!read.ok()) return read;
      // A file rewritten while it was read would leave a cache that claims
      // the new stamp with the old content, or a mixture.
      absl::StatusOr<SourceStamp> after = StampOf(source.path, stamp->format);
      if (!after.ok()) return after.status();
      if (!(*after == *stamp)) {
        return absl::AbortedError(fmt::format("{} changed while it was read", source.path));
      }
      if (absl::Status s = sink.writer()->Finish(); !s.ok()) return s;
      loaded.built_cache = true;
      mapped = MappedWordVectors::Open(loaded.cache_path, *stamp);
      if (!mapped.ok()) return mapped.status();
    }
    loaded.model = *std::move(mapped);
  }
  std::erase_if(models.open_, [](const auto& entry) { return entry.second.expired(); });
  models.open_[key] = loaded.model;
  loaded.seconds = SecondsSince(start);
  return loaded;
}

}  // namespace semdb
