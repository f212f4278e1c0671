#include "src/recall_calibration.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/container/flat_hash_set.h"

namespace semdb {
namespace {

constexpr int kDepths[] = {10, 40, 160, 640};
// HNSW search list sizes as multiples of the depth.
constexpr double kEfRatios[] = {1, 1.5, 2, 3, 4, 6, 8, 12, 16};

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

  std::vector<int> depths;
  for (int d : kDepths) {
    if (d * int64_t{8} <= index.size()) depths.push_back(d);
  }
  if (depths.empty()) return curve;
  absl::StatusOr<std::vector<std::vector<IndexHit>>> truth =
      index.SearchBatch(queries, depths.back() + 1, {.exact = true}, nullptr);
  if (!truth.ok()) return truth.status();

  for (int depth : depths) {
    std::vector<int> widths;
    if (layout.kind == IndexLayout::Kind::kHnsw) {
      for (double r : kEfRatios) widths.push_back(static_cast<int>(std::ceil(depth * r)));
    } else if (layout.kind == IndexLayout::Kind::kIvf) {
      for (int p = 1; p < layout.nlist; p *= 2) widths.push_back(p);
      widths.push_back(layout.nlist);
    }
    for (int width : widths) {
      IndexSearchKnobs knobs;
      (layout.kind == IndexLayout::Kind::kHnsw ? knobs.ef_search : knobs.nprobe) = width;
      absl::StatusOr<std::vector<std::vector<IndexHit>>> found =
          index.SearchBatch(queries, depth + 1, knobs, nullptr);
      if (!found.ok()) return found.status();
      const double recall = RecallAt(*found, *truth, self, depth);
      curve.samples.push_back({depth, width, recall});
      if (recall >= 1.0 || width >= index.size()) break;
    }
  }
  curve.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                 .count();
  return curve;
}

}  // namespace semdb
