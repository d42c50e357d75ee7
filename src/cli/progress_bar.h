// A one-line progress bar on standard error, shown only when standard error is a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace orchard {

class ProgressBar {
 public:
  // total: units of work (bytes), 0 if unknown. enabled: normally "stderr is a terminal".
  ProgressBar(std::string label, std::uint64_t total, bool enabled);
  ~ProgressBar();
  // Redraws at most ten times a second.
  void update(std::uint64_t done, std::uint64_t rows);
  void finish(std::uint64_t rows);

  static bool stderr_is_terminal();

 private:
  void draw(std::uint64_t done, std::uint64_t rows);
  std::string label_;
  std::uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace orchard
