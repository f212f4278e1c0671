// Filter expressions: parsing never crashes; what parses prints back to text
// that parses to the same filter, and evaluates on any metadata.
#include <cstdlib>
#include <string>

#include "semdb/filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<semdb::Filter> f = semdb::Filter::Parse(text);
  if (!f.ok()) return 0;
  const std::string printed = f->ToString();
  absl::StatusOr<semdb::Filter> again = semdb::Filter::Parse(printed);
  if (!again.ok() || again->ToString() != printed) std::abort();
  static const nlohmann::json metadata = {
      {"year", 2001}, {"topic", "fire"}, {"tags", {"a", "b"}}, {"n", nullptr},
      {"nested", {{"x", 1.5}}}, {"flag", true}};
  (void)f->Matches(metadata);
  (void)f->Matches(nlohmann::json::object());
  return 0;
}
