#include "tracing/prediction_log.h"

#include <iostream>

namespace orchard {
namespace {

constexpr std::uint64_t kEarlyWriteRows = 4096;  // write without waiting for the interval
constexpr std::size_t kFailedBatchesKept = 1024;  // durable waiters look their ticket up here

}  // namespace

PredictionLog::PredictionLog(std::unique_ptr<PredictionSink> sink, PredictionLogOptions options)
    : sink_(std::move(sink)), options_(options), thread_([this] { loop(); }) {}

PredictionLog::~PredictionLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PredictionLog::add_observer(PredictionObserver* observer) {
  std::lock_guard lock(mutex_);
  observers_.push_back(observer);
}

std::optional<std::uint64_t> PredictionLog::enqueue(PredictionEntry&& entry) {
  const std::size_t rows = entry.count();
  const bool durable = entry.durable;
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    if (queued_rows_ + rows > options_.max_queued_rows) {
      refused_rows_ += rows;
      return std::nullopt;
    }
    queued_rows_ += rows;
    queue_.push_back(std::move(entry));
    ticket = ++enqueued_entries_;
    if (durable) ++durable_waiting_;
  }
  if (durable || queued_rows_ >= kEarlyWriteRows) wake_.notify_one();
  return ticket;
}

bool PredictionLog::ticket_failed(std::uint64_t ticket) const {
  for (const auto& [first, last] : failed_tickets_) {
    if (ticket >= first && ticket <= last) return true;
  }
  return false;
}

bool PredictionLog::wait_written(std::uint64_t ticket) {
  std::unique_lock lock(mutex_);
  written_.wait(lock, [&] { return written_entries_ >= ticket; });
  return !ticket_failed(ticket);
}

void PredictionLog::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = enqueued_entries_;
  flush_requested_ = true;
  wake_.notify_all();
  written_.wait(lock, [&] { return written_entries_ >= target; });
}

std::optional<PredictionRecord> PredictionLog::find(const PredictionId& id) {
  flush();
  return sink_->find(id);
}

std::vector<PredictionRecord> PredictionLog::search(const PredictionQuery& query) {
  flush();
  return sink_->search(query);
}

std::vector<bool> PredictionLog::add_feedback(const std::vector<Feedback>& items) {
  flush();  // feedback may come right after the prediction
  return sink_->add_feedback(items);
}

std::vector<ArmTraffic> PredictionLog::traffic(const std::string& endpoint, std::int64_t since_ms, std::int64_t until_ms) {
  flush();
  return sink_->traffic(endpoint, since_ms, until_ms);
}

std::uint64_t PredictionLog::apply_retention() {
  const std::uint64_t removed = sink_->apply_retention(options_.retention);
  retention_removed_ += removed;
  return removed;
}

void PredictionLog::loop() {
  auto next_retention = std::chrono::steady_clock::now() + options_.retention_interval;
  const bool has_retention = options_.retention.max_age_ms || options_.retention.max_bytes;
  std::unique_lock lock(mutex_);
  for (;;) {
    // Gather for one flush interval (group commit), unless asked to flush, stopping, a durable entry
    // waits, or a batch is big.
    wake_.wait_for(lock, options_.flush_interval,
                   [this] { return stopping_ || flush_requested_ || durable_waiting_ > 0 || queued_rows_ >= kEarlyWriteRows; });
    flush_requested_ = false;
    if (has_retention && std::chrono::steady_clock::now() >= next_retention) {
      lock.unlock();
      try {
        apply_retention();
      } catch (const std::exception& e) {
        std::cerr << "orchard: error: prediction log retention failed: " << e.what() << "\n";
      }
      next_retention = std::chrono::steady_clock::now() + options_.retention_interval;
      lock.lock();
    }
    if (queue_.empty()) {
      if (stopping_) return;
      written_.notify_all();
      continue;
    }
    std::vector<PredictionEntry> batch(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    const std::uint64_t first_ticket = written_entries_ + 1;
    bool sync = false;
    std::size_t rows = 0, durable = 0;
    for (const PredictionEntry& entry : batch) {
      rows += entry.count();
      if (entry.durable) ++durable;
    }
    sync = durable > 0;
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    bool ok = true;
    try {
      sink_->write(batch, sync);
      written_rows_ += rows;
    } catch (const std::exception& e) {
      ok = false;
      failed_rows_ += rows;
      std::cerr << "orchard: error: the prediction log could not write " << rows << " record(s): " << e.what() << "\n";
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    last_flush_seconds_ = seconds;
    flush_seconds_total_ = flush_seconds_total_ + seconds;
    ++flushes_;
    // Observers see the batch before anyone waiting on it is released, so that a flush() also means
    // "observed" (a drift report right after a prediction includes it).
    if (ok) {
      for (PredictionObserver* observer : observers_) {
        for (const PredictionEntry& entry : batch) observer->observe(entry);
      }
    }
    lock.lock();
    if (!ok) {
      failed_tickets_.emplace_back(first_ticket, first_ticket + batch.size() - 1);
      if (failed_tickets_.size() > kFailedBatchesKept) failed_tickets_.pop_front();
    }
    queued_rows_ -= rows;
    durable_waiting_ -= durable;
    written_entries_ += batch.size();
    written_.notify_all();
    // The entries are destroyed outside the lock (their buffers may be large).
    lock.unlock();
    batch.clear();
    lock.lock();
  }
}

}  // namespace orchard
