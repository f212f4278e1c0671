#include "embedders/hub_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace semdb {
namespace {

// A connection that cannot be made in this time fails; so does a transfer
// slower than 1 byte/s for a minute (a stalled server), rather than hang.
constexpr long kConnectTimeoutSeconds = 30;
constexpr long kStallSeconds = 60;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  CURL* curl = nullptr;
  HttpResponse* response = nullptr;
  FILE* file = nullptr;  // null: the body goes to response->body
  int64_t offset = 0;    // bytes the file held before
  bool decided = false;  // whether the body goes to the file is known
  bool to_file = false;
  const std::function<void(int64_t)>* on_bytes = nullptr;
  std::string error;  // why a write failed
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon), value = line.substr(colon + 1);
    absl::StripAsciiWhitespace(&name);
    absl::StripAsciiWhitespace(&value);
    t->response->headers.emplace(absl::AsciiStrToLower(name), value);
  }
  return size * n;
}

// Where the body of a Download goes, decided at its first bytes: a 206 that
// starts at the file's end is appended, a 200 replaces the file, anything
// else (an error's text) goes to response->body.
bool DecideDestination(Transfer* t) {
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  t->decided = true;
  if (status == 206) {
    // "bytes START-END/SIZE"
    const std::string& range = t->response->headers["content-range"];
    int64_t start = -1;
    const size_t dash = range.find('-');
    if (range.rfind("bytes ", 0) != 0 || dash == std::string::npos ||
        !absl::SimpleAtoi(range.substr(6, dash - 6), &start) || start != t->offset) {
      t->error = absl::StrCat("the server answered a request for bytes ", t->offset,
                              "- with Content-Range '", range, "'");
      return false;
    }
    t->to_file = true;
  } else if (status == 200) {
    if (t->offset > 0 && (fflush(t->file) != 0 || ftruncate(fileno(t->file), 0) != 0)) {
      t->error = absl::StrCat("cannot truncate: ", std::strerror(errno));
      return false;
    }
    t->to_file = true;
  }
  return true;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->file != nullptr && !t->decided && !DecideDestination(t)) return 0;
  if (!t->to_file) {
    t->response->body.append(data, len);
    return len;
  }
  if (fwrite(data, 1, len, t->file) != len) {
    t->error = absl::StrCat("cannot write: ", std::strerror(errno));
    return 0;
  }
  if (*t->on_bytes) (*t->on_bytes)(static_cast<int64_t>(len));
  return len;
}

absl::StatusOr<HttpResponse> Perform(const std::string& url, const std::string& token,
                                     Transfer* t) {
  InitCurlOnce();
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return absl::InternalError("curl_easy_init failed");
  HttpResponse response;
  t->curl = curl.get();
  t->response = &response;
  curl_slist* headers = nullptr;
  if (!token.empty()) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  }
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> free_headers(headers, curl_slist_free_all);
  char error[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "semdb (libcurl)");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, kStallSeconds);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
  if (t->file != nullptr && t->offset > 0) {
    const std::string range = absl::StrCat(t->offset, "-");
    curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
  }
  const CURLcode code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  if (!t->error.empty()) return absl::InternalError(absl::StrCat(url, ": ", t->error));
  if (code != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat(url, ": ", error[0] != '\0' ? error : curl_easy_strerror(code)));
  }
  return response;
}

}  // namespace

HubClient::HubClient(std::string endpoint, std::string token)
    : endpoint_(std::move(endpoint)), token_(std::move(token)) {}

absl::StatusOr<HttpResponse> HubClient::Get(const std::string& path) const {
  Transfer t;
  return Perform(endpoint_ + path, token_, &t);
}

absl::StatusOr<HttpResponse> HubClient::Download(
    const std::string& path, const std::string& file,
    const std::function<void(int64_t)>& on_bytes) const {
  std::unique_ptr<FILE, int (*)(FILE*)> f(fopen(file.c_str(), "ab"), fclose);
  if (!f) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot open ", file, ": ", std::strerror(errno)));
  }
  Transfer t;
  t.file = f.get();
  t.offset = ftello(f.get());
  t.on_bytes = &on_bytes;
  absl::StatusOr<HttpResponse> response = Perform(endpoint_ + path, token_, &t);
  if (fclose(f.release()) != 0 && response.ok()) {
    return absl::InternalError(absl::StrCat("cannot write ", file, ": ", std::strerror(errno)));
  }
  return response;
}

std::string EscapeUrlSegment(const std::string& segment) {
  InitCurlOnce();
  char* escaped = curl_easy_escape(nullptr, segment.data(), static_cast<int>(segment.size()));
  std::string out = escaped != nullptr ? escaped : "";
  curl_free(escaped);
  return out;
}

}  // namespace semdb
