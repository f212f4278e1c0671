#include "shell/progress_bar.h"

#include <algorithm>

namespace semdb {

constexpr int kBarWidth = 30;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

ProgressBar::ProgressBar(FILE* out, bool enabled) : out_(out), enabled_(enabled) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(int64_t done, int64_t total, const std::string& note) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < kRedrawInterval && done < total) return;
  last_draw_ = now;
  const double fraction = total > 0 ? std::clamp(double(done) / double(total), 0.0, 1.0) : 0;
  const int filled = static_cast<int>(fraction * kBarWidth);
  std::string bar(filled, '#');
  bar.append(kBarWidth - filled, '.');
  std::fprintf(out_, "\r[%s] %3d%% %s\x1b[K", bar.c_str(), static_cast<int>(fraction * 100),
               note.c_str());
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (!drawn_) return;
  std::fprintf(out_, "\r\x1b[K");
  std::fflush(out_);
  drawn_ = false;
}

}  // namespace semdb
