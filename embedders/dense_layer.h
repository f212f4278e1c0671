// A sentence-transformers Dense module: y = activation(W x + b), read from
// its folder as sentence-transformers saves it: config.json (in_features,
// out_features, bias, activation_function) and model.safetensors
// (linear.weight [out, in], linear.bias [out]). Activations: Tanh (the
// default), Identity.
#ifndef SEMDB_EMBEDDERS_DENSE_LAYER_H_
#define SEMDB_EMBEDDERS_DENSE_LAYER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace semdb {

struct DenseLayer {
  int64_t in_features = 0, out_features = 0;
  std::vector<float> weight;  // [out, in], nn.Linear's layout
  std::vector<float> bias;    // [out], zeros when the module has none
  bool tanh = true;           // else Identity

  // NotFound for a missing file, InvalidArgument for bad contents,
  // Unimplemented for another activation.
  static absl::StatusOr<DenseLayer> Load(const std::string& dir);

  // y[r * out ...] = activation(W x[r * in ...] + b) for `rows` rows.
  void Apply(const float* x, int64_t rows, float* y) const;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_DENSE_LAYER_H_
