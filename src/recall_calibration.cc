#include "src/recall_calibration.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/container/flat_hash_set.h"

namespace semdb {
namespace {

// Depths measured. HNSW stops at 160: its ladder at 640 (ef up to 10,240)
// walks most of a 100k graph per query and cost 80% of the measurement,
// while the planner reads so deep only below 1% selectivity, where an
// exact scan wins; deeper than measured, WidthForRecall scales the width
// in proportion to the depth, which overestimates it (the ef a recall
// needs grows more slowly than the depth).
constexpr int kIvfDepths[] = {10, 40, 160, 640};
constexpr int kHnswDepths[] = {10, 40, 160};
// HNSW search list sizes as multiples of the depth.
constexpr double kEfRatios[] = {1, 1.5, 2, 3, 4, 6, 8, 12, 16};
// A depth's ladder stops at this recall: the planner asks at most 0.995
// of the curve for the targets 0.9..0.99 (WidthForRecall's margin), and
// beyond it a width only rules out the last few misses of the sample.
constexpr double kEnoughRecall = 0.999;

// The first `depth` labels of `hits` other than `self`.
std::vector<uint64_t> TopOthers(const std::vector<IndexHit>& hits, uint64_t self, int depth) {
  std::vector<uint64_t> out;
  for (const IndexHit& h : hits) {
    if (static_cast<int>(out.size()) == depth) break;
    if (h.label != self) out.push_back(h.label);
  }
  return out;
}

// Recall@depth of `found` against `truth`, both best first, over all
// queries, leaving out each query's own stored vector.
double RecallAt(const std::vector<std::vector<IndexHit>>& found,
                const std::vector<std::vector<IndexHit>>& truth,
                const std::vector<uint64_t>& self, int depth) {
  int64_t hit = 0, wanted = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    const std::vector<uint64_t> want_list = TopOthers(truth[q], self[q], depth);
    const absl::flat_hash_set<uint64_t> want(want_list.begin(), want_list.end());
    wanted += static_cast<int64_t>(want.size());
    for (uint64_t label : TopOthers(found[q], self[q], depth)) hit += want.contains(label);
  }
  return wanted == 0 ? 1.0 : static_cast<double>(hit) / wanted;
}

// The widths of `depth`'s ladder, ascending.
std::vector<int> Ladder(const IndexLayout& layout, int depth) {
  std::vector<int> widths;
  if (layout.kind == IndexLayout::Kind::kHnsw) {
    for (double r : kEfRatios) widths.push_back(static_cast<int>(std::ceil(depth * r)));
  } else {
    for (int p = 1; p < layout.nlist; p *= 2) widths.push_back(p);
    widths.push_back(layout.nlist);
  }
  return widths;
}

}  // namespace

absl::StatusOr<RecallCurve> MeasureRecallCurve(const VectorIndex& index,
                                               const IndexLayout& layout,
                                               absl::Span<const float> queries,
                                               const std::vector<uint64_t>& self) {
  const auto start = std::chrono::steady_clock::now();
  const int dim = index.dimension();
  const int64_t n = static_cast<int64_t>(queries.size()) / dim;
  RecallCurve curve;
  curve.index_size = index.size();
  curve.queries = static_cast<int>(n);
  if (n == 0) return curve;
  const bool hnsw = layout.kind == IndexLayout::Kind::kHnsw;
  if (!hnsw && layout.kind != IndexLayout::Kind::kIvf) return curve;

  std::vector<int> depths;
  for (int d : hnsw ? absl::MakeConstSpan(kHnswDepths) : absl::MakeConstSpan(kIvfDepths)) {
    if (d * int64_t{8} <= index.size()) depths.push_back(d);
  }
  if (depths.empty()) return curve;
  // The exact top of every query at once (one matrix product for a flat
  // scan).
  absl::StatusOr<std::vector<std::vector<IndexHit>>> truth =
      index.SearchBatch(queries, depths.back() + 1, {.exact = true}, nullptr);
  if (!truth.ok()) return truth.status();

  // One search per width serves every depth whose ladder holds it: a
  // search's top D is the same whatever more it returns, since the width
  // (nprobe's lists; HNSW's list of max(ef, k)) sets what it visits.
  std::vector<int> widths;
  for (int depth : depths) {
    for (int w : Ladder(layout, depth)) widths.push_back(w);
  }
  std::sort(widths.begin(), widths.end());
  widths.erase(std::unique(widths.begin(), widths.end()), widths.end());
  std::vector<std::vector<RecallSample>> by_depth(depths.size());
  std::vector<bool> done(depths.size(), false);
  for (int width : widths) {
    std::vector<size_t> at;  // the depths still measuring whose ladder holds `width`
    for (size_t i = 0; i < depths.size(); ++i) {
      const std::vector<int> ladder = Ladder(layout, depths[i]);
      if (!done[i] && std::find(ladder.begin(), ladder.end(), width) != ladder.end()) {
        at.push_back(i);
      }
    }
    if (at.empty()) continue;
    // Visiting every list of IVF-Flat is an exact search: recall 1 with
    // nothing to measure.
    const bool exhaustive = !hnsw && width >= layout.nlist;
    std::vector<std::vector<IndexHit>> found;
    if (!exhaustive) {
      IndexSearchKnobs knobs;
      (hnsw ? knobs.ef_search : knobs.nprobe) = width;
      absl::StatusOr<std::vector<std::vector<IndexHit>>> f =
          index.SearchBatch(queries, depths[at.back()] + 1, knobs, nullptr);
      if (!f.ok()) return f.status();
      found = *std::move(f);
    }
    for (size_t i : at) {
      const double recall = exhaustive ? 1.0 : RecallAt(found, *truth, self, depths[i]);
      by_depth[i].push_back({depths[i], width, recall});
      done[i] = recall >= kEnoughRecall || width >= index.size();
    }
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
  }
  for (const std::vector<RecallSample>& samples : by_depth) {
    curve.samples.insert(curve.samples.end(), samples.begin(), samples.end());
  }
  curve.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                 .count();
  return curve;
}

}  // namespace semdb
