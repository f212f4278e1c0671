#include "shell/http_routes.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace semdb {
namespace {

using nlohmann::json;

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// The path parameters of `path` under `pattern`, or false when it does not
// match. Both start with '/'.
bool Match(std::string_view pattern, std::string_view path, std::vector<std::string>* params) {
  const std::vector<std::string> want = absl::StrSplit(std::string(pattern.substr(1)), '/');
  std::string_view rest = path.substr(1);
  params->clear();
  for (size_t i = 0; i < want.size(); ++i) {
    const bool last = i + 1 == want.size();
    const size_t slash = rest.find('/');
    std::string_view segment = last ? rest : rest.substr(0, slash);
    if (!last && slash == std::string_view::npos) return false;
    if (IsParam(want[i])) {
      if (segment.empty()) return false;
      params->emplace_back(segment);
    } else if (segment != want[i]) {
      return false;
    }
    if (!last) rest.remove_prefix(slash + 1);
  }
  return true;
}

// Statuses some route may answer whatever it does: the key, the Host and
// Origin checks, a wrong method, internal failures; and for bodies, their
// size and type.
std::vector<int> CommonErrors(bool takes_body) {
  std::vector<int> errors = {401, 403, 405, 500};
  if (takes_body) errors.insert(errors.end(), {400, 413, 415});
  return errors;
}

json ErrorReply(int status) {
  const std::string code = ErrorResponse(status, "-").body["error"]["code"];
  return {{"description", code},
          {"content",
           {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

json Operation(const Route& r) {
  std::string id = absl::AsciiStrToLower(r.method);
  for (char ch : r.pattern) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      id += ch;
    } else if (id.back() != '_') {
      id += '_';
    }
  }
  if (id.back() == '_') id.pop_back();
  json op = {{"summary", r.summary}, {"operationId", id}};
  json parameters = json::array();
  for (const std::string& segment : std::vector<std::string>(absl::StrSplit(r.pattern, '/'))) {
    if (!IsParam(segment)) continue;
    parameters.push_back({{"name", segment.substr(1, segment.size() - 2)},
                          {"in", "path"},
                          {"required", true},
                          {"schema", {{"type", "string"}}}});
  }
  for (const std::string& name : r.query_fields) {
    parameters.push_back({{"name", name},
                          {"in", "query"},
                          {"required", false},
                          {"schema", {{"type", "string"}}}});
  }
  if (!parameters.empty()) op["parameters"] = std::move(parameters);
  if (!r.body_fields.empty()) {
    json properties = json::object(), required = json::array();
    for (const std::string& field : r.body_fields) {
      const bool optional = field.back() == '?';
      const std::string name = optional ? field.substr(0, field.size() - 1) : field;
      properties[name] = json::object();
      if (!optional) required.push_back(name);
    }
    json schema = {{"type", "object"}, {"properties", std::move(properties)}};
    if (!required.empty()) schema["required"] = std::move(required);
    op["requestBody"] = {{"required", true},
                         {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
  }
  const json schema = {{"type", r.content_type == "application/json" ? "object" : "string"}};
  json responses = {{std::to_string(r.success),
                     {{"description", "success"},
                      {"content", {{r.content_type, {{"schema", schema}}}}}}}};
  std::set<int> errors(r.errors.begin(), r.errors.end());
  for (int s : CommonErrors(!r.body_fields.empty())) errors.insert(s);
  for (int s : errors) responses[std::to_string(s)] = ErrorReply(s);
  op["responses"] = std::move(responses);
  return op;
}

}  // namespace

RouteMatch MatchRoute(const std::vector<Route>& routes, std::string_view method,
                      std::string_view path) {
  // Among the patterns the path matches, the longest wins: a last
  // parameter takes the rest of the path, so "/collections/{name}" also
  // matches "/collections/c/documents/d".
  RouteMatch match;
  if (path.empty() || path[0] != '/') return match;
  // HEAD is GET without the body (RFC 9110, 9.3.2; libmicrohttpd leaves
  // the body out): load balancers and health checkers send it.
  const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  std::vector<std::string> params;
  size_t longest = 0;
  std::vector<std::string> allowed;
  for (const Route& r : routes) {
    if (!Match(r.pattern, path, &params)) continue;
    const size_t length = std::count(r.pattern.begin(), r.pattern.end(), '/');
    if (length > longest) {
      longest = length;
      allowed.clear();
      match.route = nullptr;
    }
    if (length < longest) continue;
    if (r.method == wanted && match.route == nullptr) {
      match.route = &r;
      match.params = params;
    }
    allowed.push_back(r.method);
  }
  match.allow = absl::StrJoin(allowed, ", ");
  return match;
}

json OpenApiDocument(const std::vector<Route>& routes, const std::string& version) {
  json paths = json::object();
  for (const Route& r : routes) {
    paths[r.pattern][absl::AsciiStrToLower(r.method)] = Operation(r);
  }
  return {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "semdb"},
        {"version", version},
        {"description",
         "semdb's HTTP/JSON service. Bodies need Content-Type: application/json. When the "
         "server has an API key, every route but /health needs it."}}},
      {"paths", std::move(paths)},
      {"security", json::array({{{"bearer", json::array()}},
                                {{"api_key", json::array()}},
                                json::object()})},
      {"components",
       {{"securitySchemes",
         {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
          {"api_key", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}}}},
        {"schemas",
         {{"Error",
           {{"type", "object"},
            {"required", json::array({"error"})},
            {"properties",
             {{"error",
               {{"type", "object"},
                {"required", json::array({"code", "message"})},
                {"properties",
                 {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}}}}}}}}}},
  };
}

}  // namespace semdb
