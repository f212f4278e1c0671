#include "absl/strings/str_cat.h"
#include "semdb/options.h"

namespace semdb {

absl::Status SearchOptions::Validate() const {
  if (k < 1 || k > kMaxK) {
    return absl::InvalidArgumentError(
        absl::StrCat("k must be between 1 and ", kMaxK, ", got ", k));
  }
  if (knobs.nprobe < 0 || knobs.ef_search < 0) {
    return absl::InvalidArgumentError("nprobe and ef_search must not be negative");
  }
  if (knobs.nprobe > kMaxSearchWidth || knobs.ef_search > kMaxSearchWidth) {
    return absl::InvalidArgumentError(
        absl::StrCat("nprobe and ef_search must be at most ", kMaxSearchWidth));
  }
  if (neighbors < 0 || neighbors > kMaxNeighbors) {
    return absl::InvalidArgumentError(absl::StrCat(
        "neighbors must be between 0 and ", kMaxNeighbors, ", got ", neighbors));
  }
  if (!(recall_target > 0 && recall_target <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("recall_target must be in (0, 1], got ", recall_target));
  }
  if (hybrid && !(*hybrid >= 0 && *hybrid <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the hybrid weight must be in [0, 1], got ", *hybrid));
  }
  return absl::OkStatus();
}

const char* StrategyName(SearchStrategy s) {
  switch (s) {
    case SearchStrategy::kAuto: return "auto";
    case SearchStrategy::kExactScan: return "exact_scan";
    case SearchStrategy::kFilteredScan: return "filtered_scan";
    case SearchStrategy::kAnn: return "ann";
    case SearchStrategy::kAnnPostFilter: return "ann_post_filter";
  }
  return "?";
}

absl::StatusOr<SearchStrategy> ParseStrategyName(std::string_view name) {
  for (SearchStrategy s : {SearchStrategy::kAuto, SearchStrategy::kExactScan,
                           SearchStrategy::kFilteredScan, SearchStrategy::kAnn,
                           SearchStrategy::kAnnPostFilter}) {
    if (name == StrategyName(s)) return s;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "the strategy must be auto, exact_scan, filtered_scan, ann or ann_post_filter, got '",
      std::string(name), "'"));
}

const char* FusionName(FusionMethod method) {
  return method == FusionMethod::kRrf ? "rrf" : "convex";
}

absl::StatusOr<FusionMethod> ParseFusionName(std::string_view name) {
  for (FusionMethod m : {FusionMethod::kConvex, FusionMethod::kRrf}) {
    if (name == FusionName(m)) return m;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("the fusion must be convex or rrf, got '", std::string(name), "'"));
}

absl::StatusOr<HitFields> ParseHitFields(absl::Span<const std::string> names) {
  HitFields fields = {.text = false, .metadata = false};
  for (const std::string& name : names) {
    if (name == "text") {
      fields.text = true;
    } else if (name == "metadata") {
      fields.metadata = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "the hit fields are \"text\" and \"metadata\", got '", name, "'"));
    }
  }
  return fields;
}

}  // namespace semdb
