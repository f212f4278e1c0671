// DocumentCache: the decoded documents (DocumentRecord) and the metadata
// of recently read hits, kept in memory by (collection id, label) so that a
// search's hits cost a hash lookup instead of a RocksDB MultiGet, and their
// metadata an unpacking instead of a JSON parse (about 0.8 us a hit, the
// largest part of a warm hit's cost before it was kept parsed).
//
// Metadata is kept packed (packed_json.h: one contiguous string), not as a
// parsed nlohmann value: a search hands each hit a value of its own, and
// copying a parsed value took a cache miss per heap block of its tree (an
// object's map, each member's node, each string), one after the other,
// where unpacking reads one run of bytes. A lookup first finds the entries
// of all the labels asked, prefetching them and their bytes, then copies:
// the misses of a search's k hits overlap instead of following each other.
//
// Contract: a lookup returns exactly what RocksDB holds. Store calls
// BeginWrite before and EndWrite after applying every batch that puts or
// deletes a document (or drops a collection): BeginWrite removes the
// entries the batch touches, so no reader sees a value the write is
// replacing, and no value read from RocksDB is stored while a write is in
// flight or if a write began after the lookup that missed it (the epoch),
// since such a value may be the one the write replaced. A write therefore
// never fills the cache: bulk inserts would only evict what searches read.
//
// Bounded by `budget_bytes` (an estimate of the memory the entries take,
// strings included). Eviction is CLOCK (second chance), an approximation
// of least recently used: a lookup only marks its entry, where moving it in
// a list cost a search two cache misses per hit (perf: a fifth of a warm
// search with text and metadata). Thread-safe.
#ifndef SEMDB_STORAGE_DOCUMENT_CACHE_H_
#define SEMDB_STORAGE_DOCUMENT_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "nlohmann/json.hpp"
#include "storage/records.h"

namespace semdb {

// A document's metadata as read: ParseJsonOrDiscarded of the stored JSON
// (a discarded value if the stored bytes are not JSON), the caller's own
// value; nullopt: none stored.
using MetadataValue = std::optional<nlohmann::json>;

class DocumentCache {
 public:
  // A document's cache key.
  struct Key {
    uint32_t cid = 0;
    uint64_t label = 0;
    bool operator==(const Key&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.cid, k.label);
    }
  };
  // What Lookup found; `epoch` goes back to Fill with what was read for the
  // rest.
  struct Found {
    uint64_t epoch = 0;
    std::vector<size_t> doc_misses, meta_misses;  // positions in the labels asked
  };

  explicit DocumentCache(size_t budget_bytes) : budget_(budget_bytes) {}

  // Copies the cached documents of `doc_labels` into (*docs)[i] and
  // unpacks the cached metadata of `meta_labels` into (*metadata)[i] (both
  // already sized); the positions not cached are listed in the result.
  Found Lookup(uint32_t cid, absl::Span<const uint64_t> doc_labels,
               absl::Span<const uint64_t> meta_labels,
               std::vector<std::optional<DocumentRecord>>* docs,
               std::vector<MetadataValue>* metadata) ABSL_LOCKS_EXCLUDED(mu_);
  // Stores what was read from RocksDB for the misses of `found` (nullopt:
  // not stored there, nothing kept; metadata is packed), unless a write began since its lookup
  // or is in flight. False when a write began or ended since the lookup:
  // the values looked up and those read may then come from different
  // states of the database, and the caller reads them all again from
  // RocksDB (one MultiGet is one consistent state).
  bool Fill(uint32_t cid, const Found& found, absl::Span<const uint64_t> doc_labels,
            absl::Span<const uint64_t> meta_labels,
            const std::vector<std::optional<DocumentRecord>>& docs,
            const std::vector<MetadataValue>& metadata) ABSL_LOCKS_EXCLUDED(mu_);

  // Around a write of the documents `keys` and of every document of the
  // collections `dropped` (see the contract above).
  void BeginWrite(absl::Span<const Key> keys, absl::Span<const uint32_t> dropped)
      ABSL_LOCKS_EXCLUDED(mu_);
  void EndWrite() ABSL_LOCKS_EXCLUDED(mu_);

  size_t bytes() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t entries() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    Key key;
    std::optional<std::string> metadata;  // packed (packed_json.h)
    std::optional<DocumentRecord> doc;
    size_t bytes = 0;
    bool live = false;        // a slot in use (else on the free list)
    bool referenced = false;  // looked up since the clock hand last passed
  };

  static size_t EntryBytes(const Entry& e);
  // The entries of `labels` in collection `cid`, marked as used, with their
  // bytes prefetched; null where absent. Pointers valid until the next
  // change of the slots.
  std::vector<Entry*> FindAllLocked(uint32_t cid, absl::Span<const uint64_t> labels)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The entry of `key`, added (empty) when absent. Invalidates pointers to
  // other entries (the slots may grow).
  Entry& EntryLocked(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Re-estimates e's bytes in the total after e changed.
  void AccountLocked(Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseLocked(uint32_t slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Evicts until within the budget: the hand sweeps the slots, giving each
  // referenced entry a second chance (clearing its mark) and evicting the
  // first unreferenced one.
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t budget_;
  mutable absl::Mutex mu_;
  std::vector<Entry> slots_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> free_slots_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<Key, uint32_t> index_ ABSL_GUARDED_BY(mu_);  // key -> slot
  size_t hand_ ABSL_GUARDED_BY(mu_) = 0;  // the clock hand, a slot
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Advanced by every BeginWrite and EndWrite: a Fill whose lookup saw
  // another epoch overlapped a write.
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  int writes_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace semdb

#endif  // SEMDB_STORAGE_DOCUMENT_CACHE_H_
