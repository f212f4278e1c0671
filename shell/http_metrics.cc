#include "shell/http_metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace semdb {
namespace {

// A label value with \, " and newlines escaped, as the format requires.
std::string Label(const std::string& value) {
  std::string out;
  for (char ch : value) {
    if (ch == '\\' || ch == '"') out += '\\';
    if (ch == '\n') {
      out += "\\n";
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace

void HttpMetrics::Record(const std::string& route, int status, double seconds) {
  absl::MutexLock lock(&mu_);
  ++requests_[{route, status}];
  Latency& l = latency_[route];
  ++l.count;
  l.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++l.below[i];
      break;
    }
  }
}

std::string HttpMetrics::Text(const std::vector<CollectionInfo>& collections) const {
  std::string out =
      "# HELP semdb_http_requests_total HTTP requests answered, by route and status.\n"
      "# TYPE semdb_http_requests_total counter\n";
  absl::MutexLock lock(&mu_);
  for (const auto& [key, count] : requests_) {
    absl::StrAppend(&out, "semdb_http_requests_total{route=\"", Label(key.first),
                    "\",status=\"", key.second, "\"} ", count, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP semdb_http_request_duration_seconds Time from a request's header "
                  "to its response, by route.\n"
                  "# TYPE semdb_http_request_duration_seconds histogram\n");
  for (const auto& [route, l] : latency_) {
    const std::string label = Label(route);
    int64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += l.below[i];
      absl::StrAppend(&out, "semdb_http_request_duration_seconds_bucket{route=\"", label,
                      "\",le=\"", absl::StrFormat("%g", kBuckets[i]), "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, "semdb_http_request_duration_seconds_bucket{route=\"", label,
                    "\",le=\"+Inf\"} ", l.count, "\n",
                    "semdb_http_request_duration_seconds_sum{route=\"", label, "\"} ",
                    absl::StrFormat("%.6f", l.sum), "\n",
                    "semdb_http_request_duration_seconds_count{route=\"", label, "\"} ", l.count,
                    "\n");
  }
  absl::StrAppend(&out,
                  "# HELP semdb_collection_documents Documents stored, by collection.\n"
                  "# TYPE semdb_collection_documents gauge\n");
  for (const CollectionInfo& info : collections) {
    absl::StrAppend(&out, "semdb_collection_documents{collection=\"", Label(info.name), "\"} ",
                    info.documents, "\n");
  }
  return out;
}

}  // namespace semdb
