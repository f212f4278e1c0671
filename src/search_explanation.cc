#include "semdb/search_explanation.h"

namespace semdb {

nlohmann::json SearchExplanation::ToJson() const {
  if (!no_plan.empty()) return {{"plan", no_plan}};
  nlohmann::json j;
  nlohmann::json q = {{"k", query.k}, {"recall_target", query.recall_target}};
  if (!query.filter.empty()) q["filter"] = query.filter;
  if (query.hybrid > 0) q["hybrid"] = query.hybrid;
  if (!query.strategy.empty()) q["strategy"] = query.strategy;
  j["query"] = q;
  j["collection"] = {{"live", collection.live},
                     {"index", collection.index},
                     {"configured_index", collection.configured_index}};
  nlohmann::json est = {{"selectivity", estimates.selectivity},
                        {"estimated_matches", estimates.estimated_matches}};
  if (!estimates.source.empty()) {
    est["source"] = estimates.source;
    est["field_index_covers_filter"] = estimates.field_index_covers_filter;
    if (estimates.candidates) est["candidates"] = *estimates.candidates;
  }
  if (const auto& c = estimates.recall_calibration) {
    est["recall_calibration"] = {{"queries", c->queries},
                                 {"index_size", c->index_size},
                                 {"samples", c->samples},
                                 {"ms", c->ms}};
  }
  j["estimates"] = est;
  nlohmann::json costs = nlohmann::json::object();
  for (const auto& [name, c] : plan.costs) {
    nlohmann::json cost = {{"feasible", c.feasible}, {"note", c.note}};
    if (c.feasible) cost["cost_us"] = c.cost_us;
    costs[name] = cost;
  }
  nlohmann::json knobs = nlohmann::json::object();
  if (plan.nprobe > 0) knobs["nprobe"] = plan.nprobe;
  if (plan.ef_search > 0) knobs["ef_search"] = plan.ef_search;
  j["plan"] = {{"strategy", plan.strategy},
               {"reason", plan.reason},
               {"fetch_k", plan.fetch_k},
               {"knobs", knobs},
               {"costs", costs}};
  if (hybrid) {
    j["hybrid"] = {{"keyword_weight", hybrid->keyword_weight},
                   {"fusion", hybrid->fusion},
                   {"depth", hybrid->depth}};
    if (hybrid->keyword_hits) j["hybrid"]["keyword_hits"] = *hybrid->keyword_hits;
  }
  if (analysis) {
    const Analysis& a = *analysis;
    j["analyze"] = {
        {"strategy_run", a.strategy_run},
        {"index_searches", a.index_searches},
        {"index_results", a.index_results},
        {"filter_checks", a.filter_checks},
        {"matches_listed", a.matches_listed},
        {"vectors_scanned", a.vectors_scanned},
        {"fallback", a.fallback.empty() ? nlohmann::json() : nlohmann::json(a.fallback)},
        {"hits", a.hits},
        {"ms", {{"plan", a.plan_ms},
                {"search", a.search_ms},
                {"documents", a.documents_ms},
                {"total", a.total_ms}}}};
  }
  if (!note.empty()) j["note"] = note;
  return j;
}

}  // namespace semdb
