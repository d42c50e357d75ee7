#include "monitoring/drift_watcher.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/error.h"
#include "monitoring/webhook_listener.h"
#include "support/test_support.h"

namespace orchard {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

// One numeric feature, deciles of 0..99 (edges 9.5, 19.5, …), no model needed: the monitor takes
// the feature count from the profile when the context has no predictor.
const char* kProfile = R"({"format": 1, "rows": 1000, "features": [{"name": "x", "missing": 0, "kind": "numeric",
    "edges": [10, 20, 30, 40, 50, 60, 70, 80, 90], "counts": [100, 100, 100, 100, 100, 100, 100, 100, 100, 100]}],
    "predictions": []})";

class DriftWatcherTest : public ::testing::Test {
 protected:
  DriftWatcherTest() : monitor_([](const std::string&, std::int64_t) { return std::string(kProfile); }) {}

  // 500 rows all in the top decile: PSI far above the alert threshold.
  void drift() {
    auto context = std::make_shared<PredictionContext>();
    context->endpoint = "e";
    context->model = "m";
    context->version = 4;
    context->arm = "@production";
    PredictionEntry entry;
    entry.context = context;
    entry.ids.resize(500);
    entry.rows.assign(500, 95.0);
    monitor_.observe(entry.view());
  }

  DriftWatcherOptions options(const std::string& url) const {
    DriftWatcherOptions o;
    o.url = url;
    o.interval = 50ms;
    o.timeout = 1s;
    return o;
  }

  DriftMonitor monitor_;
};

TEST_F(DriftWatcherTest, PostsEachNewAlertOnce) {
  testing::WebhookListener listener(200);
  DriftWatcher watcher(monitor_, options(listener.url("/alerts")));
  drift();
  const auto requests = listener.wait_for(1);
  ASSERT_EQ(requests.size(), 1u);
  const auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(requests[0].target, "/alerts");
  EXPECT_EQ(body["endpoint"], "e");
  EXPECT_EQ(body["model"], "m");
  EXPECT_EQ(body["version"], 4);
  EXPECT_EQ(body["feature"], "x");
  EXPECT_EQ(body["subject"], "feature");
  EXPECT_GT(body["psi"].get<double>(), 0.25);
  EXPECT_EQ(body["threshold"], 0.25);
  EXPECT_EQ(body["window_seconds"], 900);
  EXPECT_EQ(body["rows"], 500);
  EXPECT_TRUE(body["time"].is_string());
  drift();  // still in alert: nothing new to say
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(listener.wait_for(2, 0).size(), 1u);
  EXPECT_EQ(watcher.delivered(), 1u);
  EXPECT_EQ(watcher.pending(), 0u);
}

TEST_F(DriftWatcherTest, SurvivesADeadUrlAndRetriesTheAlert) {
  const unsigned short port = testing::dead_port();
  auto watcher = std::make_unique<DriftWatcher>(monitor_, options("http://127.0.0.1:" + std::to_string(port) + "/hook"));
  drift();
  const auto deadline = Steady::now() + 5s;
  while (watcher->failed_attempts() < 2 && Steady::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_GE(watcher->failed_attempts(), 2u);
  EXPECT_EQ(watcher->pending(), 1u);
  EXPECT_NE(watcher->last_error().find("connect"), std::string::npos) << watcher->last_error();
  // The receiver comes up: the kept alert is delivered.
  testing::WebhookListener listener(200, port);
  const auto requests = listener.wait_for(1);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(requests[0].body)["feature"], "x");
  while (watcher->delivered() < 1 && Steady::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(watcher->pending(), 0u);
  EXPECT_TRUE(watcher->last_error().empty());
}

TEST_F(DriftWatcherTest, StopsPromptlyEvenDuringAPost) {
  {
    DriftWatcherOptions slow = options("http://127.0.0.1:9/");
    slow.interval = 1h;
    auto start = Steady::now();
    { DriftWatcher idle(monitor_, slow); }
    EXPECT_LT(Steady::now() - start, 500ms);
  }
  testing::WebhookListener stalled(0);
  DriftWatcherOptions o = options(stalled.url());
  o.timeout = 30s;
  auto watcher = std::make_unique<DriftWatcher>(monitor_, o);
  drift();
  ASSERT_EQ(stalled.wait_for(1).size(), 1u);  // the POST is in flight, unanswered
  const auto start = Steady::now();
  watcher.reset();
  EXPECT_LT(Steady::now() - start, 1s);
}

TEST_F(DriftWatcherTest, RefusesAnUnusableUrl) {
  EXPECT_ERROR_KIND(DriftWatcher(monitor_, options("https://hooks.example/x")), ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace orchard
