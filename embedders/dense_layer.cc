#include "embedders/dense_layer.h"

#include <cblas.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "embedders/nn_kernels.h"
#include "embedders/safetensors.h"
#include "embedders/torch_checkpoint.h"
#include "fmt/format.h"
#include "fmt/ranges.h"
#include "nlohmann/json.hpp"
#include "storage/bounded_json.h"

namespace semdb {

absl::StatusOr<DenseLayer> DenseLayer::Load(const std::string& dir) {
  const std::string config_path = dir + "/config.json";
  std::ifstream in(config_path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("cannot open {}", config_path));
  std::stringstream ss;
  ss << in.rdbuf();
  const nlohmann::json c = ParseJsonOrDiscarded(ss.str());
  auto positive = [&](const char* key) {
    return c.contains(key) && c[key].is_number_unsigned() && c[key].get<uint64_t>() > 0 &&
           c[key].get<uint64_t>() <= (1u << 20);
  };
  if (c.is_discarded() || !c.is_object() || !positive("in_features") || !positive("out_features")) {
    return absl::InvalidArgumentError(
        fmt::format("{}: needs positive \"in_features\" and \"out_features\"", config_path));
  }
  DenseLayer d;
  d.in_features = c["in_features"].get<int64_t>();
  d.out_features = c["out_features"].get<int64_t>();
  const std::string activation =
      c.value("activation_function", std::string("torch.nn.modules.activation.Tanh"));
  if (activation == "torch.nn.modules.linear.Identity") {
    d.tanh = false;
  } else if (activation != "torch.nn.modules.activation.Tanh") {
    return absl::UnimplementedError(fmt::format(
        "{}: activation {} is not supported (Tanh and Identity are)", config_path, activation));
  }
  const bool has_bias = c.value("bias", true);
  absl::StatusOr<std::unique_ptr<SafeTensorsFile>> file =
      OpenModelWeights(dir);
  if (!file.ok()) return file.status();
  auto read = [&](const std::string& name, std::vector<int64_t> shape,
                  std::vector<float>* out) -> absl::Status {
    const SafeTensor* t = (*file)->Find(name);
    if (t == nullptr) {
      return absl::InvalidArgumentError(fmt::format("{}: no tensor '{}'", (*file)->path(), name));
    }
    if (t->shape != shape) {
      return absl::InvalidArgumentError(fmt::format("{}: tensor '{}' has shape [{}], config.json says [{}]",
                                                    (*file)->path(), name, fmt::join(t->shape, ", "),
                                                    fmt::join(shape, ", ")));
    }
    out->resize(static_cast<size_t>(t->elements()));
    return (*file)->ReadFloat(name, absl::MakeSpan(*out));
  };
  if (absl::Status s = read("linear.weight", {d.out_features, d.in_features}, &d.weight); !s.ok()) {
    return s;
  }
  if (has_bias) {
    if (absl::Status s = read("linear.bias", {d.out_features}, &d.bias); !s.ok()) return s;
  } else {
    d.bias.assign(static_cast<size_t>(d.out_features), 0.0f);
  }
  return d;
}

void DenseLayer::Apply(const float* x, int64_t rows, float* y) const {
  nn::BroadcastRows(y, bias.data(), rows, out_features);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows),
              static_cast<int>(out_features), static_cast<int>(in_features), 1.0f, x,
              static_cast<int>(in_features), weight.data(), static_cast<int>(in_features), 1.0f, y,
              static_cast<int>(out_features));
  if (tanh) {
    for (int64_t i = 0; i < rows * out_features; ++i) y[i] = std::tanh(y[i]);
  }
}

}  // namespace semdb
