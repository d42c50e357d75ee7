#include "tracing/prediction_log.h"

#include "common/json_text.h"

#include <charconv>
#include <cmath>
#include <iostream>

namespace orchard {
namespace {

constexpr std::uint64_t kEarlyWriteRows = 4096;  // write without waiting for the interval

std::vector<PredictionRecord> to_records(const PredictionEntry& entry) {
  std::vector<PredictionRecord> records;
  const std::size_t nf = static_cast<std::size_t>(entry.predictor->num_features());
  const std::size_t width = static_cast<std::size_t>(entry.width);
  for (std::size_t r = 0; r < entry.ids.size(); ++r) {
    PredictionRecord record;
    record.id = entry.ids[r];
    record.time = entry.time;
    record.endpoint = entry.endpoint;
    record.model = entry.model;
    record.version = entry.version;
    record.artifact_sha256 = entry.artifact_sha256;
    record.arm = entry.arm;
    record.latency_us = entry.latency_us;
    record.request_id = entry.request_id;
    record.traceparent = entry.traceparent;
    // Values only: the names are the version's features (its schema in the registry), which lookups
    // put back; this keeps each record a third of the size.
    record.inputs_json = "[";
    for (std::size_t f = 0; f < nf; ++f) {
      if (f) record.inputs_json += ',';
      append_json_number(record.inputs_json, entry.rows[r * nf + f]);
    }
    record.inputs_json += ']';
    record.outputs_json = "[";
    for (std::size_t k = 0; k < width; ++k) {
      if (k) record.outputs_json += ',';
      append_json_number(record.outputs_json, entry.outputs[r * width + k]);
    }
    record.outputs_json += ']';
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace

PredictionLog::PredictionLog(std::unique_ptr<PredictionSink> sink, std::size_t max_queued_rows, std::chrono::milliseconds flush_interval)
    : sink_(std::move(sink)), max_queued_rows_(max_queued_rows), flush_interval_(flush_interval), thread_([this] { loop(); }) {}

PredictionLog::~PredictionLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool PredictionLog::enqueue(PredictionEntry&& entry) {
  const std::size_t rows = entry.ids.size();
  {
    std::lock_guard lock(mutex_);
    if (queued_rows_ + rows > max_queued_rows_) {
      refused_rows_ += rows;
      return false;
    }
    queued_rows_ += rows;
    queue_.push_back(std::move(entry));
    ++enqueued_entries_;
  }
  if (queued_rows_ >= kEarlyWriteRows) wake_.notify_one();
  return true;
}

void PredictionLog::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = enqueued_entries_;
  flush_requested_ = true;
  wake_.notify_all();
  written_.wait(lock, [&] { return written_entries_ >= target; });
}

std::vector<PredictionRecord> PredictionLog::find(const std::string& id) {
  flush();  // a prediction answered a moment ago is found too
  std::lock_guard lock(sink_mutex_);
  return sink_->find(id);
}

void PredictionLog::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    // Gather for one flush interval (group commit), unless asked to flush, stopping, or a batch is big.
    wake_.wait_for(lock, flush_interval_, [this] { return stopping_ || flush_requested_ || queued_rows_ >= kEarlyWriteRows; });
    flush_requested_ = false;
    if (queue_.empty()) {
      if (stopping_) return;
      written_.notify_all();
      continue;
    }
    std::deque<PredictionEntry> batch;
    batch.swap(queue_);
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    std::vector<PredictionRecord> records;
    std::size_t rows = 0;
    for (const PredictionEntry& entry : batch) {
      auto converted = to_records(entry);
      rows += converted.size();
      records.insert(records.end(), std::make_move_iterator(converted.begin()), std::make_move_iterator(converted.end()));
    }
    try {
      std::lock_guard sink_lock(sink_mutex_);
      sink_->write(records);
      written_rows_ += rows;
    } catch (const std::exception& e) {
      failed_rows_ += rows;
      std::cerr << "orchard: error: the prediction log could not write " << rows << " record(s): " << e.what() << "\n";
    }
    last_flush_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    lock.lock();
    queued_rows_ -= rows;
    written_entries_ += batch.size();
    written_.notify_all();
  }
}

}  // namespace orchard
