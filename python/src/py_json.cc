#include "python/src/py_json.h"

#include <pybind11/numpy.h>

#include "absl/strings/str_cat.h"

namespace py = pybind11;

namespace semdb::python {
namespace {

// Nesting deeper than this is refused before recursing further (the core
// refuses metadata nested deeper than 32 with its own message).
constexpr int kMaxDepth = 64;

// Whether v is a numpy scalar (numpy.generic); numpy is imported already,
// the package depends on it.
bool NumpyScalar(py::handle v) {
  static py::handle generic = py::object(py::module_::import("numpy").attr("generic")).release();
  return PyObject_IsInstance(v.ptr(), generic.ptr()) == 1;
}

absl::StatusOr<nlohmann::json> Convert(py::handle v, const std::string& where, int depth) {
  if (depth > kMaxDepth) {
    return absl::InvalidArgumentError(absl::StrCat(where, " is nested too deeply"));
  }
  if (v.is_none()) return nlohmann::json(nullptr);
  // bool before int: True is an int in Python.
  if (PyBool_Check(v.ptr())) return nlohmann::json(v.ptr() == Py_True);
  if (PyLong_Check(v.ptr())) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
    if (overflow == 0) return nlohmann::json(static_cast<int64_t>(x));
    if (overflow > 0) {
      unsigned long long u = PyLong_AsUnsignedLongLong(v.ptr());
      if (!PyErr_Occurred()) return nlohmann::json(static_cast<uint64_t>(u));
      PyErr_Clear();
    }
    return absl::InvalidArgumentError(absl::StrCat(where, ": integer out of 64-bit range"));
  }
  if (PyFloat_Check(v.ptr())) return nlohmann::json(PyFloat_AS_DOUBLE(v.ptr()));
  if (PyUnicode_Check(v.ptr())) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(v.ptr(), &size);
    if (data == nullptr) {  // lone surrogates have no UTF-8 form
      PyErr_Clear();
      return absl::InvalidArgumentError(absl::StrCat(where, ": string is not valid Unicode"));
    }
    return nlohmann::json(std::string(data, size));
  }
  if (PyDict_Check(v.ptr())) {
    nlohmann::json out = nlohmann::json::object();
    for (auto [key, value] : py::reinterpret_borrow<py::dict>(v)) {
      if (!PyUnicode_Check(key.ptr())) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": keys must be strings, not ", Py_TYPE(key.ptr())->tp_name));
      }
      absl::StatusOr<nlohmann::json> key_json = Convert(key, where, depth + 1);
      if (!key_json.ok()) return key_json.status();
      const std::string& k = key_json->get_ref<const std::string&>();
      absl::StatusOr<nlohmann::json> item = Convert(value, absl::StrCat(where, ".", k), depth + 1);
      if (!item.ok()) return item.status();
      out[k] = *std::move(item);
    }
    return out;
  }
  if (PyList_Check(v.ptr()) || PyTuple_Check(v.ptr())) {
    nlohmann::json out = nlohmann::json::array();
    size_t i = 0;
    for (py::handle item : v) {
      absl::StatusOr<nlohmann::json> j = Convert(item, absl::StrCat(where, "[", i++, "]"), depth + 1);
      if (!j.ok()) return j.status();
      out.push_back(*std::move(j));
    }
    return out;
  }
  // numpy scalars (np.int64, np.float32, np.bool_: what indexing an array
  // gives) and arrays are their tolist(): Python ints, floats, bools and
  // lists, checked as those are (a NaN is refused by the core).
  if (py::isinstance<py::array>(v) || NumpyScalar(v)) {
    return Convert(v.attr("tolist")(), where, depth + 1);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      where, ": a ", Py_TYPE(v.ptr())->tp_name,
      " is not JSON (use dict, list, str, int, float, bool or None)"));
}

}  // namespace

absl::StatusOr<nlohmann::json> ToJson(py::handle value) { return Convert(value, "metadata", 0); }

py::object FromJson(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return py::none();
    case nlohmann::json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return py::int_(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return py::int_(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float:
      return py::float_(j.get<double>());
    case nlohmann::json::value_t::string:
      return py::str(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list out(j.size());
      for (size_t i = 0; i < j.size(); ++i) out[i] = FromJson(j[i]);
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;
      for (const auto& [key, value] : j.items()) out[py::str(key)] = FromJson(value);
      return out;
    }
    default:  // binary, discarded: never produced by semdb
      return py::none();
  }
}

}  // namespace semdb::python
