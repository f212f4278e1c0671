#include "storage/packed_json.h"

#include <cstring>
#include <string>
#include <string_view>

#include "catch2/catch.hpp"

namespace semdb {
namespace {

using Json = nlohmann::json;

// Equal values of equal types all the way down (nlohmann's == holds
// between 1 and 1.0, and between signed and unsigned 5).
bool Same(const Json& a, const Json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
      if (ia.key() != ib.key() || !Same(*ia, *ib)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!Same(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_number_float()) {  // bit for bit: -0.0 stays -0.0
    const double x = a.get<double>(), y = b.get<double>();
    return std::memcmp(&x, &y, sizeof(x)) == 0;
  }
  if (a.is_discarded()) return true;
  return a == b;
}

Json RoundTrip(const Json& value) {
  std::string packed;
  AppendPackedJson(value, &packed);
  std::string_view rest = packed;
  Json back = UnpackJson(&rest);
  CHECK(rest.empty());
  return back;
}

TEST_CASE("packed JSON unpacks to the value packed", "[storage][packed_json]") {
  const char* texts[] = {
      "null", "true", "false", "0", "-1", "18446744073709551615", "-9223372036854775808",
      "9223372036854775807", "1.0", "-0.0", "1e308", "4.9e-324", "3.141592653589793",
      R"("")", R"("a string longer than the small string buffer of std::string")",
      R"("\u0000 nul, \u00e9 \u6f22 \ud83d\ude00, \"quotes\" and \\")", "[]", "{}",
      R"([1, "two", 3.5, null, true, [], {}, [[[]]]])",
      R"({"n": 12345, "group": "g12", "year": 2001})",
      R"({"z": 1, "a": {"nested": [1, {"k": "v"}], "": "empty key"}, "m": -2.5e-7,
          "u": 18446744073709551615, "list": [{"b": false}, {"a": null}]})",
  };
  for (const char* text : texts) {
    INFO(text);
    const Json value = Json::parse(text);
    CHECK(Same(RoundTrip(value), value));
    CHECK(RoundTrip(value).dump() == value.dump());
  }
  // 32 levels, the deepest metadata stored (bounded_json.h).
  Json deep = 1;
  for (int i = 0; i < 32; ++i) deep = Json{{"d", Json::array({deep})}};
  CHECK(Same(RoundTrip(deep), deep));
  // Not from a parse of text, kept all the same.
  const Json binary = Json::binary({1, 2, 0, 255}, 42);
  CHECK(RoundTrip(binary) == binary);
  CHECK(RoundTrip(binary).get_binary().subtype() == 42);
  const Json untyped = Json::binary({7});
  CHECK(!RoundTrip(untyped).get_binary().has_subtype());
  CHECK(RoundTrip(Json(Json::value_t::discarded)).is_discarded());
  CHECK(RoundTrip(Json::parse("not json", nullptr, false)).is_discarded());
}

TEST_CASE("packed JSON values follow one another in one string", "[storage][packed_json]") {
  const Json a = Json::parse(R"({"x": [1, 2]})"), b = "second", c = Json::parse("[{}]");
  std::string packed;
  for (const Json* v : {&a, &b, &c}) AppendPackedJson(*v, &packed);
  std::string_view rest = packed;
  CHECK(Same(UnpackJson(&rest), a));
  CHECK(Same(UnpackJson(&rest), b));
  CHECK(Same(UnpackJson(&rest), c));
  CHECK(rest.empty());
}

}  // namespace
}  // namespace semdb
