// The "vectors dim=N" embedder: the collection stores the caller's vectors
// (of N floats each) and embeds no text. It exists so that such a collection
// has an embedder like any other, whose capabilities say what it cannot do.
#ifndef SEMDB_EMBEDDERS_CALLER_VECTORS_EMBEDDER_H_
#define SEMDB_EMBEDDERS_CALLER_VECTORS_EMBEDDER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "semdb/components.h"
#include "semdb/embedder.h"

namespace semdb {

class CallerVectorsEmbedder : public Embedder {
 public:
  // The kind and its one parameter, dim (required).
  static ComponentKind Kind();

  // InvalidArgument for a spec without dim or with a bad one.
  static absl::StatusOr<std::unique_ptr<CallerVectorsEmbedder>> Create(const Spec& spec);

  Spec spec() const override;
  int dimension() const override { return dimension_; }
  EmbedderCapabilities capabilities() const override { return {.caller_vectors = true}; }

  // FailedPrecondition: there is no model to embed texts with.
  absl::Status Embed(absl::Span<const std::string_view> texts, absl::Span<float> out,
                     std::vector<TextStats>* stats) const override;

 private:
  explicit CallerVectorsEmbedder(int dimension) : dimension_(dimension) {}

  const int dimension_;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_CALLER_VECTORS_EMBEDDER_H_
