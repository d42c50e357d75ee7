#include "monitoring/drift_watcher.h"

#include <iostream>

#include "monitoring/webhook.h"

namespace orchard {

DriftWatcher::DriftWatcher(DriftMonitor& monitor, DriftWatcherOptions options) : monitor_(monitor), options_(std::move(options)) {
  parse_http_url(options_.url);  // throws for a URL that can never work
  thread_ = std::thread([this] { loop(); });
}

DriftWatcher::~DriftWatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::size_t DriftWatcher::pending() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

std::string DriftWatcher::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void DriftWatcher::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.interval, [this] { return stopping_.load(); });
    if (stopping_) break;
    lock.unlock();
    deliver();
    lock.lock();
  }
}

void DriftWatcher::deliver() {
  std::vector<DriftAlert> fresh;
  try {
    fresh = monitor_.take_new_alerts();
  } catch (const std::exception& e) {
    std::cerr << "orchard: error: drift alerts could not be computed: " << e.what() << "\n";
    return;
  }
  {
    std::lock_guard lock(mutex_);
    for (auto& alert : fresh) pending_.push_back(std::move(alert));
    while (pending_.size() > options_.max_pending) {
      pending_.pop_front();
      ++dropped_;
    }
  }
  for (;;) {
    DriftAlert alert;
    {
      std::lock_guard lock(mutex_);
      if (pending_.empty() || stopping_) return;
      alert = pending_.front();
    }
    const WebhookResult result = post_json(options_.url, to_json(alert).dump(), options_.timeout, &stopping_);
    std::lock_guard lock(mutex_);
    if (!result.ok) {
      if (stopping_) return;
      ++failed_;
      if (last_error_.empty()) {
        std::cerr << "orchard: error: drift webhook " << options_.url << ": " << result.error << " (" << pending_.size()
                  << " alert(s) kept, retried every " << options_.interval.count() << " ms)\n";
      }
      last_error_ = result.error;
      return;  // the rest wait for the next tick, in order
    }
    if (!last_error_.empty()) std::cerr << "orchard: drift webhook " << options_.url << " reachable again\n";
    last_error_.clear();
    ++delivered_;
    if (!pending_.empty()) pending_.pop_front();
  }
}

}  // namespace orchard
