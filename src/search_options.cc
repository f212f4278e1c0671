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

}  // namespace semdb
