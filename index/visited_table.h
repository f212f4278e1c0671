// VisitedTable: which graph nodes the current HNSW walk (a search or one
// insertion of a build) has reached. A new walk bumps a tag instead of
// clearing the table, so a table kept per thread costs O(1) per walk rather
// than FAISS's allocation and memset of ntotal bytes.
#ifndef SEMDB_INDEX_VISITED_TABLE_H_
#define SEMDB_INDEX_VISITED_TABLE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace semdb {

class VisitedTable {
 public:
  // Starts a walk over nodes 0..n-1; grows the table to n.
  void Begin(size_t n) {
    if (tags_.size() < n) tags_.resize(n, 0);
    if (++tag_ == 0) {
      std::fill(tags_.begin(), tags_.end(), 0);
      tag_ = 1;
    }
  }
  // True when `v` was not visited yet in this walk; marks it.
  bool Visit(int32_t v) {
    if (tags_[v] == tag_) return false;
    tags_[v] = tag_;
    return true;
  }
  void Prefetch(int32_t v) const { __builtin_prefetch(&tags_[v], 0, 3); }

 private:
  std::vector<uint16_t> tags_;
  uint16_t tag_ = 0;
};

}  // namespace semdb

#endif  // SEMDB_INDEX_VISITED_TABLE_H_
