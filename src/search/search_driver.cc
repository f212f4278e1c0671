#include "src/search/search_driver.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

#include "src/hybrid_fusion.h"
#include "src/query_planner.h"
#include "src/search/filter_estimate.h"
#include "src/search/hit_assembly.h"
#include "src/search/keyword_ranking.h"
#include "src/search/plan_execution.h"
#include "src/search/recall_curve_cache.h"
#include "src/search/search_trace.h"

namespace semdb {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

}  // namespace

ScoreKind ScoreKindOf(double hybrid, FusionMethod fusion) {
  return hybrid <= 0                          ? ScoreKind::kCosine
         : fusion == FusionMethod::kRrf       ? ScoreKind::kRankFusion
         : hybrid >= 1                        ? ScoreKind::kKeyword
                                              : ScoreKind::kFusion;
}

absl::StatusOr<std::vector<Hit>> RunSearch(const SearchView& view, absl::Span<const float> query,
                                           const SearchOptions& options, std::string_view text,
                                           SearchExplanation* explain, bool analyze) {
  // The callers answer an index-less collection themselves (empty, or
  // NoIndexLocked); this keeps any other way in an error, not a crash.
  if (view.index == nullptr) {
    return absl::FailedPreconditionError("the collection has no vector index to search");
  }
  const Clock::time_point start = Clock::now();
  SearchTrace trace;
  const double hybrid = options.hybrid.value_or(
      text.empty() || view.doc_indexes.keywords() == nullptr ? 0 : kDefaultKeywordWeight);
  // Fusion ranks deeper than k on each side.
  const int depth = hybrid > 0 ? std::min(kMaxK, std::max(4 * options.k, 60)) : options.k;
  SearchOptions vector_options = options;
  vector_options.k = depth;

  PlannerInput in = PlannerInputFor(view, options, depth);
  std::optional<FilterEstimate> estimate;
  if (options.filter) {
    absl::StatusOr<FilterEstimate> e = EstimateFilter(view, *options.filter);
    if (!e.ok()) return e.status();
    estimate = *std::move(e);
    in.has_filter = true;
    in.selectivity = estimate->selectivity;
    in.estimated_matches = estimate->matches;
    in.candidates_known = estimate->candidates.has_value();
    in.candidates_exact = in.candidates_known && estimate->candidates->exact;
    in.candidates = in.candidates_known ? estimate->candidates->labels.size() : 0;
    in.filter_covered = estimate->covered;
  }
  // Filtered ANN searches take their width from the index's measured
  // recall, unless the query fixes it; without a curve yet (it is measured
  // when the index is saved, never here), the planner plans conservatively.
  std::shared_ptr<const RecallCurve> curve;
  if (options.filter && RecallCurveCache::Calibrates(in.layout, *view.index)) {
    curve = view.recall_curves.Find(view);
    if (curve != nullptr) in.recall_curve = curve->samples;
    in.calibration_pending = curve == nullptr;
  }
  trace.estimate_ms = MsSince(start);
  absl::StatusOr<QueryPlan> plan = PlanQuery(in, options.strategy);
  if (!plan.ok()) return plan.status();

  if (explain != nullptr) {
    ExplainPlan(view, options, hybrid, depth, in, estimate ? &*estimate : nullptr, curve.get(),
                *plan, explain);
    if (!analyze) return std::vector<Hit>{};
  }

  // One passage per document: fetch more than k passages, keep the best of
  // each document, and fetch more again while fewer than k documents came
  // out and the index may hold more.
  const bool one_per_parent = options.one_per_parent && view.chunked;
  const int64_t live = std::max<int64_t>(1, view.index->size());
  int64_t fetch = one_per_parent ? std::min<int64_t>(int64_t{4} * options.k, live) : options.k;
  std::vector<IndexHit> found;
  std::vector<uint64_t> hit_labels;
  absl::StatusOr<std::vector<Hit>> hits;
  double search_ms = 0, documents_ms = 0;
  while (true) {
    const Clock::time_point search_start = Clock::now();
    found.clear();
    const int round_depth = hybrid > 0 ? static_cast<int>(std::max<int64_t>(4 * fetch, 60))
                                       : static_cast<int>(fetch);
    vector_options.k = round_depth;
    if (estimate && estimate->candidates && estimate->candidates->exact &&
        estimate->candidates->labels.empty()) {
      trace.strategy_run = "none (no document matches)";
    } else if (hybrid < 1) {
      absl::StatusOr<std::vector<IndexHit>> v = RunPlan(
          view, query, vector_options, *plan, estimate ? &*estimate : nullptr, &trace);
      if (!v.ok()) return v.status();
      found = *std::move(v);
    }
    if (hybrid > 0) {
      absl::StatusOr<std::vector<IndexHit>> kw = KeywordRanking(
          view, text, round_depth, options.filter ? &*options.filter : nullptr, &trace);
      if (!kw.ok()) return kw.status();
      found = FuseRankings(found, *kw, options.fusion, hybrid, round_depth);
      if (explain != nullptr) explain->hybrid->keyword_hits = static_cast<int64_t>(kw->size());
    }
    const bool exhausted = static_cast<int64_t>(found.size()) < fetch;
    if (static_cast<int64_t>(found.size()) > fetch) found.resize(fetch);
    search_ms += MsSince(search_start);
    const Clock::time_point documents_start = Clock::now();
    hits = AssembleHits(view, found, options.k, one_per_parent, options.include, &hit_labels);
    documents_ms += MsSince(documents_start);
    if (!hits.ok()) return hits.status();
    if (!one_per_parent || static_cast<int>(hits->size()) >= options.k || exhausted ||
        fetch >= live) {
      break;
    }
    fetch = std::min(fetch * 4, live);
  }
  const ScoreKind kind = ScoreKindOf(hybrid, options.fusion);
  for (Hit& h : *hits) h.score_kind = kind;
  if (absl::Status s = AddRequestedContext(view, options, hit_labels, &*hits); !s.ok()) return s;
  trace.search_ms = search_ms;
  trace.documents_ms = documents_ms;
  if (explain != nullptr) {
    explain->analysis =
        AnalysisOf(trace, static_cast<int64_t>(hits->size()), MsSince(start));
  }
  return hits;
}

}  // namespace semdb
