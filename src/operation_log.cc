#include "src/operation_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace semdb {
namespace {

constexpr auto kLogInterval = std::chrono::seconds(1);

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

spdlog::logger& Log() {
  static spdlog::logger* const logger = [] {
    auto l = std::make_shared<spdlog::logger>(
        "semdb", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_level(spdlog::level::warn);
    l->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [semdb] [%l] %v");
    // Kept for the process's life (a leak by design: logging may happen
    // from static destructors' closes).
    return new std::shared_ptr<spdlog::logger>(std::move(l));
  }()->get();
  return *logger;
}

absl::Status SetLogLevel(std::string_view level) {
  for (auto [name, value] : {std::pair{"off", spdlog::level::off},
                             {"error", spdlog::level::err},
                             {"warn", spdlog::level::warn},
                             {"info", spdlog::level::info},
                             {"debug", spdlog::level::debug}}) {
    if (level == name) {
      Log().set_level(value);
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown log level '", std::string(level), "' (off, error, warn, info, debug)"));
}

OperationReporter::OperationReporter(const Options& options, std::string collection,
                                     std::string operation, int64_t total)
    : options_(options),
      progress_{std::move(collection), std::move(operation), 0, total},
      start_(std::chrono::steady_clock::now()),
      last_log_(start_) {
  Log().info("{} of '{}': started ({} items)", progress_.operation, progress_.collection,
             total);
  if (options_.progress) options_.progress(progress_);
}

OperationReporter::~OperationReporter() {
  Log().info("{} of '{}': {} items in {:.3f} s", progress_.operation, progress_.collection,
             progress_.done, Seconds(std::chrono::steady_clock::now() - start_));
  progress_.finished = true;
  if (options_.progress) options_.progress(progress_);
}

void OperationReporter::Advance(int64_t n) {
  progress_.done += n;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_log_ >= kLogInterval) {
    last_log_ = now;
    Log().debug("{} of '{}': {} of {} items", progress_.operation, progress_.collection,
                progress_.done, progress_.total);
  }
  const int64_t step = std::max<int64_t>(1, progress_.total / 100);
  if (options_.progress && progress_.done - reported_ >= step) {
    reported_ = progress_.done;
    options_.progress(progress_);
  }
}

}  // namespace semdb
