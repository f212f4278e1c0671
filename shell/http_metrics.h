// The HTTP service's counters for GET /metrics, in Prometheus' text
// exposition format (version 0.0.4): requests by route and status, a
// latency histogram by route, and documents per collection.
#ifndef SEMDB_SHELL_HTTP_METRICS_H_
#define SEMDB_SHELL_HTTP_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "semdb/database.h"

namespace semdb {

class HttpMetrics {
 public:
  // One answered request. `route` is the route's "METHOD /pattern", or
  // "unmatched" for a path no route has (keeps the label set bounded);
  // thread-safe.
  void Record(const std::string& route, int status, double seconds);

  // The exposition text, with `collections`' document counts.
  std::string Text(const std::vector<CollectionInfo>& collections) const;

 private:
  // Upper bounds of the latency buckets, in seconds (+Inf is implicit).
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};
  struct Latency {
    std::array<int64_t, kBuckets.size()> below = {};  // not cumulative
    int64_t count = 0;
    double sum = 0;
  };

  mutable absl::Mutex mu_;
  // (route, status) -> count
  std::map<std::pair<std::string, int>, int64_t> requests_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Latency> latency_ ABSL_GUARDED_BY(mu_);  // route -> histogram
};

}  // namespace semdb

#endif  // SEMDB_SHELL_HTTP_METRICS_H_
