// Load and abuse benchmark of `semdb serve` on loopback (bounded in count
// and time), reporting each target of issue 14 as PASS or FAIL:
//   1. a 300 MiB chunked body against --max-body-bytes 1 MiB: answered 413,
//      the connection closed before the client could send 32 MiB, and the
//      server's peak RSS grown by less than twice the limit;
//   2. a 10k-document flat "vectors dim=64" collection; `--clients`
//      keep-alive clients each mixing searches (k=10) and batch upserts of 10
//      documents (80/20): first `--warmup` requests (60,000 upserted
//      documents by default: RocksDB's memtables reach their 16 MiB bound
//      and the allocator its working size), then `--requests` measured
//      ones while `--slow` connections dribble a header a byte a second
//      (reconnecting when the server cuts them) and a prober asks /health
//      every 50 ms. Targets: 0 errors; search p99 < 50 ms; RSS after the
//      measured requests < 1.1 x RSS after warm-up;
//   3. /health answered within 100 ms (all of 100 probes, 20 ms apart)
//      while the slow connections are open, before the load starts.
// Prints the cores, the load average before and after, throughput,
// p50/p99/max per kind, and the CPU time of the server and of this client.
//
//   build/bench/http_load_bench [--requests 100000] [--warmup 30000]
//                               [--clients 50] [--slow 100]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <mutex>
#include <optional>
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

// A field of /proc/PID/status in KiB: "VmRSS" (now) or "VmHWM" (peak).
int64_t StatusKb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

// User + system CPU seconds of a process so far.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
  }
  return ticks / sysconf(_SC_CLK_TCK);
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

void Target(bool pass, const std::string& what) {
  fmt::print("{} {}\n", pass ? "PASS" : "FAIL", what);
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
  // The q-quantile in ms (q = 1: the maximum); infinity when empty.
  double At(double q) {
    std::lock_guard<std::mutex> lock(mu);
    if (ms.empty()) return std::numeric_limits<double>::infinity();
    std::sort(ms.begin(), ms.end());
    return ms[std::min(ms.size() - 1, size_t(q * ms.size()))];
  }
  std::string Summary() {
    return fmt::format("n={} p50={:.2f} ms p99={:.2f} ms max={:.2f} ms", ms.size(), At(0.5),
                       At(0.99), At(1));
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

// Sends a chunked body of `mib` MiB to a route on a new connection, one
// MiB per chunk, until done or the server closes; the status answered, the
// MiB the client got to send, and whether the server closed the
// connection.
struct ChunkedResult {
  int status = 0;
  int sent_mib = 0;
  bool closed = false;
};
ChunkedResult SendChunked(int port, int mib) {
  ChunkedResult out;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return out;
  timeval timeout = {10, 0};  // a server that stops reading but stays open fails the test
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  auto send_all = [&](const std::string& bytes) {
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += n;
    }
    return true;
  };
  const std::string chunk = "100000\r\n" + std::string(1 << 20, ' ') + "\r\n";
  if (send_all("POST /collections/bench/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")) {
    while (out.sent_mib < mib && send_all(chunk)) ++out.sent_mib;
    if (out.sent_mib == mib) send_all("0\r\n\r\n");
  }
  std::string reply;
  char buf[4096];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      reply.append(buf, n);
      continue;
    }
    out.closed = n == 0 || errno == ECONNRESET;  // else the 10 s timeout
    break;
  }
  if (reply.rfind("HTTP/1.1 ", 0) == 0) out.status = std::stoi(reply.substr(9, 3));
  close(fd);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"load and abuse benchmark of semdb serve on loopback"};
  int64_t requests = 100000, warmup = 30000;
  int clients = 50, slow = 100, docs = 10000, threads = 4, max_seconds = 900;
  std::string semdb = SEMDB_BINARY_DIR "/shell/semdb";
  app.add_option("--warmup", warmup, "requests before the measured ones")->capture_default_str();
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
  fmt::print("cores: {} (hardware_concurrency {}), load average before: {}\n",
             CPU_COUNT(&cpus), std::thread::hardware_concurrency(), LoadAverage());

  const std::string dir = std::filesystem::temp_directory_path() /
                          ("semdb_http_bench_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  int out[2];
  if (pipe(out) != 0) return 1;
  constexpr int64_t kBodyLimit = 1 << 20;
  std::vector<std::string> args = {semdb, "serve", dir + "/db", "--port", "0",
                                   "--threads", std::to_string(threads),
                                   "--max-body-bytes", std::to_string(kBodyLimit),
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

  // 1. The 300 MiB chunked body.
  const int64_t peak_before = StatusKb(pid, "VmHWM");
  const ChunkedResult chunked = SendChunked(port, 300);
  const int64_t peak_growth = StatusKb(pid, "VmHWM") - peak_before;
  fmt::print("300 MiB chunked body, limit {} bytes: status {}, the client sent {} MiB before "
             "the server closed: {}, server peak RSS +{} KiB\n",
             kBodyLimit, chunked.status, chunked.sent_mib, chunked.closed ? "yes" : "no",
             peak_growth);

  // 2. The load: keep-alive clients, `n` requests, latencies into `search`
  // and `upsert` when given.
  Latencies search, upsert, health;
  auto load = [&](int64_t n, Latencies* search_ms, Latencies* upsert_ms) {
    std::atomic<int64_t> issued{0};
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(max_seconds);
    std::vector<std::thread> workers;
    for (int w = 0; w < clients; ++w) {
      workers.emplace_back([&, w] {
        httplib::Client c("127.0.0.1", port);
        c.set_keep_alive(true);
        c.set_tcp_nodelay(true);  // the client's own writes are not held back either
        c.set_read_timeout(120);
        std::mt19937 rng(100 + w + (search_ms ? 1000 : 0));
        while (issued++ < n && Clock::now() < deadline) {
          const Clock::time_point t0 = Clock::now();
          if (rng() % 5 == 0) {
            check(c.Post("/collections/bench/documents",
                         Batch(rng, static_cast<int>(rng() % (docs - 10)), 10).dump(),
                         "application/json"),
                  200);
            if (upsert_ms) upsert_ms->Add(Ms(Clock::now() - t0));
          } else {
            check(c.Post("/collections/bench/search",
                         json{{"vector", RandomVector(rng)}, {"k", 10}}.dump(),
                         "application/json"),
                  200);
            if (search_ms) search_ms->Add(Ms(Clock::now() - t0));
          }
        }
      });
    }
    for (std::thread& t : workers) t.join();
    return std::min(issued.load(), n);
  };
  const int64_t rss_loaded = StatusKb(pid, "VmRSS");
  load(warmup, nullptr, nullptr);
  const int64_t rss_warm = StatusKb(pid, "VmRSS");

  std::atomic<bool> done{false};
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
  // /health with only the slow connections open: 100 probes, 20 ms apart.
  Latencies health_attack;
  {
    httplib::Client c("127.0.0.1", port);
    c.set_tcp_nodelay(true);
    c.set_read_timeout(30);
    for (int i = 0; i < 100; ++i) {
      const Clock::time_point t0 = Clock::now();
      httplib::Result r = c.Get("/health");
      health_attack.Add(Ms(Clock::now() - t0));
      check(r, 200);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
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
  const double server_cpu0 = CpuSeconds(pid), client_cpu0 = CpuSeconds(getpid());
  const Clock::time_point start = Clock::now();
  const int64_t total = load(requests, &search, &upsert);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double server_cpu = CpuSeconds(pid) - server_cpu0;
  const double client_cpu = CpuSeconds(getpid()) - client_cpu0;
  done = true;
  prober.join();
  attacker.join();
  const int64_t rss_after = StatusKb(pid, "VmRSS");
  const double growth = 100.0 * (rss_after - rss_warm) / rss_warm;

  fmt::print("requests: {} measured after {} of warm-up, in {:.1f} s, {:.0f} requests/s, "
             "errors: {}\n",
             total, warmup, seconds, total / seconds, errors.load());
  fmt::print("CPU: server {:.1f} s ({:.2f} ms a request), this client {:.1f} s\n", server_cpu,
             1e3 * server_cpu / total, client_cpu);
  fmt::print("search k=10:  {}\n", search.Summary());
  fmt::print("upsert x10:   {}\n", upsert.Summary());
  fmt::print("/health with the slow connections open: {}\n", health_attack.Summary());
  fmt::print("/health with the slow connections and the load: {}\n", health.Summary());
  fmt::print("server RSS: {} KiB after loading, {} KiB after the warm-up, {} KiB after the "
             "measured requests ({:+.1f}%)\n",
             rss_loaded, rss_warm, rss_after, growth);
  fmt::print("load average after: {}\n", LoadAverage());
  Target(errors == 0 && total == requests,
         fmt::format("0 errors, all {} requests done ({} errors, {} done)", requests,
                     errors.load(), total));
  Target(search.At(0.99) < 50, fmt::format("search p99 {:.1f} ms < 50 ms", search.At(0.99)));
  Target(health_attack.At(1) < 100,
         fmt::format("/health max {:.1f} ms < 100 ms with {} slow connections open",
                     health_attack.At(1), slow));
  Target(growth < 10, fmt::format("RSS growth {:+.1f}% < 10% over {} requests", growth, total));
  Target(chunked.status == 413 && chunked.closed && chunked.sent_mib < 32 &&
             peak_growth < 2 * kBodyLimit / 1024,
         fmt::format("300 MiB chunked body: 413 ({}), closed after {} MiB (< 32), peak RSS "
                     "+{} KiB (< {} KiB)",
                     chunked.status, chunked.sent_mib, peak_growth, 2 * kBodyLimit / 1024));
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  fclose(server_out);
  std::filesystem::remove_all(dir);
  return errors == 0 ? 0 : 1;
}
