#include "shell/serve_command.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "semdb/database.h"
#include "shell/http_server.h"

namespace semdb {
namespace {

// SIGINT and SIGTERM write a byte to this pipe (all a signal handler may
// safely do); a thread waiting on it stops the server. Libraries start
// threads of their own (OpenBLAS at load time), so the signals cannot be
// blocked everywhere and taken with sigwait instead.
int stop_pipe[2] = {-1, -1};

extern "C" void OnStopSignal(int) {
  const char byte = 1;
  (void)!write(stop_pipe[1], &byte, 1);
}

}  // namespace

int ServeMain(int argc, char** argv) {
  CLI::App app{"semdb serve: the HTTP/JSON service on a database", "semdb serve"};
  std::string path;
  HttpServerOptions options;
  Options db_options;
  bool access_log = false, sync = false;
  app.add_option("path", path, "database directory (created if missing)")->required();
  app.add_option("--host", options.host, "address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "TCP port; 0 picks a free one")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--api-key", options.api_key,
                 "require this key (default: $SEMDB_API_KEY; none when both are empty)");
  app.add_option("--threads", options.threads, "worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--max-body-bytes", options.max_body_bytes, "largest request body")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1024}, size_t{1} << 32));
  app.add_option("--max-k", options.max_k, "largest k a search may ask for")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxK));
  app.add_option("--max-connections", options.max_connections,
                 "open connections at most; more are closed at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--max-connections-per-address", options.max_connections_per_address,
                 "open connections at most from one client address")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--request-timeout", options.request_timeout_seconds,
                 "seconds a client has to send a whole request (header and body), counted "
                 "from when its connection is ready for one")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_option("--allow-host", options.allowed_hosts,
                 "a host name the Host header may carry, besides IP addresses and localhost "
                 "(repeatable)");
  app.add_option("--cors", options.cors_origin,
                 "the one web origin (like https://app.example) whose pages may call the "
                 "server; none by default");
  app.add_option("--allow-path", options.allowed_paths,
                 "a directory under which model files named by clients (path=, cache_dir=) "
                 "may be (repeatable); none by default");
  app.add_flag("--access-log", access_log,
               "one line per request on standard error: UTC time, client, method, path, "
               "status, bytes, latency");
  app.add_flag("--sync", sync, "make every write durable before it returns");
  app.add_flag("--read-only", db_options.read_only,
               "serve an existing database without writing (a full disk, a read-only mount); "
               "writes get 422");
  app.add_option("--log-level", db_options.log_level,
                 "what the library logs on standard error: off, error, warn, info (long "
                 "operations), debug (their progress)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (options.api_key.empty()) {
    if (const char* key = std::getenv("SEMDB_API_KEY")) options.api_key = key;
  }
  if (access_log) options.access_log = &std::cerr;

  if (pipe(stop_pipe) != 0) {
    std::cerr << "error: cannot create a pipe" << std::endl;
    return 1;
  }
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  db_options.sync = sync;
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(path, db_options);
  if (!db.ok()) {
    std::cerr << "error: " << db.status().message() << std::endl;
    return 2;
  }
  const bool open_to_network = options.host != "127.0.0.1" && options.host != "localhost" &&
                               options.host != "::1";
  if (open_to_network && options.api_key.empty()) {
    std::cerr << "warning: listening on " << options.host
              << " without an API key: anyone who can reach it can read and change the "
                 "database"
              << std::endl;
  }
  int status = 0;
  {
    HttpServer server(**db, options);
    absl::StatusOr<int> port = server.Bind();
    if (!port.ok()) {
      std::cerr << "error: " << port.status().message() << std::endl;
      return 2;
    }
    std::thread stopper([&server] {
      char byte;
      while (read(stop_pipe[0], &byte, 1) < 0 && errno == EINTR) {
      }
      server.Stop();
    });
    std::cout << "semdb serve: listening on http://" << options.host << ":" << *port
              << " (database " << path << ", " << options.threads << " threads"
              << (options.api_key.empty() ? "" : ", API key required")
              << (db_options.read_only ? ", read-only" : "") << ")" << std::endl;
    absl::Status run = server.Run();
    if (!run.ok()) {
      std::cerr << "error: " << run.message() << std::endl;
      status = 1;
      OnStopSignal(0);  // wake the stopper
    }
    stopper.join();
  }
  // Saves every collection's index; a failure (a full disk) is said, since
  // the next open then replays the log or rebuilds the index.
  std::string failed;
  for (const CollectionInfo& info :
       db_options.read_only ? std::vector<CollectionInfo>() : (*db)->ListCollections()) {
    absl::StatusOr<std::shared_ptr<Collection>> c = (*db)->GetCollection(info.name);
    absl::Status s = c.ok() ? (*c)->Checkpoint() : c.status();
    if (!s.ok()) absl::StrAppend(&failed, failed.empty() ? "" : "; ", info.name, ": ", s.message());
  }
  db->reset();
  if (!failed.empty()) {
    std::cerr << "error: saving the indexes failed (" << failed
              << "); every acknowledged write is in the log and the next open replays it"
              << std::endl;
    std::cout << "semdb serve: stopped, indexes NOT saved" << std::endl;
    return 1;
  }
  std::cout << (db_options.read_only ? "semdb serve: stopped (read-only, nothing to save)"
                                     : "semdb serve: stopped, database saved")
            << std::endl;
  return status;
}

}  // namespace semdb
