// semdb's local HTTP/JSON service: HttpApi's handlers on routes of a
// cpp-httplib server, with an optional API key, a request body limit, a
// thread pool and a clean stop. The routes and JSON shapes are in
// shell/http_api.h and the README.
//
// Concurrency: requests are served by `threads` worker threads calling the
// Database directly, which is thread-safe (include/semdb/database.h): writes
// to a collection are serialized and atomic, searches run in parallel.
#ifndef SEMDB_SHELL_HTTP_SERVER_H_
#define SEMDB_SHELL_HTTP_SERVER_H_

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>

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
