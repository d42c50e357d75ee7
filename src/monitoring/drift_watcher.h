// Tells a webhook when drift crosses into alert: a thread that every `interval` takes the drift
// monitor's new alerts and POSTs each, as JSON (monitoring/drift_alert.h), to the configured URL.
//
// Delivery is at least once per crossing while the watcher lives: an alert the receiver did not
// accept (dead URL, timeout, non-2xx answer) is kept and tried again at the next tick, oldest first,
// up to max_pending alerts (beyond that the oldest are dropped and counted). Failures are logged to
// stderr when they start and when delivery recovers, not at every tick.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "monitoring/drift_monitor.h"

namespace orchard {

struct DriftWatcherOptions {
  std::string url;                                  // http://… (parse_http_url); checked by the constructor
  std::chrono::milliseconds interval{std::chrono::seconds(10)};
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};  // per POST
  std::size_t max_pending = 1000;
};

class DriftWatcher {
 public:
  // `monitor` must outlive the watcher. Throws Error(kInvalidArgument) for a URL post_json cannot use.
  DriftWatcher(DriftMonitor& monitor, DriftWatcherOptions options);
  // Stops promptly: wakes the thread and cancels a POST in flight (within ~50 ms).
  ~DriftWatcher();
  DriftWatcher(const DriftWatcher&) = delete;
  DriftWatcher& operator=(const DriftWatcher&) = delete;

  std::uint64_t delivered() const { return delivered_.load(); }
  std::uint64_t failed_attempts() const { return failed_.load(); }
  std::uint64_t dropped() const { return dropped_.load(); }
  std::size_t pending() const;
  std::string last_error() const;

 private:
  void loop();
  void deliver();

  DriftMonitor& monitor_;
  DriftWatcherOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<DriftAlert> pending_;
  std::string last_error_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> delivered_{0}, failed_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace orchard
