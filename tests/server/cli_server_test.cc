// `orchard VERB --server URL`: the registry verbs against a running server's management API.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "server/http_client.h"
#include "server/server_fixture.h"
#include "support/test_support.h"

namespace orchard {
namespace {

TEST(CliWithServer, RegistryVerbsGoThroughTheManagementApi) {
  testing::ServerProcess server({"--poll-seconds", "3600"}, /*demo=*/false);
  const std::string at = " --server http://127.0.0.1:" + std::to_string(server.port());
  const std::string churn = testing::source_dir() + "/examples/churn/";
  auto ok = [&](const std::string& args) {
    const auto result = testing::run_orchard(args + at);
    EXPECT_EQ(result.exit_code, 0) << args << "\n" << result.err;
    return result.out;
  };
  EXPECT_EQ(ok("push churn '" + churn + "churn_xgboost.ubj' --alias production --metric auc=0.9 --tag team=growth"), "churn:1\n");
  EXPECT_EQ(ok("push churn '" + churn + "churn_lightgbm.txt'"), "churn:2\n");
  // Pushed versions are served at once.
  testing::HttpClient client(server.port());
  EXPECT_EQ(client.get("/v2/models/churn/ready").status, 200);
  EXPECT_NE(ok("models").find("production=1"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(ok("versions churn")).size(), 2u);
  EXPECT_EQ(ok("promote churn 2 --alias production"), "churn@production: 1 -> 2\n");
  EXPECT_EQ(client.post("/endpoints/churn/invocations", R"({"instances": [[56, 9.67, 103.9, 4, 0, 1]]})").header("orchard-model-version"), "churn:2");
  EXPECT_EQ(ok("rollback churn --alias production"), "churn@production: 2 -> 1\n");
  ok("tag churn:2 reviewed=yes");
  ok("archive churn:2");
  const auto shown = nlohmann::json::parse(ok("show churn:2"));
  EXPECT_EQ(shown["tags"]["reviewed"], "yes");
  EXPECT_EQ(shown["archived"], true);
  EXPECT_EQ(nlohmann::json::parse(ok("show churn@production"))["version"], 1);
  EXPECT_EQ(nlohmann::json::parse(ok("show churn:1"))["metrics"]["auc"], 0.9);
  EXPECT_FALSE(nlohmann::json::parse(ok("audit churn --limit 5")).empty());

  // Evaluation and promotion gates run on the server, on a CSV sent with the request.
  const std::string customers = churn + "customers.csv";
  const auto reports = nlohmann::json::parse(ok("evaluate churn 1 2 '" + customers + "' --label target --json --record"));
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_GT(reports[0]["auc"].get<double>(), 0.5);
  EXPECT_TRUE(reports[1].contains("p50_us"));
  EXPECT_TRUE(nlohmann::json::parse(ok("show churn:1"))["evaluation"].contains("auc")) << "--record stored the results";
  const auto refused = testing::run_orchard("promote churn 2 --alias production --require 'auc>=0.999'" + at);
  EXPECT_EQ(refused.exit_code, 7) << refused.err;
  EXPECT_NE(refused.err.find("recorded evaluation"), std::string::npos) << refused.err;
  const bool two_better = reports[1]["logloss"].get<double>() < reports[0]["logloss"].get<double>();
  const auto challenge = testing::run_orchard("promote churn 2 --alias production --better-than production --on '" + customers +
                                              "' --label target --metric logloss" + at);
  EXPECT_EQ(challenge.exit_code, two_better ? 0 : 7) << challenge.err;
  ok("promote churn 1 --alias production");

  // Errors keep their meaning over the wire.
  EXPECT_EQ(testing::run_orchard("show nope:1" + at).exit_code, 5);
  EXPECT_EQ(testing::run_orchard("push bad '" + testing::source_dir() + "/README.md'" + at).exit_code, 4);
  EXPECT_EQ(testing::run_orchard("models --server http://127.0.0.1:1").exit_code, 6);
  EXPECT_NE(ok("gc --min-age 0").find("removed 0"), std::string::npos);

  // sync uploads what a local folder holds, once.
  const std::string folder = testing::temp_dir() + "/sync-remote";
  std::filesystem::create_directories(folder + "/iris/1");
  std::filesystem::copy_file(testing::source_dir() + "/examples/iris/iris_xgboost.json", folder + "/iris/1/model.json");
  std::ofstream(folder + "/iris/1/orchard.yaml") << "metrics:\n  accuracy: 0.97\ntags:\n  source: git\nalias: production\n";
  EXPECT_NE(ok("sync '" + folder + "'").find("as iris:1"), std::string::npos);
  EXPECT_EQ(ok("sync '" + folder + "'"), "") << "nothing new the second time";
  const auto iris = nlohmann::json::parse(ok("show iris@production"));
  EXPECT_EQ(iris["metrics"]["accuracy"], 0.97);
  EXPECT_EQ(iris["tags"]["source"], "git");
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace orchard
