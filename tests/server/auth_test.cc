// API keys on the real server: every route, with every role and with no key, a malformed, a wrong,
// an expired and a revoked key — 401 without a valid key, 403 without the right, otherwise through.
// Changes are audited under the key's name; keys are managed over the API by admins.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <thread>

#include "auth/role.h"
#include "server/http_client.h"
#include "server/server_fixture.h"
#include "support/test_support.h"

namespace orchard {
namespace {

using nlohmann::json;

struct Route {
  const char* method;
  std::string path;
  std::string body;
  Access access;
  const char* endpoint = "";  // predict and metadata routes
};

std::string key(const std::string& data, const std::string& args) {
  const auto made = testing::run_orchard("keys create --data '" + data + "' " + args);
  EXPECT_EQ(made.exit_code, 0) << made.err;
  const std::string out = made.out;
  return out.substr(0, out.find('\n'));  // the token, alone on its line
}

TEST(Auth, EveryRouteWithEveryKindOfKey) {
  const std::string data = testing::temp_dir() + "/auth-routes";
  std::filesystem::create_directories(data);
  std::map<std::string, std::string> tokens = {
      {"admin", key(data, "--role admin --name root")},
      {"deployer", key(data, "--role deployer --name ci")},
      {"predictor", key(data, "--role predictor --name shop --endpoint churn")},
      {"viewer", key(data, "--role viewer --name dashboard")},
      {"expired", key(data, "--role admin --name old --expires 1s")},
      {"revoked", key(data, "--role admin --name gone")},
  };
  const auto listed = json::parse(testing::run_orchard("keys list --json --data '" + data + "'").out);
  ASSERT_EQ(listed.size(), 6u);
  for (const auto& k : listed) {
    if (k["name"] == "gone") ASSERT_EQ(testing::run_orchard("keys revoke " + k["id"].get<std::string>() + " --data '" + data + "'").exit_code, 0);
    EXPECT_FALSE(k.contains("secret_sha256")) << "never listed";
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // "old" expires
  tokens["none"] = "";
  tokens["malformed"] = "ork_not_a_key";
  tokens["wrong"] = "ork_0123abcd_" + std::string(64, '7');

  testing::ServerProcess server({"--auth", "--poll-seconds", "3600"}, /*demo=*/true, data);
  testing::HttpClient client(server.port());
  const std::string churn_row = testing::v2_matrix({testing::churn_data().rows[0]}).dump();
  const std::string iris_row = testing::v2_matrix({testing::iris_data().rows[0]}).dump();
  const std::vector<Route> routes = {
      {"GET", "/health", "", Access::kPublic},
      {"GET", "/v2/health/ready", "", Access::kPublic},
      {"GET", "/metrics", "", Access::kRead},
      {"GET", "/v2", "", Access::kMetadata},
      {"GET", "/v2/models/churn", "", Access::kMetadata, "churn"},
      {"GET", "/v2/models/iris", "", Access::kMetadata, "iris"},
      {"POST", "/v2/models/churn/infer", churn_row, Access::kPredict, "churn"},
      {"POST", "/v2/models/iris/infer", iris_row, Access::kPredict, "iris"},
      {"POST", "/endpoints/churn/invocations", R"({"instances": [[56, 9.67, 103.9, 4, 0, 1]]})", Access::kPredict, "churn"},
      {"POST", "/v2/repository/index", "{}", Access::kRead},
      {"POST", "/v2/repository/models/iris/load", "{}", Access::kDeploy},
      {"POST", "/v2/repository/models//load", "{}", Access::kDeploy},  // an empty name: still a deployment route
      {"GET", "/api/v1/models", "", Access::kRead},
      {"GET", "/api/v1/models/churn", "", Access::kRead},
      {"GET", "/api/v1/endpoints", "", Access::kRead},
      {"GET", "/api/v1/audit", "", Access::kRead},
      {"GET", "/api/v1/openapi.json", "", Access::kRead},
      {"GET", "/api/v1/predictions?limit=1", "", Access::kRead},
      {"GET", "/api/v1/endpoints/churn/report", "", Access::kRead},
      {"GET", "/api/v1/endpoints/churn/drift", "", Access::kRead},
      {"POST", "/api/v1/feedback", R"({"items": []})", Access::kFeedback},
      {"POST", "/api/v1/predictions/01000000-0000-7000-8000-000000000000/feedback", R"({"label": 1})", Access::kFeedback},
      {"PATCH", "/api/v1/models/churn", R"({"description": "churn model"})", Access::kDeploy},
      {"PUT", "/api/v1/models/churn/aliases/staging", R"({"version": 2})", Access::kDeploy},
      {"POST", "/api/v1/refresh", "", Access::kDeploy},
      {"PUT", "/api/v1/endpoints/churn", R"({"model": "churn", "arms": [{"target": "@production"}]})", Access::kDeploy},
      {"GET", "/api/v1/keys", "", Access::kAdmin},
      {"POST", "/api/v1/keys", R"({"role": "viewer", "name": "made-over-http"})", Access::kAdmin},
  };
  auto expected_allowed = [](const std::string& who, const Route& route) {
    if (route.access == Access::kPublic) return true;
    if (who == "admin") return true;
    if (who == "deployer") return route.access != Access::kAdmin;
    if (who == "viewer") return route.access == Access::kRead || route.access == Access::kMetadata;
    if (who == "predictor") {
      return (route.access == Access::kPredict || route.access == Access::kMetadata) ? std::string(route.endpoint) == "churn"
                                                                                     : route.access == Access::kFeedback;
    }
    return false;  // no valid key
  };
  int checked = 0;
  for (const auto& [who, token] : tokens) {
    for (const Route& route : routes) {
      testing::Headers headers;
      if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
      const auto response = client.request(route.method, route.path, route.body, headers);
      const bool valid_key = who == "admin" || who == "deployer" || who == "predictor" || who == "viewer";
      const std::string what = who + " " + route.method + " " + route.path + " -> " + std::to_string(response.status) + " " + response.body;
      if (expected_allowed(who, route)) {
        EXPECT_NE(response.status, 401) << what;
        EXPECT_NE(response.status, 403) << what;
        EXPECT_LT(response.status, 500) << what;
      } else if (!valid_key) {
        EXPECT_EQ(response.status, 401) << what;
        EXPECT_EQ(response.header("www-authenticate"), "Bearer realm=\"orchard\"") << what;
      } else {
        EXPECT_EQ(response.status, 403) << what;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 9 * static_cast<int>(routes.size()));

  // Changes are audited under the key that made them, with the client's address.
  testing::Headers admin = {{"Authorization", "Bearer " + tokens["admin"]}};
  const auto audit = json::parse(client.request("GET", "/api/v1/audit?target=churn&limit=50", "", admin).body);
  bool by_ci = false;
  for (const auto& event : audit) by_ci = by_ci || event["actor"].get<std::string>().rfind("key:ci (127.0.0.1)", 0) == 0;
  EXPECT_TRUE(by_ci) << audit.dump(1);

  // A key made over the API works at once; revoked over the API, it stops at once.
  const auto made = json::parse(client.request("POST", "/api/v1/keys", R"({"role": "viewer", "name": "temp"})", admin).body);
  const testing::Headers temp = {{"Authorization", "Bearer " + made["token"].get<std::string>()}};
  EXPECT_EQ(client.request("GET", "/api/v1/models", "", temp).status, 200);
  EXPECT_EQ(client.request("DELETE", "/api/v1/keys/" + made["id"].get<std::string>(), "", admin).status, 200);
  EXPECT_EQ(client.request("GET", "/api/v1/models", "", temp).status, 401);
  EXPECT_EQ(client.request("POST", "/api/v1/keys", R"({"role": "root"})", admin).status, 400);
  EXPECT_EQ(client.request("POST", "/api/v1/keys", R"({"role": "viewer", "endpoints": ["churn"]})", admin).status, 400);

  // The prediction log names the caller.
  const auto answered = client.request("POST", "/v2/models/churn/infer", churn_row, {{"Authorization", "Bearer " + tokens["predictor"]}});
  const std::string id = json::parse(answered.body)["parameters"]["prediction_ids"][0];
  const auto record = json::parse(client.request("GET", "/api/v1/predictions/" + id, "", admin).body);
  EXPECT_EQ(record["caller"], "key:shop (127.0.0.1)");

  // A key limited to churn labels churn's predictions only: another endpoint's are unknown to it.
  const testing::Headers shop = {{"Authorization", "Bearer " + tokens["predictor"]}};
  const auto iris_answer = client.request("POST", "/v2/models/iris/infer", iris_row, admin);
  const std::string iris_id = json::parse(iris_answer.body)["parameters"]["prediction_ids"][0];
  EXPECT_EQ(client.request("POST", "/api/v1/predictions/" + iris_id + "/feedback", R"({"label": 1})", shop).status, 404);
  const auto batch = json::parse(client.request("POST", "/api/v1/feedback",
                                                json{{"items", {{{"id", iris_id}, {"label", 1}}, {{"id", id}, {"label", 1}}}}}.dump(), shop)
                                     .body);
  EXPECT_EQ(batch["accepted"], 1) << batch.dump();
  EXPECT_EQ(batch["unknown"], json::array({iris_id}));
  EXPECT_FALSE(json::parse(client.request("GET", "/api/v1/predictions/" + iris_id, "", admin).body).contains("feedback"));
  EXPECT_EQ(client.request("POST", "/api/v1/predictions/" + iris_id + "/feedback", R"({"label": 1})", admin).status, 200);
  EXPECT_EQ(server.stop(), 0);
}

TEST(Auth, OnByItselfOffLoopbackAndRefusedBothWays) {
  const auto both = testing::run_orchard("serve --data '" + testing::temp_dir() + "/auth-both' --auth --insecure --port 0");
  EXPECT_NE(both.exit_code, 0);
  EXPECT_NE(both.err.find("contradict"), std::string::npos) << both.err;
  // A server on all interfaces asks for keys without being told to.
  testing::ServerProcess server({"--host", "0.0.0.0", "--poll-seconds", "3600"});
  testing::HttpClient client(server.port());
  EXPECT_EQ(client.get("/api/v1/models").status, 401);
  EXPECT_EQ(client.get("/health").status, 200);
  EXPECT_NE(server.log().find("orchard keys create --role admin"), std::string::npos) << server.log();
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace orchard
