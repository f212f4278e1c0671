// The HTTP/JSON API's route handlers, as plain functions from a request
// (path parameters and a parsed JSON body) to a response (an HTTP status and
// a JSON body), independent of the HTTP library: HttpServer binds them to
// routes, tests call them directly.
//
// Every error is {"error": {"code": CODE, "message": TEXT}} with:
//   400 bad_request       malformed JSON, wrong field types, bad values
//   401 unauthorized      missing or wrong API key (HttpServer)
//   403 forbidden         a Host or Origin the server does not allow, a
//                         server file outside the allowed directories
//   404 not_found         unknown collection, document or route
//   405 method_not_allowed a route's path with another method (HttpServer;
//                         the Allow header lists the methods it has)
//   409 already_exists    a collection or document id that exists
//   413 payload_too_large request body over the limit (HttpServer)
//   415 unsupported_media_type  a body without Content-Type application/json
//   422 unprocessable     well-formed, but the collection cannot do it
//                         (a text query on a vectors collection, ...)
//   500 internal          storage or other internal failures
//   507 insufficient_storage  the disk is full
// The README documents every route with curl examples.
#ifndef SEMDB_SHELL_HTTP_API_H_
#define SEMDB_SHELL_HTTP_API_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "semdb/database.h"

namespace semdb {

struct ApiResponse {
  int status = 200;
  nlohmann::json body;
  // A body streamed in pieces instead (e.g. an export): each call returns
  // the next piece, an empty string at the end, or an error, which ends
  // the response early (its status is already sent).
  std::function<absl::StatusOr<std::string>()> stream;
  std::string stream_type;  // the streamed body's Content-Type
};

// A request's query parameters (?name=value&...), decoded.
using QueryParams = std::map<std::string, std::string>;

struct ApiLimits {
  int max_k = 1000;  // largest k a search may ask for (<= kMaxK)
  // Directories under which files named in a collection's embedder spec
  // (path=, cache_dir=) may be; others get 403, the same whether the file
  // exists or not. None by default: clients name no server files.
  std::vector<std::string> allowed_paths;
};

// The response for an error status: the HTTP status matching its code.
ApiResponse ErrorResponse(const absl::Status& status);
// An error response with an explicit HTTP status (401, 404 for routes, 413).
ApiResponse ErrorResponse(int http_status, const std::string& message);

class HttpApi {
 public:
  HttpApi(Database& db, ApiLimits limits) : db_(db), limits_(limits) {}

  // GET /collections -> {"collections": [info...]}
  ApiResponse ListCollections() const;
  // POST /collections {"name", "embedder"?, "index"?, "chunking"?}
  //   -> 201 {"collection": info}
  ApiResponse CreateCollection(const nlohmann::json& body);
  // PUT /collections/{name} {"embedder"?, "index"?, "chunking"?}: get or
  //   create. -> 201 {"collection": info, "created": true}, or 200 with
  //   "created": false when it exists with this spec (absent fields are the
  //   defaults, as for POST); 422 naming the differences otherwise.
  ApiResponse GetOrCreateCollection(const std::string& name, const nlohmann::json& body);
  // GET /collections/{name} -> the collection's stats
  ApiResponse CollectionStats(const std::string& name) const;
  // DELETE /collections/{name} -> {"dropped": name}
  ApiResponse DropCollection(const std::string& name);

  // POST /collections/{name}/documents
  //   {"documents": [{"id"?, "text", "metadata"?, "vector"?}...], "upsert"?: false}
  //   -> 201 (insert) or 200 (upsert) {"ids": [...]}; the batch is atomic.
  ApiResponse WriteDocuments(const std::string& name, const nlohmann::json& body);
  // GET /collections/{name}/documents/{id} -> the document
  ApiResponse GetDocument(const std::string& name, const std::string& id) const;
  // DELETE /collections/{name}/documents/{id} -> {"deleted": 1}, or 404
  ApiResponse DeleteDocument(const std::string& name, const std::string& id);
  // POST /collections/{name}/delete {"ids": [...]} or {"filter": TEXT}
  //   -> {"deleted": N}; ids that do not exist are ignored; atomic.
  ApiResponse DeleteDocuments(const std::string& name, const nlohmann::json& body);
  // GET /collections/{name}/documents?where=FILTER&limit=N&offset=N&cursor=C
  //   -> {"documents": [document...], "next_cursor": C or null}; limit
  //   defaults to 100 (at most 10,000); documents in storage order.
  ApiResponse ListDocuments(const std::string& name, const QueryParams& params) const;
  // POST /collections/{name}/get {"ids": [...]}
  //   -> {"documents": [document...], "missing": [ids]}, in the order asked.
  ApiResponse GetDocuments(const std::string& name, const nlohmann::json& body) const;
  // POST /collections/{name}/count {"filter"?: TEXT} -> {"count": N}
  ApiResponse CountDocuments(const std::string& name, const nlohmann::json& body) const;
  // PATCH /collections/{name}/documents
  //   {"documents": [{"id", "metadata"}...], "replace"?: false}
  //   -> {"updated": N}: each metadata merged into the stored one (RFC
  //   7386), or replacing it; texts and vectors stay; atomic, 404 (nothing
  //   updated) for an unknown id.
  ApiResponse UpdateMetadata(const std::string& name, const nlohmann::json& body);
  // GET /collections/{name}/export?where=FILTER&vectors=true
  //   -> 200, JSON Lines streamed (semdb/export.h), which import reads back.
  ApiResponse Export(const std::string& name, const QueryParams& params) const;

  // POST /collections/{name}/search
  //   {"query": TEXT | "vector": [numbers], "k"?: 10, "filter"?: TEXT,
  //    "one_per_parent"?: false, "neighbors"?: 0, "include_parent"?: false,
  //    "nprobe"?: N, "ef_search"?: N, "hybrid"?: W in [0, 1],
  //    "recall_target"?: R in (0, 1], "strategy"?: "auto" | "exact_scan" |
  //    "filtered_scan" | "ann" | "ann_post_filter"}
  //   -> {"hits": [hit...]} (shell/json_output.h describes a hit), and
  //   "note": why, when a text query has no hit because no word of it is
  //   known to the model
  // Several queries at once: "queries": [TEXT...] or "vectors": [[numbers]...]
  //   instead -> {"results": [{"hits": [...]}...]}, one per query, in order
  //   (Collection::SearchBatch).
  ApiResponse Search(const std::string& name, const nlohmann::json& body) const;

 private:
  Database& db_;
  const ApiLimits limits_;
};

}  // namespace semdb

#endif  // SEMDB_SHELL_HTTP_API_H_
