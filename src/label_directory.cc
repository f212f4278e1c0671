#include "src/label_directory.h"

namespace semdb {
namespace {

// Entries of deleted labels tolerated beyond the live ones.
constexpr int64_t kSlack = 4096;

}  // namespace

std::vector<std::optional<LabelDirectory::Entry>> LabelDirectory::Find(
    absl::Span<const uint64_t> labels) const {
  std::vector<std::optional<Entry>> out(labels.size());
  absl::ReaderMutexLock lock(&mu_);
  // The table's slots of all the labels first, without waiting for them:
  // a search's hits then miss the CPU's caches together, not one by one.
  for (uint64_t label : labels) entries_.prefetch(label);
  for (size_t i = 0; i < labels.size(); ++i) {
    auto it = entries_.find(labels[i]);
    if (it != entries_.end()) out[i] = it->second;
  }
  return out;
}

void LabelDirectory::Add(absl::Span<const uint64_t> labels, absl::Span<const Entry> entries,
                         int64_t live) {
  absl::MutexLock lock(&mu_);
  if (static_cast<int64_t>(entries_.size() + labels.size()) > 2 * live + kSlack) {
    entries_.clear();
  }
  for (size_t i = 0; i < labels.size(); ++i) entries_.try_emplace(labels[i], entries[i]);
}

}  // namespace semdb
