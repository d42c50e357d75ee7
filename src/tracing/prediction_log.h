// The prediction log: every predicted row recorded off the request's path.
//
// Requests enqueue their rows (one entry per request) into a bounded queue; a writer thread turns
// them into records and writes them to the sink in batches (group commits) every flush interval or
// when enough have gathered. A full queue refuses the entry — the server answers 503 and counts it —
// so nothing acknowledged is ever dropped silently. On a crash, entries not yet written (at most one
// flush interval, 50 ms by default) are lost: the async mode's documented window.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/predictor.h"
#include "tracing/prediction_record.h"

namespace orchard {

struct PredictionEntry {
  std::vector<std::string> ids;     // one per row
  std::string time;
  std::string endpoint, model, artifact_sha256, arm, request_id, traceparent;
  std::int64_t version = 0;
  std::shared_ptr<const Predictor> predictor;  // for the feature names, written by the writer thread
  std::vector<double> rows;     // count * num_features
  std::vector<double> outputs;  // count * width
  int width = 0;
  double latency_us = 0;
};

class PredictionLog {
 public:
  explicit PredictionLog(std::unique_ptr<PredictionSink> sink, std::size_t max_queued_rows = std::size_t{1} << 20,
                         std::chrono::milliseconds flush_interval = std::chrono::milliseconds(50));
  ~PredictionLog();  // writes what is queued

  // False if the queue is full (the caller answers 503).
  bool enqueue(PredictionEntry&& entry);
  // Waits until everything enqueued so far is written.
  void flush();
  std::vector<PredictionRecord> find(const std::string& id);

  std::uint64_t queued_rows() const { return queued_rows_.load(); }
  std::uint64_t written_rows() const { return written_rows_.load(); }
  std::uint64_t refused_rows() const { return refused_rows_.load(); }
  std::uint64_t failed_rows() const { return failed_rows_.load(); }
  double last_flush_seconds() const { return last_flush_seconds_.load(); }

 private:
  void loop();

  std::unique_ptr<PredictionSink> sink_;
  std::mutex sink_mutex_;  // the writer and find() share the sink
  std::size_t max_queued_rows_;
  std::chrono::milliseconds flush_interval_;
  std::mutex mutex_;
  std::condition_variable wake_, written_;
  std::deque<PredictionEntry> queue_;
  std::uint64_t enqueued_entries_ = 0, written_entries_ = 0;
  bool stopping_ = false;
  bool flush_requested_ = false;
  std::atomic<std::uint64_t> queued_rows_{0}, written_rows_{0}, refused_rows_{0}, failed_rows_{0};
  std::atomic<double> last_flush_seconds_{0};
  std::thread thread_;
};

}  // namespace orchard
