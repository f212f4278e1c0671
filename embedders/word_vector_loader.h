// Opens a word-vector file of any supported format, through its binary
// cache for the text and word2vec binary formats.
//
// First open of a text or word2vec binary file: the file is streamed once
// into a cache file (see word_vector_cache.h), which is then mapped. Later
// opens map the cache directly while the source's size and modification
// time are unchanged; a stale or damaged cache is rebuilt. fastText .bin
// models are loaded by libfasttext and need no cache.
//
// Where the cache goes:
//   cache_dir given:  cache_dir/<file name>.<hash of the absolute path>.wvcache
//                     (the folder is created if needed)
//   cache_dir empty:  <source path>.wvcache beside the source when its folder
//                     is writable (and has write permission bits: root
//                     leaves read-only folders alone), else $XDG_CACHE_HOME/semdb/word-vectors/
//                     (default ~/.cache/semdb/word-vectors/) with the first
//                     form's name.
// Opened models are shared through a WordVectorModels registry (one per
// Database): opening a file that is already open through it returns the
// same model.
#ifndef SEMDB_EMBEDDERS_WORD_VECTOR_LOADER_H_
#define SEMDB_EMBEDDERS_WORD_VECTOR_LOADER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "embedders/word_vector_model.h"

namespace semdb {

// Stored in cache stamps: values must not change.
enum class WordVectorFormat : uint32_t {
  kText = 1,            // GloVe, word2vec text, fastText .vec
  kWord2VecBinary = 2,
  kFastTextBinary = 3,  // fastText .bin through libfasttext
};

const char* WordVectorFormatName(WordVectorFormat format);

// How to read a file, from the embedder kind and its parameters.
enum class WordVectorKind { kGlove, kWord2Vec, kFastText };
enum class BinaryChoice { kAuto, kBinary, kText };

struct WordVectorSource {
  std::string path;
  WordVectorKind kind = WordVectorKind::kGlove;
  BinaryChoice binary = BinaryChoice::kAuto;  // word2vec only
  std::string cache_dir;
};

struct LoadedWordVectors {
  std::shared_ptr<const WordVectorModel> model;
  WordVectorFormat format = WordVectorFormat::kText;
  std::string cache_path;     // empty for fastText .bin
  bool built_cache = false;   // this open streamed the source
  double seconds = 0;         // wall time of this open
};

// The format `source` is read as: glove is text; word2vec is text or binary
// by `binary` (auto: sniffed); fasttext is .bin (libfasttext) when the file
// starts with fastText's magic number or is named *.bin, else .vec text.
absl::StatusOr<WordVectorFormat> ResolveWordVectorFormat(const WordVectorSource& source);

// The cache file for `path` (absolute) by the rules above.
absl::StatusOr<std::string> WordVectorCachePath(const std::string& path,
                                                const std::string& cache_dir);

class WordVectorModels;

// Opens `source`, or shares the model `shared` has open for it (null: a
// load of its own). Missing files are NotFound; malformed ones
// InvalidArgument with the reader's message.
absl::StatusOr<LoadedWordVectors> LoadWordVectors(const WordVectorSource& source,
                                                  WordVectorModels* shared = nullptr);

// Word-vector models open through it, so that several embedders over one
// file (e.g. a refit building a fresh embedder) share its memory. Loads
// through one registry are serialized, so one file is never streamed into
// its cache twice at once. A Database has one (EmbedderContext); databases
// share nothing. Thread-safe.
class WordVectorModels {
 private:
  friend absl::StatusOr<LoadedWordVectors> LoadWordVectors(const WordVectorSource&,
                                                           WordVectorModels*);
  // Path, format, cache path, source size and modification time.
  using Key = std::tuple<std::string, uint32_t, std::string, uint64_t, int64_t>;

  absl::Mutex mu_;
  std::map<Key, std::weak_ptr<const WordVectorModel>> open_ ABSL_GUARDED_BY(mu_);
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_WORD_VECTOR_LOADER_H_
