// The HTTP service end to end: the real `semdb serve` binary on a loopback
// port, driven over HTTP: results, every error status, the API key, the
// body limit, concurrent requests and a clean stop that keeps the data.
// Also the route handlers called in-process.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <thread>

#include "catch2/catch.hpp"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "semdb/database.h"
#include "shell/http_api.h"
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
  explicit ServerProcess(const std::string& db, std::vector<std::string> extra = {}) {
    int out[2];
    REQUIRE(pipe(out) == 0);
    std::vector<std::string> args = {SEMDB_BINARY_DIR "/shell/semdb", "serve", db, "--port", "0",
                                     "--threads", "4", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
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
  // Stopped cleanly: everything is there, and the index was saved.
  std::unique_ptr<Database> db = Database::Open(dir / "db").value();
  std::shared_ptr<Collection> docs = db->GetCollection("docs").value();
  REQUIRE(docs->Count() == 1 + kThreads * kPerThread);
  REQUIRE(docs->Get("t3-7").value().text == "water flows in river number 7 of thread 3");
  REQUIRE(docs->Stats()["index_origin"] == "loaded from its saved file, 0 logged operations replayed");
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

}  // namespace
}  // namespace semdb
