#include "shell/http_server.h"

#include <atomic>
#include <chrono>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "shell/http_api.h"
#include "shell/json_output.h"

namespace semdb {
namespace {

using nlohmann::json;

void Send(httplib::Response& res, const ApiResponse& r) {
  res.status = r.status;
  res.set_content(DumpJson(r.body) + "\n", "application/json");
}

// Compares without an early exit, so that timing does not tell how much of
// a guessed key was right.
bool SameKey(const std::string& given, const std::string& key) {
  unsigned char diff = given.size() == key.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ key[i % key.size()]);
  }
  return diff == 0;
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(Database& db, HttpServerOptions options)
      : db_(db),
        options_(std::move(options)),
        api_(db, {.max_k = std::min(options_.max_k, kMaxK)}),
        started_(std::chrono::steady_clock::now()) {
    Configure();
  }

  absl::StatusOr<int> Bind() {
    int port = options_.port;
    if (port == 0) {
      port = server_.bind_to_any_port(options_.host);
    } else if (!server_.bind_to_port(options_.host, port)) {
      port = -1;
    }
    if (port < 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.host, ":",
                                                 options_.port, " (in use, or a bad address)"));
    }
    return port;
  }

  absl::Status Run() {
    if (stop_requested_) return absl::OkStatus();
    if (!server_.listen_after_bind() && !stop_requested_) {
      return absl::InternalError("the server stopped listening unexpectedly");
    }
    return absl::OkStatus();
  }

  void Stop() {
    stop_requested_ = true;
    server_.stop();
  }

 private:
  // The body parsed as JSON, or the 400 response to send.
  static std::optional<ApiResponse> ParseBody(const httplib::Request& req, json* body) {
    if (req.body.empty()) {
      return ErrorResponse(400, "the request body is empty: send a JSON object");
    }
    try {
      *body = json::parse(req.body);
    } catch (const json::parse_error& e) {
      return ErrorResponse(400, absl::StrCat("malformed JSON: ", e.what()));
    }
    return std::nullopt;
  }

  // Registers a route whose handler takes the path's captures and the body.
  using BodyHandler =
      std::function<ApiResponse(const httplib::Match&, const json& body)>;
  httplib::Server::Handler WithBody(BodyHandler handler) {
    return [handler](const httplib::Request& req, httplib::Response& res) {
      json body;
      if (std::optional<ApiResponse> error = ParseBody(req, &body)) return Send(res, *error);
      Send(res, handler(req.matches, body));
    };
  }
  using PathHandler = std::function<ApiResponse(const httplib::Match&)>;
  static httplib::Server::Handler NoBody(PathHandler handler) {
    return [handler](const httplib::Request& req, httplib::Response& res) {
      Send(res, handler(req.matches));
    };
  }

  void Configure() {
    const int threads = std::max(1, options_.threads);
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server_.set_payload_max_length(options_.max_body_bytes);

    server_.set_pre_routing_handler([this](const httplib::Request& req,
                                           httplib::Response& res) {
      ++requests_;
      if (options_.api_key.empty() || req.path == "/health") {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      std::string given = req.get_header_value("X-API-Key");
      const std::string auth = req.get_header_value("Authorization");
      if (given.empty() && auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
      if (!given.empty() && SameKey(given, options_.api_key)) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      Send(res, ErrorResponse(401, given.empty()
                                       ? "this server needs an API key: send the header "
                                         "'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
                                       : "wrong API key"));
      return httplib::Server::HandlerResponse::Handled;
    });
    // Errors httplib produces itself (unknown route, body too large,
    // unreadable request) get the same JSON shape as the API's.
    server_.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 404) {
        Send(res, ErrorResponse(404, absl::StrCat("no route ", req.method, " ", req.path)));
      } else if (res.status == 413) {
        Send(res, ErrorResponse(413, absl::StrCat("the request body is larger than ",
                                                  options_.max_body_bytes, " bytes")));
      } else {
        Send(res, ErrorResponse(res.status, absl::StrCat("HTTP status ", res.status)));
      }
    });
    server_.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown exception";
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          Send(res, ErrorResponse(500, what));
        });
    if (options_.access_log != nullptr) {
      server_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        std::lock_guard<std::mutex> lock(log_mu_);
        *options_.access_log << req.remote_addr << " " << req.method << " " << req.path << " "
                             << res.status << " " << res.body.size() << std::endl;
      });
    }

    server_.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      Send(res, {200, {{"status", "ok"}}});
    });
    server_.Get("/stats", [this](const httplib::Request&, httplib::Response& res) {
      const double uptime =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
      Send(res, {200,
                 {{"server",
                   {{"uptime_seconds", uptime},
                    {"requests", requests_.load()},
                    {"threads", std::max(1, options_.threads)},
                    {"max_body_bytes", options_.max_body_bytes},
                    {"max_k", std::min(options_.max_k, kMaxK)},
                    {"database", db_.path()}}},
                  {"collections", api_.ListCollections().body["collections"]}}});
    });
    server_.Get("/collections", NoBody([this](const httplib::Match&) {
                  return api_.ListCollections();
                }));
    server_.Post("/collections", WithBody([this](const httplib::Match&, const json& body) {
                   return api_.CreateCollection(body);
                 }));
    const std::string collection = R"(/collections/([^/]+))";
    server_.Get(collection, NoBody([this](const httplib::Match& m) {
                  return api_.CollectionStats(m[1]);
                }));
    server_.Delete(collection, NoBody([this](const httplib::Match& m) {
                     return api_.DropCollection(m[1]);
                   }));
    server_.Post(collection + "/documents",
                 WithBody([this](const httplib::Match& m, const json& body) {
                   return api_.WriteDocuments(m[1], body);
                 }));
    server_.Get(collection + "/documents/(.+)", NoBody([this](const httplib::Match& m) {
                  return api_.GetDocument(m[1], m[2]);
                }));
    server_.Delete(collection + "/documents/(.+)", NoBody([this](const httplib::Match& m) {
                     return api_.DeleteDocument(m[1], m[2]);
                   }));
    server_.Post(collection + "/delete",
                 WithBody([this](const httplib::Match& m, const json& body) {
                   return api_.DeleteDocuments(m[1], body);
                 }));
    server_.Post(collection + "/search",
                 WithBody([this](const httplib::Match& m, const json& body) {
                   return api_.Search(m[1], body);
                 }));
  }

  Database& db_;
  const HttpServerOptions options_;
  HttpApi api_;
  httplib::Server server_;
  const std::chrono::steady_clock::time_point started_;
  std::atomic<int64_t> requests_{0};
  std::atomic<bool> stop_requested_{false};
  std::mutex log_mu_;
};

HttpServer::HttpServer(Database& db, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(db, std::move(options))) {}
HttpServer::~HttpServer() = default;
absl::StatusOr<int> HttpServer::Bind() { return impl_->Bind(); }
absl::Status HttpServer::Run() { return impl_->Run(); }
void HttpServer::Stop() { impl_->Stop(); }

}  // namespace semdb
