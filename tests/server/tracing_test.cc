// Every prediction gets an id that leads back to its version, inputs and training data, through
// each protocol; shadow calls are logged as such.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <map>
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

TEST(Tracing, FeedbackOnALivePredictionLabelsWhatItsShadowsAnswered) {
  testing::ServerProcess server({"--poll-seconds", "3600"});
  testing::HttpClient client(server.port());
  ASSERT_EQ(client.put("/api/v1/endpoints/churn", R"({"model": "churn", "arms": [{"target": "1"}], "shadows": ["@staging"]})").status, 200);
  const auto answer = client.post("/endpoints/churn/invocations", R"({"instances": [[56, 9.67, 103.9, 4, 0, 1], [40, 43.4, 42.6, 4, 3, 2]]})");
  ASSERT_EQ(answer.status, 200);
  const auto ids = json::parse(answer.body)["prediction_ids"];
  // The shadow answers off the request's path: wait until both of its rows are logged.
  json shadow_rows;
  for (int i = 0; i < 100 && shadow_rows.size() < 2; ++i) {
    shadow_rows = json::parse(client.get("/api/v1/predictions?endpoint=churn&arm=shadow:2").body)["predictions"];
    if (shadow_rows.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(shadow_rows.size(), 2u);
  std::set<std::string> shadowed{shadow_rows[0]["shadow_of"], shadow_rows[1]["shadow_of"]};
  EXPECT_EQ(shadowed, (std::set<std::string>{ids[0], ids[1]})) << "each shadow row names the live prediction it shadowed";

  // Labels go to the live ids the client saw; the shadow rows get them too.
  ASSERT_EQ(client.post("/api/v1/feedback", json{{"items", {{{"id", ids[0]}, {"label", 1}}, {{"id", ids[1]}, {"label", 0}}}}}.dump()).status, 200);
  const json labelled_shadows = json::parse(client.get("/api/v1/predictions?endpoint=churn&arm=shadow:2").body);
  for (const auto& row : labelled_shadows["predictions"]) {
    ASSERT_TRUE(row.contains("feedback")) << row.dump();
    EXPECT_EQ(row["feedback"]["label"], row["shadow_of"] == ids[0] ? 1 : 0);
  }
  const auto quality = json::parse(client.get("/api/v1/endpoints/churn/quality").body);
  std::map<std::string, int> labelled;
  for (const auto& arm : quality["arms"]) labelled[arm["arm"]] = arm["labelled"];
  EXPECT_EQ(labelled, (std::map<std::string, int>{{"1", 2}, {"shadow:2", 2}})) << quality.dump();
  const auto report = json::parse(client.get("/api/v1/endpoints/churn/report").body);
  ASSERT_EQ(report["shadows"].size(), 1u);
  EXPECT_EQ(report["shadows"][0]["quality"]["labelled"], 2) << report.dump();
  EXPECT_EQ(report["shadows"][0]["verdict"]["outcome"], "not_enough_data");
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace orchard
