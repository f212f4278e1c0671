// semdb's log (spdlog, logger "semdb", on standard error) and the progress
// of long operations: refits, index rebuilds, the log replay of an open.
// Quiet by default (Options::log_level "warn"); at "info" each long
// operation logs its start and its end with its duration, at "debug" also
// its progress.
#ifndef SEMDB_SRC_OPERATION_LOG_H_
#define SEMDB_SRC_OPERATION_LOG_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "semdb/options.h"
#include "spdlog/logger.h"

namespace semdb {

// The "semdb" logger (created at first use, level "warn").
spdlog::logger& Log();

// Sets the logger's level: off, error, warn, info or debug. The logger is
// one per process: the last database opened sets it.
absl::Status SetLogLevel(std::string_view level);

// Reports one long operation: logs its start and end (info), its progress
// (debug, at most once a second), and calls Options::progress with each
// step of at least 1% (and at the end) when it is set.
class OperationReporter {
 public:
  // `total` items are expected (0 when unknown).
  OperationReporter(const Options& options, std::string collection, std::string operation,
                    int64_t total);
  ~OperationReporter();  // logs the end
  OperationReporter(const OperationReporter&) = delete;
  OperationReporter& operator=(const OperationReporter&) = delete;

  // `n` more items are done.
  void Advance(int64_t n);

 private:
  void Report();

  const Options& options_;
  OperationProgress progress_;
  int64_t reported_ = 0;  // done at the last callback
  std::chrono::steady_clock::time_point start_, last_log_;
};

}  // namespace semdb

#endif  // SEMDB_SRC_OPERATION_LOG_H_
