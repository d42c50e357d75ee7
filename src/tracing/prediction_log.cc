#include "tracing/prediction_log.h"

#include <algorithm>
#include <cstring>
#include <iostream>

namespace orchard {
namespace {

constexpr std::uint64_t kEarlyWriteRows = 4096;  // write without waiting for the interval
constexpr std::size_t kFailedBatchesKept = 1024;  // durable waiters look their ticket up here
constexpr std::size_t kMaxTextBytes = 1024;       // request id, traceparent and caller are cut beyond this

// How an entry sits in the ring: this header, then the ids, the origins (shadow rows), rows, outputs and
// texts, padded to 8 bytes.
struct SlotHeader {
  std::uint64_t bytes;  // the whole slot; 0 marks the end of the ring's used space (continue at its start)
  const PredictionContext* context;
  std::uint64_t count;
  double latency_us;
  std::uint32_t num_features, width;
  std::uint16_t request_id_size, traceparent_size, caller_size;
  std::uint8_t raw, durable, has_origins;
};
static_assert(sizeof(SlotHeader) % 8 == 0, "slots stay 8-byte aligned");

std::size_t padded(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

std::string_view cut(std::string_view text) { return text.substr(0, std::min(text.size(), kMaxTextBytes)); }

std::size_t slot_bytes(const PredictionView& e) {
  const std::size_t count = e.count();
  return padded(sizeof(SlotHeader) + count * sizeof(PredictionId) * (e.origins ? 2 : 1) +
                count * (static_cast<std::size_t>(e.num_features()) + static_cast<std::size_t>(e.width)) * sizeof(double) +
                cut(e.request_id).size() + cut(e.traceparent).size() + cut(e.caller).size());
}

// Writes the entry at `at` (REQUIRES: slot_bytes(e) bytes of room there).
void write_slot(std::byte* at, const PredictionView& e, std::size_t bytes) {
  SlotHeader header{};
  header.bytes = bytes;
  header.context = e.context;
  header.count = e.count();
  header.latency_us = e.latency_us;
  header.num_features = static_cast<std::uint32_t>(e.num_features());
  header.width = static_cast<std::uint32_t>(e.width);
  const auto request_id = cut(e.request_id), traceparent = cut(e.traceparent), caller = cut(e.caller);
  header.request_id_size = static_cast<std::uint16_t>(request_id.size());
  header.traceparent_size = static_cast<std::uint16_t>(traceparent.size());
  header.caller_size = static_cast<std::uint16_t>(caller.size());
  header.raw = e.raw;
  header.durable = e.durable;
  header.has_origins = e.origins != nullptr;
  std::memcpy(at, &header, sizeof header);
  std::byte* p = at + sizeof header;
  auto put = [&p](const void* data, std::size_t n) {
    if (n) std::memcpy(p, data, n);
    p += n;
  };
  put(e.ids, e.count() * sizeof(PredictionId));
  if (e.origins) put(e.origins, e.count() * sizeof(PredictionId));
  put(e.rows, e.count() * header.num_features * sizeof(double));
  put(e.outputs, e.count() * header.width * sizeof(double));
  put(request_id.data(), request_id.size());
  put(traceparent.data(), traceparent.size());
  put(caller.data(), caller.size());
}

// The entry stored at `at`, as a view into the ring.
PredictionView read_slot(const std::byte* at) {
  SlotHeader header;
  std::memcpy(&header, at, sizeof header);
  const std::byte* p = at + sizeof header;
  PredictionView v;
  v.context = header.context;
  v.rows_count = header.count;
  v.num_features_count = static_cast<int>(header.num_features);
  v.width = static_cast<int>(header.width);
  v.raw = header.raw != 0;
  v.durable = header.durable != 0;
  v.latency_us = header.latency_us;
  // The slot is 8-byte aligned, and so are the ids (16 bytes each) and doubles that follow the header.
  v.ids = reinterpret_cast<const PredictionId*>(p);
  p += header.count * sizeof(PredictionId);
  if (header.has_origins) {
    v.origins = reinterpret_cast<const PredictionId*>(p);
    p += header.count * sizeof(PredictionId);
  }
  v.rows = reinterpret_cast<const double*>(p);
  p += header.count * header.num_features * sizeof(double);
  v.outputs = reinterpret_cast<const double*>(p);
  p += header.count * header.width * sizeof(double);
  auto text = [&p](std::size_t n) {
    std::string_view out(reinterpret_cast<const char*>(p), n);
    p += n;
    return out;
  };
  v.request_id = text(header.request_id_size);
  v.traceparent = text(header.traceparent_size);
  v.caller = text(header.caller_size);
  return v;
}

std::uint64_t slot_size_at(const std::byte* at) {
  std::uint64_t bytes;
  std::memcpy(&bytes, at, sizeof bytes);
  return bytes;
}

}  // namespace

PredictionLog::PredictionLog(std::unique_ptr<PredictionSink> sink, PredictionLogOptions options)
    : sink_(std::move(sink)),
      options_(options),
      ring_(new std::byte[padded(std::max<std::size_t>(options.buffer_bytes, 4096))]()),  // zeroed: pages faulted in now
      capacity_(padded(std::max<std::size_t>(options.buffer_bytes, 4096))),
      thread_([this] { loop(); }) {}

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

std::optional<std::uint64_t> PredictionLog::enqueue(const PredictionView& entry, const std::shared_ptr<const PredictionContext>& context) {
  const std::size_t rows = entry.count();
  // A large request (tens of thousands of rows) goes in as several slots of fewer rows, each at most
  // an eighth of the ring and of the row budget, all written at once or none: the writer takes the
  // whole queue in one batch, so they are committed (or fail) together.
  const std::size_t slot_limit = capacity_ / 8, rows_limit = std::max<std::size_t>(1, options_.max_queued_rows / 8);
  std::size_t rows_per_slot = std::max<std::size_t>(rows, 1);  // the common case: one slot
  if (rows > rows_limit || slot_bytes(entry) > slot_limit) {
    PredictionView one_row = entry;
    one_row.rows_count = 1;
    rows_per_slot = std::max<std::size_t>(1, std::min(slot_limit / slot_bytes(one_row), rows_limit));
  }
  std::uint64_t ticket = 0;
  {
    std::unique_lock lock(mutex_);
    // Shadow rows (they have origins) may fill half the ring and half the row budget only: a slow
    // shadow, or several of them, must not make live requests wait or fail for room.
    const std::uint64_t room = entry.origins ? capacity_ / 2 : capacity_;
    const std::size_t row_budget = entry.origins ? options_.max_queued_rows / 2 : options_.max_queued_rows;
    // Where the last slot would end if written now: each slot in turn, wrapping at the ring's end.
    auto end_of_slots = [&] {
      std::uint64_t at = head_;
      for (std::size_t first = 0; first < rows || first == 0; first += rows_per_slot) {
        PredictionView part = entry;
        part.rows_count = std::min(rows_per_slot, rows - first);
        const std::uint64_t bytes = slot_bytes(part);
        const std::uint64_t contiguous = capacity_ - at % capacity_;
        at += (bytes > contiguous ? contiguous : 0) + bytes;
        if (rows == 0) break;
      }
      return at;
    };
    auto fits = [&] { return queued_rows_ + rows <= row_budget && end_of_slots() - tail_ <= room; };
    // A full queue slows the caller down first (the writer frees room every batch), and refuses
    // only if it stays full for options_.full_wait: under a burst above what the sink can write,
    // clients see slower answers rather than 503s. An entry larger than the room is refused at once.
    if (!fits() && (rows > row_budget || end_of_slots() - head_ > room || options_.full_wait.count() == 0 || stopping_ ||
                    !written_.wait_for(lock, options_.full_wait, fits))) {
      refused_rows_ += rows;
      return std::nullopt;
    }
    for (std::size_t first = 0; first < rows || first == 0; first += rows_per_slot) {
      PredictionView part = entry;
      part.rows_count = std::min(rows_per_slot, rows - first);
      part.ids = entry.ids + first;
      part.rows = entry.rows + first * static_cast<std::size_t>(entry.num_features());
      part.outputs = entry.outputs + first * static_cast<std::size_t>(entry.width);
      if (entry.origins) part.origins = entry.origins + first;
      const std::uint64_t bytes = slot_bytes(part);
      const std::uint64_t offset = head_ % capacity_;
      const std::uint64_t contiguous = capacity_ - offset;
      std::uint64_t slot_at = head_;
      if (bytes > contiguous) {
        const std::uint64_t end_marker = 0;
        std::memcpy(ring_.get() + offset, &end_marker, sizeof end_marker);
        slot_at += contiguous;
      }
      write_slot(ring_.get() + slot_at % capacity_, part, bytes);
      head_ = slot_at + bytes;
      ticket = ++enqueued_entries_;
      if (rows == 0) break;
    }
    const std::size_t slots = rows == 0 ? 1 : (rows + rows_per_slot - 1) / rows_per_slot;
    auto& ref = contexts_[entry.context];  // allocates only the first time a context is seen
    if (!ref.context) ref.context = context;
    ref.queued_entries += slots;  // the writer counts slots down, one by one
    queued_rows_ += rows;
    if (entry.durable) durable_waiting_ += slots;
  }
  if (entry.durable || queued_rows_ >= kEarlyWriteRows) wake_.notify_one();
  return ticket;
}

bool PredictionLog::ticket_failed(std::uint64_t ticket) const {
  for (const auto& [first, last] : failed_tickets_) {
    if (ticket >= first && ticket <= last) return true;
  }
  return false;
}

bool PredictionLog::wait_written(std::uint64_t ticket, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  // Bounded: a sink that stalls (a PostgreSQL server that stopped answering) must not hold the
  // caller, an I/O thread of the server, forever. The entry may still be committed later; it was
  // not acknowledged, so nothing acknowledged is lost.
  if (!written_.wait_for(lock, timeout, [&] { return written_entries_ >= ticket; })) return false;
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

std::vector<std::optional<PredictionRecord>> PredictionLog::find_many(const std::vector<PredictionId>& ids) {
  flush();
  return sink_->find_many(ids);
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
  std::vector<PredictionView> batch;  // views into the ring, reused from batch to batch
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
    if (head_ == tail_) {
      if (stopping_) return;
      written_.notify_all();
      continue;
    }
    // Producers write only beyond head_, so [tail_, end) can be read without the lock.
    const std::uint64_t end = head_;
    const std::uint64_t first_ticket = written_entries_ + 1;
    lock.unlock();
    batch.clear();
    std::size_t rows = 0, durable = 0;
    for (std::uint64_t at = tail_; at < end;) {
      const std::byte* slot = ring_.get() + at % capacity_;
      const std::uint64_t bytes = slot_size_at(slot);
      if (bytes == 0) {  // the rest of the ring is unused: the next slot is at its start
        at += capacity_ - at % capacity_;
        continue;
      }
      batch.push_back(read_slot(slot));
      rows += batch.back().count();
      if (batch.back().durable) ++durable;
      at += bytes;
    }
    const auto started = std::chrono::steady_clock::now();
    bool ok = true;
    try {
      sink_->write(batch, durable > 0);
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
        for (const PredictionView& entry : batch) observer->observe(entry);
      }
    }
    lock.lock();
    if (!ok) {
      failed_tickets_.emplace_back(first_ticket, first_ticket + batch.size() - 1);
      if (failed_tickets_.size() > kFailedBatchesKept) failed_tickets_.pop_front();
    }
    for (const PredictionView& entry : batch) --contexts_[entry.context].queued_entries;
    // A context nobody else holds any more (its route arm is gone, and with it perhaps the version's
    // model) is let go once nothing queued uses it.
    for (auto it = contexts_.begin(); it != contexts_.end();) {
      it = it->second.queued_entries == 0 && it->second.context.use_count() == 1 ? contexts_.erase(it) : std::next(it);
    }
    tail_ = end;
    queued_rows_ -= rows;
    durable_waiting_ -= durable;
    written_entries_ += batch.size();
    written_.notify_all();
  }
}

}  // namespace orchard
