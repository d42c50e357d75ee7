// The prediction log: entries written off the request path and found again, a full queue refusing
// instead of dropping, durable waits that report a failed commit, observers seeing what was written.
#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <thread>

#include "formats/model_loader.h"
#include "support/test_support.h"
#include "tracing/prediction_log.h"
#include "tracing/sql_prediction_sink.h"

namespace orchard {
namespace {

std::shared_ptr<const PredictionContext> churn_context() {
  static auto context = [] {
    auto c = std::make_shared<PredictionContext>();
    c->endpoint = "churn";
    c->model = "churn";
    c->version = 1;
    c->artifact_sha256 = std::string(64, 'a');
    c->arm = "@production";
    c->predictor = std::make_shared<const Predictor>(load_model_file(testing::source_dir() + "/examples/churn/churn_xgboost.ubj"), "churn");
    return std::shared_ptr<const PredictionContext>(c);
  }();
  return context;
}

PredictionEntry entry(std::size_t rows, bool durable = false) {
  PredictionEntry e;
  e.context = churn_context();
  e.ids.resize(rows);
  new_prediction_ids(e.ids.data(), rows);
  e.rows.assign(rows * 6, 1.5);
  e.rows[0] = std::nan("");
  e.outputs.assign(rows, 0.25);
  e.width = 1;
  e.durable = durable;
  e.request_id = "req-7";
  return e;
}

TEST(PredictionLog, WritesEntriesThatCanBeFound) {
  const std::string path = testing::temp_dir() + "/log-find.db";
  PredictionLog log(SqlPredictionSink::open(path));
  PredictionEntry e = entry(3);
  const auto ids = e.ids;
  ASSERT_TRUE(log.enqueue(e));
  const auto found = log.find(ids[0]);  // flushes first
  ASSERT_TRUE(found);
  ASSERT_EQ(found->inputs.size(), 6u) << "one value per feature, in the version's order";
  EXPECT_TRUE(std::isnan(found->inputs[0])) << "missing stays missing";
  EXPECT_EQ(found->inputs[1], 1.5);
  EXPECT_EQ(found->outputs, std::vector<double>{0.25});
  EXPECT_EQ(found->request_id, "req-7");
  EXPECT_EQ(found->arm, "@production");
  EXPECT_EQ(log.written_rows(), 3u);
  // Still there for another process reading the file.
  auto reader = SqlPredictionSink::open(path);
  EXPECT_TRUE(reader->find(ids[2]));
  EXPECT_FALSE(reader->find(new_prediction_id()));
}

// A sink that blocks until released (to fill the queue) and can be told to fail.
class GatedSink : public PredictionSink {
 public:
  void write(const std::vector<PredictionView>& batch, bool sync) override {
    std::unique_lock lock(mutex);
    open.wait(lock, [this] { return released; });
    if (fail) throw Error(ErrorKind::kIo, "disk full");
    for (const auto& e : batch) *written += e.count();
    synced = synced || sync;
  }
  std::optional<PredictionRecord> find(const PredictionId&) override { return std::nullopt; }
  std::vector<PredictionRecord> search(const PredictionQuery&) override { return {}; }
  std::vector<bool> add_feedback(const std::vector<Feedback>& items) override { return std::vector<bool>(items.size(), false); }
  std::vector<ArmTraffic> traffic(const std::string&, std::int64_t, std::int64_t) override { return {}; }
  std::uint64_t apply_retention(const RetentionPolicy&) override { return 0; }
  std::int64_t size_bytes() override { return 0; }

  void release() {
    {
      std::lock_guard lock(mutex);
      released = true;
    }
    open.notify_all();
  }
  std::mutex mutex;
  std::condition_variable open;
  bool released = false, fail = false, synced = false;
  // Outside the sink: the log (which owns the sink) is gone when the test reads it.
  std::shared_ptr<std::size_t> written = std::make_shared<std::size_t>(0);
};

PredictionLogOptions small_queue(std::size_t rows) {
  PredictionLogOptions options;
  options.max_queued_rows = rows;
  options.flush_interval = std::chrono::milliseconds(1);
  options.full_wait = std::chrono::milliseconds(0);  // refused at once (AFullQueueMakesTheCallerWait... waits)
  return options;
}

TEST(PredictionLog, AFullQueueRefusesAndCountsNeverDrops) {
  auto sink = std::make_unique<GatedSink>();
  GatedSink* gate = sink.get();
  const std::shared_ptr<std::size_t> written = gate->written;
  {
    PredictionLog log(std::move(sink), small_queue(10));
    ASSERT_TRUE(log.enqueue(entry(6)));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the writer takes it and blocks in the sink
    ASSERT_TRUE(log.enqueue(entry(4)));
    EXPECT_FALSE(log.enqueue(entry(4))) << "10 rows queued at most: 6 in flight + 4 waiting";
    EXPECT_EQ(log.refused_rows(), 4u);
    gate->release();
    log.flush();
    EXPECT_EQ(log.written_rows(), 10u);
    EXPECT_TRUE(log.enqueue(entry(4))) << "room again";
  }
  EXPECT_EQ(*written, 14u) << "the destructor writes what is queued";
}

// Shadow rows may take half the queue only: live requests keep the rest.
TEST(PredictionLog, ShadowEntriesLeaveRoomForLiveOnes) {
  auto sink = std::make_unique<GatedSink>();
  GatedSink* gate = sink.get();
  PredictionLog log(std::move(sink), small_queue(10));
  ASSERT_TRUE(log.enqueue(entry(4)));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the writer takes it and blocks in the sink
  PredictionEntry shadow = entry(2);
  shadow.origins = shadow.ids;
  EXPECT_FALSE(log.enqueue(shadow)) << "4 + 2 rows is over half of 10";
  ASSERT_TRUE(log.enqueue(entry(6))) << "live rows may fill the queue";
  gate->release();
  log.flush();
  PredictionEntry small_shadow = entry(5);
  small_shadow.origins = small_shadow.ids;
  EXPECT_TRUE(log.enqueue(small_shadow)) << "half of an empty queue";
}

// A full queue first slows the caller down: an entry waits (up to full_wait) for the writer to make
// room, and goes in when it does.
TEST(PredictionLog, AFullQueueMakesTheCallerWaitForRoomBeforeRefusing) {
  auto sink = std::make_unique<GatedSink>();
  GatedSink* gate = sink.get();
  PredictionLogOptions options = small_queue(10);
  options.full_wait = std::chrono::seconds(10);
  PredictionLog log(std::move(sink), options);
  ASSERT_TRUE(log.enqueue(entry(8)));
  std::thread writer_frees_room([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    gate->release();
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(log.enqueue(entry(4))) << "accepted once the writer has written the first entry";
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(50)) << "it waited";
  writer_frees_room.join();
  EXPECT_EQ(log.refused_rows(), 0u);
  EXPECT_FALSE(log.enqueue(entry(11))) << "more rows than the queue holds: refused at once";
  EXPECT_EQ(log.refused_rows(), 11u);
}

TEST(PredictionLog, DurableEntriesWaitForTheirCommitAndLearnOfAFailure) {
  auto sink = std::make_unique<GatedSink>();
  GatedSink* gate = sink.get();
  PredictionLogOptions options;
  options.flush_interval = std::chrono::hours(1);  // only a durable entry (or a flush) triggers a write
  PredictionLog log(std::move(sink), options);
  const auto ticket = log.enqueue(entry(2, /*durable=*/true));
  ASSERT_TRUE(ticket);
  std::atomic<bool> done{false};
  bool ok = false;
  std::thread waiter([&] {
    ok = log.wait_written(*ticket);
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_FALSE(done) << "the caller waits while the commit is pending";
  gate->release();
  waiter.join();
  EXPECT_TRUE(ok);
  EXPECT_TRUE(gate->synced) << "a batch with a durable entry is committed with fsync";

  gate->fail = true;
  const auto failing = log.enqueue(entry(1, true));
  ASSERT_TRUE(failing);
  EXPECT_FALSE(log.wait_written(*failing)) << "a failed commit is reported to the waiting caller";
  EXPECT_EQ(log.failed_rows(), 1u);
}

TEST(PredictionLog, TheRingWrapsAroundWithoutLosingOrMixingEntries) {
  PredictionLogOptions options;
  options.buffer_bytes = 8192;  // a few entries at a time: the ring wraps many times
  options.flush_interval = std::chrono::milliseconds(1);
  PredictionLog log(SqlPredictionSink::open(testing::temp_dir() + "/log-wrap.db"), options);
  std::vector<PredictionEntry> sent;
  for (int i = 0; i < 300; ++i) {
    PredictionEntry e = entry(1 + static_cast<std::size_t>(i % 7));
    for (std::size_t k = 0; k < e.rows.size(); ++k) e.rows[k] = i * 1000 + static_cast<double>(k);
    e.request_id = "request-" + std::to_string(i);
    // A full ring refuses; the writer frees it within a flush interval.
    while (!log.enqueue(e)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    sent.push_back(std::move(e));
  }
  log.flush();
  for (const PredictionEntry& e : sent) {
    for (std::size_t r = 0; r < e.count(); ++r) {
      const auto found = log.find(e.ids[r]);
      ASSERT_TRUE(found) << e.request_id;
      EXPECT_EQ(found->request_id, e.request_id);
      EXPECT_EQ(found->inputs, std::vector<double>(e.rows.begin() + static_cast<long>(r * 6), e.rows.begin() + static_cast<long>(r * 6 + 6)));
    }
  }
  // An entry that can never fit (more than the whole ring) is refused at once.
  EXPECT_FALSE(log.enqueue(entry(200)));
}

// A request of more rows than one slot takes (here 500 rows, about 45 KiB, in a 64 KiB ring) goes in
// as several slots, written together: every row is found with its own values, and a durable caller
// learns when all of them are committed.
TEST(PredictionLog, ALargeEntryGoesInAsSeveralSlots) {
  PredictionLogOptions options;
  options.buffer_bytes = 64 << 10;
  options.flush_interval = std::chrono::milliseconds(1);
  PredictionLog log(SqlPredictionSink::open(testing::temp_dir() + "/log-large.db"), options);
  PredictionEntry e = entry(500, /*durable=*/true);
  for (std::size_t k = 0; k < e.rows.size(); ++k) e.rows[k] = static_cast<double>(k);
  for (std::size_t r = 0; r < e.outputs.size(); ++r) e.outputs[r] = static_cast<double>(r) / 1000;
  const auto ticket = log.enqueue(e);
  ASSERT_TRUE(ticket) << "more than half the ring, but it fits";
  EXPECT_TRUE(log.wait_written(*ticket));
  EXPECT_EQ(log.written_rows(), 500u);
  for (std::size_t r : {std::size_t{0}, std::size_t{1}, std::size_t{249}, std::size_t{250}, std::size_t{499}}) {
    const auto found = log.find(e.ids[r]);
    ASSERT_TRUE(found) << r;
    EXPECT_EQ(found->inputs, std::vector<double>(e.rows.begin() + static_cast<long>(r * 6), e.rows.begin() + static_cast<long>(r * 6 + 6))) << r;
    EXPECT_EQ(found->outputs, std::vector<double>{static_cast<double>(r) / 1000}) << r;
    EXPECT_EQ(found->request_id, "req-7");
  }
  EXPECT_FALSE(log.enqueue(entry(1000))) << "larger than the whole ring: refused";
  EXPECT_EQ(log.refused_rows(), 1000u);
}

class CountingObserver : public PredictionObserver {
 public:
  void observe(const PredictionView& e) override { rows += e.count(); }
  std::atomic<std::size_t> rows{0};
};

TEST(PredictionLog, ObserversSeeEveryWrittenEntry) {
  PredictionLog log(SqlPredictionSink::open(testing::temp_dir() + "/log-observe.db"));
  CountingObserver observer;
  log.add_observer(&observer);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(log.enqueue(entry(3)));
  log.flush();
  for (int i = 0; i < 100 && observer.rows < 15; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(observer.rows, 15u);
}

}  // namespace
}  // namespace orchard
