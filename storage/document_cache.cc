#include "storage/document_cache.h"

#include <utility>

#include "absl/algorithm/container.h"

namespace semdb {
namespace {

// The heap bytes of a string beyond its inline (small string) buffer.
size_t HeapBytes(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

// An estimate of the heap bytes of a JSON value's children (the value
// itself is counted by its owner): nlohmann keeps objects in a std::map
// (a node of three pointers, a colour and the key/value pair each) and
// arrays in a vector.
size_t JsonHeapBytes(const nlohmann::json& j) {
  size_t n = 0;
  if (j.is_object()) {
    n += sizeof(nlohmann::json::object_t);
    for (const auto& [key, value] : j.get_ref<const nlohmann::json::object_t&>()) {
      n += 4 * sizeof(void*) + sizeof(std::string) + sizeof(nlohmann::json) + HeapBytes(key) +
           JsonHeapBytes(value);
    }
  } else if (j.is_array()) {
    n += sizeof(nlohmann::json::array_t) + j.size() * sizeof(nlohmann::json);
    for (const nlohmann::json& value : j) n += JsonHeapBytes(value);
  } else if (j.is_string()) {
    n += sizeof(std::string) + HeapBytes(j.get_ref<const std::string&>());
  }
  return n;
}

}  // namespace

size_t DocumentCache::EntryBytes(const Entry& e) {
  // The slot and the hash table's slot, at its maximum load factor 7/8.
  size_t n = sizeof(Entry) + (sizeof(Key) + sizeof(uint32_t)) * 8 / 7;
  if (e.doc) {
    n += HeapBytes(e.doc->id) + HeapBytes(e.doc->text);
    if (e.doc->passage) n += sizeof(PassageLocation) + HeapBytes(e.doc->passage->parent);
  }
  // The shared value and its control block, allocated together.
  if (e.metadata) n += sizeof(nlohmann::json) + 2 * sizeof(void*) + JsonHeapBytes(*e.metadata);
  return n;
}

DocumentCache::Entry* DocumentCache::FindLocked(const Key& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  Entry& e = slots_[it->second];
  e.referenced = true;
  return &e;
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
                                           std::vector<SharedMetadata>* metadata) {
  Found found;
  absl::MutexLock lock(&mu_);
  found.epoch = epoch_;
  // A search usually asks both of the same labels: one lookup each then.
  const bool same = doc_labels == meta_labels;
  for (size_t i = 0; i < doc_labels.size(); ++i) {
    Entry* e = FindLocked(Key{cid, doc_labels[i]});
    if (e != nullptr && e->doc) {
      (*docs)[i] = e->doc;
    } else {
      found.doc_misses.push_back(i);
    }
    if (!same) continue;
    if (e != nullptr && e->metadata) {
      (*metadata)[i] = e->metadata;
    } else {
      found.meta_misses.push_back(i);
    }
  }
  for (size_t i = 0; i < meta_labels.size() && !same; ++i) {
    Entry* e = FindLocked(Key{cid, meta_labels[i]});
    if (e != nullptr && e->metadata) {
      (*metadata)[i] = e->metadata;
    } else {
      found.meta_misses.push_back(i);
    }
  }
  return found;
}

bool DocumentCache::Fill(uint32_t cid, const Found& found, absl::Span<const uint64_t> doc_labels,
                         absl::Span<const uint64_t> meta_labels,
                         const std::vector<std::optional<DocumentRecord>>& docs,
                         const std::vector<SharedMetadata>& metadata) {
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
  for (size_t i : found.meta_misses) {
    if (!metadata[i]) continue;
    Entry& e = EntryLocked(Key{cid, meta_labels[i]});
    e.metadata = metadata[i];
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
  e = Entry{};  // frees its strings and its share of the metadata now
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
