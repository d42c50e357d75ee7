// Prediction ids and the prediction log: unique time-ordered ids, records written off the path and
// found again, a full queue refusing instead of dropping.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "formats/model_loader.h"
#include "support/test_support.h"
#include "tracing/prediction_id.h"
#include "tracing/prediction_log.h"
#include "tracing/sqlite_prediction_sink.h"

namespace orchard {
namespace {

TEST(PredictionId, UniqueOrderedAndWellFormed) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20000; ++i) ids.push_back(new_prediction_id());
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end())) << "UUIDv7 text sorts by time";
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  for (const auto& id : {ids.front(), ids.back()}) {
    EXPECT_TRUE(is_prediction_id(id)) << id;
    EXPECT_EQ(id[14], '7') << "version 7";
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << "RFC variant";
  }
  EXPECT_FALSE(is_prediction_id("not-an-id"));
}

TEST(PredictionId, UniqueAcrossThreads) {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& ids : per_thread) threads.emplace_back([&ids] { for (int i = 0; i < 5000; ++i) ids.push_back(new_prediction_id()); });
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& ids : per_thread) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), 20000u);
}

std::shared_ptr<const Predictor> churn_model() {
  static auto predictor = std::make_shared<const Predictor>(
      load_model_file(testing::source_dir() + "/examples/churn/churn_xgboost.ubj"), "churn");
  return predictor;
}

PredictionEntry entry(std::size_t rows) {
  PredictionEntry e;
  for (std::size_t r = 0; r < rows; ++r) e.ids.push_back(new_prediction_id());
  e.time = "2026-11-26T00:00:00.000Z";
  e.endpoint = "churn";
  e.model = "churn";
  e.version = 1;
  e.arm = "@production";
  e.predictor = churn_model();
  e.rows.assign(rows * 6, 1.5);
  e.rows[0] = std::nan("");
  e.outputs.assign(rows, 0.25);
  e.width = 1;
  e.request_id = "req-7";
  return e;
}

TEST(PredictionLog, WritesRecordsThatCanBeFound) {
  const std::string path = testing::temp_dir() + "/log-find.db";
  PredictionLog log(std::make_unique<SqlitePredictionSink>(path));
  PredictionEntry e = entry(3);
  const auto ids = e.ids;
  ASSERT_TRUE(log.enqueue(std::move(e)));
  const auto found = log.find(ids[0]);
  ASSERT_EQ(found.size(), 1u);
  const auto inputs = nlohmann::json::parse(found[0].inputs_json);
  ASSERT_EQ(inputs.size(), 6u) << "one value per feature, in the version's order";
  EXPECT_TRUE(inputs[0].is_null()) << "missing values are null";
  EXPECT_EQ(inputs[1], 1.5);
  EXPECT_EQ(nlohmann::json::parse(found[0].outputs_json), nlohmann::json::array({0.25}));
  EXPECT_EQ(found[0].request_id, "req-7");
  EXPECT_EQ(found[0].arm, "@production");
  log.flush();
  EXPECT_EQ(log.written_rows(), 3u);
  // Still there for another process reading the file.
  SqlitePredictionSink reader(path);
  EXPECT_EQ(reader.find(ids[2]).size(), 1u);
  EXPECT_TRUE(reader.find(new_prediction_id()).empty());
}

// A sink that blocks until released, to fill the queue.
class GatedSink : public PredictionSink {
 public:
  void write(const std::vector<PredictionRecord>& batch) override {
    std::unique_lock lock(mutex);
    open.wait(lock, [this] { return released; });
    written += batch.size();
  }
  std::vector<PredictionRecord> find(const std::string&) override { return {}; }
  std::mutex mutex;
  std::condition_variable open;
  bool released = false;
  std::size_t written = 0;
};

TEST(PredictionLog, AFullQueueRefusesAndCountsNeverDrops) {
  auto sink = std::make_unique<GatedSink>();
  GatedSink* gate = sink.get();
  {
    PredictionLog log(std::move(sink), /*max_queued_rows=*/10, std::chrono::milliseconds(1));
    ASSERT_TRUE(log.enqueue(entry(6)));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the writer takes it and blocks in the sink
    ASSERT_TRUE(log.enqueue(entry(4)));
    EXPECT_FALSE(log.enqueue(entry(4))) << "10 rows queued at most: 6 in flight + 4 waiting";
    EXPECT_EQ(log.refused_rows(), 4u);
    {
      std::lock_guard lock(gate->mutex);
      gate->released = true;
    }
    gate->open.notify_all();
    log.flush();
    EXPECT_EQ(log.written_rows(), 10u);
    EXPECT_TRUE(log.enqueue(entry(4))) << "room again";
  }
  EXPECT_EQ(gate->written, 14u) << "the destructor writes what is queued";
}

}  // namespace
}  // namespace orchard
