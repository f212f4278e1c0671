// Load and abuse benchmark of `semdb serve` on loopback (bounded in count
// and time): a 10k-document flat "vectors dim=64" collection; `--clients`
// keep-alive clients each mixing searches (k=10) and batch upserts of 10
// documents (80/20) until `--requests` requests are done, while `--slow`
// connections dribble a header a byte at a time (reconnecting when the
// server cuts them) and a prober asks /health every 50 ms.
// Prints throughput, p50/p99/max latency per kind, /health latency, errors,
// and the server's RSS after loading, after the first tenth of the
// requests (RocksDB's memtable and the allocator warmed up) and at the end.
//
//   build/bench/http_load_bench [--requests 100000] [--clients 50] [--slow 100]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "fmt/core.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr int kDim = 64;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

int64_t RssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

json RandomVector(std::mt19937& rng) {
  std::normal_distribution<float> normal;
  json v = json::array();
  for (int i = 0; i < kDim; ++i) v.push_back(normal(rng));
  return v;
}

json Batch(std::mt19937& rng, int first, int count) {
  json docs = json::array();
  for (int i = 0; i < count; ++i) {
    docs.push_back({{"id", "d" + std::to_string(first + i)}, {"vector", RandomVector(rng)}});
  }
  return {{"documents", docs}, {"upsert", true}};
}

struct Latencies {
  std::mutex mu;
  std::vector<double> ms;
  void Add(double v) {
    std::lock_guard<std::mutex> lock(mu);
    ms.push_back(v);
  }
  std::string Summary() {
    std::lock_guard<std::mutex> lock(mu);
    if (ms.empty()) return "none";
    std::sort(ms.begin(), ms.end());
    auto at = [&](double q) { return ms[std::min(ms.size() - 1, size_t(q * ms.size()))]; };
    return fmt::format("n={} p50={:.2f} ms p99={:.2f} ms max={:.2f} ms", ms.size(), at(0.5),
                       at(0.99), ms.back());
  }
};

// One slow client: connects and sends "GET /health HTTP/1.1\r\n" and a
// header byte every second; reconnects when the server closes it.
class SlowClient {
 public:
  explicit SlowClient(int port) : port_(port) { Connect(); }
  ~SlowClient() { close(fd_); }
  void Tick() {
    if (send(fd_, "X", 1, MSG_NOSIGNAL) != 1) {
      close(fd_);
      ++reconnects;
      Connect();
    }
  }
  int reconnects = 0;

 private:
  void Connect() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      const char* start = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
      send(fd_, start, strlen(start), MSG_NOSIGNAL);
    }
  }
  int port_;
  int fd_ = -1;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"load and abuse benchmark of semdb serve on loopback"};
  int64_t requests = 100000;
  int clients = 50, slow = 100, docs = 10000, threads = 4, max_seconds = 900;
  std::string semdb = SEMDB_BINARY_DIR "/shell/semdb";
  app.add_option("--requests", requests, "requests of the load phase")->capture_default_str();
  app.add_option("--clients", clients, "keep-alive clients")->capture_default_str();
  app.add_option("--slow", slow, "slow connections during the load")->capture_default_str();
  app.add_option("--docs", docs, "documents loaded first")->capture_default_str();
  app.add_option("--threads", threads, "server threads")->capture_default_str();
  app.add_option("--max-seconds", max_seconds, "time bound of the load phase")
      ->capture_default_str();
  app.add_option("--semdb", semdb, "the semdb binary")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  cpu_set_t cpus;
  sched_getaffinity(0, sizeof(cpus), &cpus);
  fmt::print("cores: {} (hardware_concurrency {})\n", CPU_COUNT(&cpus),
             std::thread::hardware_concurrency());

  const std::string dir = std::filesystem::temp_directory_path() /
                          ("semdb_http_bench_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  int out[2];
  if (pipe(out) != 0) return 1;
  std::vector<std::string> args = {semdb, "serve", dir + "/db", "--port", "0", "--quiet",
                                   "--threads", std::to_string(threads),
                                   "--max-connections-per-address",
                                   std::to_string(clients + slow + 50)};
  std::vector<char*> argv_child;
  for (std::string& a : args) argv_child.push_back(a.data());
  argv_child.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  pid_t pid = 0;
  if (posix_spawn(&pid, semdb.c_str(), &actions, nullptr, argv_child.data(), environ) != 0) {
    fmt::print(stderr, "cannot start {}\n", semdb);
    return 1;
  }
  close(out[1]);
  FILE* server_out = fdopen(out[0], "r");
  char line[1024] = {};
  if (fgets(line, sizeof(line), server_out) == nullptr) return 1;
  std::smatch m;
  const std::string first = line;
  if (!std::regex_search(first, m, std::regex(R"(:(\d+) \()"))) return 1;
  const int port = std::stoi(m[1]);
  fmt::print("{}", first);

  std::atomic<int64_t> errors{0};
  auto check = [&](const httplib::Result& r, int want) {
    if (!r || r->status != want) {
      if (errors++ < 5) {
        fmt::print(stderr, "error: {}\n", r ? fmt::format("{} {}", r->status, r->body)
                                            : httplib::to_string(r.error()));
      }
    }
  };
  {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(120);
    check(c.Post("/collections", json{{"name", "bench"}, {"embedder", "vectors dim=64"}}.dump(),
                 "application/json"),
          201);
    std::mt19937 rng(1);
    for (int i = 0; i < docs; i += 500) {
      check(c.Post("/collections/bench/documents", Batch(rng, i, 500).dump(),
                   "application/json"),
            200);
    }
  }
  const int64_t rss_before = RssKb(pid);

  Latencies search, upsert, health;
  std::atomic<int64_t> issued{0};
  std::atomic<int64_t> rss_warm{-1};  // after the first tenth of the requests
  std::atomic<bool> done{false};
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(max_seconds);
  std::thread attacker([&] {
    std::vector<std::unique_ptr<SlowClient>> conns;
    for (int i = 0; i < slow; ++i) conns.push_back(std::make_unique<SlowClient>(port));
    while (!done) {
      for (auto& s : conns) s->Tick();
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    int reconnects = 0;
    for (auto& s : conns) reconnects += s->reconnects;
    fmt::print("slow connections: {}, cut by the server and reconnected {} times\n", slow,
               reconnects);
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the slow ones are in
  std::thread prober([&] {
    httplib::Client c("127.0.0.1", port);
    c.set_tcp_nodelay(true);
    c.set_read_timeout(30);
    while (!done) {
      const Clock::time_point t0 = Clock::now();
      httplib::Result r = c.Get("/health");
      health.Add(Ms(Clock::now() - t0));
      check(r, 200);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < clients; ++w) {
    workers.emplace_back([&, w] {
      httplib::Client c("127.0.0.1", port);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);  // the client's own writes are not held back either
      c.set_read_timeout(120);
      std::mt19937 rng(100 + w);
      for (int64_t n; (n = issued++) < requests && Clock::now() < deadline;) {
        if (n == requests / 10) rss_warm = RssKb(pid);
        const Clock::time_point t0 = Clock::now();
        if (rng() % 5 == 0) {
          check(c.Post("/collections/bench/documents",
                       Batch(rng, static_cast<int>(rng() % (docs - 10)), 10).dump(),
                       "application/json"),
                200);
          upsert.Add(Ms(Clock::now() - t0));
        } else {
          check(c.Post("/collections/bench/search",
                       json{{"vector", RandomVector(rng)}, {"k", 10}}.dump(),
                       "application/json"),
                200);
          search.Add(Ms(Clock::now() - t0));
        }
      }
    });
  }
  for (std::thread& t : workers) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  done = true;
  prober.join();
  attacker.join();
  const int64_t rss_after = RssKb(pid);
  const int64_t total = std::min<int64_t>(issued.load(), requests);

  fmt::print("requests: {} in {:.1f} s, {:.0f} requests/s, errors: {}\n", total, seconds,
             total / seconds, errors.load());
  fmt::print("search k=10:  {}\n", search.Summary());
  fmt::print("upsert x10:   {}\n", upsert.Summary());
  fmt::print("/health during the slow connections: {}\n", health.Summary());
  fmt::print("server RSS: {} KiB after loading, {} KiB after the first tenth of the requests, "
             "{} KiB after all ({:+.1f}% over the last nine tenths)\n",
             rss_before, rss_warm.load(), rss_after,
             100.0 * (rss_after - rss_warm) / rss_warm);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  fclose(server_out);
  std::filesystem::remove_all(dir);
  return errors == 0 ? 0 : 1;
}
