#include "index/hnsw_build.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "faiss/impl/HNSW.h"
#include "index/hnsw_level0.h"
#include "index/visited_table.h"

namespace semdb {
namespace {

using Node = faiss::HNSW::storage_idx_t;
using Scored = std::pair<float, Node>;  // (inner product, position)

struct WorseFirst {  // min-heap by score (top = worst)
  bool operator()(const Scored& a, const Scored& b) const { return a.first > b.first; }
};
struct BetterFirst {  // max-heap by score (top = best)
  bool operator()(const Scored& a, const Scored& b) const { return a.first < b.first; }
};

// Lock stripes: enough that two threads rarely wait on unrelated nodes.
constexpr size_t kLockStripes = size_t{1} << 14;

// A lock held for the copy or rewrite of one short list: spinning costs
// less than a mutex's call and its memory; after a while it yields, in case
// the holder was preempted.
class SpinLock {
 public:
  void lock() {
    for (int spins = 0; flag_.test_and_set(std::memory_order_acquire); ++spins) {
      if (spins >= 64) std::this_thread::yield();
    }
  }
  void unlock() { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag flag_;
};

// One thread's buffers, reused from one insertion to the next.
struct InsertScratch {
  VisitedTable visited;
  std::vector<Scored> nearest;     // min-heap: the efConstruction best found
  std::vector<Scored> candidates;  // max-heap: not expanded yet
  std::vector<Scored> chosen;      // output of the heuristic
  std::vector<Scored> own;         // the new node's links at one level
  std::vector<Node> links;         // a copy of one node's list
};

class Builder {
 public:
  Builder(faiss::HNSW& graph, PackedLevel0& level0, InnerProductFn ip)
      : graph_(graph),
        level0_(level0),
        dim_(static_cast<size_t>(level0.dim())),
        ip_(ip),
        locks_(new SpinLock[kLockStripes]) {
    // faiss::HNSW's accessors are calls into libfaiss: read them once.
    // Level 0's slots are in the blocks, not in graph.neighbors.
    for (int l = 0; l + 1 < static_cast<int>(graph.cum_nneighbor_per_level.size()); ++l) {
      first_slot_.push_back(graph.cum_nb_neighbors(l));
      width_.push_back(l == 0 ? level0.width() : graph.nb_neighbors(l));
    }
  }

  void Insert(Node v, InsertScratch& t);

 private:
  const float* Row(Node v) const { return level0_.vector(v); }
  float Score(const float* q, Node v) const { return ip_(q, Row(v), dim_); }
  void PrefetchRow(Node v) const {
    const char* row = reinterpret_cast<const char*>(Row(v));
    for (size_t off = 0; off < dim_ * sizeof(float); off += 64) __builtin_prefetch(row + off, 0, 3);
  }
  SpinLock& LockOf(Node v) { return locks_[static_cast<size_t>(v) % kLockStripes]; }
  // v's list at `level`: every read and write of a list goes through here.
  Node* Links(Node v, int level) {
    if (level == 0) return level0_.mutable_links(v);
    return graph_.neighbors.data() + graph_.offsets[v] + first_slot_[level];
  }
  // Copies v's links at `level` into t.links.
  void ReadLinks(Node v, int level, InsertScratch& t);
  // Best-first search of `level` from `entry` for `q`: leaves the ef best
  // found in t.nearest, best first.
  void SearchLevel(const float* q, Scored entry, int level, size_t ef, size_t n,
                   InsertScratch& t);
  // hnswlib's heuristic: keeps from `sorted` (best first, each scored
  // against one node) at most `m` candidates, each closer to that node than
  // to every candidate kept before it; writes them to t.chosen.
  void Choose(const std::vector<Scored>& sorted, size_t m, InsertScratch& t);
  // Adds `v` (score s against u) to u's links at `level`.
  void LinkBack(Node u, Node v, float s, int level, InsertScratch& t);

  faiss::HNSW& graph_;
  PackedLevel0& level0_;
  size_t dim_;
  InnerProductFn ip_;
  std::vector<int> first_slot_, width_;  // per level: offset and count of its links
  std::unique_ptr<SpinLock[]> locks_;
  std::mutex top_;  // entry_point and max_level
};

void Builder::ReadLinks(Node v, int level, InsertScratch& t) {
  const int width = width_[level];
  t.links.resize(static_cast<size_t>(width));
  int count = 0;
  std::lock_guard<SpinLock> lock(LockOf(v));
  const Node* links = Links(v, level);
  while (count < width && links[count] >= 0) {
    t.links[count] = links[count];
    ++count;
  }
  t.links.resize(static_cast<size_t>(count));
}

void Builder::SearchLevel(const float* q, Scored entry, int level, size_t ef, size_t n,
                          InsertScratch& t) {
  t.visited.Begin(n);
  t.visited.Visit(entry.second);
  t.nearest.assign(1, entry);
  t.candidates.assign(1, entry);
  while (!t.candidates.empty()) {
    const Scored c = t.candidates.front();
    if (c.first < t.nearest.front().first && t.nearest.size() >= ef) break;
    std::pop_heap(t.candidates.begin(), t.candidates.end(), BetterFirst());
    t.candidates.pop_back();
    ReadLinks(c.second, level, t);
    const size_t m = t.links.size();
    for (size_t j = 0; j < m; ++j) t.visited.Prefetch(t.links[j]);
    for (size_t j = 0; j < m; ++j) {
      const Node u = t.links[j];
      if (!t.visited.Visit(u)) continue;
      if (j + 1 < m) PrefetchRow(t.links[j + 1]);
      const float s = Score(q, u);
      if (t.nearest.size() < ef || s > t.nearest.front().first) {
        t.candidates.emplace_back(s, u);
        std::push_heap(t.candidates.begin(), t.candidates.end(), BetterFirst());
        t.nearest.emplace_back(s, u);
        std::push_heap(t.nearest.begin(), t.nearest.end(), WorseFirst());
        if (t.nearest.size() > ef) {
          std::pop_heap(t.nearest.begin(), t.nearest.end(), WorseFirst());
          t.nearest.pop_back();
        }
      }
    }
    // The next node expanded is likely the best candidate: fetch its list
    // while the loop checks whether to stop.
    if (!t.candidates.empty()) __builtin_prefetch(Links(t.candidates.front().second, level), 0, 3);
  }
  std::sort(t.nearest.begin(), t.nearest.end(),
            [](const Scored& a, const Scored& b) { return a.first > b.first; });
}

void Builder::Choose(const std::vector<Scored>& sorted, size_t m, InsertScratch& t) {
  t.chosen.clear();
  for (const Scored& c : sorted) {
    if (t.chosen.size() >= m) break;
    bool keep = true;
    for (const Scored& kept : t.chosen) {
      if (ip_(Row(c.second), Row(kept.second), dim_) > c.first) {
        keep = false;
        break;
      }
    }
    if (keep) t.chosen.push_back(c);
  }
}

void Builder::LinkBack(Node u, Node v, float s, int level, InsertScratch& t) {
  const int width = width_[level];
  std::lock_guard<SpinLock> lock(LockOf(u));
  Node* links = Links(u, level);
  int count = 0;
  while (count < width && links[count] >= 0) {
    if (links[count] == v) return;
    ++count;
  }
  if (count < width) {
    links[count] = v;
    return;
  }
  // Full: keep the heuristic's choice among the old links and v. The
  // scratch's `candidates` is free here (the level's search is done).
  std::vector<Scored>& pool = t.candidates;
  pool.clear();
  pool.emplace_back(s, v);
  const float* row = Row(u);
  for (int j = 0; j < width; ++j) pool.emplace_back(Score(row, links[j]), links[j]);
  std::sort(pool.begin(), pool.end(),
            [](const Scored& a, const Scored& b) { return a.first > b.first; });
  Choose(pool, static_cast<size_t>(width), t);
  int j = 0;
  for (const Scored& c : t.chosen) links[j++] = c.second;
  std::fill(links + j, links + width, -1);
}

void Builder::Insert(Node v, InsertScratch& t) {
  const int level = graph_.levels[v] - 1;
  std::unique_lock<std::mutex> top(top_);
  if (graph_.entry_point < 0) {
    graph_.entry_point = v;
    graph_.max_level = level;
    return;
  }
  const int max_level = graph_.max_level;
  Node nearest = graph_.entry_point;
  // A new top level: hold the entry point until this node is linked.
  if (level <= max_level) top.unlock();

  const float* q = Row(v);
  const size_t n = graph_.levels.size();
  float best = Score(q, nearest);
  for (int l = max_level; l > level; --l) {
    for (bool moved = true; moved;) {
      moved = false;
      ReadLinks(nearest, l, t);
      for (Node u : t.links) {
        const float s = Score(q, u);
        if (s > best) {
          best = s;
          nearest = u;
          moved = true;
        }
      }
    }
  }
  const size_t ef = static_cast<size_t>(std::max(graph_.efConstruction, 1));
  // Level 0 has 2M slots and the levels above M: a new node takes M links.
  const size_t m = static_cast<size_t>(width_[0] / 2);
  for (int l = std::min(level, max_level); l >= 0; --l) {
    SearchLevel(q, {best, nearest}, l, ef, n, t);
    best = t.nearest.front().first;
    nearest = t.nearest.front().second;
    Choose(t.nearest, m, t);
    t.own.swap(t.chosen);
    {
      std::lock_guard<SpinLock> lock(LockOf(v));
      Node* links = Links(v, l);
      const int width = width_[l];
      int j = 0;
      for (const Scored& c : t.own) links[j++] = c.second;
      std::fill(links + j, links + width, -1);
    }
    for (const Scored& c : t.own) LinkBack(c.second, v, c.first, l, t);
  }
  if (level > max_level) {
    graph_.entry_point = v;
    graph_.max_level = level;
  }
}

}  // namespace

void BuildHnsw(faiss::HNSW& graph, PackedLevel0& level0, InnerProductFn ip, int threads) {
  const int64_t first = static_cast<int64_t>(graph.levels.size());
  const int64_t n = static_cast<int64_t>(level0.size());
  if (n <= first) return;
  graph.prepare_level_tab(static_cast<size_t>(n - first));
  Builder builder(graph, level0, ip);
  // The first nodes one by one, so that parallel inserts start from a graph.
  constexpr int64_t kSerialStart = 256;
  const int64_t serial_end = std::min(n, std::max(first, kSerialStart));
  InsertScratch scratch;
  int64_t next_serial = first;
  for (; next_serial < serial_end; ++next_serial) {
    builder.Insert(static_cast<Node>(next_serial), scratch);
  }
  std::atomic<int64_t> next{next_serial};
  auto run = [&](InsertScratch* t) {
    for (int64_t v; (v = next.fetch_add(1)) < n;) builder.Insert(static_cast<Node>(v), *t);
  };
  const int64_t workers = std::max<int64_t>(1, std::min<int64_t>(threads, (n - next_serial) / 64));
  std::vector<std::thread> pool;
  std::vector<InsertScratch> scratches(static_cast<size_t>(workers - 1));
  for (int64_t w = 1; w < workers; ++w) pool.emplace_back(run, &scratches[w - 1]);
  run(&scratch);
  for (std::thread& w : pool) w.join();
}

}  // namespace semdb
