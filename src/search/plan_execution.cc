#include "src/search/plan_execution.h"

#include <algorithm>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "index/faiss_index.h"
#include "index/index_layout.h"
#include "src/search/exact_scan.h"

namespace semdb {

PlannerInput PlannerInputFor(const SearchView& view, const SearchOptions& options, int depth) {
  PlannerInput in;
  in.live = view.index->size();
  in.dimension = view.record.dimension;
  in.k = depth;
  in.recall_target = options.recall_target;
  // A FaissIndex keeps its spec parsed; parsing it here was about 1% of an
  // IVF query (perf).
  const auto* faiss_index = dynamic_cast<const FaissIndex*>(view.index);
  in.layout = faiss_index != nullptr ? faiss_index->layout()
                                     : *IndexLayout::FromSpec(view.index->spec());
  in.exact_capable = view.index->can_search_exactly();
  in.user_knobs = options.knobs;
  return in;
}

IndexSearchKnobs WidenedKnobs(const IndexSearchKnobs& knobs) {
  IndexSearchKnobs wider = knobs;
  wider.ef_search = knobs.ef_search > 0 ? knobs.ef_search * kPlanGrowth : 0;
  wider.nprobe = knobs.nprobe > 0 ? knobs.nprobe * kPlanGrowth : 0;
  return wider;
}

PostFilterRound NextPostFilterRound(const PostFilterRound& last, int64_t index_size) {
  PostFilterRound next = last;
  next.fetch = static_cast<int>(std::min<int64_t>(int64_t{last.fetch} * kPlanGrowth, index_size));
  if (next.knobs.ef_search > 0) next.knobs.ef_search = std::max(next.knobs.ef_search, next.fetch);
  if (next.knobs.nprobe > 0) next.knobs.nprobe *= kPlanGrowth;
  return next;
}

absl::StatusOr<std::vector<IndexHit>> RunPlan(const SearchView& view, absl::Span<const float> query,
                                              const SearchOptions& options, const QueryPlan& plan,
                                              const FilterEstimate* estimate, SearchTrace* trace) {
  const VectorIndex& index = *view.index;
  const int k = options.k;
  const Filter* filter = options.filter ? &*options.filter : nullptr;
  trace->strategy_run = StrategyName(plan.strategy);
  // The exact list of matches, made at most once.
  std::optional<std::vector<uint64_t>> matches;
  auto list_matches = [&]() -> absl::Status {
    if (matches) return absl::OkStatus();
    absl::StatusOr<std::vector<uint64_t>> m = ListMatches(view, *filter, *estimate, trace);
    if (!m.ok()) return m.status();
    matches = *std::move(m);
    return absl::OkStatus();
  };
  // Membership in the matches by a bitmap over label numbers (dense: labels
  // count up from 1): the index checks it once per vector it meets, where a
  // binary search costs as much as the distance it saves.
  std::vector<bool> is_match;
  auto selector = [&]() -> LabelPredicate {
    if (is_match.empty()) {
      is_match.assign(matches->empty() ? 1 : matches->back() + 1, false);
      for (uint64_t label : *matches) is_match[label] = true;
    }
    return [&](uint64_t label) { return label < is_match.size() && is_match[label]; };
  };
  switch (plan.strategy) {
    case SearchStrategy::kAuto:
    case SearchStrategy::kExactScan: {
      if (filter == nullptr) return ExactScan(view, query, k, nullptr, trace);
      if (absl::Status s = list_matches(); !s.ok()) return s;
      LabelPredicate p = selector();
      return ExactScan(view, query, k, &p, trace);
    }
    case SearchStrategy::kFilteredScan: {
      if (absl::Status s = list_matches(); !s.ok()) return s;
      return ScanLabels(view, query, k, *matches, trace);
    }
    case SearchStrategy::kAnn: {
      LabelPredicate p;
      if (filter != nullptr) {
        if (absl::Status s = list_matches(); !s.ok()) return s;
        p = selector();
      }
      const int64_t expected =
          std::min<int64_t>(k, filter ? static_cast<int64_t>(matches->size()) : index.size());
      IndexSearchKnobs knobs = plan.knobs;
      for (int round = 0; round < 2; ++round) {
        ++trace->rounds;
        absl::StatusOr<std::vector<IndexHit>> found =
            index.Search(query, k, knobs, filter ? &p : nullptr);
        if (!found.ok()) return found.status();
        trace->fetched += static_cast<int64_t>(found->size());
        if (static_cast<int64_t>(found->size()) >= expected) return found;
        // Too few: the walk or the probed lists held too few matches.
        knobs = WidenedKnobs(knobs);
      }
      trace->fallback = "the index returned fewer than k hits: exact scan of the matches";
      trace->strategy_run = StrategyName(SearchStrategy::kFilteredScan);
      if (filter == nullptr) return ExactScan(view, query, k, nullptr, trace);
      return ScanLabels(view, query, k, *matches, trace);
    }
    case SearchStrategy::kAnnPostFilter: {
      absl::flat_hash_map<uint64_t, bool> verdicts;
      PostFilterRound round{.fetch = plan.fetch_k, .knobs = plan.knobs};
      std::vector<IndexHit> kept;
      for (int r = 0; r < kMaxPlanRounds; ++r) {
        ++trace->rounds;
        absl::StatusOr<std::vector<IndexHit>> found =
            index.Search(query, round.fetch, round.knobs, nullptr);
        if (!found.ok()) return found.status();
        trace->fetched += static_cast<int64_t>(found->size());
        kept.clear();
        for (const IndexHit& h : *found) {
          auto [it, fresh] = verdicts.try_emplace(h.label, false);
          if (fresh) {
            absl::StatusOr<bool> m = MatchesFilter(view, h.label, *filter);
            if (!m.ok()) return m.status();
            ++trace->checked;
            it->second = *m;
          }
          if (it->second) kept.push_back(h);
          if (static_cast<int>(kept.size()) == k) return kept;
        }
        // Everything the index holds was seen: the matches are all here.
        if (static_cast<int64_t>(found->size()) >= index.size()) return kept;
        round = NextPostFilterRound(round, index.size());
      }
      trace->fallback = "post-filtering kept fewer than k hits: exact scan with a selector";
      trace->strategy_run = StrategyName(SearchStrategy::kExactScan);
      if (absl::Status s = list_matches(); !s.ok()) return s;
      LabelPredicate p = selector();
      return ExactScan(view, query, k, &p, trace);
    }
  }
  return absl::InternalError("unknown strategy");
}

}  // namespace semdb
