// A token bucket: `rate` requests per second on average, bursts up to `burst`. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>

namespace orchard {

class TokenBucket {
 public:
  TokenBucket(double rate, double burst);
  // Takes one token if there is one; otherwise returns false and how long until there is.
  bool take(std::chrono::steady_clock::time_point now, double& retry_after_seconds);

 private:
  std::mutex mutex_;  // per key: contended only by requests with the same key
  double rate_, burst_, tokens_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace orchard
