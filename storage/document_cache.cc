#include "storage/document_cache.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "absl/algorithm/container.h"
#include "storage/packed_json.h"

namespace semdb {
namespace {

// The heap bytes of a string beyond its inline (small string) buffer.
size_t HeapBytes(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

// Asks the CPU to load the cache lines of [p, p + n) (at most the first
// 1 KiB), without waiting for them.
void PrefetchBytes(const void* p, size_t n) {
  constexpr uintptr_t kLine = 64;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) & ~(kLine - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + std::min<size_t>(n, 1024);
  for (uintptr_t line = begin; line < end; line += kLine) {
    __builtin_prefetch(reinterpret_cast<const void*>(line));
  }
}

nlohmann::json Unpacked(const std::string& packed) {
  std::string_view rest = packed;
  return UnpackJson(&rest);
}

}  // namespace

size_t DocumentCache::EntryBytes(const Entry& e) {
  // The slot and the hash table's slot, at its maximum load factor 7/8.
  size_t n = sizeof(Entry) + (sizeof(Key) + sizeof(uint32_t)) * 8 / 7;
  if (e.doc) {
    n += HeapBytes(e.doc->id) + HeapBytes(e.doc->text);
    if (e.doc->passage) n += HeapBytes(e.doc->passage->parent);
  }
  if (e.metadata) n += HeapBytes(*e.metadata);
  return n;
}

std::vector<DocumentCache::Entry*> DocumentCache::FindAllLocked(
    uint32_t cid, absl::Span<const uint64_t> labels) {
  // In three passes, each starting the memory reads the next one needs:
  // the hash table's slots, then the entries, then their bytes.
  const size_t n = labels.size();
  for (uint64_t label : labels) index_.prefetch(Key{cid, label});
  std::vector<Entry*> found(n, nullptr);
  for (size_t i = 0; i < n; ++i) {
    auto it = index_.find(Key{cid, labels[i]});
    if (it == index_.end()) continue;
    found[i] = &slots_[it->second];
    PrefetchBytes(found[i], sizeof(Entry));
  }
  for (Entry* e : found) {
    if (e == nullptr) continue;
    e->referenced = true;
    if (e->metadata) PrefetchBytes(e->metadata->data(), e->metadata->size());
    if (e->doc) PrefetchBytes(e->doc->text.data(), e->doc->text.size());
  }
  return found;
}

DocumentCache::Entry& DocumentCache::EntryLocked(const Key& key) {
  auto [it, fresh] = index_.try_emplace(key);
  if (fresh) {
    if (free_slots_.empty()) {
      it->second = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    } else {
      it->second = free_slots_.back();
      free_slots_.pop_back();
    }
    slots_[it->second] = Entry{.key = key, .live = true, .referenced = true};
  }
  return slots_[it->second];
}

void DocumentCache::AccountLocked(Entry& e) {
  bytes_ -= e.bytes;
  e.bytes = EntryBytes(e);
  bytes_ += e.bytes;
}

DocumentCache::Found DocumentCache::Lookup(uint32_t cid, absl::Span<const uint64_t> doc_labels,
                                           absl::Span<const uint64_t> meta_labels,
                                           std::vector<std::optional<DocumentRecord>>* docs,
                                           std::vector<MetadataValue>* metadata) {
  Found found;
  absl::MutexLock lock(&mu_);
  found.epoch = epoch_;
  const std::vector<Entry*> doc_entries = FindAllLocked(cid, doc_labels);
  // A search usually asks both of the same labels: one lookup each then.
  const bool same = doc_labels == meta_labels;
  const std::vector<Entry*> meta_entries =
      same ? std::vector<Entry*>() : FindAllLocked(cid, meta_labels);
  for (size_t i = 0; i < doc_labels.size(); ++i) {
    const Entry* e = doc_entries[i];
    if (e != nullptr && e->doc) {
      (*docs)[i] = e->doc;
    } else {
      found.doc_misses.push_back(i);
    }
  }
  for (size_t i = 0; i < meta_labels.size(); ++i) {
    const Entry* e = same ? doc_entries[i] : meta_entries[i];
    if (e != nullptr && e->metadata) {
      (*metadata)[i] = Unpacked(*e->metadata);
    } else {
      found.meta_misses.push_back(i);
    }
  }
  return found;
}

bool DocumentCache::Fill(uint32_t cid, const Found& found, absl::Span<const uint64_t> doc_labels,
                         absl::Span<const uint64_t> meta_labels,
                         const std::vector<std::optional<DocumentRecord>>& docs,
                         const std::vector<MetadataValue>& metadata) {
  // Packed before taking the lock.
  std::vector<std::string> packed(found.meta_misses.size());
  for (size_t j = 0; j < found.meta_misses.size(); ++j) {
    if (const MetadataValue& m = metadata[found.meta_misses[j]]) AppendPackedJson(*m, &packed[j]);
  }
  absl::MutexLock lock(&mu_);
  if (found.epoch != epoch_) return false;
  // A write in flight since before the lookup removed its documents first,
  // so the values looked up are not its; those read may be its old ones.
  if (writes_in_flight_ > 0) return true;
  for (size_t i : found.doc_misses) {
    if (!docs[i]) continue;
    Entry& e = EntryLocked(Key{cid, doc_labels[i]});
    e.doc = docs[i];
    AccountLocked(e);
  }
  for (size_t j = 0; j < found.meta_misses.size(); ++j) {
    const size_t i = found.meta_misses[j];
    if (!metadata[i]) continue;
    Entry& e = EntryLocked(Key{cid, meta_labels[i]});
    e.metadata = std::move(packed[j]);
    AccountLocked(e);
  }
  EvictLocked();
  return true;
}

void DocumentCache::BeginWrite(absl::Span<const Key> keys, absl::Span<const uint32_t> dropped) {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  ++writes_in_flight_;
  if (index_.empty()) return;
  for (const Key& k : keys) {
    if (auto it = index_.find(k); it != index_.end()) EraseLocked(it->second);
  }
  if (dropped.empty()) return;
  for (uint32_t slot = 0; slot < slots_.size(); ++slot) {
    const Entry& e = slots_[slot];
    if (e.live && absl::c_linear_search(dropped, e.key.cid)) EraseLocked(slot);
  }
}

void DocumentCache::EndWrite() {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  --writes_in_flight_;
}

size_t DocumentCache::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

size_t DocumentCache::entries() const {
  absl::MutexLock lock(&mu_);
  return index_.size();
}

void DocumentCache::EraseLocked(uint32_t slot) {
  Entry& e = slots_[slot];
  bytes_ -= e.bytes;
  index_.erase(e.key);
  e = Entry{};  // frees its strings now
  free_slots_.push_back(slot);
}

void DocumentCache::EvictLocked() {
  while (bytes_ > budget_ && !index_.empty()) {
    if (hand_ >= slots_.size()) hand_ = 0;
    Entry& e = slots_[hand_];
    if (e.live && !e.referenced) EraseLocked(static_cast<uint32_t>(hand_));
    e.referenced = false;
    ++hand_;
  }
}

}  // namespace semdb
