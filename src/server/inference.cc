#include "server/inference.h"

#include <charconv>
#include <chrono>
#include <cmath>

namespace orchard {

namespace {
// The queue's budget in bytes, not rows: rows of 500 features weigh 500 times rows of one.
constexpr std::size_t kShadowQueueBytes = std::size_t{256} << 20;

std::size_t bytes_of(const InferRequest& request) {
  return request.rows.size() * sizeof(double) + request.origins.size() * sizeof(PredictionId) + sizeof(InferRequest);
}
}  // namespace

ShadowRunner::ShadowRunner() : thread_([this] { loop(); }) {}

ShadowRunner::~ShadowRunner() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool ShadowRunner::has_room(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  if (queued_bytes_ + bytes <= kShadowQueueBytes) return true;
  ++dropped_;
  return false;
}

void ShadowRunner::submit(std::shared_ptr<const LoadedVersion> version, std::shared_ptr<const PredictionContext> trace,
                          std::shared_ptr<const InferRequest> request) {
  {
    std::lock_guard lock(mutex_);
    if (queued_bytes_ + bytes_of(*request) > kShadowQueueBytes) {
      ++dropped_;
      return;
    }
    queued_bytes_ += bytes_of(*request);
    queue_.push_back({std::move(version), std::move(trace), std::move(request)});
  }
  wake_.notify_one();
}

void ShadowRunner::drain() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void ShadowRunner::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    auto [version, trace, request] = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= bytes_of(*request);
    busy_ = true;
    lock.unlock();
    try {
      const InferResult result = run_inference(version, *request, /*shadow=*/true);
      ++version->shadow_requests;
      if (observer_) observer_(trace, *request, result);
    } catch (...) {
      ++version->failures;
    }
    // The answer is deliberately dropped here: shadows never reach the caller (the observer records
    // it in the prediction log).
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

InferResult run_inference(const std::shared_ptr<const LoadedVersion>& version, const InferRequest& request, bool shadow) {
  const auto start = std::chrono::steady_clock::now();
  const Predictor& predictor = *version->predictor;
  InferResult result;
  result.version = version;
  result.width = predictor.num_values(request.raw);
  result.values.resize(request.count * static_cast<std::size_t>(result.width));
  if (request.count == 1) {
    predictor.predict_row(request.rows.data(), result.values.data(), request.raw);
  } else {
    predictor.predict_rows(request.rows.data(), request.count, result.values.data(), request.raw);
  }
  const auto ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
  result.latency_us = static_cast<double>(ns) * 1e-3;
  if (shadow) return result;  // counted in shadow_requests by the caller
  ++version->requests;
  version->rows += request.count;
  version->nanoseconds += ns;
  version->latency.record(ns);
  return result;
}


}  // namespace orchard
