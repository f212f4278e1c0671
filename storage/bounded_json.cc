#include "storage/bounded_json.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace semdb {
namespace {

using nlohmann::json;

// nlohmann's own DOM-building SAX handler with a depth counter in front:
// returning false from start_object/start_array stops the parser (text or
// CBOR) at once, so it never descends further. The handler's methods are
// not virtual; sax_parse is a template on the handler's type, so these
// hide the base's. Parse errors are kept as a message instead of thrown.
class DepthLimitedBuilder : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  using Base = nlohmann::detail::json_sax_dom_parser<json>;
  explicit DepthLimitedBuilder(json& root) : Base(root, /*allow_exceptions=*/false) {}

  bool start_object(std::size_t n) { return Enter() && Base::start_object(n); }
  bool start_array(std::size_t n) { return Enter() && Base::start_array(n); }
  bool end_object() {
    --depth_;
    return Base::end_object();
  }
  bool end_array() {
    --depth_;
    return Base::end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& e) {
    if (error_.empty()) error_ = absl::StrCat("malformed JSON: ", e.what());
    return false;
  }

  // The outcome once sax_parse returned `parsed`.
  absl::Status Finish(bool parsed) const {
    if (!error_.empty()) return absl::InvalidArgumentError(error_);
    if (!parsed) return absl::InvalidArgumentError("malformed JSON");
    return absl::OkStatus();
  }

 private:
  bool Enter() {
    if (++depth_ <= kMaxJsonDepth) return true;
    if (error_.empty()) error_ = absl::StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels");
    return false;
  }

  int depth_ = 0;
  std::string error_;
};

absl::StatusOr<json> Parse(std::string_view bytes, nlohmann::detail::input_format_t format) {
  json value;
  DepthLimitedBuilder builder(value);
  const bool parsed = json::sax_parse(bytes.begin(), bytes.end(), &builder, format,
                                      /*strict=*/true);
  if (absl::Status s = builder.Finish(parsed); !s.ok()) return s;
  return value;
}

}  // namespace

absl::StatusOr<json> ParseJson(std::string_view text) {
  return Parse(text, nlohmann::detail::input_format_t::json);
}

json ParseJsonOrDiscarded(std::string_view text) {
  absl::StatusOr<json> parsed = ParseJson(text);
  return parsed.ok() ? *std::move(parsed) : json(json::value_t::discarded);
}

absl::StatusOr<json> ParseCbor(std::string_view bytes) {
  return Parse(bytes, nlohmann::detail::input_format_t::cbor);
}

absl::StatusOr<json> ParseJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<json> j = ParseJson(ss.str());
  if (!j.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not valid JSON (", j.status().message(), ")"));
  }
  return j;
}

}  // namespace semdb
