// LabelDirectory: what every search hit needs of its entry, in memory:
// index label -> the document's id and, for a passage, its position.
//
// A search that asks for ids and scores only reads nothing from storage
// once its hits' labels are here. Entries are added from storage the first
// time a label is a hit (a reopened collection does not read them all at
// open). Labels are never reused (Counters::next_label only grows) and an
// entry's id and position never change, so an entry never goes stale: a
// deleted label simply stops coming out of the index. The entries of
// deleted labels are dropped by clearing the directory when it outgrows the
// index (see Add). Thread-safe.
#ifndef SEMDB_SRC_LABEL_DIRECTORY_H_
#define SEMDB_SRC_LABEL_DIRECTORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "storage/records.h"

namespace semdb {

class LabelDirectory {
 public:
  struct Entry {
    std::string id;                          // the stored entry's id
    std::optional<PassageLocation> passage;  // set for passages
  };

  // The entries of `labels`, in order; nullopt for labels not here yet.
  std::vector<std::optional<Entry>> Find(absl::Span<const uint64_t> labels) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Adds the entries of `labels`. `live` is the number of live labels (the
  // index's size): past twice that plus a margin, the directory holds many
  // deleted labels and is cleared first.
  void Add(absl::Span<const uint64_t> labels, absl::Span<const Entry> entries, int64_t live)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace semdb

#endif  // SEMDB_SRC_LABEL_DIRECTORY_H_
