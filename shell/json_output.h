// The JSON shapes of semdb's results, shared by the shell's JSON output and
// the HTTP API so that both speak the same language.
#ifndef SEMDB_SHELL_JSON_OUTPUT_H_
#define SEMDB_SHELL_JSON_OUTPUT_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "semdb/database.h"

namespace semdb {

// {"name", "documents", "passages", "dimension", "embedder", "index",
//  "chunking", "model_version"}
nlohmann::json CollectionInfoJson(const CollectionInfo& info);

// {"id", "text", "metadata", "tokens", "unknown_tokens"} and "vector" when
// the document has one.
nlohmann::json DocumentJson(const Document& doc);

// {"id", "score", "score_kind", "text", "metadata"} (score_kind:
// ScoreKindName; "text" and "metadata" only when `include` asks for them),
// and for passages "passage": {"index",
// "count", "begin", "end"} (byte offsets into the document's text), with
// "neighbors": [{"index", "count", "begin", "end", "text"}...] and
// "parent_text" when they were asked for.
nlohmann::json HitJson(const Hit& hit, const HitFields& include = {});

// The ids of `asked` that Collection::GetBatch left out of `found` (which
// keeps the order asked), in that order.
std::vector<std::string> MissingIds(const std::vector<std::string>& asked,
                                    const std::vector<Document>& found);

// One line of JSON; invalid UTF-8 (which semdb never stores, but error
// messages may quote) is replaced rather than thrown on.
std::string DumpJson(const nlohmann::json& j);

}  // namespace semdb

#endif  // SEMDB_SHELL_JSON_OUTPUT_H_
