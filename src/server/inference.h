// The protocol-neutral core of a prediction request: rows in a model's feature order, the endpoint
// or version that answers, the numbers it returns. Protocol adapters (kserve_v2, invocations) turn
// their JSON or CSV into InferRequest and the InferResult back into their own form.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/json_text.h"
#include "server/serving_catalog.h"
#include "tracing/prediction_id.h"

namespace orchard {

struct InferRequest {
  std::vector<double> rows;  // row-major, num_features values per row, NaN = missing
  std::size_t count = 0;
  bool raw = false;          // margins instead of predictions
  std::string request_id;    // the client's X-Request-Id / traceparent, kept in the prediction log
  std::string traceparent;
  std::string caller;        // who asked (the client address; the API key's name once keys exist)
  std::vector<PredictionId> origins;  // a shadow call: the live prediction ids of its rows (the log links them)
};

struct InferResult {
  std::shared_ptr<const LoadedVersion> version;
  std::vector<double> values;  // count * width
  int width = 0;
  std::vector<PredictionId> prediction_ids;  // one per row when the prediction log is on
  double latency_us = 0;
};

// Calls shadow versions off the request's path: a queue drained by one background thread. The queue
// holds at most kShadowQueueBytes of requests in all; beyond, a shadow call is dropped (and counted)
// rather than slowing the live request or growing memory.
class ShadowRunner {
 public:
  // Called (on the shadow thread) with each shadow answer, e.g. to record it in the prediction log.
  using Observer = std::function<void(const std::shared_ptr<const PredictionContext>&, const InferRequest&, const InferResult&)>;
  ShadowRunner();
  void set_observer(Observer observer) { observer_ = std::move(observer); }
  ~ShadowRunner();  // drains the queue
  // Whether requests of `bytes` in all (their rows) would be queued now (check before copying them).
  bool has_room(std::size_t bytes);
  // `trace`: the shadow's prediction-log context (passed to the observer).
  void submit(std::shared_ptr<const LoadedVersion> version, std::shared_ptr<const PredictionContext> trace,
              std::shared_ptr<const InferRequest> request);
  std::uint64_t dropped() const { return dropped_; }
  void drain();  // waits until the queue is empty (shutdown, tests)

 private:
  void loop();
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  struct Job {
    std::shared_ptr<const LoadedVersion> version;
    std::shared_ptr<const PredictionContext> trace;
    std::shared_ptr<const InferRequest> request;
  };
  std::deque<Job> queue_;
  bool stopping_ = false;
  bool busy_ = false;
  std::size_t queued_bytes_ = 0;
  std::atomic<std::uint64_t> dropped_{0};
  Observer observer_;
  std::thread thread_;
};

// Runs the request on `version`, updating its counters (and its latency histogram unless `shadow`).
InferResult run_inference(const std::shared_ptr<const LoadedVersion>& version, const InferRequest& request, bool shadow = false);


}  // namespace orchard
