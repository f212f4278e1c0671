#include "src/model_probe.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "fmt/format.h"

namespace semdb {
namespace {

// Common English words, so that every vocabulary knows some of them.
constexpr std::string_view kProbeTexts[] = {
    "the people said that it was a new year for the world",
    "he has been one of the first who would not have",
    "government minister police fire water city school market",
};

}  // namespace

absl::StatusOr<std::vector<float>> ProbeEmbedder(const Embedder& embedder) {
  const size_t dim = static_cast<size_t>(embedder.dimension());
  std::vector<float> out(std::size(kProbeTexts) * dim);
  if (absl::Status s = embedder.Embed(kProbeTexts, absl::MakeSpan(out), nullptr); !s.ok()) {
    return s;
  }
  return out;
}

absl::Status CheckProbe(const Embedder& embedder, const std::vector<float>& recorded) {
  absl::StatusOr<std::vector<float>> now = ProbeEmbedder(embedder);
  if (!now.ok()) return now.status();
  if (now->size() != recorded.size()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the embedder now gives vectors of dimension ", embedder.dimension(),
        ", not those of the collection's vectors: the model was replaced"));
  }
  const size_t dim = recorded.size() / std::size(kProbeTexts);
  for (size_t p = 0; p < std::size(kProbeTexts); ++p) {
    double dot = 0, a = 0, b = 0;
    for (size_t j = p * dim; j < (p + 1) * dim; ++j) {
      dot += static_cast<double>((*now)[j]) * recorded[j];
      a += static_cast<double>((*now)[j]) * (*now)[j];
      b += static_cast<double>(recorded[j]) * recorded[j];
    }
    // Both zero: the probe has no known word in either model; no evidence.
    if (a == 0 && b == 0) continue;
    const double cosine = a > 0 && b > 0 ? dot / std::sqrt(a * b) : 0;
    if (cosine < kSameModelCosine) {
      return absl::FailedPreconditionError(fmt::format(
          "the embedder's model is not the one that made the stored vectors (probe "
          "cosine {:.4f} < {}): was its file replaced? Restore it, or re-create the "
          "collection",
          cosine, kSameModelCosine));
    }
  }
  return absl::OkStatus();
}

}  // namespace semdb
