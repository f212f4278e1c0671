// The document cache's metadata form (storage/packed_json.h) against
// nlohmann's own binary formats: the time to rebuild a value from each, per
// value, over 20,000 distinct three-field metadata objects (a string, an
// integer, a float), best of 7 passes; a deep copy of the parsed value and
// a JSON parse for scale. Why the cache keeps its own packed form (README,
// "Search overhead over raw FAISS").
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "storage/packed_json.h"

namespace {

using nlohmann::json;

constexpr int kValues = 20000;
constexpr int kPasses = 7;

template <typename Rebuild>
void Time(const char* name, Rebuild rebuild) {
  double best = 1e30;
  size_t members = 0;  // used, so that no rebuild is optimized away
  for (int pass = 0; pass < kPasses; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kValues; ++i) members += rebuild(i).size();
    const double ns = std::chrono::duration<double, std::nano>(
                          std::chrono::steady_clock::now() - start).count() / kValues;
    best = std::min(best, ns);
  }
  std::printf("%-22s %6.0f ns per value (%zu members rebuilt)\n", name, best, members);
}

}  // namespace

int main() {
  std::vector<json> values;
  std::vector<std::string> packed, cbor, msgpack, text;
  for (int i = 0; i < kValues; ++i) {
    json v = {{"category", "cat" + std::to_string(i % 50)},
              {"year", 1990 + i % 30},
              {"score", i * 0.5}};
    std::string p;
    semdb::AppendPackedJson(v, &p);
    packed.push_back(std::move(p));
    const std::vector<uint8_t> c = json::to_cbor(v), m = json::to_msgpack(v);
    cbor.emplace_back(c.begin(), c.end());
    msgpack.emplace_back(m.begin(), m.end());
    text.push_back(v.dump());
    values.push_back(std::move(v));
  }
  Time("deep copy", [&](int i) { return values[i]; });
  Time("packed (semdb)", [&](int i) {
    std::string_view v = packed[i];
    return semdb::UnpackJson(&v);
  });
  Time("from_cbor", [&](int i) { return json::from_cbor(cbor[i]); });
  Time("from_msgpack", [&](int i) { return json::from_msgpack(msgpack[i]); });
  Time("parse", [&](int i) { return json::parse(text[i]); });
}
