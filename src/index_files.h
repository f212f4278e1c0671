// Where a collection's saved index lives and how it is replaced.
//
// A saved index is named "<cid>-<generation>-<seq>.index": the embedder
// generation its vectors come from and the last index-log sequence number
// it contains. The name is written atomically (temporary file, fsync,
// rename, fsync of the directory), so a file with a given name is complete;
// its checksum catches later damage.
//
// Flat indexes are not saved: they hold nothing but the stored vectors, so
// open builds them from those (one copy of the vectors on disk instead of
// two, at about the cost of reading the file); files of flat indexes that
// older versions saved are removed.
#ifndef SEMDB_SRC_INDEX_FILES_H_
#define SEMDB_SRC_INDEX_FILES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "semdb/spec.h"
#include "semdb/vector_index.h"

namespace semdb {

struct SavedIndex {
  std::string path;
  uint32_t generation = 0;
  uint64_t seq = 0;
};

// Whether an index of spec `spec` is saved to a file (all kinds but flat).
bool IsSavedToFile(const Spec& spec);

// The saved index of collection `cid` with the highest sequence number, if
// any (of any generation: the caller checks it is the current one).
std::optional<SavedIndex> FindSavedIndex(const std::string& dir, uint32_t cid);

// Saves `index` as the state of (cid, generation) up to log entry `seq` and
// removes the collection's older files.
absl::Status SaveIndex(const VectorIndex& index, const std::string& dir, uint32_t cid,
                       uint32_t generation, uint64_t seq);

// OK unless the saved index file at `path` is larger than any index of at
// most `max_vectors` vectors of `dimension` can be (the vectors, an HNSW
// graph or IVF lists, and a fixed allowance): a damaged or hostile file,
// e.g. a sparse one of 10 GB, is refused before it is read.
absl::Status CheckSavedIndexSize(const std::string& path, uint64_t max_vectors, int dimension);

// Removes every saved index of collection `cid`.
void RemoveSavedIndexes(const std::string& dir, uint32_t cid);

}  // namespace semdb

#endif  // SEMDB_SRC_INDEX_FILES_H_
