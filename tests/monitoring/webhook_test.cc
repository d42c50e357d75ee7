#include "monitoring/webhook.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/error.h"
#include "monitoring/webhook_listener.h"
#include "support/test_support.h"

namespace orchard {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

TEST(Webhook, ParsesHttpUrls) {
  const HttpUrl a = parse_http_url("http://hooks.example:8080/drift?team=ml");
  EXPECT_EQ(a.host, "hooks.example");
  EXPECT_EQ(a.port, "8080");
  EXPECT_EQ(a.target, "/drift?team=ml");
  const HttpUrl b = parse_http_url("http://127.0.0.1");
  EXPECT_EQ(b.port, "80");
  EXPECT_EQ(b.target, "/");
  const HttpUrl c = parse_http_url("http://[::1]:9000/x");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, "9000");
  EXPECT_EQ(parse_http_url("http://h?q=1").target, "/?q=1");
  for (const char* bad : {"https://h/x", "ftp://h", "http://", "http://:80/", "http://h:0", "http://h:99999", "http://h:8x", "http://u@h/",
                          "http://[::1/x", "hooks.example/x"}) {
    EXPECT_ERROR_KIND(parse_http_url(bad), ErrorKind::kInvalidArgument);
  }
}

TEST(Webhook, PostsJsonAndReadsTheStatus) {
  testing::WebhookListener listener(200);
  const WebhookResult result = post_json(listener.url("/drift"), R"({"feature":"tenure"})");
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.status, 200);
  const auto requests = listener.wait_for(1);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/drift");
  EXPECT_EQ(requests[0].content_type, "application/json");
  EXPECT_EQ(requests[0].body, R"({"feature":"tenure"})");
}

TEST(Webhook, AnErrorStatusIsAFailure) {
  testing::WebhookListener listener(500);
  const WebhookResult result = post_json(listener.url(), "{}");
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.status, 500);
  EXPECT_EQ(result.error, "HTTP 500");
}

TEST(Webhook, ADeadUrlIsAnErrorNotACrash) {
  const auto start = Steady::now();
  const WebhookResult result = post_json("http://127.0.0.1:" + std::to_string(testing::dead_port()) + "/hook", "{}");
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("connect"), std::string::npos) << result.error;
  EXPECT_LT(Steady::now() - start, 2s);
  const WebhookResult unusable = post_json("https://example.com/hook", "{}");
  EXPECT_FALSE(unusable.ok);
  EXPECT_NE(unusable.error.find("https is not supported"), std::string::npos) << unusable.error;
}

TEST(Webhook, AStalledReceiverTimesOut) {
  testing::WebhookListener listener(0);  // reads, never answers
  const auto start = Steady::now();
  const WebhookResult result = post_json(listener.url(), "{}", 300ms);
  const auto took = Steady::now() - start;
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("timed out"), std::string::npos) << result.error;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2s);
}

TEST(Webhook, CancellingStopsAPostInFlight) {
  testing::WebhookListener listener(0);
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    cancel = true;
  });
  const auto start = Steady::now();
  const WebhookResult result = post_json(listener.url(), "{}", 30s, &cancel);
  canceller.join();
  EXPECT_EQ(result.error, "cancelled");
  EXPECT_LT(Steady::now() - start, 1s);
}

}  // namespace
}  // namespace orchard
