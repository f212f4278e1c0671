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
// read with its JSON parse and filter check, one field-index key, one
// metadata record in a full scan.
constexpr double kDistPerDim = 0.0003;
constexpr double kHnswVisit = 0.35;
constexpr double kSelectorCheck = 0.005;
constexpr double kFetchVector = 2.5;
constexpr double kFetchMetadata = 4.0;
constexpr double kIndexKey = 0.3;
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
  // Listing every match, for an id selector or a filtered scan.
  const double list_all = in.filter_covered ? matches * kIndexKey : live * kScanMetadata;
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
      if (in.has_filter && l.kind == IndexLayout::Kind::kHnsw && in.user_knobs.ef_search == 0) {
        // Keep enough accepted candidates in reach of the walk: rejected
        // nodes crowd the search list as selectivity drops.
        selector_knobs.ef_search = static_cast<int>(
            std::min(4096.0, std::ceil(base.ef_search * std::pow(sel, -0.75))));
      }
      if (in.has_filter && l.kind == IndexLayout::Kind::kIvf && in.user_knobs.nprobe == 0) {
        // Enough lists to hold about 5k accepted vectors.
        const int needed = static_cast<int>(std::ceil(5.0 * in.k * l.nlist / matches));
        selector_knobs.nprobe = std::min(l.nlist, std::max(base.nprobe, needed));
      }
      c.cost_us = ann_cost(selector_knobs, in.has_filter, sel) + (in.has_filter ? list_all : 0);
      c.note = in.has_filter ? "id selector over the listed matches" : "index search";
    }
    costs.push_back(c);
  }
  int post_fetch = in.k;
  IndexSearchKnobs post_knobs = base;
  {  // ANN with over-fetching and post-filtering
    StrategyCost c{SearchStrategy::kAnnPostFilter};
    post_fetch = static_cast<int>(std::min(live, std::ceil(in.k * 1.25 / sel) + 10));
    post_knobs = KnobsFor(in, post_fetch);
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
    } else {
      c.cost_us = ann_cost(post_knobs, false, 1.0) + post_fetch * kFetchMetadata;
      c.note = fmt::format("fetch {}, check each against the filter", post_fetch);
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
