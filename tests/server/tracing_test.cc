// Every prediction gets an id that leads back to its version, inputs and training data, through
// each protocol; shadow calls are logged as such.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "server/http_client.h"
#include "server/server_fixture.h"

namespace orchard {
namespace {

using nlohmann::json;

TEST(Tracing, EveryProtocolReturnsIdsThatLeadToTheLineage) {
  testing::ServerProcess server({"--poll-seconds", "3600"});
  testing::HttpClient client(server.port());
  const auto& churn = testing::churn_data();

  const auto invocation = client.post("/endpoints/churn/invocations", R"({"instances": [[56, 9.67, 103.9, 4, 0, 1], [40, 43.4, 42.6, 4, 3, 2]]})",
                                      {{"Content-Type", "application/json"}, {"X-Request-Id", "client-42"}});
  ASSERT_EQ(invocation.status, 200);
  const auto ids = json::parse(invocation.body)["prediction_ids"];
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(invocation.header("orchard-prediction-id"), ids[0].get<std::string>() + "," + ids[1].get<std::string>());

  const auto v2 = client.post("/v2/models/churn/versions/2/infer",
                              json{{"inputs", json::array({{{"name", "input-0"}, {"shape", {1, 6}}, {"datatype", "FP64"},
                                                            {"data", {56, 9.67, 103.9, 4, 0, 1}}}})}}.dump());
  ASSERT_EQ(v2.status, 200);
  const std::string v2_id = json::parse(v2.body)["parameters"]["prediction_ids"][0];

  const auto first = json::parse(client.get("/api/v1/predictions/" + ids[0].get<std::string>()).body);
  EXPECT_EQ(first["model"], "churn");
  EXPECT_EQ(first["version"], 1);
  EXPECT_EQ(first["arm"], "@production");
  EXPECT_EQ(first["request_id"], "client-42");
  EXPECT_EQ(first["inputs"]["age"], 56);
  EXPECT_NEAR(first["outputs"][0].get<double>(), churn.expected(1)[0], 1e-6);
  EXPECT_EQ(first["lineage"]["dataset"]["rows"], 100) << "the demo pushes churn:1 with its training data";
  EXPECT_EQ(first["lineage"]["artifact"]["sha256"], first["artifact_sha256"]);

  const auto second = json::parse(client.get("/api/v1/predictions/" + v2_id).body);
  EXPECT_EQ(second["version"], 2);
  EXPECT_EQ(second["arm"], "2");

  EXPECT_EQ(client.get("/api/v1/predictions/01000000-0000-7000-8000-000000000000").status, 404);
  EXPECT_EQ(server.stop(), 0);
}

TEST(Tracing, ShadowCallsAreLoggedAsShadows) {
  testing::ServerProcess server({"--poll-seconds", "3600"});
  testing::HttpClient client(server.port());
  ASSERT_EQ(client.put("/api/v1/endpoints/churn", R"({"model": "churn", "arms": [{"target": "1"}], "shadows": ["@staging"]})").status, 200);
  ASSERT_EQ(client.post("/endpoints/churn/invocations", R"({"instances": [[56, 9.67, 103.9, 4, 0, 1]]})").status, 200);
  // The shadow's record carries its own id; find it through the version's stats and the log.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto stats = json::parse(client.get("/v2/models/churn/versions/2/stats").body);
  EXPECT_EQ(stats["model_stats"][0]["shadow_count"], 1);
  // One record for the live arm, one for the shadow, each with its own id.
  const auto found = json::parse(client.get("/api/v1/predictions?endpoint=churn").body)["predictions"];
  ASSERT_EQ(found.size(), 2u) << found.dump();
  std::set<std::string> arms{found[0]["arm"].get<std::string>(), found[1]["arm"].get<std::string>()};
  EXPECT_EQ(arms, (std::set<std::string>{"1", "shadow:2"}));
  for (const auto& record : found) EXPECT_EQ(record["version"], record["arm"] == "1" ? 1 : 2);
  EXPECT_NE(found[0]["id"], found[1]["id"]);
  EXPECT_EQ(json::parse(client.get("/api/v1/predictions?endpoint=churn&shadows=0").body)["count"], 1);
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace orchard
