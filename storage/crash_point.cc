#include "storage/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace semdb {
namespace {

struct Armed {
  std::string name;
  std::atomic<long> remaining{0};
};

// Parsed once; null when no crash point is armed.
Armed* ArmedPoint() {
  static Armed* const armed = []() -> Armed* {
    const char* spec = std::getenv("SEMDB_CRASH_POINT");
    if (spec == nullptr || *spec == '\0') return nullptr;
    auto* a = new Armed;
    const char* colon = std::strchr(spec, ':');
    a->name = colon ? std::string(spec, colon) : std::string(spec);
    a->remaining = colon ? std::max(1L, std::atol(colon + 1)) : 1;
    return a;
  }();
  return armed;
}

}  // namespace

void CrashPoint(const char* name) {
  Armed* armed = ArmedPoint();
  if (armed == nullptr || armed->name != name) return;
  if (armed->remaining.fetch_sub(1) == 1) {
    ::kill(::getpid(), SIGKILL);
    ::pause();
  }
}

}  // namespace semdb
