#include "src/search/search_trace.h"

#include <cmath>

#include "src/hybrid_fusion.h"
#include "src/search/filter_estimate.h"

namespace semdb {

void ExplainPlan(const SearchView& view, const SearchOptions& options, double hybrid, int depth,
                 const PlannerInput& in, const FilterEstimate* estimate,
                 const RecallCurve* curve, const QueryPlan& plan, SearchExplanation* explain) {
  explain->query = {.k = options.k,
                    .recall_target = options.recall_target,
                    .filter = options.filter ? options.filter->ToString() : "",
                    .hybrid = hybrid,
                    .strategy = options.strategy != SearchStrategy::kAuto
                                    ? StrategyName(options.strategy)
                                    : ""};
  explain->collection = {.live = view.counters.live_docs,
                         .index = view.index->Describe().value("spec", ""),
                         .configured_index = view.record.index_spec};
  explain->estimates = {.selectivity = in.selectivity,
                        .estimated_matches = in.has_filter ? in.estimated_matches : in.live};
  if (estimate != nullptr) {
    explain->estimates.source = estimate->source;
    explain->estimates.field_index_covers_filter = estimate->covered;
    if (estimate->candidates) {
      explain->estimates.candidates = static_cast<int64_t>(estimate->candidates->labels.size());
    }
  }
  if (curve != nullptr) {
    explain->estimates.recall_calibration = SearchExplanation::Estimates::RecallCalibration{
        .queries = curve->queries,
        .index_size = curve->index_size,
        .samples = static_cast<int64_t>(curve->samples.size()),
        .ms = std::round(curve->ms)};
  }
  explain->plan = plan.Explain();
  if (hybrid > 0) {
    explain->hybrid = SearchExplanation::Hybrid{
        .keyword_weight = hybrid, .fusion = FusionName(options.fusion), .depth = depth};
  }
}

SearchExplanation::Analysis AnalysisOf(const SearchTrace& trace, int64_t hits, double total_ms) {
  return SearchExplanation::Analysis{.strategy_run = trace.strategy_run,
                                     .index_searches = trace.rounds,
                                     .index_results = trace.fetched,
                                     .filter_checks = trace.checked,
                                     .matches_listed = trace.listed,
                                     .vectors_scanned = trace.compared,
                                     .fallback = trace.fallback,
                                     .hits = hits,
                                     .plan_ms = trace.estimate_ms,
                                     .search_ms = trace.search_ms,
                                     .documents_ms = trace.documents_ms,
                                     .total_ms = total_ms};
}

}  // namespace semdb
