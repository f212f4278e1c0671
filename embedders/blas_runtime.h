// Which BLAS kernels this process runs on, for `stats`.
//
// OpenBLAS picks its kernels once, when the library is loaded: from the
// CPU it detects, or from OPENBLAS_CORETYPE when the environment sets it
// (some machines preset it, and OPENBLAS_L2_SIZE, because an older OpenBLAS
// computes wrong results with the kernels it would pick there). semdb never
// sets, changes or overrides these variables; it only reports what runs.
#ifndef SEMDB_EMBEDDERS_BLAS_RUNTIME_H_
#define SEMDB_EMBEDDERS_BLAS_RUNTIME_H_

#include "nlohmann/json.hpp"

namespace semdb {

// {"library": openblas_get_config(), "core": openblas_get_corename(),
//  "threads": openblas_get_num_threads(), "coretype_preset": the value of
//  OPENBLAS_CORETYPE or null, "l2_size_preset": OPENBLAS_L2_SIZE or null}.
nlohmann::json BlasFacts();

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_BLAS_RUNTIME_H_
