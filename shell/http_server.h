// semdb's local HTTP/JSON service: HttpApi's handlers on the routes of a
// libmicrohttpd server. The routes and JSON shapes are in shell/http_api.h
// and the README.
//
// Why libmicrohttpd: it is event-driven (epoll), so a connection costs a
// socket, not a thread: idle keep-alive and slow clients do not pin the
// workers that run requests; it caps connections in total and per client
// address, and decodes chunked bodies as they arrive, so the body limit
// holds for them too.
//
// Hostile clients: a whole request (header and body) must arrive within
// `request_timeout_seconds` of the connection becoming ready for it
// (accepted, or the previous response sent); the connection is closed
// otherwise. TCP_NODELAY is set on every connection.
//
// Browsers: a page the user visits must not be able to use the service.
// Bodies need "Content-Type: application/json" (else 415), which a page can
// only send cross-origin after a CORS preflight, and CORS is off unless
// `cors_origin` names the one origin allowed. The Host header must be an IP
// address, "localhost" or a name in `allowed_hosts` (else 403), which
// defeats DNS rebinding. A request carrying an Origin other than
// `cors_origin` is refused (403).
//
// Concurrency: requests are served by `threads` event-loop threads calling
// the Database directly, which is thread-safe (include/semdb/database.h):
// writes to a collection are serialized and atomic, searches run in
// parallel.
#ifndef SEMDB_SHELL_HTTP_SERVER_H_
#define SEMDB_SHELL_HTTP_SERVER_H_

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "semdb/database.h"

namespace semdb {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;      // 0 picks a free port (see Bind)
  // When not empty, every route but GET /health needs the header
  // "Authorization: Bearer KEY" or "X-API-Key: KEY" (else 401).
  std::string api_key;
  int threads = 4;
  size_t max_body_bytes = size_t{32} << 20;  // larger bodies get 413
  int max_k = 1000;                           // larger k gets 400
  int max_connections = 1024;                 // beyond: closed at once
  int max_connections_per_address = 256;      // from one client address
  int request_timeout_seconds = 10;           // header and body, see above
  std::vector<std::string> allowed_hosts;     // Host names besides IPs, localhost
  std::string cors_origin;                    // empty: no CORS
  std::vector<std::string> allowed_paths;     // see ApiLimits
  std::ostream* access_log = nullptr;         // one line per request, if set
};

class HttpServer {
 public:
  HttpServer(Database& db, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket; returns the port (the chosen one for port 0).
  absl::StatusOr<int> Bind();
  // Serves until Stop() is called; requires Bind().
  absl::Status Run();
  // Stops accepting and returns Run() once requests in progress are done.
  // Thread-safe; may be called before Run() starts serving.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace semdb

#endif  // SEMDB_SHELL_HTTP_SERVER_H_
