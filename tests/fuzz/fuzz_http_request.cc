// The HTTP request path end to end: the input is the raw bytes a client
// sends (request line, headers, a chunked or sized body) to a real
// HttpServer on a loopback port, serving a live database. The server must
// answer with a well-formed HTTP response, or close the connection, and
// keep serving: it never crashes, hangs or leaks a worker. Seeds start
// from deeply nested and chunked requests (tests/fuzz/seeds/).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "fuzz_util.h"
#include "shell/http_server.h"

namespace {

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) std::abort();
  return fd;
}

// Sends `data`, ends the sending side, and returns all the server sends
// until it closes (the server's 2 s request deadline bounds the wait).
std::string Exchange(int port, const uint8_t* data, size_t size) {
  const int fd = Connect(port);
  for (size_t sent = 0; sent < size;) {
    const ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server closed early (a refused request)
    sent += n;
  }
  shutdown(fd, SHUT_WR);
  std::string out;
  pollfd p = {fd, POLLIN, 0};
  while (poll(&p, 1, 10000) == 1) {
    char buf[65536];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, n);
  }
  close(fd);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int port = [] {
    auto opened = semdb::Database::Open(semdb::fuzz::ScratchDir() + "/db");
    if (!opened.ok()) std::abort();
    // The database and the server live until the process ends, never
    // destroyed: the server's thread still runs when libFuzzer exits.
    semdb::Database* db = opened->release();
    for (const char* spec : {"tfidf dim=8", "vectors dim=3"}) {
      if (!db->CreateCollection(std::string(spec).substr(0, 5), {.embedder = spec}).ok()) {
        std::abort();
      }
    }
    auto* server = new semdb::HttpServer(*db, {.port = 0,
                                               .threads = 2,
                                               .max_body_bytes = 1 << 16,
                                               .request_timeout_seconds = 2});
    const absl::StatusOr<int> bound = server->Bind();
    if (!bound.ok()) std::abort();
    std::thread([server] { (void)server->Run(); }).detach();
    return *bound;
  }();
  const std::string response = Exchange(port, data, size);
  // Nothing, or responses that each start with a status line.
  if (!response.empty() && response.rfind("HTTP/1.", 0) != 0) std::abort();
  // Still serving.
  static const std::string health = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const std::string ok = Exchange(port, reinterpret_cast<const uint8_t*>(health.data()),
                                  health.size());
  if (ok.rfind("HTTP/1.1 200", 0) != 0) std::abort();
  return 0;
}
