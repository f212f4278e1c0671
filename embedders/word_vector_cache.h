// The binary cache of a word-vector text or word2vec binary file: written
// once while the source is streamed, then memory-mapped on every later open
// so that a multi-gigabyte vocabulary opens in milliseconds.
//
// File layout (little-endian; every section 64-byte aligned):
//   CacheHeader (128 bytes)
//   vectors        rows x dim float32, in source order (duplicates dropped)
//   inverse norms  rows float32
//   word offsets   rows + 1 uint64 into the word bytes
//   word bytes     the UTF-8 words, concatenated
//   index          a power-of-two open-addressing table of uint32 slots
//                  (row + 1, 0 = empty), FNV-1a hash, linear probing
// A cache records the size and modification time of its source and the
// source's format; Open refuses (FailedPrecondition) a cache whose source has
// changed, and refuses (DataLoss) one whose structure is inconsistent, so
// the loader rebuilds it. Writers build a temporary file in the cache's
// folder and rename it into place, so readers never see a partial cache.
#ifndef SEMDB_EMBEDDERS_WORD_VECTOR_CACHE_H_
#define SEMDB_EMBEDDERS_WORD_VECTOR_CACHE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "embedders/word_vector_model.h"

namespace semdb {

// What a cache was built from. Two stamps are equal when the source file is
// unchanged and was read the same way.
struct SourceStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint32_t format = 0;  // a WordVectorFormat value

  bool operator==(const SourceStamp&) const = default;
};

// 64-bit FNV-1a: stable across processes and builds (the cache's index and
// cache file names depend on it), unlike absl::Hash.
uint64_t StableHash(std::string_view s);

// The stamp of the file at `path` as it is now, read as `format`.
absl::StatusOr<SourceStamp> StampOf(const std::string& path, uint32_t format);

// Streams rows into a new cache file. Not thread-safe.
class WordVectorCacheWriter {
 public:
  // Starts `path` (through a temporary file beside it) for vectors of `dim`.
  static absl::StatusOr<std::unique_ptr<WordVectorCacheWriter>> Create(
      const std::string& path, int dim, const SourceStamp& stamp);
  ~WordVectorCacheWriter();  // removes the temporary file unless Finish ran

  WordVectorCacheWriter(const WordVectorCacheWriter&) = delete;
  WordVectorCacheWriter& operator=(const WordVectorCacheWriter&) = delete;

  // Appends a row. A word seen before is skipped (the first vector wins, as
  // in gensim) and false is returned.
  absl::StatusOr<bool> Add(std::string_view word, absl::Span<const float> vector);

  // Writes the words, index and header, syncs, and renames into place.
  absl::Status Finish();

  int64_t rows() const { return static_cast<int64_t>(offsets_.size()) - 1; }
  int64_t duplicates() const { return duplicates_; }

 private:
  WordVectorCacheWriter(std::string path, std::string temp_path, int fd, int dim,
                        SourceStamp stamp);
  absl::Status Write(const void* data, size_t size);
  absl::Status Flush();
  absl::Status PadTo(uint64_t alignment);
  std::string_view WordAt(uint32_t row) const;

  // Hashes and compares rows by their words, so the duplicate check holds
  // only row numbers.
  struct RowHash {
    using is_transparent = void;
    const WordVectorCacheWriter* w;
    size_t operator()(uint32_t row) const;
    size_t operator()(std::string_view word) const;
  };
  struct RowEq {
    using is_transparent = void;
    const WordVectorCacheWriter* w;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(uint32_t a, std::string_view b) const { return w->WordAt(a) == b; }
    bool operator()(std::string_view a, uint32_t b) const { return a == w->WordAt(b); }
  };

  std::string path_;
  std::string temp_path_;
  int fd_;
  int dim_;
  SourceStamp stamp_;
  bool finished_ = false;
  uint64_t written_ = 0;  // bytes written to the file so far (incl. buffer)
  std::string buffer_;
  std::string words_;
  std::vector<uint64_t> offsets_{0};
  std::vector<float> inverse_norms_;
  absl::flat_hash_set<uint32_t, RowHash, RowEq> seen_;
  int64_t duplicates_ = 0;
};

// A cache file mapped read-only.
class MappedWordVectors : public WordVectorModel {
 public:
  // Maps `path` and checks its structure, and that it was built from a
  // source with stamp `expected`.
  static absl::StatusOr<std::unique_ptr<MappedWordVectors>> Open(
      const std::string& path, const SourceStamp& expected);
  ~MappedWordVectors() override;

  int dimension() const override { return dim_; }
  int64_t size() const override { return rows_; }
  std::string_view word(int64_t i) const override;
  int64_t Find(std::string_view word) const override;
  WordSource Lookup(std::string_view word, absl::Span<float> out) const override;
  const float* vocabulary_vectors() const override { return vectors_; }
  const float* inverse_norms() const override { return inverse_norms_; }
  nlohmann::json Describe() const override;

  int64_t duplicates() const { return duplicates_; }

 private:
  MappedWordVectors() = default;

  std::string path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  int dim_ = 0;
  int64_t rows_ = 0;
  int64_t duplicates_ = 0;
  const float* vectors_ = nullptr;
  const float* inverse_norms_ = nullptr;
  const uint64_t* word_offsets_ = nullptr;
  const char* word_bytes_ = nullptr;
  const uint32_t* index_ = nullptr;
  uint64_t index_mask_ = 0;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_WORD_VECTOR_CACHE_H_
