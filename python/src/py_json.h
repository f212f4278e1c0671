// Conversions between Python objects and JSON values (metadata, stats,
// EXPLAIN plans). Both need the GIL.
#ifndef SEMDB_PYTHON_PY_JSON_H_
#define SEMDB_PYTHON_PY_JSON_H_

#include <pybind11/pybind11.h>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace semdb::python {

// dict, list, tuple, str, bool, int, float and None, nested, and numpy
// scalars and arrays (as their tolist()); anything else
// (or a non-string dict key, or an int outside 64 bits) is InvalidArgument
// naming where it is.
absl::StatusOr<nlohmann::json> ToJson(pybind11::handle value);

// Objects become dicts, arrays lists.
pybind11::object FromJson(const nlohmann::json& value);

}  // namespace semdb::python

#endif  // SEMDB_PYTHON_PY_JSON_H_
