// HTTP(S) requests to the Hugging Face Hub, through libcurl: small
// responses read into memory (the API's JSON), and files streamed to disk,
// continued where an earlier transfer stopped.
//
// Redirects are followed (the Hub sends large files to a CDN); the token, when
// given, goes in "Authorization: Bearer" to the endpoint's host only (libcurl
// drops custom Authorization headers on a redirect to another host). The
// usual proxy variables (https_proxy, no_proxy) are honoured by libcurl.
#ifndef SEMDB_EMBEDDERS_HUB_CLIENT_H_
#define SEMDB_EMBEDDERS_HUB_CLIENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace semdb {

struct HttpResponse {
  long status = 0;  // of the last response, after redirects
  // Every response's headers (redirects included), names lower-cased; the
  // first value seen for a name wins, so that the Hub's X-Linked-Etag on a
  // redirect is kept.
  std::map<std::string, std::string> headers;
  // The body (Get), or of a response that was not written to the file
  // (Download: an error's text).
  std::string body;
};

class HubClient {
 public:
  // `endpoint` without a trailing slash, e.g. "https://huggingface.co".
  HubClient(std::string endpoint, std::string token);

  // GET endpoint + path. Unavailable for a transport failure (no
  // connection, a dropped one, a timeout); any HTTP status is a response.
  absl::StatusOr<HttpResponse> Get(const std::string& path) const;

  // GET endpoint + path into `file`, continuing it: when the file already
  // holds N bytes, asks for "Range: bytes=N-" and appends a 206 answer (a
  // 200 answer replaces the file's contents; a 416 leaves it as it is).
  // Bytes received before a transport failure stay in the file, and the
  // failure is Unavailable. `on_bytes` is called with each chunk's size.
  absl::StatusOr<HttpResponse> Download(const std::string& path, const std::string& file,
                                        const std::function<void(int64_t)>& on_bytes) const;

  const std::string& endpoint() const { return endpoint_; }

 private:
  std::string endpoint_, token_;
};

// Escapes one URL path segment (a revision, a file name's part).
std::string EscapeUrlSegment(const std::string& segment);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_HUB_CLIENT_H_
