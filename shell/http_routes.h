// The HTTP service's routes as data: a method, a path pattern, the handler,
// and what a client needs to know to call it. HttpServer matches every
// request against one table of these (a path that matches with another
// method is a 405 with `Allow`), and GET /openapi.json is generated from
// the same table, so the description cannot drift from what is served.
#ifndef SEMDB_SHELL_HTTP_ROUTES_H_
#define SEMDB_SHELL_HTTP_ROUTES_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "shell/http_api.h"

namespace semdb {

// A route's handler: the path parameters in pattern order (percent-decoded),
// the query parameters, and the parsed JSON body (null for routes that take
// none).
using RouteHandler = std::function<ApiResponse(
    const std::vector<std::string>& params, const QueryParams& query, const nlohmann::json& body)>;

struct Route {
  std::string method;   // "GET", "POST", "PUT", "PATCH", "DELETE"
  // Segments, literal or "{name}"; a parameter in the last segment takes
  // the rest of the path, slashes included (document ids may hold them);
  // a path that several patterns match goes to the longest.
  std::string pattern;
  std::string summary;  // one line, for OpenAPI
  // The request body's fields (OpenAPI description, `field?` optional);
  // empty when the route takes no body.
  std::vector<std::string> body_fields;
  int success = 200;
  // Error statuses the handler itself may answer; those every route or
  // every body may get (401, 403, 405, 413, 415, 500) are added by OpenAPI.
  std::vector<int> errors;
  // The success body's type; other than JSON, the handler's body is a JSON
  // string holding the text to send.
  std::string content_type = "application/json";
  RouteHandler handler;
  // The query parameters the route reads (OpenAPI description, all optional).
  std::vector<std::string> query_fields = {};
};

struct RouteMatch {
  const Route* route = nullptr;     // null: no route for this method
  std::vector<std::string> params;  // of `route`
  std::string allow;                // methods the path has, "GET, POST"; empty: unknown path
};

// The route for `method path` (HEAD takes GET's); when the path exists
// only with other methods, `route` is null and `allow` names them.
RouteMatch MatchRoute(const std::vector<Route>& routes, std::string_view method,
                      std::string_view path);

// An OpenAPI 3.0 document describing every route: its method, path
// parameters, body, success status and every error status with the shared
// error schema.
nlohmann::json OpenApiDocument(const std::vector<Route>& routes, const std::string& version);

}  // namespace semdb

#endif  // SEMDB_SHELL_HTTP_ROUTES_H_
