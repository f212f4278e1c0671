#include "shell/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "shell/http_api.h"
#include "shell/http_metrics.h"
#include "shell/http_routes.h"
#include "shell/json_output.h"
#include "storage/bounded_json.h"

namespace semdb {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Compares without an early exit, so that timing does not tell how much of
// a guessed key was right.
bool SameKey(const std::string& given, const std::string& key) {
  unsigned char diff = given.size() == key.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ key[i % key.size()]);
  }
  return diff == 0;
}

// Percent-decodes the path and query arguments in place, as
// libmicrohttpd's own unescaper does, except that "%00" stays as it is: a
// NUL would cut the string short, so that ".../documents/a%00b" named the
// document "a" (which a DELETE then removed). Returns the new length.
size_t UnescapeKeepingNul(void* /*cls*/, MHD_Connection* /*c*/, char* s) {
  auto nibble = [](char h) {
    return absl::ascii_isdigit(h) ? h - '0' : absl::ascii_tolower(h) - 'a' + 10;
  };
  char* out = s;
  for (const char* in = s; *in != '\0';) {
    const bool escape = in[0] == '%' && absl::ascii_isxdigit(in[1]) && absl::ascii_isxdigit(in[2]);
    const int value = escape ? nibble(in[1]) * 16 + nibble(in[2]) : 0;
    if (value != 0) {
      *out++ = static_cast<char>(value);
      in += 3;
    } else {
      *out++ = *in++;
    }
  }
  *out = '\0';
  return static_cast<size_t>(out - s);
}

std::string Header(MHD_Connection* c, const char* name) {
  const char* v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string ClientAddress(MHD_Connection* c) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == nullptr || info->client_addr == nullptr) return "-";
  char host[NI_MAXHOST];
  const socklen_t len = info->client_addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6)
                                                                 : sizeof(sockaddr_in);
  if (getnameinfo(info->client_addr, len, host, sizeof(host), nullptr, 0, NI_NUMERICHOST) != 0) {
    return "-";
  }
  return host;
}

// Removes `prefix` from the front of `s` if it is there.
bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

// The host name of a Host header: "[::1]:8080" -> "::1", "a.b:80" -> "a.b".
std::string HostName(std::string_view host) {
  if (ConsumePrefix(&host, "[")) return std::string(host.substr(0, host.find(']')));
  return std::string(host.substr(0, host.find(':')));
}

bool IsIpAddress(const std::string& name) {
  in6_addr addr;
  return inet_pton(AF_INET, name.c_str(), &addr) == 1 ||
         inet_pton(AF_INET6, name.c_str(), &addr) == 1;
}

// "application/json", optionally followed by parameters (charset).
bool IsJsonContentType(const std::string& header) {
  const std::string type = absl::AsciiStrToLower(header);
  std::string_view rest = type;
  rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
  if (!ConsumePrefix(&rest, "application/json")) return false;
  return rest.empty() || rest[0] == ';' || rest[0] == ' ';
}

// A connection's state, as its socket_context: the time by which its next
// request must have arrived, unless a request is being answered.
struct ConnectionState {
  int fd = -1;
  Clock::time_point deadline;
  bool answering = false;
};
// A request's state, as its con_cls, from its header to its response: the
// route it matched, and the body's pieces as libmicrohttpd hands them over
// (at most its 32 KiB buffer each), joined once complete, so that a growing
// body is never copied into a larger buffer beside the old one.
struct RequestState {
  Clock::time_point start = Clock::now();
  RouteMatch match;
  QueryParams query;
  std::string repeated_query;  // a query parameter given more than once
  std::vector<std::string> pieces;
  size_t size = 0;

  std::string Body() const {
    std::string body;
    body.reserve(size);
    for (const std::string& p : pieces) body += p;
    return body;
  }
  // The metrics label: the route, or "unmatched" (any path a client sends
  // would otherwise make a label of its own).
  std::string RouteLabel() const {
    return match.route == nullptr ? "unmatched"
                                  : absl::StrCat(match.route->method, " ", match.route->pattern);
  }
};

// "2026-12-02T09:18:31.123Z", for the access log.
std::string UtcNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm = {};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
  return absl::StrFormat("%s.%03dZ", text, ms);
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(Database& db, HttpServerOptions options)
      : db_(db),
        options_(std::move(options)),
        api_(db, {.max_k = std::min(options_.max_k, kMaxK),
                  .allowed_paths = options_.allowed_paths}),
        routes_(MakeRoutes()),
        started_(Clock::now()) {
    for (std::string& h : options_.allowed_hosts) h = absl::AsciiStrToLower(h);
  }

  ~Impl() {
    if (listen_fd_ >= 0) close(listen_fd_);
  }

  absl::StatusOr<int> Bind() {
    auto fail = [&](const std::string& why) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.host, ":",
                                                 options_.port, " (", why, ")"));
    };
    addrinfo hints = {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(options_.port);
    if (getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found) != 0) {
      return fail("a bad address");
    }
    std::string error = "no address";
    for (addrinfo* a = found; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
      const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      const int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 1024) == 0) {
        listen_fd_ = fd;
      } else {
        error = strerror(errno);
        close(fd);
      }
    }
    freeaddrinfo(found);
    if (listen_fd_ < 0) return fail(error);
    sockaddr_storage bound = {};
    socklen_t len = sizeof(bound);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
    return ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }

  absl::Status Run() {
    {
      absl::MutexLock lock(&stop_mu_);
      if (stop_requested_) return absl::OkStatus();
    }
    const unsigned threads = static_cast<unsigned>(std::max(1, options_.threads));
    MHD_Daemon* daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, nullptr, nullptr, &OnRequest, this,
        MHD_OPTION_LISTEN_SOCKET, listen_fd_,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(options_.max_connections),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        static_cast<unsigned>(options_.max_connections_per_address),
        MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(options_.request_timeout_seconds),
        MHD_OPTION_NOTIFY_CONNECTION, &OnConnection, this,
        MHD_OPTION_NOTIFY_COMPLETED, &OnCompleted, this,
        MHD_OPTION_UNESCAPE_CALLBACK, &UnescapeKeepingNul, nullptr,
        MHD_OPTION_END);
    if (daemon == nullptr) return absl::InternalError("the HTTP server failed to start");
    listen_fd_ = -1;  // the daemon closes it
    {
      // Closes connections whose request is late, until Stop() (which may
      // have come while the daemon started).
      absl::MutexLock lock(&stop_mu_);
      while (!stop_mu_.AwaitWithTimeout(absl::Condition(&stop_requested_),
                                        absl::Milliseconds(100))) {
        CloseLateConnections();
      }
    }
    MHD_stop_daemon(daemon);  // waits for requests in progress
    return absl::OkStatus();
  }

  void Stop() {
    absl::MutexLock lock(&stop_mu_);
    stop_requested_ = true;
  }

 private:
  using Params = std::vector<std::string>;

  // The route table: every route the server answers. OpenAPI is generated
  // from it (GET /openapi.json); shell/http_api.h describes the bodies.
  std::vector<Route> MakeRoutes() {
    HttpApi& api = api_;
    return {
        {"GET", "/health", "Liveness; needs no API key", {}, 200, {}, "application/json",
         [](const Params&, const QueryParams&, const json&) { return ApiResponse{200, {{"status", "ok"}}}; }},
        {"GET", "/stats", "Server settings and counters, and every collection", {}, 200, {},
         "application/json", [this](const Params&, const QueryParams&, const json&) { return Stats(); }},
        {"GET", "/metrics", "Prometheus text: requests, latencies, documents per collection", {},
         200, {}, "text/plain; version=0.0.4",
         [this](const Params&, const QueryParams&, const json&) {
           return ApiResponse{200, metrics_.Text(db_.ListCollections())};
         }},
        {"GET", "/openapi.json", "This description (OpenAPI 3.0)", {}, 200, {},
         "application/json",
         [this](const Params&, const QueryParams&, const json&) { return ApiResponse{200, openapi_}; }},
        {"GET", "/collections", "List the collections", {}, 200, {}, "application/json",
         [&api](const Params&, const QueryParams&, const json&) { return api.ListCollections(); }},
        {"POST", "/collections", "Create a collection",
         {"name", "embedder?", "index?", "chunking?", "indexed_fields?", "keyword_index?",
          "vector_storage?"},
         201, {400, 403, 409, 422, 507}, "application/json",
         [&api](const Params&, const QueryParams&, const json& body) { return api.CreateCollection(body); }},
        {"GET", "/collections/{name}", "A collection's stats", {}, 200, {404}, "application/json",
         [&api](const Params& p, const QueryParams&, const json&) { return api.CollectionStats(p[0]); }},
        {"DELETE", "/collections/{name}", "Drop a collection and its documents", {}, 200,
         {404, 422, 507}, "application/json",
         [&api](const Params& p, const QueryParams&, const json&) { return api.DropCollection(p[0]); }},
        {"POST", "/collections/{name}/documents",
         "Insert (201) or, with upsert, replace (200) a batch of documents, atomically",
         {"documents", "upsert?"}, 201, {400, 404, 409, 422, 507}, "application/json",
         [&api](const Params& p, const QueryParams&, const json& body) { return api.WriteDocuments(p[0], body); }},
        {"GET", "/collections/{name}/documents/{id}", "A document by id (percent-encoded)", {},
         200, {404}, "application/json",
         [&api](const Params& p, const QueryParams&, const json&) { return api.GetDocument(p[0], p[1]); }},
        {"DELETE", "/collections/{name}/documents/{id}", "Delete a document", {}, 200,
         {404, 422, 507}, "application/json",
         [&api](const Params& p, const QueryParams&, const json&) { return api.DeleteDocument(p[0], p[1]); }},
        {"POST", "/collections/{name}/delete", "Delete documents by id or by filter, atomically",
         {"ids?", "filter?"},
         200, {400, 404, 422, 507}, "application/json",
         [&api](const Params& p, const QueryParams&, const json& body) { return api.DeleteDocuments(p[0], body); }},
        {"POST", "/collections/{name}/search", "Search by text or vector",
         {"query?", "vector?", "queries?", "vectors?", "k?", "filter?", "one_per_parent?", "neighbors?",
          "include_parent?", "nprobe?", "ef_search?", "hybrid?", "fusion?", "recall_target?",
          "strategy?", "include?"},
         200, {400, 404, 422}, "application/json",
         [&api](const Params& p, const QueryParams&, const json& body) { return api.Search(p[0], body); }},
        {"PUT", "/collections/{name}",
         "Get or create a collection: 201 created, 200 when it exists with this spec",
         {"embedder?", "index?", "chunking?", "indexed_fields?", "keyword_index?", "vector_storage?"},
         201, {400, 403, 422, 507}, "application/json",
         [&api](const Params& p, const QueryParams&, const json& body) {
           return api.GetOrCreateCollection(p[0], body);
         }},
        {"GET", "/collections/{name}/documents",
         "Page through the documents (storage order), optionally filtered", {}, 200, {400, 404},
         "application/json",
         [&api](const Params& p, const QueryParams& q, const json&) {
           return api.ListDocuments(p[0], q);
         },
         {"where", "limit", "offset", "cursor"}},
        {"PATCH", "/collections/{name}/documents",
         "Update documents' metadata (merged, or replaced), atomically",
         {"documents", "replace?"}, 200, {400, 404, 422, 507}, "application/json",
         [&api](const Params& p, const QueryParams&, const json& body) {
           return api.UpdateMetadata(p[0], body);
         }},
        {"POST", "/collections/{name}/get", "Several documents by id, in the order asked",
         {"ids"}, 200, {400, 404}, "application/json",
         [&api](const Params& p, const QueryParams&, const json& body) {
           return api.GetDocuments(p[0], body);
         }},
        {"POST", "/collections/{name}/count", "Count the documents, optionally filtered",
         {"filter?"}, 200, {400, 404}, "application/json",
         [&api](const Params& p, const QueryParams&, const json& body) {
           return api.CountDocuments(p[0], body);
         }},
        {"GET", "/collections/{name}/export",
         "The collection as JSON Lines (id, text, metadata, optionally vectors), which import "
         "reads back",
         {}, 200, {400, 404}, "application/x-ndjson",
         [&api](const Params& p, const QueryParams& q, const json&) {
           return api.Export(p[0], q);
         },
         {"where", "vectors"}},
    };
  }

  static void OnConnection(void* cls, MHD_Connection* c, void** socket_context,
                           MHD_ConnectionNotificationCode code) {
    Impl* self = static_cast<Impl*>(cls);
    absl::MutexLock lock(&self->connections_mu_);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      auto* state = new ConnectionState;
      const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
      state->fd = info->connect_fd;
      // Responses go out at once: no Nagle wait for the client's ACK.
      // (libmicrohttpd 0.9.75 also sets it as it sends; set here too, so
      // that it holds whatever another version does.)
      const int one = 1;
      setsockopt(state->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      state->deadline = Clock::now() + std::chrono::seconds(self->options_.request_timeout_seconds);
      self->connections_.insert(state);
      *socket_context = state;
    } else {
      // Called before the daemon closes the socket, so no fd in
      // connections_ is ever a reused one.
      auto* state = static_cast<ConnectionState*>(*socket_context);
      self->connections_.erase(state);
      delete state;
      *socket_context = nullptr;
    }
  }

  static ConnectionState* StateOf(MHD_Connection* c) {
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info == nullptr ? nullptr : static_cast<ConnectionState*>(info->socket_context);
  }

  void SetAnswering(MHD_Connection* c, bool answering) {
    absl::MutexLock lock(&connections_mu_);
    ConnectionState* state = StateOf(c);
    if (state == nullptr) return;
    state->answering = answering;
    state->deadline = Clock::now() + std::chrono::seconds(options_.request_timeout_seconds);
  }

  // A late connection's socket is shut down; the daemon then sees it end
  // and cleans it up in its own thread.
  void CloseLateConnections() {
    const Clock::time_point now = Clock::now();
    absl::MutexLock lock(&connections_mu_);
    for (ConnectionState* state : connections_) {
      if (!state->answering && state->deadline < now) {
        shutdown(state->fd, SHUT_RDWR);
        state->deadline = Clock::time_point::max();
      }
    }
  }

  static void OnCompleted(void* cls, MHD_Connection* c, void** con_cls,
                          MHD_RequestTerminationCode) {
    delete static_cast<RequestState*>(*con_cls);
    *con_cls = nullptr;
    static_cast<Impl*>(cls)->SetAnswering(c, false);
  }

  static MHD_Result OnRequest(void* cls, MHD_Connection* c, const char* url, const char* method,
                              const char*, const char* upload_data, size_t* upload_data_size,
                              void** con_cls) {
    Impl* self = static_cast<Impl*>(cls);
    if (*con_cls == nullptr) {  // the header is in; the body may follow
      auto* request = new RequestState;
      *con_cls = request;
      request->match = MatchRoute(self->routes_, method, url);
      request->query = QueryArguments(c, &request->repeated_query);
      if (std::optional<ApiResponse> refused = self->Admit(c, method, url, request->match)) {
        return self->Respond(c, method, url, *request, *refused);
      }
      return MHD_YES;
    }
    auto* request = static_cast<RequestState*>(*con_cls);
    if (*upload_data_size > 0) {
      request->size += *upload_data_size;
      if (request->size > self->options_.max_body_bytes) {
        return self->RefuseAndClose(c, method, url, *request);
      }
      request->pieces.emplace_back(upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
    self->SetAnswering(c, true);
    return self->Respond(c, method, url, *request, self->Answer(*request));
  }

  // The request's query parameters, as libmicrohttpd decoded them; the
  // name of one given twice into *repeated (which value was meant cannot
  // be told, so Answer refuses the request).
  static QueryParams QueryArguments(MHD_Connection* c, std::string* repeated) {
    struct Collected {
      QueryParams params;
      std::string* repeated;
    } collected{{}, repeated};
    MHD_get_connection_values(
        c, MHD_GET_ARGUMENT_KIND,
        [](void* cls, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
          auto* into = static_cast<Collected*>(cls);
          if (!into->params.emplace(key, value == nullptr ? "" : value).second &&
              into->repeated->empty()) {
            *into->repeated = key;
          }
          return MHD_YES;
        },
        &collected);
    return std::move(collected.params);
  }

  ApiResponse TooLarge() const {
    return ErrorResponse(413, absl::StrCat("the request body is larger than ",
                                           options_.max_body_bytes, " bytes"));
  }

  // A body that passed the limit while it arrived (chunked, or longer than
  // announced): libmicrohttpd 0.9.75 queues a response only once the whole
  // body is in, which would mean reading the rest of it, however large. So
  // the 413 is written to the socket here and the connection closed: the
  // client learns why, and no more of the body is read.
  MHD_Result RefuseAndClose(MHD_Connection* c, std::string_view method, std::string_view path,
                            const RequestState& request) {
    const ApiResponse r = TooLarge();
    const std::string body = DumpJson(r.body) + "\n";
    std::string reply = absl::StrCat("HTTP/1.1 413 Content Too Large\r\nConnection: close\r\n",
                                     "Content-Type: application/json\r\nContent-Length: ",
                                     body.size(), "\r\n", CorsHeaderLines(), "\r\n", body);
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    (void)!send(info->connect_fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(info->connect_fd, SHUT_WR);
    Finished(c, method, path, request, r.status, body.size());
    return MHD_NO;  // libmicrohttpd closes the connection
  }

  // The checks on a request's header: the error to answer with, if any.
  std::optional<ApiResponse> Admit(MHD_Connection* c, std::string_view method,
                                   std::string_view path, const RouteMatch& match) {
    ++requests_;
    const std::string host = absl::AsciiStrToLower(HostName(Header(c, "Host")));
    if (!host.empty() && !IsIpAddress(host) && host != "localhost" &&
        std::find(options_.allowed_hosts.begin(), options_.allowed_hosts.end(), host) ==
            options_.allowed_hosts.end()) {
      return ErrorResponse(403, absl::StrCat("the Host '", host,
                                             "' is not allowed: use an IP address, localhost, "
                                             "or start the server with --allow-host NAME"));
    }
    const std::string origin = Header(c, "Origin");
    if (!origin.empty() && origin != options_.cors_origin) {
      return ErrorResponse(403, absl::StrCat("requests from the web origin '", origin,
                                             "' are not allowed (see --cors)"));
    }
    if (method == "OPTIONS" && !options_.cors_origin.empty()) return ApiResponse{204, nullptr};
    if (!options_.api_key.empty() && path != "/health") {
      std::string given = Header(c, "X-API-Key");
      const std::string auth = Header(c, "Authorization");
      if (given.empty() && auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
      if (given.empty() || !SameKey(given, options_.api_key)) {
        return ErrorResponse(401, given.empty()
                                      ? "this server needs an API key: send the header "
                                        "'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
                                      : "wrong API key");
      }
    }
    if (match.route == nullptr) {
      if (match.allow.empty()) {
        return ErrorResponse(404, absl::StrCat("no route ", std::string(method), " ",
                                               std::string(path)));
      }
      return ErrorResponse(405, absl::StrCat(std::string(path), " answers ", match.allow,
                                             ", not ", std::string(method)));
    }
    if (!match.route->body_fields.empty() && !IsJsonContentType(Header(c, "Content-Type"))) {
      return ErrorResponse(415, "the request body must be sent with the header "
                                "'Content-Type: application/json'");
    }
    const std::string length = Header(c, "Content-Length");
    char* end = nullptr;
    if (!length.empty() && std::strtoull(length.c_str(), &end, 10) > options_.max_body_bytes) {
      return TooLarge();
    }
    return std::nullopt;
  }

  // Feeds a streamed body (ApiResponse::stream) to libmicrohttpd.
  struct Stream {
    std::function<absl::StatusOr<std::string>()> next;
    std::string piece;
    size_t offset = 0;

    static ssize_t Read(void* cls, uint64_t, char* buf, size_t max) {
      auto* self = static_cast<Stream*>(cls);
      while (self->offset == self->piece.size()) {
        absl::StatusOr<std::string> piece = self->next();
        if (!piece.ok()) return MHD_CONTENT_READER_END_WITH_ERROR;
        if (piece->empty()) return MHD_CONTENT_READER_END_OF_STREAM;
        self->piece = *std::move(piece);
        self->offset = 0;
      }
      const size_t n = std::min(max, self->piece.size() - self->offset);
      std::memcpy(buf, self->piece.data() + self->offset, n);
      self->offset += n;
      return static_cast<ssize_t>(n);
    }
    static void Free(void* cls) { delete static_cast<Stream*>(cls); }
  };

  std::string CorsHeaderLines() const {
    if (options_.cors_origin.empty()) return "";
    return absl::StrCat("Access-Control-Allow-Origin: ", options_.cors_origin,
                        "\r\nVary: Origin\r\n");
  }

  MHD_Result Respond(MHD_Connection* c, std::string_view method, std::string_view path,
                     const RequestState& request, const ApiResponse& r) {
    const bool text = r.status == 200 && request.match.route != nullptr &&
                      request.match.route->content_type != "application/json";
    const std::string body = r.stream           ? std::string()
                             : text             ? r.body.get<std::string>()
                             : r.body.is_null() ? std::string()
                                                : DumpJson(r.body) + "\n";
    MHD_Response* response =
        r.stream ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, &Stream::Read,
                                                     new Stream{r.stream, {}, 0}, &Stream::Free)
                 : MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                                   MHD_RESPMEM_MUST_COPY);
    if (r.stream) {
      MHD_add_response_header(response, "Content-Type", r.stream_type.c_str());
    } else if (!body.empty()) {
      MHD_add_response_header(response, "Content-Type",
                              text ? request.match.route->content_type.c_str()
                                   : "application/json");
    }
    if (r.status == 405) MHD_add_response_header(response, "Allow", request.match.allow.c_str());
    if (!options_.cors_origin.empty()) {
      MHD_add_response_header(response, "Access-Control-Allow-Origin",
                              options_.cors_origin.c_str());
      MHD_add_response_header(response, "Vary", "Origin");
      MHD_add_response_header(response, "Access-Control-Allow-Methods",
                              "GET, POST, PUT, PATCH, DELETE, OPTIONS");
      MHD_add_response_header(response, "Access-Control-Allow-Headers",
                              "Content-Type, Authorization, X-API-Key");
    }
    const MHD_Result queued = MHD_queue_response(c, r.status, response);
    MHD_destroy_response(response);
    Finished(c, method, path, request, r.status, body.size());
    return queued;
  }

  // Counts an answered request and logs it.
  void Finished(MHD_Connection* c, std::string_view method, std::string_view path,
                const RequestState& request, int status, size_t bytes) {
    const double seconds = std::chrono::duration<double>(Clock::now() - request.start).count();
    metrics_.Record(request.RouteLabel(), status, seconds);
    if (options_.access_log != nullptr) {
      const std::string line = absl::StrFormat("%s %s %s %s %d %d %.3fms\n", UtcNow(),
                                               ClientAddress(c), method, path, status, bytes,
                                               seconds * 1e3);
      absl::MutexLock lock(&log_mu_);
      *options_.access_log << line << std::flush;
    }
  }

  // The body parsed as JSON, or the 400 response to send.
  static std::optional<ApiResponse> ParseBody(const std::string& text, json* body) {
    if (text.empty()) return ErrorResponse(400, "the request body is empty: send a JSON object");
    absl::StatusOr<json> parsed = ParseJson(text);
    if (!parsed.ok()) return ErrorResponse(400, std::string(parsed.status().message()));
    *body = *std::move(parsed);
    return std::nullopt;
  }

  // The response of the request's route (Admit found one), given its body.
  ApiResponse Answer(const RequestState& request) {
    const Route& route = *request.match.route;
    // Routes that read query parameters check them themselves; the others
    // refuse any, as unknown body fields are refused ("?limit=2" on GET
    // /collections was silently ignored).
    if (!request.repeated_query.empty()) {
      return ErrorResponse(400, absl::StrCat("query parameter '", request.repeated_query,
                                             "' is given more than once"));
    }
    if (route.query_fields.empty() && !request.query.empty()) {
      return ErrorResponse(400, absl::StrCat("unknown query parameter '",
                                             request.query.begin()->first, "': ", route.method,
                                             " ", route.pattern, " takes none"));
    }
    json body;
    if (!route.body_fields.empty()) {
      if (std::optional<ApiResponse> error = ParseBody(request.Body(), &body)) return *error;
    }
    return route.handler(request.match.params, request.query, body);
  }

  ApiResponse Stats() const {
    const double uptime = std::chrono::duration<double>(Clock::now() - started_).count();
    return {200,
            {{"server",
              {{"uptime_seconds", uptime},
               {"requests", requests_.load()},
               {"threads", std::max(1, options_.threads)},
               {"max_body_bytes", options_.max_body_bytes},
               {"max_k", std::min(options_.max_k, kMaxK)},
               {"database", db_.path()}}},
             {"collections", api_.ListCollections().body["collections"]}}};
  }

  Database& db_;
  HttpServerOptions options_;
  HttpApi api_;
  const std::vector<Route> routes_;
  const json openapi_ = OpenApiDocument(routes_, SEMDB_VERSION);
  HttpMetrics metrics_;
  const Clock::time_point started_;
  int listen_fd_ = -1;
  std::atomic<int64_t> requests_{0};
  absl::Mutex stop_mu_;
  bool stop_requested_ ABSL_GUARDED_BY(stop_mu_) = false;
  // Connections open, and their ConnectionState's fields.
  absl::Mutex connections_mu_ ABSL_ACQUIRED_AFTER(stop_mu_);
  std::set<ConnectionState*> connections_ ABSL_GUARDED_BY(connections_mu_);
  absl::Mutex log_mu_;  // one access-log line at a time
};

HttpServer::HttpServer(Database& db, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(db, std::move(options))) {}
HttpServer::~HttpServer() = default;
absl::StatusOr<int> HttpServer::Bind() { return impl_->Bind(); }
absl::Status HttpServer::Run() { return impl_->Run(); }
void HttpServer::Stop() { impl_->Stop(); }

}  // namespace semdb
