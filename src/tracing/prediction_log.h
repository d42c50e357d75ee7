// The prediction log: every predicted row recorded off the request's path.
//
// A request copies its rows into the log's ring buffer (one memcpy under a short lock; no allocation)
// and leaves; a writer thread writes what the ring holds to the sink in batches (group commits) every
// flush interval, or at once when a batch is big or a durable entry waits, reading the records in
// place. Two modes, chosen per endpoint:
//   async   (default) the response leaves at once. A crash of the server loses the entries queued
//           since the last commit began: one flush interval (50 ms by default) plus the time that
//           commit takes — about 100 ms under full load on a 2-core machine (measured by
//           tests/server/trace_durability_test.cc).
//   durable the caller waits (wait_written) until its entry is committed with fsync; a failed write
//           fails the request.
// A full ring (or more queued rows than allowed) refuses the entry — the server answers 503 and
// counts it — so nothing acknowledged is ever dropped silently. Observers (drift monitoring) see
// every written entry on the writer thread, before waiters are released.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tracing/prediction_sink.h"

namespace orchard {

// Sees each entry after it is written, on the writer thread (so it must be quick and never throw).
// The view is valid only during the call.
class PredictionObserver {
 public:
  virtual ~PredictionObserver() = default;
  virtual void observe(const PredictionView& entry) = 0;
};

struct PredictionLogOptions {
  std::size_t max_queued_rows = std::size_t{1} << 20;
  // The ring, touched once at start so that no request pays for a page fault: a second of full
  // traffic fits many times over (the writer drains it every flush interval). A large entry is
  // split into slots of at most an eighth of it; one larger than the ring is refused.
  std::size_t buffer_bytes = std::size_t{16} << 20;
  std::chrono::milliseconds flush_interval{50};
  // How long an entry waits for room in a full queue before it is refused (0: refused at once).
  std::chrono::milliseconds full_wait{200};
  RetentionPolicy retention;                     // applied on the writer thread
  std::chrono::seconds retention_interval{60};  // how often the policy is checked
};

class PredictionLog {
 public:
  explicit PredictionLog(std::unique_ptr<PredictionSink> sink, PredictionLogOptions options = {});
  ~PredictionLog();  // writes what is queued

  // Called before traffic starts (not thread-safe against the writer's use).
  void add_observer(PredictionObserver* observer);

  // Copies the entry into the ring (the view may be released on return); `context` is kept alive
  // while the entry is queued. Returns its ticket, or nullopt if the log is full or the entry can
  // never fit (the caller answers 503). Shadow entries (with origins) get half the room only.
  std::optional<std::uint64_t> enqueue(const PredictionView& entry, const std::shared_ptr<const PredictionContext>& context);
  std::optional<std::uint64_t> enqueue(const PredictionEntry& entry) { return enqueue(entry.view(), entry.context); }
  // Waits until the entry with `ticket` is written; false if its write failed or took longer than
  // `timeout` (the entry may still be written later).
  bool wait_written(std::uint64_t ticket, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits until everything enqueued so far is written and observed.
  void flush();

  // Reads (everything enqueued before the call is written and observed first, so a prediction
  // answered a moment ago is found).
  std::optional<PredictionRecord> find(const PredictionId& id);
  std::vector<std::optional<PredictionRecord>> find_many(const std::vector<PredictionId>& ids);
  std::vector<PredictionRecord> search(const PredictionQuery& query);
  std::vector<bool> add_feedback(const std::vector<Feedback>& items);
  std::vector<ArmTraffic> traffic(const std::string& endpoint, std::int64_t since_ms, std::int64_t until_ms);
  std::uint64_t apply_retention();  // now, with the configured policy
  std::int64_t size_bytes() { return sink_->size_bytes(); }

  std::uint64_t queued_rows() const { return queued_rows_.load(); }
  std::uint64_t written_rows() const { return written_rows_.load(); }
  std::uint64_t refused_rows() const { return refused_rows_.load(); }
  std::uint64_t failed_rows() const { return failed_rows_.load(); }
  std::uint64_t retained_away_rows() const { return retention_removed_.load(); }
  std::uint64_t flushes() const { return flushes_.load(); }
  double last_flush_seconds() const { return last_flush_seconds_.load(); }
  double flush_seconds_total() const { return flush_seconds_total_.load(); }

 private:
  struct ContextRef {
    std::shared_ptr<const PredictionContext> context;
    std::uint64_t queued_entries = 0;
  };

  void loop();
  bool ticket_failed(std::uint64_t ticket) const;  // REQUIRES: mutex_ held

  std::unique_ptr<PredictionSink> sink_;
  PredictionLogOptions options_;
  std::vector<PredictionObserver*> observers_;

  // The ring: entries are laid out one after another from tail_ to head_ (absolute byte positions;
  // the offset is position % capacity). The writer reads [tail_, head_) without the lock: producers
  // only ever write beyond head_.
  std::unique_ptr<std::byte[]> ring_;
  std::size_t capacity_ = 0;
  std::uint64_t head_ = 0, tail_ = 0;
  std::unordered_map<const PredictionContext*, ContextRef> contexts_;  // keeps queued entries' contexts alive

  std::mutex mutex_;
  std::condition_variable wake_, written_;
  std::uint64_t enqueued_entries_ = 0, written_entries_ = 0;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> failed_tickets_;  // recent failed batches [first, last]
  bool stopping_ = false;
  bool flush_requested_ = false;
  std::size_t durable_waiting_ = 0;
  std::atomic<std::uint64_t> queued_rows_{0}, written_rows_{0}, refused_rows_{0}, failed_rows_{0}, retention_removed_{0}, flushes_{0};
  std::atomic<double> last_flush_seconds_{0}, flush_seconds_total_{0};
  std::thread thread_;
};

}  // namespace orchard
