#include "src/query_planner.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "fmt/format.h"

namespace semdb {
namespace {

// Per-operation costs in microseconds, measured on the benchmark machine
// (bench/ann_bench, 2 cores, SSE kernels): a float distance per dimension
// in a scan, an HNSW visit besides its distance (random access, heaps,
// visited set), an id-selector check (FAISS skips rejected vectors before
// computing their distance), a RocksDB MultiGet of one vector, a metadata
// read with its JSON parse and filter check, one field-index key (0.5-2
// us per key when 10k-90k are listed in bench/filtered_bench: a range scan
// per search, as the estimate keeps at most 5,000), one metadata record in
// a full scan.
constexpr double kDistPerDim = 0.0003;
constexpr double kHnswVisit = 0.35;
constexpr double kSelectorCheck = 0.005;
constexpr double kFetchVector = 2.5;
constexpr double kFetchMetadata = 4.0;
constexpr double kIndexKey = 1.5;
constexpr double kScanMetadata = 2.5;

// HNSW visits about ef * m / 2 vectors per search.
double HnswVisits(const IndexLayout& l, int ef) { return static_cast<double>(ef) * l.m * 0.5; }

double RecallFactor(double recall_target) {
  return recall_target <= 0.95 ? 1 : recall_target <= 0.99 ? 2 : 4;
}

}  // namespace

IndexSearchKnobs KnobsFor(const PlannerInput& in, int fetch_k) {
  IndexSearchKnobs knobs = in.user_knobs;
  const double f = RecallFactor(in.recall_target);
  const IndexLayout& l = in.layout;
  if (l.kind == IndexLayout::Kind::kHnsw && knobs.ef_search == 0) {
    // A search list of twice the results wanted keeps their recall near
    // that of the top k at the default ef.
    knobs.ef_search = std::max(static_cast<int>(l.ef_search * f), fetch_k > in.k ? 2 * fetch_k : 0);
  }
  if (l.kind == IndexLayout::Kind::kIvf && knobs.nprobe == 0) {
    // Enough lists to hold about four times fetch_k vectors.
    const double per_list = static_cast<double>(std::max<int64_t>(in.live, 1)) / l.nlist;
    const int needed = static_cast<int>(std::ceil(4.0 * fetch_k / per_list));
    knobs.nprobe = std::min(l.nlist, std::max(static_cast<int>(l.nprobe * f), needed));
  }
  return knobs;
}

std::optional<int> WidthForRecall(const std::vector<RecallSample>& curve,
                                  const IndexLayout& layout, double depth,
                                  double recall_target) {
  // The curve is measured on a few dozen stored vectors, which their own
  // links help the HNSW walk to: ask it for half the remaining gap more
  // (0.95 for 0.9, 0.975 for 0.95, 0.995 for 0.99; with a quarter,
  // bench/filtered_bench measured 0.980 for 0.99 at 90% selectivity). IVF
  // has no links, but the sample's error stays: with a quarter,
  // tests/planner_test measured 0.945 for 0.95 at 90%.
  const bool hnsw = layout.kind == IndexLayout::Kind::kHnsw;
  const double need = recall_target + 0.5 * (1 - recall_target);
  // (depth, narrowest width reaching `need` there, or 0 when none did).
  std::vector<std::pair<double, double>> widths;
  for (const RecallSample& s : curve) {
    if (widths.empty() || widths.back().first != s.depth) widths.emplace_back(s.depth, 0);
    if (widths.back().second == 0 && s.recall >= need) widths.back().second = s.width;
  }
  if (widths.empty()) return std::nullopt;
  double width = 0;
  auto above = std::find_if(widths.begin(), widths.end(),
                            [&](const auto& w) { return w.first >= depth; });
  if (above == widths.end()) {
    // Deeper than measured: the width grows with the depth.
    if (widths.back().second == 0) return std::nullopt;
    width = widths.back().second * depth / widths.back().first;
  } else if (above->second == 0) {
    return std::nullopt;
  } else if (above == widths.begin() || std::prev(above)->second == 0) {
    width = above->second;
  } else {
    // Between two measured depths: log-log interpolation.
    const auto& [d0, w0] = *std::prev(above);
    const auto& [d1, w1] = *above;
    width = w0 * std::pow(depth / d0, std::log(w1 / w0) / std::log(d1 / d0));
  }
  if (hnsw) return static_cast<int>(std::ceil(std::max(width, depth)));
  return std::min(layout.nlist, static_cast<int>(std::ceil(width)));
}

SearchExplanation::Plan QueryPlan::Explain() const {
  SearchExplanation::Plan p{.strategy = StrategyName(strategy),
                            .reason = reason,
                            .fetch_k = fetch_k,
                            .nprobe = knobs.nprobe,
                            .ef_search = knobs.ef_search};
  for (const StrategyCost& c : costs) {
    p.costs[StrategyName(c.strategy)] = {.feasible = c.feasible,
                                         .cost_us = std::round(c.cost_us * 10) / 10,
                                         .note = c.note};
  }
  return p;
}

absl::StatusOr<QueryPlan> PlanQuery(const PlannerInput& in, SearchStrategy forced) {
  const IndexLayout& l = in.layout;
  const double live = static_cast<double>(std::max<int64_t>(in.live, 1));
  const double dist = kDistPerDim * in.dimension;
  const double sel = std::clamp(in.selectivity, 1.0 / live, 1.0);
  const double matches = std::max(1.0, in.has_filter ? sel * live : live);
  const bool ann_index = l.kind != IndexLayout::Kind::kFlat;
  const bool exact_only = in.recall_target >= 1.0;
  // Filtered ANN searches take their width from the measured recall unless
  // the query sets it.
  const bool no_user_width =
      (l.kind == IndexLayout::Kind::kHnsw ? in.user_knobs.ef_search : in.user_knobs.nprobe) == 0;
  const bool calibrated = in.has_filter && !in.recall_curve.empty() && no_user_width;
  const bool pending = in.has_filter && in.recall_curve.empty() && in.calibration_pending &&
                       no_user_width && ann_index;
  // The width an ANN strategy reaching `depth` gets: read from the curve,
  // or the widest of the calibration's ladder while it is pending.
  // IVF reads the curve at the unfiltered ranks where the filtered top k
  // lie (k / selectivity): an IVF search finds a vector exactly when its
  // list is probed, whatever else it returns. (At 1.25 k / selectivity +
  // 10, bench/filtered_bench chose nprobe 128 for target 0.9 at 50%, where
  // 64 gives 0.96.) HNSW reads it at the depth it must reach: its walk also
  // keeps rejected nodes in its list.
  auto width_for = [&](double depth) -> std::optional<int> {
    if (pending) {
      return l.kind == IndexLayout::Kind::kHnsw
                 ? static_cast<int>(std::ceil(16 * std::min(depth, live)))
                 : l.nlist;
    }
    const double read_at = l.kind == IndexLayout::Kind::kIvf ? std::max<double>(in.k, in.k / sel)
                                                             : depth;
    return WidthForRecall(in.recall_curve, l, read_at, in.recall_target);
  };

  // The cost of one index search returning `fetch_k` results with `knobs`,
  // checking an id selector that accepts a fraction `pass` when `select`.
  auto ann_cost = [&](const IndexSearchKnobs& knobs, bool select, double pass) {
    const double check = select ? kSelectorCheck : 0;
    if (l.kind == IndexLayout::Kind::kHnsw) {
      // With a selector the graph is walked as usual but only accepted
      // vectors enter the result list; the planner widens ef for that.
      const double visits = HnswVisits(l, knobs.ef_search);
      const double code = l.codes == IndexLayout::Codes::kSq8 ? 0.6 : 1.0;
      return std::min(visits, live) * (dist * code + kHnswVisit + check);
    }
    if (l.kind == IndexLayout::Kind::kIvf) {
      const double scanned = live * std::min(1.0, static_cast<double>(knobs.nprobe) / l.nlist);
      const double code = l.codes == IndexLayout::Codes::kPq   ? 0.002 * l.pq_m
                          : l.codes == IndexLayout::Codes::kSq8 ? 0.6 * dist
                                                                : dist;
      return l.nlist * dist + scanned * (check + (select ? pass : 1.0) * code);
    }
    return live * (dist + check);
  };
  // Listing every match, for an id selector or a filtered scan: at hand
  // when the estimate listed them all, else from the field index or a scan.
  const double list_all = in.candidates_known
                              ? (in.candidates_exact ? 0 : in.candidates * kFetchMetadata)
                          : in.filter_covered ? matches * kIndexKey
                                              : live * kScanMetadata;
  // With a selector, rejected vectors cost a check, not a distance.
  const double exhaustive =
      !in.exact_capable ? live * (kFetchVector + dist)
      : in.has_filter   ? live * kSelectorCheck + matches * dist
                        : live * dist;

  std::vector<StrategyCost> costs;
  {  // exact scan
    StrategyCost c{SearchStrategy::kExactScan};
    c.cost_us = exhaustive + (in.has_filter ? list_all : 0);
    c.note = in.exact_capable ? "every vector in the index" : "every stored vector (the index keeps codes)";
    costs.push_back(c);
  }
  {  // filtered scan
    StrategyCost c{SearchStrategy::kFilteredScan};
    if (!in.has_filter) {
      c.feasible = false;
      c.note = "no filter";
    } else if (in.candidates_known) {
      const double n = static_cast<double>(in.candidates);
      c.cost_us = (in.candidates_exact ? 0 : n * kFetchMetadata) + matches * (kFetchVector + dist);
      c.note = fmt::format("{} candidates from the field index{}", in.candidates,
                           in.candidates_exact ? "" : ", checked against the filter");
    } else {
      c.cost_us = list_all + matches * (kFetchVector + dist);
      c.note = in.filter_covered ? "matches listed by the field index"
                                 : "matches found by reading every document's metadata";
    }
    costs.push_back(c);
  }
  // The true filtered top k lie among the unfiltered top k / selectivity:
  // how deep a filtered ANN search must reach, with a margin (the matches
  // there vary around their mean).
  const double reach = in.k * 1.25 / sel + 10;
  QueryPlan plan;
  const IndexSearchKnobs base = KnobsFor(in, in.k);
  IndexSearchKnobs selector_knobs = base;
  {  // ANN, with an id selector when filtered
    StrategyCost c{SearchStrategy::kAnn};
    if (!ann_index) {
      c.feasible = false;
      c.note = "the index is flat (exact): nothing to approximate";
    } else if (exact_only) {
      c.feasible = false;
      c.note = "recall_target 1 asks for exact search";
    } else {
      // As deep as post-filtering fetches (the walk also keeps rejected
      // nodes in its list: at depth k / selectivity alone,
      // bench/filtered_bench measured recall 0.886 for target 0.9 at 90%).
      const double depth = reach;
      const std::optional<int> width =
          calibrated || pending ? width_for(depth) : std::nullopt;
      if (calibrated && !width) {
        c.feasible = false;
        c.note = fmt::format("the measured recall at depth {:.0f} stays below {}", depth,
                             in.recall_target);
      } else if (calibrated || pending) {
        (l.kind == IndexLayout::Kind::kHnsw ? selector_knobs.ef_search : selector_knobs.nprobe) =
            *width;
      } else if (in.has_filter && l.kind == IndexLayout::Kind::kHnsw &&
                 in.user_knobs.ef_search == 0) {
        // Not measured: keep enough accepted candidates in reach of the
        // walk, as rejected nodes crowd the search list.
        selector_knobs.ef_search = static_cast<int>(
            std::min(4096.0, std::ceil(base.ef_search * std::pow(sel, -0.75))));
      } else if (in.has_filter && l.kind == IndexLayout::Kind::kIvf && in.user_knobs.nprobe == 0) {
        // Not measured: enough lists to hold about 5k accepted vectors.
        const int needed = static_cast<int>(std::ceil(5.0 * in.k * l.nlist / matches));
        selector_knobs.nprobe = std::min(l.nlist, std::max(base.nprobe, needed));
      }
      if (c.feasible) {
        c.cost_us = ann_cost(selector_knobs, in.has_filter, sel) + (in.has_filter ? list_all : 0);
        c.note = !in.has_filter ? "index search"
                 : calibrated
                     ? fmt::format("id selector over the listed matches; width {} for recall {} "
                                   "at depth {:.0f} (measured)",
                                   width.value_or(0), in.recall_target, depth)
                 : pending ? fmt::format("id selector over the listed matches; width {} (the "
                                         "widest: recall not measured yet)",
                                         width.value_or(0))
                           : "id selector over the listed matches";
      }
    }
    costs.push_back(c);
  }
  int post_fetch = in.k;
  IndexSearchKnobs post_knobs = base;
  {  // ANN with over-fetching and post-filtering
    StrategyCost c{SearchStrategy::kAnnPostFilter};
    post_fetch = static_cast<int>(std::min(live, std::ceil(reach)));
    post_knobs = KnobsFor(in, post_fetch);
    const std::optional<int> width =
        calibrated || pending ? width_for(post_fetch) : std::nullopt;
    if (width) (l.kind == IndexLayout::Kind::kHnsw ? post_knobs.ef_search : post_knobs.nprobe) = *width;
    if (!in.has_filter) {
      c.feasible = false;
      c.note = "no filter";
    } else if (!ann_index) {
      c.feasible = false;
      c.note = "the index is flat (exact): nothing to approximate";
    } else if (exact_only) {
      c.feasible = false;
      c.note = "recall_target 1 asks for exact search";
    } else if (post_fetch > std::max(live / 4, 1000.0)) {
      c.feasible = false;
      c.note = fmt::format("would fetch {} of {} vectors", post_fetch, in.live);
    } else if (calibrated && !width) {
      c.feasible = false;
      c.note = fmt::format("the measured recall at depth {} stays below {}", post_fetch,
                           in.recall_target);
    } else {
      c.cost_us = ann_cost(post_knobs, false, 1.0) + post_fetch * kFetchMetadata;
      c.note = fmt::format("fetch {}, check each against the filter{}", post_fetch,
                           calibrated ? fmt::format("; width {} for recall {} (measured)", width.value_or(0),
                                                    in.recall_target)
                           : pending  ? fmt::format("; width {} (the widest: recall not measured "
                                                    "yet)", width.value_or(0))
                                      : "");
    }
    costs.push_back(c);
  }

  const StrategyCost* chosen = nullptr;
  if (forced != SearchStrategy::kAuto) {
    for (const StrategyCost& c : costs) {
      if (c.strategy == forced) chosen = &c;
    }
    if (!in.has_filter &&
        (forced == SearchStrategy::kFilteredScan || forced == SearchStrategy::kAnnPostFilter)) {
      return absl::InvalidArgumentError(
          absl::StrCat("strategy ", StrategyName(forced), " needs a filter"));
    }
    plan.reason = "forced";
  } else {
    for (const StrategyCost& c : costs) {
      if (c.feasible && (chosen == nullptr || c.cost_us < chosen->cost_us)) chosen = &c;
    }
    plan.reason = fmt::format("cheapest estimate ({:.0f} us)", chosen->cost_us);
  }
  plan.strategy = chosen->strategy;
  plan.fetch_k = in.k;
  if (plan.strategy == SearchStrategy::kAnn) plan.knobs = selector_knobs;
  if (plan.strategy == SearchStrategy::kAnnPostFilter) {
    plan.knobs = post_knobs;
    plan.fetch_k = post_fetch;
  }
  plan.costs = std::move(costs);
  return plan;
}

}  // namespace semdb
