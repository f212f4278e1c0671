#include "embedders/caller_vectors_embedder.h"

#include "absl/strings/str_cat.h"

namespace semdb {

ComponentKind CallerVectorsEmbedder::Kind() {
  return {"vectors",
          "caller-supplied vectors (API only)",
          {IntParameter("dim", "", 1, 65536, "the vectors' dimension (required)")}};
}

absl::StatusOr<std::unique_ptr<CallerVectorsEmbedder>> CallerVectorsEmbedder::Create(
    const Spec& spec) {
  const ComponentKind kind = Kind();  // outlives the reader, which refers to it
  SpecReader r(spec, kind);
  const int dim = static_cast<int>(r.GetInt("dim", 0));
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  if (!r.Has("dim")) return absl::InvalidArgumentError("'vectors' needs dim=N (1 to 65536)");
  return std::unique_ptr<CallerVectorsEmbedder>(new CallerVectorsEmbedder(dim));
}

Spec CallerVectorsEmbedder::spec() const {
  Spec s;
  s.kind = "vectors";
  s.params["dim"] = absl::StrCat(dimension_);
  return s;
}

absl::Status CallerVectorsEmbedder::Embed(absl::Span<const std::string_view> texts,
                                          absl::Span<float> out,
                                          std::vector<TextStats>* stats) const {
  (void)texts;
  (void)out;
  (void)stats;
  return absl::FailedPreconditionError(
      "a 'vectors' collection stores caller-supplied vectors; it embeds no text");
}

}  // namespace semdb
