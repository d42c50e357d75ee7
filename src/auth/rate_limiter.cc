#include "auth/rate_limiter.h"

#include <algorithm>

namespace orchard {

TokenBucket::TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst), last_(std::chrono::steady_clock::now()) {}

bool TokenBucket::take(std::chrono::steady_clock::time_point now, double& retry_after_seconds) {
  std::lock_guard lock(mutex_);
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  if (elapsed > 0) {
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  retry_after_seconds = (1.0 - tokens_) / rate_;
  return false;
}

}  // namespace orchard
