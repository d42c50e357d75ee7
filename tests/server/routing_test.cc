// Endpoint routes against the real `orchard serve --demo`: weighted splits between versions, sticky
// keys (a header, or a field of the request) that keep a caller on one version, and shadows that see
// every request without ever answering one.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/http_client.h"
#include "server/server_fixture.h"

namespace orchard {
namespace {

using json = nlohmann::json;
using testing::churn_data;
using testing::HttpClient;
using testing::parse;
using testing::Response;
using testing::ServerProcess;
using testing::v2_matrix;
using testing::v2_output;
using testing::values_match;

class RoutingTest : public testing::DemoServerTest {
 protected:

  void put_route(const std::string& endpoint, const std::string& route) {
    const Response response = client_->put("/api/v1/endpoints/" + endpoint, route);
    ASSERT_EQ(response.status, 200) << testing::describe(response);
  }

  // Sends customer `row` to the endpoint and returns the version that answered, checking that the
  // value is that version's prediction.
  std::int64_t infer_row(const std::string& endpoint, std::size_t row, const testing::Headers& headers = {}, const json& parameters = nullptr) {
    const auto& churn = churn_data();
    json body = v2_matrix({churn.rows[row]});
    if (!parameters.is_null()) body["parameters"] = parameters;
    const Response response = client_->post("/v2/models/" + endpoint + "/infer", body.dump(), headers);
    EXPECT_EQ(response.status, 200) << testing::describe(response);
    const std::int64_t version = testing::version_from_header(response);
    EXPECT_TRUE(version == 1 || version == 2) << response.header("orchard-model-version");
    EXPECT_EQ(parse(response.body)["model_version"], std::to_string(version));
    EXPECT_TRUE(values_match(v2_output(parse(response.body)), {churn.expected(version)[row]})) << "row " << row << ", version " << version;
    return version;
  }

  std::int64_t invoke_row(const std::string& endpoint, std::size_t row, const testing::Headers& headers = {}, const json& params = nullptr) {
    const auto& churn = churn_data();
    json body = {{"instances", testing::row_lists({churn.rows[row]})}};
    if (!params.is_null()) body["params"] = params;
    const Response response = client_->post("/endpoints/" + endpoint + "/invocations", body.dump(), headers);
    EXPECT_EQ(response.status, 200) << testing::describe(response);
    const std::int64_t version = testing::version_from_header(response);
    EXPECT_TRUE(values_match({parse(response.body)["predictions"][0].get<double>()}, {churn.expected(version)[row]}));
    return version;
  }

};

TEST_F(RoutingTest, WeightedSplitFollowsTheWeights) {
  put_route("churn-split", R"({"model": "churn", "arms": [{"target": "1", "weight": 0.8}, {"target": "2", "weight": 0.2}]})");
  const json meta = parse(client_->get("/v2/models/churn-split").body);
  EXPECT_EQ(meta["versions"], json::array({"1", "2"}));

  constexpr int kRequests = 2000;
  std::map<std::int64_t, int> counts;
  for (int i = 0; i < kRequests; ++i) {
    ++counts[infer_row("churn-split", static_cast<std::size_t>(i % 100))];
    if (::testing::Test::HasFailure()) break;
  }
  ASSERT_EQ(counts[1] + counts[2], kRequests);
  const double share1 = counts[1] / static_cast<double>(kRequests);
  EXPECT_NEAR(share1, 0.8, 0.05) << counts[1] << " of " << kRequests << " went to version 1";
  EXPECT_NEAR(1.0 - share1, 0.2, 0.05);

  // The MLflow protocol follows the same route.
  std::map<std::int64_t, int> mlflow;
  for (int i = 0; i < 200; ++i) ++mlflow[invoke_row("churn-split", static_cast<std::size_t>(i % 100))];
  EXPECT_GT(mlflow[1], 100);
  EXPECT_GT(mlflow[2], 10);
  EXPECT_EQ(client_->connections_opened(), 1u);

  // A weight of zero takes the arm out.
  put_route("churn-split", R"({"model": "churn", "arms": [{"target": "1", "weight": 0}, {"target": "2", "weight": 3}]})");
  for (int i = 0; i < 50; ++i) EXPECT_EQ(infer_row("churn-split", static_cast<std::size_t>(i)), 2);
}

TEST_F(RoutingTest, StickyHeaderKeepsAKeyOnOneVersion) {
  put_route("churn-sticky",
            R"({"model": "churn", "arms": [{"target": "1", "weight": 0.5}, {"target": "2", "weight": 0.5}], "sticky": "header:X-User-Id"})");
  const json served = parse(client_->get("/api/v1/endpoints/churn-sticky").body);
  EXPECT_EQ(served["sticky"], "header:x-user-id");

  // The same key: the same version every time, whatever the protocol or the header's spelling.
  for (const std::string key : {"alice", "bob", "carol", "user-00017"}) {
    const std::int64_t first = infer_row("churn-sticky", 0, {{"X-User-Id", key}});
    for (int i = 1; i < 50; ++i) {
      const std::string name = i % 2 ? "x-user-id" : "X-USER-ID";
      ASSERT_EQ(infer_row("churn-sticky", static_cast<std::size_t>(i), {{name, key}}), first) << "key " << key << ", request " << i;
    }
    for (int i = 0; i < 5; ++i) EXPECT_EQ(invoke_row("churn-sticky", static_cast<std::size_t>(i), {{"X-User-Id", key}}), first) << key;
  }
  // Different keys spread over both arms.
  std::map<std::int64_t, int> by_key;
  for (int k = 0; k < 60; ++k) ++by_key[infer_row("churn-sticky", 3, {{"X-User-Id", "customer-" + std::to_string(k)}})];
  EXPECT_GE(by_key[1], 10) << "keys on version 1: " << by_key[1];
  EXPECT_GE(by_key[2], 10) << "keys on version 2: " << by_key[2];
  // Without the header: a random draw, so both arms again.
  std::set<std::int64_t> seen;
  for (int i = 0; i < 100; ++i) seen.insert(infer_row("churn-sticky", 4));
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(RoutingTest, StickyFieldInParameters) {
  put_route("churn-field",
            R"({"model": "churn", "arms": [{"target": "1", "weight": 0.5}, {"target": "2", "weight": 0.5}], "sticky": "field:customer_id"})");
  for (const json& key : {json("alice"), json("bob"), json(12345), json("zed")}) {
    const std::int64_t first = infer_row("churn-field", 0, {}, {{"customer_id", key}});
    for (int i = 1; i < 50; ++i) {
      ASSERT_EQ(infer_row("churn-field", static_cast<std::size_t>(i), {}, {{"customer_id", key}}), first) << key.dump();
    }
    // MLflow clients send the same key in "params".
    for (int i = 0; i < 5; ++i) EXPECT_EQ(invoke_row("churn-field", static_cast<std::size_t>(i), {}, {{"customer_id", key}}), first) << key.dump();
  }
  // A string key and the same number as text land together, and so does the number written as a
  // double (JavaScript clients send 777.0 as 777, others do not).
  EXPECT_EQ(infer_row("churn-field", 1, {}, {{"customer_id", 777}}), infer_row("churn-field", 1, {}, {{"customer_id", "777"}}));
  for (const json& key : {json(12345), json(12345.0), json("12345")}) {
    std::set<std::int64_t> arms;
    for (int i = 0; i < 12; ++i) arms.insert(infer_row("churn-field", static_cast<std::size_t>(i), {}, {{"customer_id", key}}));
    EXPECT_EQ(arms, std::set<std::int64_t>{infer_row("churn-field", 0, {}, {{"customer_id", 12345}})}) << key.dump();
  }
  // A request without parameters on a route sticky by a field is routed at random (it crashed the
  // server: the missing parameters were read through a null document).
  std::set<std::int64_t> unkeyed;
  for (int i = 0; i < 30; ++i) unkeyed.insert(infer_row("churn-field", static_cast<std::size_t>(i)));
  EXPECT_EQ(unkeyed.size(), 2u);
  EXPECT_GE(invoke_row("churn-field", 0), 1) << "invocations without params too";
  std::map<std::int64_t, int> by_key;
  for (int k = 0; k < 60; ++k) ++by_key[infer_row("churn-field", 7, {}, {{"customer_id", "customer-" + std::to_string(k)}})];
  EXPECT_GE(by_key[1], 10);
  EXPECT_GE(by_key[2], 10);
}

TEST_F(RoutingTest, ShadowsSeeEveryRequestAndAnswerNone) {
  auto shadow_count = [&](std::int64_t version) -> std::int64_t {
    const json stats = parse(client_->get("/v2/models/churn/versions/" + std::to_string(version) + "/stats").body);
    if (!stats["model_stats"].is_array() || stats["model_stats"].empty()) return -1;
    return stats["model_stats"][0]["shadow_count"].get<std::int64_t>();
  };
  put_route("churn-shadowed", R"({"model": "churn", "arms": [{"target": "1"}], "shadows": ["@staging"]})");
  const json served = parse(client_->get("/api/v1/endpoints/churn-shadowed").body);
  EXPECT_EQ(served["shadows"], json::array({2}));
  const std::int64_t before = shadow_count(2);
  ASSERT_GE(before, 0);
  const std::int64_t primary_before = shadow_count(1);

  constexpr int kRequests = 60;
  for (int i = 0; i < kRequests; ++i) {
    const std::size_t row = static_cast<std::size_t>(i % 100);
    ASSERT_EQ(i % 3 == 0 ? invoke_row("churn-shadowed", row) : infer_row("churn-shadowed", row), 1) << "a shadow answered request " << i;
  }
  // Shadow calls run off the request path: wait for the queue to drain.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (shadow_count(2) < before + kRequests && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(shadow_count(2), before + kRequests);
  EXPECT_EQ(shadow_count(1), primary_before);  // the arm itself is no shadow

  // All-model statistics show it too.
  const json all = parse(client_->get("/v2/models/stats").body);
  bool found = false;
  for (const auto& entry : all["model_stats"]) {
    if (entry["name"] == "churn" && entry["version"] == "2") {
      found = true;
      EXPECT_EQ(entry["shadow_count"].get<std::int64_t>(), before + kRequests);
    }
  }
  EXPECT_TRUE(found) << all.dump();
}

}  // namespace
}  // namespace orchard
