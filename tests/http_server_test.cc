// The HTTP service end to end: the real `semdb serve` binary on a loopback
// port, driven over HTTP: results, every error status, the API key, the
// body limit, concurrent requests and a clean stop that keeps the data.
// Also the route handlers called in-process.
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "catch2/catch.hpp"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "semdb/database.h"
#include "shell/http_api.h"
#include "shell/http_server.h"
#include "test_data.h"

extern char** environ;

namespace semdb {
namespace {

using nlohmann::json;
using testing::TempDir;

// A `semdb serve` child process on a free port; killed if still running
// when the test ends.
class ServerProcess {
 public:
  // Standard error goes to `stderr_path` when given.
  explicit ServerProcess(const std::string& db, std::vector<std::string> extra = {},
                         const std::string& stderr_path = "") {
    int out[2];
    REQUIRE(pipe(out) == 0);
    std::vector<std::string> args = {SEMDB_BINARY_DIR "/shell/semdb", "serve", db, "--port", "0",
                                     "--threads", "4"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    if (!stderr_path.empty()) {
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    REQUIRE(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    out_ = fdopen(out[0], "r");
    const std::string first = ReadLine();
    INFO(first);
    std::smatch m;
    REQUIRE(std::regex_search(first, m, std::regex(R"(listening on http://127\.0\.0\.1:(\d+))")));
    port_ = std::stoi(m[1]);
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ != nullptr) fclose(out_);
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(60);
    return client;
  }

  // SIGTERM, then the exit status and the rest of standard output.
  std::pair<int, std::string> Stop() {
    REQUIRE(kill(pid_, SIGTERM) == 0);
    int status = 0;
    REQUIRE(waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    std::string rest;
    for (std::string line = ReadLine(); !line.empty(); line = ReadLine()) rest += line;
    REQUIRE(WIFEXITED(status));
    return {WEXITSTATUS(status), rest};
  }

 private:
  std::string ReadLine() {
    char buf[1024];
    return fgets(buf, sizeof(buf), out_) ? std::string(buf) : std::string();
  }
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  int port_ = 0;
};

struct Reply {
  int status;
  json body;
};

Reply Call(httplib::Client& client, const std::string& method, const std::string& path,
           const std::string& body = "", const httplib::Headers& headers = {}) {
  httplib::Result r = method == "GET"      ? client.Get(path.c_str(), headers)
                      : method == "DELETE" ? client.Delete(path.c_str(), headers)
                      : method == "PUT"    ? client.Put(path.c_str(), headers, body,
                                                        "application/json")
                                           : client.Post(path.c_str(), headers, body,
                                                         "application/json");
  INFO(method << " " << path);
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->get_header_value("Content-Type") == "application/json");
  return {r->status, json::parse(r->body)};
}

Reply Call(httplib::Client& client, const std::string& method, const std::string& path,
           const json& body) {
  return Call(client, method, path, body.dump());
}

// The error code of an error reply with `status`.
std::string ErrorCode(const Reply& r, int status) {
  INFO(r.body.dump());
  REQUIRE(r.status == status);
  REQUIRE(r.body["error"]["message"].get<std::string>().size() > 0);
  return r.body["error"]["code"];
}

TEST_CASE("semdb serve: routes, results and every error status over HTTP", "[http]") {
  TempDir dir;
  ServerProcess server(dir / "db");
  httplib::Client c = server.Client();
  REQUIRE(Call(c, "GET", "/health").body == json{{"status", "ok"}});

  Reply created = Call(c, "POST", "/collections",
                       json{{"name", "notes"}, {"chunking", "sentences max_chars=60"}});
  REQUIRE(created.status == 201);
  REQUIRE(created.body["collection"]["chunking"] == "sentences max_chars=60");
  REQUIRE(ErrorCode(Call(c, "POST", "/collections", json{{"name", "notes"}}), 409) ==
          "already_exists");
  REQUIRE(ErrorCode(Call(c, "POST", "/collections", json{{"name", "bad name"}}), 400) ==
          "bad_request");
  REQUIRE(ErrorCode(Call(c, "POST", "/collections", json{{"name", "x"}, {"chunking", "nope"}}),
                    400) == "bad_request");

  const json docs = {
      {"documents",
       {{{"id", "volcano/1 a"},
         {"text", "Lava erupted from the volcano. The villagers fled the ash cloud."},
         {"metadata", {{"topic", "geology"}}}},
        {{"id", "bank"},
         {"text", "The central bank raised interest rates. Inflation slowed down."},
         {"metadata", {{"topic", "finance"}}}},
        {{"text", "Glaciers retreat as the ice melts. Sea levels rise."}}}}};
  Reply inserted = Call(c, "POST", "/collections/notes/documents", docs);
  REQUIRE(inserted.status == 201);
  REQUIRE(inserted.body["ids"].size() == 3);
  REQUIRE(inserted.body["ids"][0] == "volcano/1 a");
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/notes/documents", docs), 409) ==
          "already_exists");
  Reply upserted = Call(c, "POST", "/collections/notes/documents",
                        json{{"upsert", true},
                             {"documents", {{{"id", "bank"},
                                             {"text", "The central bank cut interest rates. "
                                                      "Markets rallied on the news."},
                                             {"metadata", {{"topic", "finance"}}}}}}});
  REQUIRE(upserted.status == 200);

  // Search: passages with their document id and byte offsets.
  Reply found = Call(c, "POST", "/collections/notes/search",
                     json{{"query", "interest rates of the bank"}, {"k", 2}, {"neighbors", 1},
                          {"include_parent", true}});
  REQUIRE(found.status == 200);
  const json& top = found.body["hits"][0];
  REQUIRE(top["id"] == "bank");
  REQUIRE(top["text"] == "The central bank cut interest rates.");
  REQUIRE(top["passage"] == json{{"index", 0}, {"count", 2}, {"begin", 0}, {"end", 36}});
  REQUIRE(top["neighbors"][0]["text"] == "Markets rallied on the news.");
  REQUIRE(top["neighbors"][0]["index"] == 1);
  REQUIRE(top["parent_text"] ==
          "The central bank cut interest rates. Markets rallied on the news.");
  Reply filtered = Call(c, "POST", "/collections/notes/search",
                        json{{"query", "interest rates"}, {"k", 10}, {"one_per_parent", true},
                             {"filter", "topic = 'geology'"}});
  REQUIRE(filtered.body["hits"].size() == 1);
  REQUIRE(filtered.body["hits"][0]["id"] == "volcano/1 a");
  // "include" names the fields beyond id and score: the same hits, without
  // the fields left out.
  const json question = {{"query", "interest rates"}, {"k", 10}};
  Reply all = Call(c, "POST", "/collections/notes/search", question);
  for (const json& include : {json::array(), json::array({"metadata"})}) {
    json body = question;
    body["include"] = include;
    Reply part = Call(c, "POST", "/collections/notes/search", body);
    REQUIRE(part.status == 200);
    REQUIRE(part.body["hits"].size() == all.body["hits"].size());
    for (size_t i = 0; i < part.body["hits"].size(); ++i) {
      const json& h = part.body["hits"][i];
      REQUIRE(h["id"] == all.body["hits"][i]["id"]);
      REQUIRE(h["score"] == all.body["hits"][i]["score"]);
      REQUIRE(!h.contains("text"));
      REQUIRE(h.contains("metadata") == !include.empty());
      if (!include.empty()) REQUIRE(h["metadata"] == all.body["hits"][i]["metadata"]);
    }
  }
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/notes/search",
                         json{{"query", "x"}, {"include", {"vector"}}}),
                    400) == "bad_request");
  // "fusion" as the shell's --fusion: rrf scores are ranks' scores.
  Reply rrf = Call(c, "POST", "/collections/notes/search",
                   json{{"query", "interest rates"}, {"hybrid", 0.5}, {"fusion", "rrf"}});
  REQUIRE(rrf.status == 200);
  REQUIRE(rrf.body["hits"][0]["score_kind"] == "rank score");
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/notes/search",
                         json{{"query", "x"}, {"fusion", "max"}}),
                    400) == "bad_request");

  // Get by id, percent-encoded in the path.
  Reply got = Call(c, "GET", "/collections/notes/documents/volcano%2F1%20a");
  REQUIRE(got.status == 200);
  REQUIRE(got.body["text"] == docs["documents"][0]["text"]);
  REQUIRE(got.body["metadata"]["topic"] == "geology");

  // Errors, each with its status.
  REQUIRE(ErrorCode(Call(c, "GET", "/collections/notes/documents/nosuch"), 404) == "not_found");
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/nosuch/search", json{{"query", "x"}}), 404) ==
          "not_found");
  REQUIRE(ErrorCode(Call(c, "GET", "/no/such/route"), 404) == "not_found");
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/notes/search", std::string("{\"query\": ")),
                    400) == "bad_request");
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/notes/search", std::string("")), 400) ==
          "bad_request");
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/notes/search", json::array()), 400) ==
          "bad_request");
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/notes/search",
                         std::string("{\"query\": \"bad \xff utf8\"}")),
                    400) == "bad_request");
  for (const json& bad : {json{{"query", "x"}, {"k", 0}}, json{{"query", "x"}, {"k", 1001}},
                          json{{"query", "x"}, {"k", "5"}}, json{{"query", "x"}, {"kk", 5}},
                          json{{"k", 5}}, json{{"query", "x"}, {"vector", {1, 2}}},
                          json{{"query", "x"}, {"neighbors", 21}},
                          json{{"query", "x"}, {"filter", "topic ="}},
                          json{{"query", "   "}}}) {
    INFO(bad.dump());
    REQUIRE(ErrorCode(Call(c, "POST", "/collections/notes/search", bad), 400) == "bad_request");
  }
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/notes/documents",
                         json{{"documents", {{{"text", "x"}, {"metadata", 5}}}}}),
                    400) == "bad_request");
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/notes/documents", json{{"documents", 5}}),
                    400) == "bad_request");
  // A text query on a collection of caller-supplied vectors: well-formed,
  // but that collection cannot embed text.
  REQUIRE(Call(c, "POST", "/collections", json{{"name", "vecs"}, {"embedder", "vectors dim=2"}})
              .status == 201);
  REQUIRE(Call(c, "POST", "/collections/vecs/documents",
               json{{"documents", {{{"id", "x"}, {"vector", {1.0, 0.0}}},
                                   {{"id", "y"}, {"vector", {0.0, 2.0}}}}}})
              .status == 201);
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/vecs/search", json{{"query", "text"}}), 422) ==
          "unprocessable");
  Reply by_vector = Call(c, "POST", "/collections/vecs/search",
                         json{{"vector", {0.1, 1.0}}, {"k", 1}});
  REQUIRE(by_vector.body["hits"][0]["id"] == "y");

  // Every setting of a collection spec, in POST and PUT; bad ones are 400
  // (a wrong type) or 422 (a value the database refuses).
  REQUIRE(Call(c, "POST", "/collections",
               json{{"name", "half"},
                    {"embedder", "vectors dim=2"},
                    {"indexed_fields", {"kind"}},
                    {"keyword_index", false},
                    {"vector_storage", "float16"}})
              .status == 201);
  Reply half = Call(c, "GET", "/collections/half");
  CHECK(half.body["vector_storage"] == "float16");
  CHECK(half.body["vector_encoding"] == "float16");
  CHECK(half.body["indexed_fields"] == json::array({"kind"}));
  CHECK_FALSE(half.body.contains("keyword_index"));
  CHECK(Call(c, "PUT", "/collections/half",
             json{{"embedder", "vectors dim=2"},
                  {"indexed_fields", {"kind"}},
                  {"keyword_index", false},
                  {"vector_storage", "float16"}})
            .status == 200);
  CHECK(ErrorCode(Call(c, "POST", "/collections", json{{"name", "h2"}, {"keyword_index", "no"}}),
                  400) == "bad_request");
  CHECK(ErrorCode(Call(c, "POST", "/collections", json{{"name", "h2"}, {"indexed_fields", {1}}}),
                  400) == "bad_request");
  CHECK(Call(c, "POST", "/collections", json{{"name", "h2"}, {"vector_storage", "float8"}})
            .status >= 400);
  REQUIRE(Call(c, "DELETE", "/collections/half").body["dropped"] == "half");

  // Deletes, single and batch.
  REQUIRE(Call(c, "DELETE", "/collections/notes/documents/bank").body["deleted"] == 1);
  REQUIRE(ErrorCode(Call(c, "DELETE", "/collections/notes/documents/bank"), 404) == "not_found");
  Reply batch = Call(c, "POST", "/collections/notes/delete",
                     json{{"ids", {inserted.body["ids"][2], "nosuch"}}});
  REQUIRE(batch.body["deleted"] == 1);
  Reply stats = Call(c, "GET", "/collections/notes");
  REQUIRE(stats.body["documents"] == 1);
  REQUIRE(stats.body["passages"] == 2);
  Reply list = Call(c, "GET", "/collections");
  REQUIRE(list.body["collections"].size() == 2);
  REQUIRE(Call(c, "GET", "/stats").body["server"]["requests"].get<int>() > 30);
  REQUIRE(Call(c, "DELETE", "/collections/vecs").body["dropped"] == "vecs");
  REQUIRE(ErrorCode(Call(c, "DELETE", "/collections/vecs"), 404) == "not_found");

  auto [exit_code, output] = server.Stop();
  REQUIRE(exit_code == 0);
  REQUIRE(output.find("stopped, database saved") != std::string::npos);
}

TEST_CASE("semdb serve: API key, body limit, concurrent clients, clean stop", "[http]") {
  TempDir dir;
  const std::string key = "s3cret-key";
  constexpr int kThreads = 6, kPerThread = 20;
  {
    ServerProcess server(dir / "db", {"--api-key", key, "--max-body-bytes", "4096"});
    httplib::Client c = server.Client();
    // The key: missing and wrong are 401; both header forms work; /health
    // needs none.
    REQUIRE(ErrorCode(Call(c, "GET", "/collections"), 401) == "unauthorized");
    REQUIRE(ErrorCode(Call(c, "GET", "/collections", "", {{"X-API-Key", "wrong"}}), 401) ==
            "unauthorized");
    REQUIRE(ErrorCode(Call(c, "GET", "/collections", "", {{"Authorization", "Bearer s3cret"}}),
                      401) == "unauthorized");
    REQUIRE(Call(c, "GET", "/collections", "", {{"X-API-Key", key}}).status == 200);
    REQUIRE(Call(c, "GET", "/health").status == 200);
    c.set_bearer_token_auth(key.c_str());
    REQUIRE(Call(c, "POST", "/collections",
                 json{{"name", "docs"}, {"embedder", "tfidf dim=16"},
                      {"chunking", "tokens size=20 overlap=5"}})
                .status == 201);

    // The body limit.
    const json big = {{"documents", {{{"text", std::string(5000, 'a')}}}}};
    REQUIRE(ErrorCode(Call(c, "POST", "/collections/docs/documents", big.dump(),
                           {{"Authorization", "Bearer " + key}}),
                      413) == "payload_too_large");

    // Concurrent writers and readers: every request succeeds, every write
    // lands once.
    REQUIRE(Call(c, "POST", "/collections/docs/documents",
                 json{{"documents", {{{"id", "seed"},
                                      {"text", "rivers carry water from the mountains to the "
                                               "sea through valleys and plains"}}}}})
                .status == 201);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        httplib::Client client("127.0.0.1", server.port());
        client.set_bearer_token_auth(key.c_str());
        client.set_read_timeout(60);
        for (int i = 0; i < kPerThread; ++i) {
          const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
          json doc = {{"documents",
                       {{{"id", id},
                         {"text", "water flows in river number " + std::to_string(i) +
                                      " of thread " + std::to_string(t)}}}}};
          httplib::Result w = client.Post("/collections/docs/documents", doc.dump(),
                                          "application/json");
          httplib::Result s = client.Post("/collections/docs/search",
                                          json{{"query", "river water"}, {"k", 5}}.dump(),
                                          "application/json");
          if (!w || w->status != 201 || !s || s->status != 200 ||
              json::parse(s->body)["hits"].empty()) {
            ++failures;
          }
        }
      });
    }
    for (std::thread& t : threads) t.join();
    REQUIRE(failures == 0);
    REQUIRE(Call(c, "GET", "/collections/docs", "", {{"X-API-Key", key}}).body["documents"] ==
            1 + kThreads * kPerThread);
    auto [exit_code, output] = server.Stop();
    REQUIRE(exit_code == 0);
  }
  // Stopped cleanly: everything is there, and the flat index (never saved,
  // src/index_files.h) is built from the stored vectors.
  std::unique_ptr<Database> db = Database::Open(dir / "db").value();
  std::shared_ptr<Collection> docs = db->GetCollection("docs").value();
  REQUIRE(docs->Count() == 1 + kThreads * kPerThread);
  REQUIRE(docs->Get("t3-7").value().text == "water flows in river number 7 of thread 3");
  REQUIRE(docs->Stats().index_origin.ends_with("stored vectors (a flat index is built at open)"));
}

// A raw TCP connection to a server on loopback, for what a well-behaved
// client does not send: slow, huge, chunked or hostile requests.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~RawConnection() { close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // False once the server has closed the connection.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(n);
    }
    return true;
  }

  // Everything the server sends until it closes the connection, or until
  // `seconds` pass without a byte; `closed` tells which.
  std::string ReadAll(int seconds, bool* closed) {
    std::string out;
    *closed = false;
    pollfd p = {fd_, POLLIN, 0};
    while (poll(&p, 1, seconds * 1000) == 1) {
      char buf[65536];
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        *closed = true;
        break;
      }
      out.append(buf, n);
    }
    return out;
  }

 private:
  int fd_ = -1;
};

int StatusOf(const std::string& response) {
  INFO(response.substr(0, 300));
  REQUIRE(response.rfind("HTTP/1.1 ", 0) == 0);
  return std::stoi(response.substr(9, 3));
}

// The server's peak resident memory so far (VmHWM), in bytes.
int64_t PeakRss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  FAIL("no VmHWM in /proc/PID/status");
  return 0;
}

TEST_CASE("semdb serve: hostile bodies get 400 or 413 and the server lives on", "[http]") {
  TempDir dir;
  constexpr int64_t kLimit = 1 << 20;
  ServerProcess server(dir / "db", {"--max-body-bytes", std::to_string(kLimit)});
  httplib::Client c = server.Client();
  REQUIRE(Call(c, "POST", "/collections", json{{"name", "docs"}}).status == 201);

  // Metadata nested 150,000 levels deep: refused while parsing.
  const int kDepth = 150000;
  const std::string deep = "{\"documents\": [{\"text\": \"x\", \"metadata\": {\"a\": " +
                           std::string(kDepth, '[') + std::string(kDepth, ']') + "}}]}";
  Reply refused = Call(c, "POST", "/collections/docs/documents", deep);
  REQUIRE(ErrorCode(refused, 400) == "bad_request");
  REQUIRE(refused.body["error"]["message"] == "JSON nested deeper than 64 levels");
  // A number beyond double range is malformed input, not an internal error.
  REQUIRE(Call(c, "POST", "/collections", json{{"name", "vecs"}, {"embedder", "vectors dim=1"}})
              .status == 201);
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/vecs/search", std::string("{\"vector\": [1e999]}")),
                    400) == "bad_request");

  // A 300 MiB chunked body: 413, and the server's memory stays within twice
  // the limit.
  const int64_t peak_before = PeakRss(server.pid());
  RawConnection raw(server.port());
  REQUIRE(raw.Send("POST /collections/docs/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "100000\r\n" + std::string(1 << 20, ' ') + "\r\n";
  int sent = 0;
  while (sent < 300 && raw.Send(chunk)) ++sent;
  raw.Send("0\r\n\r\n");
  bool closed = false;
  const std::string response = raw.ReadAll(30, &closed);
  REQUIRE(StatusOf(response) == 413);
  REQUIRE(response.find("payload_too_large") != std::string::npos);
  // Closed as soon as the body passed the limit, not after reading it all:
  // the client could send only what the socket buffers held.
  INFO("MiB sent before the server closed: " << sent);
  REQUIRE(closed);
  REQUIRE(sent < 32);
  INFO("peak RSS before " << peak_before << ", after " << PeakRss(server.pid()));
  REQUIRE(PeakRss(server.pid()) - peak_before < 2 * kLimit);
  // The same body sent with Content-Length is refused from its header.
  RawConnection announced(server.port());
  REQUIRE(announced.Send("POST /collections/docs/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Content-Type: application/json\r\nContent-Length: 314572800\r\n\r\n"));
  REQUIRE(StatusOf(announced.ReadAll(30, &closed)) == 413);

  // A URL over the header limit is a 414, not an internal error.
  RawConnection long_url(server.port());
  REQUIRE(long_url.Send("GET /collections/" + std::string(100000, 'a') +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const int long_status = StatusOf(long_url.ReadAll(30, &closed));
  REQUIRE((long_status == 414 || long_status == 431));

  REQUIRE(Call(c, "GET", "/health").status == 200);
  REQUIRE(Call(c, "GET", "/collections/docs").body["documents"] == 0);
  auto [exit_code, output] = server.Stop();
  REQUIRE(exit_code == 0);
}

TEST_CASE("semdb serve: slow and idle clients are cut off and do not starve others",
          "[http]") {
  TempDir dir;
  ServerProcess server(dir / "db", {"--request-timeout", "2",
                                    "--max-connections-per-address", "40"});
  // 20 clients sending a header line every 300 ms, 10 sending a body one
  // byte at a time, 5 idle keep-alive connections: far more than the 4
  // threads.
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 30; ++i) {
    slow.push_back(std::make_unique<RawConnection>(server.port()));
    REQUIRE(slow.back()->Send(
        i < 20 ? "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               : "POST /collections HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"));
  }
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 5; ++i) {
    idle.push_back(std::make_unique<RawConnection>(server.port()));
    REQUIRE(idle.back()->Send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  }
  // Meanwhile others are served on the one thread.
  httplib::Client c = server.Client();
  c.set_read_timeout(5);
  for (int round = 0; round < 5; ++round) {
    for (size_t i = 0; i < slow.size(); ++i) slow[i]->Send(i < 20 ? "X-A: b\r\n" : " ");
    REQUIRE(Call(c, "GET", "/health").status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  // Every slow connection is closed by its request deadline although it
  // keeps sending (bounded: 40 rounds of 300 ms).
  std::vector<bool> cut(slow.size(), false);
  for (int round = 0; round < 40; ++round) {
    size_t open = 0;
    for (size_t i = 0; i < slow.size(); ++i) {
      if (!cut[i]) cut[i] = !slow[i]->Send(i < 20 ? "X-A: b\r\n" : " ");
      open += !cut[i];
    }
    if (open == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  REQUIRE(std::count(cut.begin(), cut.end(), true) == static_cast<long>(slow.size()));
  // The idle keep-alive connections got their answer, then were closed.
  for (auto& conn : idle) {
    bool closed = false;
    REQUIRE(StatusOf(conn->ReadAll(20, &closed)) == 200);
    REQUIRE(closed);
  }
  REQUIRE(Call(c, "GET", "/health").status == 200);
}

TEST_CASE("semdb serve: connections beyond the per-address cap are closed at once", "[http]") {
  TempDir dir;
  ServerProcess server(dir / "db", {"--max-connections-per-address", "4"});
  {
    std::vector<std::unique_ptr<RawConnection>> held;
    for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<RawConnection>(server.port()));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the server accept
    RawConnection extra(server.port());
    extra.Send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    bool closed = false;
    REQUIRE(extra.ReadAll(20, &closed).empty());
    REQUIRE(closed);
  }
  httplib::Client c = server.Client();
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {  // the server sees the closes
    served = static_cast<bool>(c.Get("/health"));
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(served);
}

TEST_CASE("semdb serve: browser requests need JSON, a known Host and an allowed origin",
          "[http]") {
  TempDir dir;
  ServerProcess server(dir / "db", {"--allow-host", "semdb.internal"});
  httplib::Client c = server.Client();
  // A form or text/plain POST, which a page may send without a preflight.
  httplib::Result text = c.Post("/collections", R"({"name": "x"})", "text/plain");
  REQUIRE(text);
  REQUIRE(text->status == 415);
  REQUIRE(json::parse(text->body)["error"]["code"] == "unsupported_media_type");
  // DNS rebinding: a name the operator did not allow.
  REQUIRE(ErrorCode(Call(c, "GET", "/collections", "", {{"Host", "evil.example:8080"}}), 403) ==
          "forbidden");
  REQUIRE(Call(c, "GET", "/collections", "", {{"Host", "semdb.internal:80"}}).status == 200);
  REQUIRE(Call(c, "GET", "/collections", "", {{"Host", "localhost"}}).status == 200);
  // CORS is off: a page's origin is refused, no preflight succeeds.
  REQUIRE(ErrorCode(Call(c, "GET", "/collections", "", {{"Origin", "https://evil.example"}}),
                    403) == "forbidden");
  httplib::Result preflight = c.Options("/collections");
  REQUIRE(preflight);
  REQUIRE(preflight->status == 405);
  REQUIRE(!preflight->has_header("Access-Control-Allow-Origin"));
  REQUIRE(Call(c, "GET", "/collections").status == 200);
}

TEST_CASE("semdb serve --cors ORIGIN: that one origin may call the server", "[http]") {
  TempDir dir;
  ServerProcess server(dir / "db", {"--cors", "https://app.example"});
  httplib::Client c = server.Client();
  httplib::Result preflight = c.Options("/collections",
                                        {{"Origin", "https://app.example"},
                                         {"Access-Control-Request-Method", "POST"}});
  REQUIRE(preflight);
  REQUIRE(preflight->status == 204);
  REQUIRE(preflight->get_header_value("Access-Control-Allow-Origin") == "https://app.example");
  REQUIRE(preflight->get_header_value("Access-Control-Allow-Headers").find("Content-Type") !=
          std::string::npos);
  httplib::Result list = c.Get("/collections", {{"Origin", "https://app.example"}});
  REQUIRE(list);
  REQUIRE(list->status == 200);
  REQUIRE(list->get_header_value("Access-Control-Allow-Origin") == "https://app.example");
  REQUIRE(ErrorCode(Call(c, "GET", "/collections", "", {{"Origin", "https://other.example"}}),
                    403) == "forbidden");
}

// A tmpfs mounted at `dir` for the test's life (needs CAP_SYS_ADMIN: root
// in a container); ok() is false where it cannot be mounted.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir);
    mounted_ = mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
  }
  bool ok() const { return mounted_; }
  bool RemountReadOnly() {
    return mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0;
  }
  // Writes a file until the file system is full, to the last byte.
  void Fill() {
    const int fd = open((dir_ + "/filler").c_str(), O_WRONLY | O_CREAT, 0600);
    REQUIRE(fd >= 0);
    const std::string block(1 << 16, 'x');
    for (size_t size = block.size(); size > 0; size /= 2) {
      while (write(fd, block.data(), size) == static_cast<ssize_t>(size)) {
      }
    }
    close(fd);
  }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// A database of 30 documents in collection "docs", written and saved by a
// `semdb serve` that was stopped.
void MakeSavedDatabase(const std::string& db) {
  ServerProcess server(db);
  httplib::Client c = server.Client();
  REQUIRE(Call(c, "POST", "/collections", json{{"name", "docs"}, {"embedder", "tfidf dim=16"}})
              .status == 201);
  json docs = json::array();
  for (int i = 0; i < 30; ++i) {
    docs.push_back({{"id", "d" + std::to_string(i)},
                    {"text", "river " + std::to_string(i) + " flows to the sea past hill " +
                                 std::to_string(i % 7)}});
  }
  REQUIRE(Call(c, "POST", "/collections/docs/documents", json{{"documents", docs}}).status ==
          201);
  auto [exit_code, output] = server.Stop();
  REQUIRE(exit_code == 0);
}

// Searches a read-only server and checks that it refuses every write.
void CheckReadOnlyServer(const std::string& db) {
  ServerProcess server(db, {"--read-only"});
  httplib::Client c = server.Client();
  Reply found = Call(c, "POST", "/collections/docs/search", json{{"query", "hill 3"}, {"k", 3}});
  REQUIRE(found.status == 200);
  REQUIRE(found.body["hits"].size() == 3);
  REQUIRE(Call(c, "GET", "/collections/docs/documents/d5").body["text"] ==
          "river 5 flows to the sea past hill 5");
  Reply insert = Call(c, "POST", "/collections/docs/documents",
                      json{{"documents", {{{"id", "new"}, {"text", "more water"}}}}});
  REQUIRE(ErrorCode(insert, 422) == "unprocessable");
  REQUIRE(insert.body["error"]["message"].get<std::string>().find("read-only") !=
          std::string::npos);
  REQUIRE(ErrorCode(Call(c, "POST", "/collections", json{{"name", "other"}}), 422) ==
          "unprocessable");
  REQUIRE(ErrorCode(Call(c, "DELETE", "/collections/docs/documents/d1"), 422) ==
          "unprocessable");
  auto [exit_code, output] = server.Stop();
  REQUIRE(exit_code == 0);
  REQUIRE(output.find("read-only, nothing to save") != std::string::npos);
}

TEST_CASE("semdb serve --read-only on a read-only mount and on a full disk", "[http]") {
  TempDir dir;
  {
    TmpfsMount mount(dir / "ro", "64m");
    if (!mount.ok()) {
      SEMDB_SKIP("cannot mount a tmpfs here (needs root): the read-only mount, full-disk and SIGTERM-on-full-disk cases are not tested");
    }
    MakeSavedDatabase(dir / "ro/db");
    REQUIRE(mount.RemountReadOnly());
    CheckReadOnlyServer(dir / "ro/db");
  }
  {
    TmpfsMount mount(dir / "full", "64m");
    REQUIRE(mount.ok());
    MakeSavedDatabase(dir / "full/db");
    mount.Fill();
    CheckReadOnlyServer(dir / "full/db");
  }
  {
    // SIGTERM when the disk filled up after the last write: the index cannot
    // be saved, and the server says so.
    TmpfsMount mount(dir / "stop", "64m");
    REQUIRE(mount.ok());
    ServerProcess server(dir / "stop/db");
    httplib::Client c = server.Client();
    REQUIRE(Call(c, "POST", "/collections", json{{"name", "v"}, {"embedder", "vectors dim=2"}})
                .status == 201);
    REQUIRE(Call(c, "POST", "/collections/v/documents",
                 json{{"documents", {{{"id", "a"}, {"vector", {1.0, 2.0}}}}}})
                .status == 201);
    mount.Fill();
    auto [exit_code, output] = server.Stop();
    REQUIRE(exit_code == 1);
    REQUIRE(output.find("indexes NOT saved") != std::string::npos);
    REQUIRE(output.find("database saved") == std::string::npos);
  }
}

TEST_CASE("semdb serve --allow-path: clients name server files only under allowed directories",
          "[http]") {
  TempDir dir;
  std::filesystem::create_directories(dir / "models");
  std::ofstream(dir / "models/tiny.txt") << "river 0.1 0.2\nsea 0.3 0.1\n";
  for (const bool allowed : {false, true}) {
    std::vector<std::string> flags;
    if (allowed) flags = {"--allow-path", dir / "models"};
    ServerProcess server(dir / ("db" + std::to_string(allowed)), flags);
    httplib::Client c = server.Client();
    // Outside: the same 403 whether the file exists or not.
    for (const char* path : {"/etc/shadow", "/etc/no-such-file", "../../etc/passwd"}) {
      Reply r = Call(c, "POST", "/collections",
                     json{{"name", "g"}, {"embedder", std::string("glove path=") + path}});
      REQUIRE(ErrorCode(r, 403) == "forbidden");
    }
    const std::string inside = dir / "models/tiny.txt";
    Reply r = Call(c, "POST", "/collections",
                   json{{"name", "g"}, {"embedder", "glove path=" + inside}});
    if (allowed) {
      REQUIRE(r.status == 201);
    } else {
      REQUIRE(ErrorCode(r, 403) == "forbidden");
    }
  }
}

TEST_CASE("semdb serve: 405 with Allow, OpenAPI, Prometheus metrics, access log", "[http]") {
  TempDir dir;
  const std::string log_path = dir / "stderr.log";
  ServerProcess server(dir / "db", {"--access-log"}, log_path);
  httplib::Client c = server.Client();
  REQUIRE(Call(c, "POST", "/collections", json{{"name", "vecs"}, {"embedder", "vectors dim=2"}})
              .status == 201);
  REQUIRE(Call(c, "POST", "/collections/vecs/documents",
               json{{"documents", {{{"id", "a"}, {"vector", {3.0, 4.0}}}}}})
              .status == 201);

  // A known path with another method: 405, and Allow lists its methods.
  httplib::Result wrong = c.Delete("/collections");
  REQUIRE(wrong);
  REQUIRE(wrong->status == 405);
  REQUIRE(wrong->get_header_value("Allow") == "GET, POST");
  REQUIRE(json::parse(wrong->body)["error"]["code"] == "method_not_allowed");
  httplib::Result get_search = c.Get("/collections/vecs/search");
  REQUIRE(get_search->status == 405);
  REQUIRE(get_search->get_header_value("Allow") == "POST");
  REQUIRE(c.Get("/collections/vecs/documents/a/b")->status == 404);  // the id "a/b"
  REQUIRE(ErrorCode(Call(c, "GET", "/nosuch"), 404) == "not_found");

  // `get` on a vectors collection returns the vector stored: the one
  // inserted, L2-normalized (v / |v|), as the README's route table says.
  Reply got = Call(c, "GET", "/collections/vecs/documents/a");
  REQUIRE(got.body["vector"].size() == 2);
  REQUIRE(got.body["vector"][0].get<double>() == Approx(0.6).epsilon(1e-6));
  REQUIRE(got.body["vector"][1].get<double>() == Approx(0.8).epsilon(1e-6));

  // OpenAPI: every route of the server with its method, path parameters,
  // body and error statuses.
  Reply api = Call(c, "GET", "/openapi.json");
  REQUIRE(api.status == 200);
  const json& doc = api.body;
  REQUIRE(doc["openapi"].get<std::string>().rfind("3.0.", 0) == 0);
  REQUIRE(doc["info"]["title"] == "semdb");
  REQUIRE(doc["info"]["version"].is_string());
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"/health", "get"}, {"/stats", "get"}, {"/metrics", "get"}, {"/openapi.json", "get"},
      {"/collections", "get"}, {"/collections", "post"}, {"/collections/{name}", "get"},
      {"/collections/{name}", "delete"}, {"/collections/{name}/documents", "post"},
      {"/collections/{name}/documents/{id}", "get"},
      {"/collections/{name}/documents/{id}", "delete"}, {"/collections/{name}/delete", "post"},
      {"/collections/{name}/search", "post"}, {"/collections/{name}", "put"},
      {"/collections/{name}/documents", "get"}, {"/collections/{name}/documents", "patch"},
      {"/collections/{name}/get", "post"}, {"/collections/{name}/count", "post"},
      {"/collections/{name}/export", "get"}};
  for (const auto& [path, method] : routes) {
    INFO(method << " " << path);
    REQUIRE(doc["paths"].contains(path));
    REQUIRE(doc["paths"][path].contains(method));
  }
  size_t operations = 0;
  const std::regex param(R"(\{([a-z_]+)\})");
  for (const auto& [path, item] : doc["paths"].items()) {
    std::set<std::string> in_path;
    for (std::sregex_iterator m(path.begin(), path.end(), param), end; m != end; ++m) {
      in_path.insert((*m)[1]);
    }
    for (const auto& [method, op] : item.items()) {
      INFO(method << " " << path);
      ++operations;
      REQUIRE(op["operationId"].is_string());
      std::set<std::string> declared;
      for (const json& p : op.value("parameters", json::array())) {
        if (p["in"] == "query") {  // optional, as every query parameter here
          REQUIRE(p["required"] == false);
          continue;
        }
        REQUIRE(p["in"] == "path");
        REQUIRE(p["required"] == true);
        declared.insert(p["name"].get<std::string>());
      }
      REQUIRE(declared == in_path);
      for (const char* status : {"401", "403", "405", "500"}) {
        REQUIRE(op["responses"][status]["content"]["application/json"]["schema"]["$ref"] ==
                "#/components/schemas/Error");
      }
      if (method == "post" || method == "put" || method == "patch") {
        REQUIRE(op["requestBody"]["content"].contains("application/json"));
        for (const char* status : {"400", "413", "415"}) REQUIRE(op["responses"].contains(status));
      }
    }
  }
  REQUIRE(operations == routes.size());
  REQUIRE(doc["paths"]["/collections"]["post"]["responses"].contains("201"));
  REQUIRE(doc["paths"]["/collections"]["post"]["responses"].contains("409"));
  REQUIRE(doc["paths"]["/collections/{name}/search"]["post"]["requestBody"]["content"]
             ["application/json"]["schema"]["properties"]
                 .contains("vector"));

  // Prometheus text: requests by route and status, latency histogram,
  // documents per collection.
  httplib::Result metrics = c.Get("/metrics");
  REQUIRE(metrics);
  REQUIRE(metrics->status == 200);
  REQUIRE(metrics->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  const std::string& text = metrics->body;
  INFO(text);
  REQUIRE(text.find("# TYPE semdb_http_requests_total counter\n") != std::string::npos);
  REQUIRE(text.find("semdb_http_requests_total{route=\"POST /collections\",status=\"201\"} 1\n") !=
          std::string::npos);
  REQUIRE(text.find("semdb_http_requests_total{route=\"DELETE /collections\",status=\"405\"}") ==
          std::string::npos);  // no such route: counted as unmatched
  REQUIRE(text.find("semdb_http_requests_total{route=\"unmatched\",status=\"405\"} 2\n") !=
          std::string::npos);
  REQUIRE(text.find("semdb_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n") !=
          std::string::npos);
  REQUIRE(text.find("# TYPE semdb_http_request_duration_seconds histogram\n") !=
          std::string::npos);
  REQUIRE(std::regex_search(
      text, std::regex(R"(semdb_http_request_duration_seconds_bucket\{route="GET /openapi.json",le="\+Inf"\} 1\n)")));
  REQUIRE(std::regex_search(
      text, std::regex(R"(semdb_http_request_duration_seconds_count\{route="POST /collections/\{name\}/documents"\} 1\n)")));
  REQUIRE(text.find("semdb_collection_documents{collection=\"vecs\"} 1\n") != std::string::npos);
  // Every sample line is `name{labels} number`; bucket counts never fall.
  std::istringstream lines(text);
  int64_t previous = -1;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("#", 0) == 0) continue;
    INFO(line);
    REQUIRE(std::regex_match(line, std::regex(R"([a-z_]+\{.*\} [0-9.e+-]+)")));
    if (line.find("_bucket{") != std::string::npos) {
      const int64_t count = std::stoll(line.substr(line.rfind(' ') + 1));
      if (line.find("le=\"0.0005\"") == std::string::npos) REQUIRE(count >= previous);
      previous = count;
    }
  }

  // The access log: one line per request with UTC time, client, method,
  // path, status, bytes and latency.
  auto [exit_code, output] = server.Stop();
  REQUIRE(exit_code == 0);
  std::ifstream log(log_path);
  std::vector<std::string> log_lines;
  for (std::string line; std::getline(log, line);) log_lines.push_back(line);
  REQUIRE(log_lines.size() >= 9);
  const std::regex format(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1 [A-Z]+ /\S* \d{3} \d+ \d+\.\d{3}ms)");
  for (const std::string& line : log_lines) {
    INFO(line);
    REQUIRE(std::regex_match(line, format));
  }
  REQUIRE(std::regex_search(log_lines[0], std::regex(R"( POST /collections 201 )")));
}

TEST_CASE("semdb serve: without --access-log nothing is logged per request", "[http]") {
  TempDir dir;
  const std::string log_path = dir / "stderr.log";
  ServerProcess server(dir / "db", {}, log_path);
  httplib::Client c = server.Client();
  REQUIRE(Call(c, "GET", "/health").status == 200);
  REQUIRE(server.Stop().first == 0);
  REQUIRE(std::filesystem::file_size(log_path) == 0);
}

// The server's end of its one client connection, found among this
// process's sockets: bound to the server's port, with a peer (the listening
// socket has none). TCP_NODELAY is not visible from the client's end.
TEST_CASE("the HTTP server sets TCP_NODELAY on the connections it accepts", "[http]") {
  TempDir dir;
  std::unique_ptr<Database> db = Database::Open(dir / "db").value();
  HttpServer server(*db, {.port = 0, .threads = 2});
  const int port = server.Bind().value();
  std::thread runner([&] { (void)server.Run(); });
  {
    httplib::Client c("127.0.0.1", port);
    c.set_keep_alive(true);
    for (int i = 0; i < 3; ++i) REQUIRE(c.Get("/health")->status == 200);  // after responses too
    int accepted = 0, nodelay = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
      const int fd = std::stoi(entry.path().filename().string());
      sockaddr_in local = {}, peer = {};
      socklen_t len = sizeof(local);
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 ||
          local.sin_family != AF_INET || ntohs(local.sin_port) != port) {
        continue;
      }
      len = sizeof(peer);
      if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
      int on = 0;
      socklen_t size = sizeof(on);
      REQUIRE(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &size) == 0);
      ++accepted;
      nodelay += on != 0;
    }
    REQUIRE(accepted == 1);
    REQUIRE(nodelay == 1);
  }
  server.Stop();
  runner.join();
}

TEST_CASE("route handlers map library errors to HTTP statuses in-process", "[http]") {
  REQUIRE(ErrorResponse(absl::InvalidArgumentError("x")).status == 400);
  REQUIRE(ErrorResponse(absl::NotFoundError("x")).status == 404);
  REQUIRE(ErrorResponse(absl::AlreadyExistsError("x")).status == 409);
  REQUIRE(ErrorResponse(absl::FailedPreconditionError("x")).status == 422);
  REQUIRE(ErrorResponse(absl::ResourceExhaustedError("x")).status == 507);
  REQUIRE(ErrorResponse(absl::DataLossError("x")).status == 500);
  REQUIRE(ErrorResponse(absl::DataLossError("broken")).body ==
          json{{"error", {{"code", "internal"}, {"message", "broken"}}}});

  TempDir dir;
  std::unique_ptr<Database> db = Database::Open(dir / "db").value();
  HttpApi api(*db, {.max_k = 50});
  REQUIRE(api.CreateCollection({{"name", "c"}, {"chunking", "chars size=30 overlap=0"}}).status ==
          201);
  ApiResponse w = api.WriteDocuments(
      "c", {{"documents", {{{"id", "d"}, {"text", "one two three four five six seven eight nine"}}}}});
  REQUIRE(w.status == 201);
  REQUIRE(db->GetCollection("c").value()->Info().passages == 2);
  REQUIRE(api.Search("c", {{"query", "seven"}, {"k", 51}}).status == 400);
  ApiResponse s = api.Search("c", {{"query", "seven eight"}, {"k", 1}});
  REQUIRE(s.status == 200);
  REQUIRE(s.body["hits"][0]["text"] == "seven eight nine");
  REQUIRE(s.body["hits"][0]["passage"]["begin"] == 28);
  REQUIRE(api.WriteDocuments("c", {{"documents", json::array()}}).status == 400);
  REQUIRE(api.WriteDocuments("c", {{"documents", {{{"text", "x"}, {"extra", 1}}}}}).status == 400);
  REQUIRE(api.DeleteDocuments("c", {{"ids", {1, 2}}}).status == 400);
  REQUIRE(api.GetDocument("c", "d").body["text"] == "one two three four five six seven eight nine");

  // Planner and hybrid options.
  ApiResponse hybrid = api.Search("c", {{"query", "seven"}, {"k", 1}, {"hybrid", 1.0}});
  REQUIRE(hybrid.status == 200);
  REQUIRE(hybrid.body["hits"][0]["text"] == "seven eight nine");
  REQUIRE(api.Search("c", {{"query", "seven"}, {"strategy", "exact_scan"}, {"recall_target", 1}})
              .status == 200);
  REQUIRE(api.Search("c", {{"query", "seven"}, {"hybrid", 1.5}}).status == 400);
  ApiResponse bad = api.Search("c", {{"query", "seven"}, {"strategy", "fastest"}});
  REQUIRE(bad.status == 400);
  REQUIRE(bad.body["error"]["message"].get<std::string>().find("exact_scan") != std::string::npos);
}

// Issue 18's routes on a real server: get-or-create, pages with cursors,
// several ids, count, metadata merge, delete by filter, streamed export,
// batch searches, and caller vectors on a text collection.
TEST_CASE("document routes over HTTP", "[http][documents]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  ServerProcess server(dir / "db");
  httplib::Client c = server.Client();
  auto send = [&](const char* method, const std::string& path, const json& body) {
    const std::string text = body.dump();
    httplib::Result r = std::string(method) == "PUT"
                            ? c.Put(path.c_str(), text, "application/json")
                            : c.Patch(path.c_str(), text, "application/json");
    REQUIRE(r);
    INFO(r->body);
    return Reply{r->status, json::parse(r->body)};
  };

  Reply created = send("PUT", "/collections/lee", {{"embedder", "tfidf dim=32"}});
  REQUIRE(created.status == 201);
  REQUIRE(created.body["created"] == true);
  Reply existing = send("PUT", "/collections/lee", {{"embedder", "tfidf dim=32"}});
  REQUIRE(existing.status == 200);
  REQUIRE(existing.body["created"] == false);
  REQUIRE(ErrorCode(send("PUT", "/collections/lee", {{"embedder", "tfidf dim=64"}}), 422) ==
          "unprocessable");

  json docs = json::array();
  std::vector<std::string> lines = testing::ReadLines(testing::SharedData("gensim/lee_background.cor"));
  for (int i = 0; i < 120; ++i) {
    docs.push_back({{"id", "lee-" + std::to_string(i + 1)},
                    {"text", lines[i]},
                    {"metadata", {{"line", i + 1}, {"odd", i % 2 == 0}}}});
  }
  REQUIRE(Call(c, "POST", "/collections/lee/documents", json{{"documents", docs}}).status == 201);

  // Pages: every document once, in storage order.
  std::vector<std::string> seen;
  std::string path = "/collections/lee/documents?limit=25";
  while (true) {
    Reply page = Call(c, "GET", path);
    REQUIRE(page.status == 200);
    for (const json& d : page.body["documents"]) seen.push_back(d["id"]);
    if (page.body["next_cursor"].is_null()) break;
    path = "/collections/lee/documents?limit=25&cursor=" +
           page.body["next_cursor"].get<std::string>();
  }
  REQUIRE(seen.size() == 120);
  REQUIRE(seen.front() == "lee-1");
  REQUIRE(seen.back() == "lee-120");
  Reply filtered = Call(c, "GET", "/collections/lee/documents?where=line%20%3C%3D%205&offset=1");
  REQUIRE(filtered.body["documents"].size() == 4);
  REQUIRE(filtered.body["documents"][0]["id"] == "lee-2");
  REQUIRE(ErrorCode(Call(c, "GET", "/collections/lee/documents?limt=2"), 400) == "bad_request");

  Reply two = Call(c, "POST", "/collections/lee/get", json{{"ids", {"lee-7", "nosuch", "lee-3"}}});
  REQUIRE(two.body["documents"].size() == 2);
  REQUIRE(two.body["documents"][0]["id"] == "lee-7");
  REQUIRE(two.body["missing"] == json{"nosuch"});
  REQUIRE(Call(c, "POST", "/collections/lee/count", json{{"filter", "odd = true"}}).body["count"] ==
          60);
  REQUIRE(Call(c, "POST", "/collections/lee/count", json::object()).body["count"] == 120);

  Reply patched = send("PATCH", "/collections/lee/documents",
                       {{"documents", {{{"id", "lee-1"}, {"metadata", {{"odd", nullptr}, {"x", 1}}}}}}});
  REQUIRE(patched.body["updated"] == 1);
  REQUIRE(Call(c, "GET", "/collections/lee/documents/lee-1").body["metadata"] ==
          json{{"line", 1}, {"x", 1}});
  REQUIRE(ErrorCode(send("PATCH", "/collections/lee/documents",
                         {{"documents", {{{"id", "nosuch"}, {"metadata", json::object()}}}}}),
                    404) == "not_found");

  Reply deleted = Call(c, "POST", "/collections/lee/delete", json{{"filter", "line > 100"}});
  REQUIRE(deleted.body["deleted"] == 20);
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/lee/delete", json::object()), 400) ==
          "bad_request");

  // The export streams JSON Lines, one document a line, in storage order.
  httplib::Result exported = c.Get("/collections/lee/export?where=odd%20%3D%20true&vectors=true");
  REQUIRE(exported);
  REQUIRE(exported->status == 200);
  REQUIRE(exported->get_header_value("Content-Type") == "application/x-ndjson");
  const size_t dimension = Call(c, "GET", "/collections/lee").body["dimension"];
  std::istringstream stream(exported->body);
  int exported_lines = 0;
  for (std::string line; std::getline(stream, line); ++exported_lines) {
    json record = json::parse(line);
    REQUIRE(record["metadata"]["odd"] == true);
    REQUIRE(record["vector"].size() == dimension);
  }
  REQUIRE(exported_lines == 49);  // odd lines 3..99 (lee-1 lost "odd")

  // Batch searches: each answer is the single search's.
  const json queries = {"bushfires in Sydney", "the stock market", "cricket"};
  Reply batch = Call(c, "POST", "/collections/lee/search", json{{"queries", queries}, {"k", 4}});
  REQUIRE(batch.status == 200);
  REQUIRE(batch.body["results"].size() == 3);
  for (size_t q = 0; q < queries.size(); ++q) {
    Reply single = Call(c, "POST", "/collections/lee/search", json{{"query", queries[q]}, {"k", 4}});
    REQUIRE(batch.body["results"][q]["hits"].size() == single.body["hits"].size());
    for (size_t i = 0; i < single.body["hits"].size(); ++i) {
      REQUIRE(batch.body["results"][q]["hits"][i]["id"] == single.body["hits"][i]["id"]);
    }
  }
  // Vectors: a query vector of the model's dimension is answered (the same
  // rule as inserts: a text collection takes only its model's vectors).
  const std::vector<float> first_vector = json::parse(exported->body.substr(0, exported->body.find('\n')))["vector"];
  Reply by_vector = Call(c, "POST", "/collections/lee/search",
                         json{{"vectors", {first_vector, first_vector}}, {"k", 1}});
  REQUIRE(by_vector.body["results"].size() == 2);
  REQUIRE(by_vector.body["results"][0]["hits"][0]["id"] == "lee-3");
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/lee/search",
                         json{{"vectors", {{1.0, 2.0}}}}),
                    400) == "bad_request");
  json stranger = first_vector;
  std::reverse(stranger.begin(), stranger.end());
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/lee/documents",
                         json{{"documents", {{{"text", "Bushfires"}, {"vector", stranger}}}}}),
                    400) == "bad_request");
  REQUIRE(ErrorCode(Call(c, "POST", "/collections/lee/search",
                         json{{"query", "x"}, {"queries", {"y"}}}),
                    400) == "bad_request");
}

// The route handlers in-process over a database in a temporary folder that
// holds a collection "c" (max_k 50).
struct ApiWithCollection {
  ApiWithCollection() { REQUIRE(api.CreateCollection({{"name", "c"}}).status == 201); }
  TempDir dir;
  std::unique_ptr<Database> db = Database::Open(dir / "db").value();
  HttpApi api{*db, {.max_k = 50}};
};

// The message of an error response with this status.
std::string ErrorMessage(const ApiResponse& r, int status) {
  INFO(r.body.dump());
  REQUIRE(r.status == status);
  return r.body["error"]["message"].get<std::string>();
}

TEST_CASE("HTTP errors say where a bad field is and what a wrong name is called here",
          "[http]") {
  ApiWithCollection t;
  HttpApi& api = t.api;
  // A field of a document names the document ('text' alone did not).
  const json good = {{"id", "a"}, {"text", "cats on the roof"}};
  CHECK(ErrorMessage(api.WriteDocuments("c", {{"documents", {good, {{"text", 5}}}}}), 400) ==
        "'documents[1].text' must be a string");
  CHECK(ErrorMessage(api.WriteDocuments("c", {{"documents", {good, {{"id", 7}, {"text", "x"}}}}}),
                     400) == "'documents[1].id' must be a string");
  CHECK(ErrorMessage(api.UpdateMetadata("c", {{"documents", {{{"id", 3}, {"metadata", json::object()}}}}}),
                     400) == "'documents[0].id' must be a string");
  CHECK(ErrorMessage(api.UpdateMetadata("c", {{"documents", {{{"metadata", json::object()}}}}}), 400) ==
        "documents[0] needs 'id'");
  // Top-level fields keep their plain names.
  CHECK(ErrorMessage(api.Search("c", {{"query", "cats"}, {"k", "3"}}), 400) ==
        "'k' must be an integer from 1 to 50");
  CHECK(ErrorMessage(api.WriteDocuments("c", {{"documents", {good}}, {"upsert", "yes"}}), 400) ==
        "'upsert' must be true or false");
  // The names the other routes, the Python package or Chroma use.
  REQUIRE(api.WriteDocuments("c", {{"documents", {good}}}).status == 201);
  CHECK(ErrorMessage(api.CountDocuments("c", {{"where", "kind = 1"}}), 400) ==
        "unknown field 'where' in the request body (did you mean 'filter'?)");
  CHECK(ErrorMessage(api.DeleteDocuments("c", {{"where", "kind = 1"}}), 400) ==
        "unknown field 'where' in the request body (did you mean 'filter'?)");
  CHECK(ErrorMessage(api.Search("c", {{"query", "cats"}, {"where", "kind = 1"}}), 400) ==
        "unknown field 'where' in the request body (did you mean 'filter'?)");
  CHECK(ErrorMessage(api.Search("c", {{"query", "cats"}, {"top_k", 3}}), 400) ==
        "unknown field 'top_k' in the request body (did you mean 'k'?)");
  CHECK(ErrorMessage(api.Search("c", {{"text", "cats"}}), 400) ==
        "unknown field 'text' in the request body (did you mean 'query'?)");
  CHECK(ErrorMessage(api.ListDocuments("c", {{"filter", "kind = 1"}}), 400) ==
        "unknown query parameter 'filter' (did you mean 'where'?)");
  CHECK(ErrorMessage(api.Export("c", {{"filter", "kind = 1"}}), 400) ==
        "unknown query parameter 'filter' (did you mean 'where'?)");
  CHECK(ErrorMessage(api.ListDocuments("c", {{"sort", "id"}}), 400) ==
        "unknown query parameter 'sort'");
  CHECK(ErrorMessage(api.CountDocuments("c", {{"filtre", "kind = 1"}}), 400) ==
        "unknown field 'filtre' in the request body");
}

TEST_CASE("an HTTP search that finds nothing because of its words says so as the shell does",
          "[http]") {
  ApiWithCollection t;
  HttpApi& api = t.api;
  REQUIRE(api.WriteDocuments("c", {{"documents", {{{"text", "bushfires burn near Sydney"}},
                                                  {{"text", "rugby fans in Sydney"}},
                                                  {{"text", "markets fell sharply"}}}}})
              .status == 201);
  const std::string note =
      "no word of the query is known to the model (stop words or unknown words): answered by "
      "the keyword ranking alone";
  // "the" is a stop word; "zebra" is in no document.
  ApiResponse none = api.Search("c", {{"query", "the zebra"}});
  REQUIRE(none.status == 200);
  CHECK(none.body == json{{"hits", json::array()}, {"note", note}});
  ApiResponse found = api.Search("c", {{"query", "sydney"}});
  REQUIRE(found.status == 200);
  CHECK_FALSE(found.body["hits"].empty());
  CHECK_FALSE(found.body.contains("note"));
  // A filter that matches nothing is not the words' fault: no note.
  ApiResponse filtered = api.Search("c", {{"query", "sydney"}, {"filter", "year = 1"}});
  CHECK(filtered.body == json{{"hits", json::array()}});
  ApiResponse batch = api.Search("c", {{"queries", {"sydney", "the zebra"}}});
  REQUIRE(batch.status == 200);
  CHECK_FALSE(batch.body["results"][0]["hits"].empty());
  CHECK_FALSE(batch.body["results"][0].contains("note"));
  CHECK(batch.body["results"][1] == json{{"hits", json::array()}, {"note", note}});
  // Without a keyword index the note says there was nothing to search.
  REQUIRE(api.CreateCollection({{"name", "bare"}, {"keyword_index", false}}).status == 201);
  REQUIRE(api.WriteDocuments("bare", {{"documents", {{{"text", "bushfires near Sydney"}},
                                                     {{"text", "rugby in Sydney"}}}}})
              .status == 201);
  CHECK(api.Search("bare", {{"query", "zebra"}}).body ==
        json{{"hits", json::array()},
             {"note", "no word of the query is known to the model (stop words or unknown "
                      "words) and there is no keyword index"}});
}

// Creates the collection "c" over HTTP and writes `documents` to it.
void CreateCollectionC(httplib::Client& c, const json& documents) {
  REQUIRE(Call(c, "POST", "/collections", json{{"name", "c"}}).status == 201);
  REQUIRE(Call(c, "POST", "/collections/c/documents", json{{"documents", documents}}).status ==
          201);
}

TEST_CASE("a %00 in a URL stays as it is and does not cut a document id short", "[http]") {
  TempDir dir;
  ServerProcess server(dir / "db");
  httplib::Client c = server.Client();
  CreateCollectionC(c, {{{"id", "a"}, {"text", "cats on the roof"}},
                        {{"id", "a b/c"}, {"text", "dogs in the yard"}}});
  // "a%00b" named the document "a", which this DELETE removed.
  Reply deleted = Call(c, "DELETE", "/collections/c/documents/a%00b");
  CHECK(deleted.status == 404);
  CHECK(deleted.body["error"]["message"] == "no document 'a%00b' in 'c'");
  CHECK(Call(c, "GET", "/collections/c/documents/a%00").status == 404);
  CHECK(Call(c, "GET", "/collections/c/documents/a").body["id"] == "a");
  // Every other escape is decoded as before, in paths and query arguments.
  CHECK(Call(c, "GET", "/collections/c/documents/a%20b%2Fc").body["id"] == "a b/c");
  CHECK(Call(c, "GET", "/collections/c/documents/a%zz").status == 404);
  Reply listed = Call(c, "GET", "/collections/c/documents?limit=%31");
  REQUIRE(listed.status == 200);
  CHECK(listed.body["documents"].size() == 1);
  CHECK(Call(c, "GET", "/collections/c/documents?limit=1%00").status == 400);
}

TEST_CASE("HEAD is answered as GET without the body and unread query parameters are refused",
          "[http]") {
  TempDir dir;
  ServerProcess server(dir / "db");
  httplib::Client c = server.Client();
  CreateCollectionC(c, {{{"id", "a"}, {"text", "cats on the roof"}}});
  for (const char* path : {"/health", "/collections", "/collections/c/documents/a", "/stats",
                           "/metrics", "/collections/c/export"}) {
    INFO(path);
    httplib::Result get = c.Get(path);
    httplib::Result head = c.Head(path);  // was 405 "answers GET, not HEAD"
    REQUIRE(get);
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->body.empty());
    CHECK(head->get_header_value("Content-Type") == get->get_header_value("Content-Type"));
  }
  httplib::Result missing = c.Head("/collections/c/documents/nosuch");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  // A route that reads no query parameter refuses them (they were ignored).
  CHECK(Call(c, "GET", "/collections?limit=1").body["error"]["message"] ==
        "unknown query parameter 'limit': GET /collections takes none");
  CHECK(Call(c, "GET", "/health?verbose=1").status == 400);
  CHECK(Call(c, "POST", "/collections/c/count?filter=x", json::object()).status == 400);
  CHECK(Call(c, "GET", "/collections/c/documents?limit=1").status == 200);
  httplib::Result post_only = c.Head("/collections/c/search");
  REQUIRE(post_only);
  CHECK(post_only->status == 405);
  CHECK(post_only->get_header_value("Allow") == "POST");
}

TEST_CASE("a query parameter given twice is refused, not settled by the last one", "[http]") {
  TempDir dir;
  ServerProcess server(dir / "db");
  httplib::Client c = server.Client();
  CreateCollectionC(c, {{{"id", "a"}, {"text", "cats"}}, {{"id", "b"}, {"text", "dogs"}}});
  // The last value won: limit=1&limit=5 listed five.
  Reply twice = Call(c, "GET", "/collections/c/documents?limit=1&limit=5");
  CHECK(twice.status == 400);
  CHECK(twice.body["error"]["message"] == "query parameter 'limit' is given more than once");
  CHECK(Call(c, "GET", "/collections/c/documents?limit=1").body["documents"].size() == 1);
}

}  // namespace
}  // namespace semdb
