// Reading JSON (text, or CBOR in saved states) that may come from anyone:
// an HTTP body, a line of an import, a model's config, a stored record.
// Nesting deeper than kMaxJsonDepth is refused while parsing, before the
// deep value exists: nlohmann's parser is iterative, but copying, printing,
// comparing and CBOR-reading a value recurse, so a value 150,000 levels deep
// would overflow the stack wherever it went next.
#ifndef SEMDB_STORAGE_BOUNDED_JSON_H_
#define SEMDB_STORAGE_BOUNDED_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace semdb {

// Objects and arrays nested more deeply than this are refused. Metadata has
// a tighter limit of its own (32, checked when stored); an HTTP body wraps
// it in three more levels.
inline constexpr int kMaxJsonDepth = 64;

// The JSON text as a value; InvalidArgument "malformed JSON: ..." or
// "JSON nested deeper than 64 levels" otherwise.
absl::StatusOr<nlohmann::json> ParseJson(std::string_view text);

// ParseJson for callers that only ask whether the text was valid JSON: the
// value, or a discarded value (is_discarded()) as nlohmann's
// parse(text, nullptr, false) returns, with the same depth limit.
nlohmann::json ParseJsonOrDiscarded(std::string_view text);

// ParseJson of the whole file at `path` (a model's config, a tokenizer):
// NotFound "cannot open PATH", or InvalidArgument "PATH: not valid JSON
// (...)".
absl::StatusOr<nlohmann::json> ParseJsonFile(const std::string& path);

// The same for CBOR bytes (strict: nothing may follow the value).
absl::StatusOr<nlohmann::json> ParseCbor(std::string_view bytes);

}  // namespace semdb

#endif  // SEMDB_STORAGE_BOUNDED_JSON_H_
