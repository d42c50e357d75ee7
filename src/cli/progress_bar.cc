#include "cli/progress_bar.h"

#include <unistd.h>

#include <cstdio>

namespace orchard {

ProgressBar::ProgressBar(std::string label, std::uint64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()), last_(start_) {}

ProgressBar::~ProgressBar() {
  if (drawn_ && !finished_) std::fputs("\n", stderr);
}

bool ProgressBar::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

void ProgressBar::update(std::uint64_t done, std::uint64_t rows) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  draw(done, rows);
}

void ProgressBar::finish(std::uint64_t rows) {
  if (!enabled_ || !drawn_) return;
  draw(total_, rows);
  std::fputs("\n", stderr);
  finished_ = true;
}

void ProgressBar::draw(std::uint64_t done, std::uint64_t rows) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(rows) / seconds : 0.0;
  if (total_ > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(kWidth - filled), '.');
    std::fprintf(stderr, "\r%s [%s] %3d%%  %llu rows  %.0f rows/s", label_.c_str(), bar.c_str(), static_cast<int>(fraction * 100),
                 static_cast<unsigned long long>(rows), rate);
  } else {
    std::fprintf(stderr, "\r%s %llu rows  %.0f rows/s", label_.c_str(), static_cast<unsigned long long>(rows), rate);
  }
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace orchard
