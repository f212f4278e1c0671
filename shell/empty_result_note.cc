#include "shell/empty_result_note.h"

#include "absl/strings/match.h"

namespace semdb {

std::string EmptyResultNote(const Collection& collection, std::string_view query,
                            const SearchOptions& options) {
  absl::StatusOr<SearchExplanation> plan = collection.Explain(query, options);
  if (!plan.ok()) return "";
  if (!plan->note.empty()) return plan->note;
  if (absl::StartsWith(plan->no_plan, "none: ")) return plan->no_plan.substr(6);
  return "";
}

}  // namespace semdb
