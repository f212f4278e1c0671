#include "embedders/blas_runtime.h"

#include <cblas.h>

#include <cstdlib>

namespace semdb {
namespace {

nlohmann::json Preset(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr || *value == '\0') return nullptr;
  return value;
}

}  // namespace

nlohmann::json BlasFacts() {
  return {{"library", openblas_get_config()},
          {"core", openblas_get_corename()},
          {"threads", openblas_get_num_threads()},
          {"coretype_preset", Preset("OPENBLAS_CORETYPE")},
          {"l2_size_preset", Preset("OPENBLAS_L2_SIZE")}};
}

}  // namespace semdb
