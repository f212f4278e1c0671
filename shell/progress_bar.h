// A progress bar on a terminal, redrawn in place at most ten times a second.
// Disabled (draws nothing) when the stream is not a terminal.
#ifndef SEMDB_SHELL_PROGRESS_BAR_H_
#define SEMDB_SHELL_PROGRESS_BAR_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace semdb {

class ProgressBar {
 public:
  ProgressBar(FILE* out, bool enabled);
  ~ProgressBar();

  // Shows `done` of `total` (units of the caller's choosing) and a note.
  void Update(int64_t done, int64_t total, const std::string& note);
  // Erases the bar.
  void Finish();

 private:
  FILE* out_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace semdb

#endif  // SEMDB_SHELL_PROGRESS_BAR_H_
