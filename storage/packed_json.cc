#include "storage/packed_json.h"

#include <cstdint>
#include <cstring>
#include <utility>

namespace semdb {
namespace {

using Json = nlohmann::json;

enum Tag : char {
  kNull,
  kFalse,
  kTrue,
  kInteger,
  kUnsigned,
  kFloat,
  kString,
  kBinary,
  kArray,
  kObject,
  kDiscarded,
};

template <typename T>
void AppendRaw(T v, std::string* out) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(v));
}

void AppendBytes(std::string_view bytes, std::string* out) {
  AppendRaw(static_cast<uint32_t>(bytes.size()), out);
  out->append(bytes);
}

template <typename T>
T TakeRaw(std::string_view* in) {
  T v;
  std::memcpy(&v, in->data(), sizeof(v));
  in->remove_prefix(sizeof(v));
  return v;
}

std::string_view TakeBytes(std::string_view* in) {
  const uint32_t n = TakeRaw<uint32_t>(in);
  std::string_view bytes = in->substr(0, n);
  in->remove_prefix(n);
  return bytes;
}

}  // namespace

void AppendPackedJson(const Json& value, std::string* out) {
  switch (value.type()) {
    case Json::value_t::null:
      out->push_back(kNull);
      return;
    case Json::value_t::boolean:
      out->push_back(value.get<bool>() ? kTrue : kFalse);
      return;
    case Json::value_t::number_integer:
      out->push_back(kInteger);
      AppendRaw(value.get<Json::number_integer_t>(), out);
      return;
    case Json::value_t::number_unsigned:
      out->push_back(kUnsigned);
      AppendRaw(value.get<Json::number_unsigned_t>(), out);
      return;
    case Json::value_t::number_float:
      out->push_back(kFloat);
      AppendRaw(value.get<Json::number_float_t>(), out);
      return;
    case Json::value_t::string:
      out->push_back(kString);
      AppendBytes(value.get_ref<const Json::string_t&>(), out);
      return;
    case Json::value_t::binary: {
      const Json::binary_t& b = value.get_binary();
      out->push_back(kBinary);
      AppendBytes(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), out);
      out->push_back(b.has_subtype() ? 1 : 0);
      AppendRaw(static_cast<uint64_t>(b.has_subtype() ? b.subtype() : 0), out);
      return;
    }
    case Json::value_t::array:
      out->push_back(kArray);
      AppendRaw(static_cast<uint32_t>(value.size()), out);
      for (const Json& element : value) AppendPackedJson(element, out);
      return;
    case Json::value_t::object:
      out->push_back(kObject);
      AppendRaw(static_cast<uint32_t>(value.size()), out);
      for (const auto& [key, member] : value.get_ref<const Json::object_t&>()) {
        AppendBytes(key, out);
        AppendPackedJson(member, out);
      }
      return;
    case Json::value_t::discarded:
      out->push_back(kDiscarded);
      return;
  }
}

Json UnpackJson(std::string_view* packed) {
  const char tag = packed->front();
  packed->remove_prefix(1);
  switch (tag) {
    case kNull:
      return Json();
    case kFalse:
      return Json(false);
    case kTrue:
      return Json(true);
    case kInteger:
      return Json(TakeRaw<Json::number_integer_t>(packed));
    case kUnsigned:
      return Json(TakeRaw<Json::number_unsigned_t>(packed));
    case kFloat:
      return Json(TakeRaw<Json::number_float_t>(packed));
    case kString:
      return Json(Json::string_t(TakeBytes(packed)));
    case kBinary: {
      const std::string_view bytes = TakeBytes(packed);
      const bool has_subtype = packed->front() != 0;
      packed->remove_prefix(1);
      const uint64_t subtype = TakeRaw<uint64_t>(packed);
      Json::binary_t::container_type data(bytes.begin(), bytes.end());
      return has_subtype ? Json::binary(std::move(data), subtype) : Json::binary(std::move(data));
    }
    case kArray: {
      Json value(Json::value_t::array);
      Json::array_t& elements = value.get_ref<Json::array_t&>();
      const uint32_t n = TakeRaw<uint32_t>(packed);
      elements.reserve(n);
      for (uint32_t i = 0; i < n; ++i) elements.push_back(UnpackJson(packed));
      return value;
    }
    case kObject: {
      Json value(Json::value_t::object);
      Json::object_t& members = value.get_ref<Json::object_t&>();
      const uint32_t n = TakeRaw<uint32_t>(packed);
      for (uint32_t i = 0; i < n; ++i) {
        Json::string_t key(TakeBytes(packed));
        // Packed in key order: each member goes at the end, no search.
        members.emplace_hint(members.end(), std::move(key), UnpackJson(packed));
      }
      return value;
    }
    default:  // kDiscarded
      return Json(Json::value_t::discarded);
  }
}

}  // namespace semdb
