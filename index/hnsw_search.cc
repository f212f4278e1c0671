#include "index/hnsw_search.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "faiss/impl/DistanceComputer.h"
#include "faiss/impl/HNSW.h"
#include "faiss/impl/IDSelector.h"
#include "index/hnsw_level0.h"
#include "index/visited_table.h"

namespace semdb {
namespace {

using Node = faiss::HNSW::storage_idx_t;
using Scored = std::pair<float, Node>;  // (inner product, position)

// The buffers of one search, reused by the next one on the same thread.
struct SearchScratch {
  VisitedTable visited;
  std::vector<Scored> nearest;     // min-heap by score: the ef best seen
  std::vector<Scored> candidates;  // max-heap by score: not expanded yet
  std::vector<Scored> results;     // min-heap by score: the k best accepted
  std::vector<Node> batch;         // unvisited neighbours of one node
};

struct WorseFirst {  // makes a min-heap by score (top = worst)
  bool operator()(const Scored& a, const Scored& b) const { return a.first > b.first; }
};
struct BetterFirst {  // makes a max-heap by score (top = best)
  bool operator()(const Scored& a, const Scored& b) const { return a.first < b.first; }
};

// Scores stored float rows with a kernel.
struct FlatScorer {
  const float* vectors;
  size_t dim;
  InnerProductFn ip;
  const float* query;

  float operator()(Node v) const { return ip(query, vectors + dim * static_cast<size_t>(v), dim); }
  void Prefetch(Node v) const {
    const char* row = reinterpret_cast<const char*>(vectors + dim * static_cast<size_t>(v));
    const size_t bytes = dim * sizeof(float);
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(row + off, 0, 3);
  }
};

// Scores codes through FAISS's distance computer.
struct CodeScorer {
  faiss::DistanceComputer* dc;
  float operator()(Node v) const { return (*dc)(v); }
  void Prefetch(Node) const {}
};

// Scores the vectors of a packed level 0 (index/hnsw_level0.h).
struct PackedScorer {
  const PackedLevel0* level0;
  size_t dim;
  InnerProductFn ip;
  const float* query;

  float operator()(Node v) const { return ip(query, level0->vector(v), dim); }
  void Prefetch(Node v) const { level0->Prefetch(v); }
};

// Level-0 link lists (`width` slots each): FAISS's array, or a packed
// level 0.
struct FaissLinks {
  const faiss::HNSW* graph;
  int width;
  const Node* operator()(Node v) const { return graph->neighbors.data() + graph->offsets[v]; }
};
struct PackedLinks {
  const PackedLevel0* level0;
  int width;
  const Node* operator()(Node v) const { return level0->links(v); }
};

void Offer(std::vector<Scored>& results, size_t k, float score, Node v) {
  if (results.size() < k) {
    results.emplace_back(score, v);
    std::push_heap(results.begin(), results.end(), WorseFirst());
  } else if (score > results.front().first) {
    std::pop_heap(results.begin(), results.end(), WorseFirst());
    results.back() = {score, v};
    std::push_heap(results.begin(), results.end(), WorseFirst());
  }
}

template <typename Scorer, typename Links>
void Search(const faiss::HNSW& graph, const Scorer& score, const Links& level0_links,
            const HnswQuery& q, float* scores, int64_t* positions) {
  const size_t k = static_cast<size_t>(q.k);
  std::fill(positions, positions + k, -1);
  std::fill(scores, scores + k, 0.0f);
  if (graph.entry_point < 0) return;

  // Greedy descent: move to the best neighbour until none is better.
  Node nearest = graph.entry_point;
  float best = score(nearest);
  for (int level = graph.max_level; level >= 1; --level) {
    for (;;) {
      const Node before = nearest;
      size_t begin, end;
      graph.neighbor_range(nearest, level, &begin, &end);
      for (size_t j = begin; j < end; ++j) {
        const Node v = graph.neighbors[j];
        if (v < 0) break;
        const float s = score(v);
        if (s > best) {
          best = s;
          nearest = v;
        }
      }
      if (nearest == before) break;
    }
  }

  thread_local SearchScratch scratch;
  SearchScratch& t = scratch;
  t.visited.Begin(graph.levels.size());
  t.nearest.clear();
  t.candidates.clear();
  t.results.clear();
  const size_t ef = std::max<size_t>(static_cast<size_t>(std::max(q.ef, 1)), k);
  const faiss::IDSelector* sel = q.sel;
  // Without a selector the k best scored are the k best of `nearest`.
  std::vector<Scored>& accepted = sel != nullptr ? t.results : t.nearest;

  t.visited.Visit(nearest);
  t.nearest.emplace_back(best, nearest);
  t.candidates.emplace_back(best, nearest);
  if (sel != nullptr && sel->is_member(nearest)) Offer(t.results, k, best, nearest);

  // FAISS's count of unexpanded entries among the ef kept (see
  // HnswQuery::faiss_stop_rule): evicting the worst kept entry decrements it
  // even when that entry was already expanded.
  int64_t unexpanded = 1;
  const int width = level0_links.width;
  while ((unexpanded > 0 || !q.faiss_stop_rule) && !t.candidates.empty()) {
    const Scored c = t.candidates.front();
    // Every remaining candidate is worse than all ef kept: done.
    if (t.nearest.size() >= ef && c.first < t.nearest.front().first) break;
    std::pop_heap(t.candidates.begin(), t.candidates.end(), BetterFirst());
    t.candidates.pop_back();
    --unexpanded;

    const Node* links = level0_links(c.second);
    t.batch.clear();
    for (int j = 0; j < width; ++j) {
      const Node v = links[j];
      if (v < 0) break;
      if (t.visited.Visit(v)) t.batch.push_back(v);
    }
    const size_t m = t.batch.size();
    if (m > 0) score.Prefetch(t.batch[0]);
    for (size_t j = 0; j < m; ++j) {
      const Node v = t.batch[j];
      if (j + 1 < m) score.Prefetch(t.batch[j + 1]);
      const float s = score(v);
      if (sel != nullptr && sel->is_member(v)) Offer(t.results, k, s, v);
      if (t.nearest.size() < ef || s > t.nearest.front().first) {
        t.candidates.emplace_back(s, v);
        std::push_heap(t.candidates.begin(), t.candidates.end(), BetterFirst());
        t.nearest.emplace_back(s, v);
        std::push_heap(t.nearest.begin(), t.nearest.end(), WorseFirst());
        ++unexpanded;
        if (t.nearest.size() > ef) {
          std::pop_heap(t.nearest.begin(), t.nearest.end(), WorseFirst());
          t.nearest.pop_back();
          --unexpanded;
        }
      }
    }
  }

  // Best first: sort the heap, keep k.
  std::sort(accepted.begin(), accepted.end(),
            [](const Scored& a, const Scored& b) { return a.first > b.first; });
  const size_t found = std::min(k, accepted.size());
  for (size_t i = 0; i < found; ++i) {
    scores[i] = accepted[i].first;
    positions[i] = accepted[i].second;
  }
}

}  // namespace

void SearchHnswFlat(const faiss::HNSW& graph, const float* vectors, int dim, InnerProductFn ip,
                    const HnswQuery& query, float* scores, int64_t* positions) {
  Search(graph, FlatScorer{vectors, static_cast<size_t>(dim), ip, query.vector},
         FaissLinks{&graph, graph.nb_neighbors(0)}, query, scores, positions);
}

void SearchHnswPacked(const faiss::HNSW& graph, const PackedLevel0& level0, InnerProductFn ip,
                      const HnswQuery& query, float* scores, int64_t* positions) {
  Search(graph, PackedScorer{&level0, static_cast<size_t>(level0.dim()), ip, query.vector},
         PackedLinks{&level0, level0.width()}, query, scores, positions);
}

void SearchHnswCodes(const faiss::HNSW& graph, faiss::DistanceComputer& similarity,
                     const HnswQuery& query, float* scores, int64_t* positions) {
  Search(graph, CodeScorer{&similarity}, FaissLinks{&graph, graph.nb_neighbors(0)}, query, scores,
         positions);
}

}  // namespace semdb
