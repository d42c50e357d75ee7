// Feedback, live quality, the A/B report and drift, through the real server: labelled quality equals
// values computed here from the known predictions; an A/B split with a known winner is called; a
// shifted copy of the training data raises a drift alert (and the webhook hears of it) while the
// unshifted data does not; /metrics still passes promtool with all of it.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "monitoring/webhook_listener.h"
#include "server/http_client.h"
#include "server/server_fixture.h"
#include "support/test_support.h"

namespace orchard {
namespace {

using nlohmann::json;

// The churn labels (customers.csv's target column), in row order.
std::vector<double> churn_labels() {
  std::ifstream in(testing::examples_dir() + "/churn/customers.csv");
  std::string line;
  std::getline(in, line);
  std::vector<double> labels;
  while (std::getline(in, line)) labels.push_back(std::stod(line.substr(line.rfind(',') + 1)));
  return labels;
}

std::vector<std::string> ids_of(const testing::Response& response) {
  std::vector<std::string> ids;
  const json body = json::parse(response.body);  // kept alive: the loop reads into it
  for (const auto& id : body["parameters"]["prediction_ids"]) ids.push_back(id.get<std::string>());
  return ids;
}

TEST(MonitoringApi, FeedbackGivesLiveQualityEqualToItsDefinition) {
  testing::ServerProcess server({"--poll-seconds", "3600"});
  testing::HttpClient client(server.port());
  const auto& churn = testing::churn_data();
  const auto labels = churn_labels();
  ASSERT_EQ(labels.size(), churn.rows.size());
  const auto response = client.post("/v2/models/churn/infer", testing::v2_matrix(churn.rows).dump());
  ASSERT_EQ(response.status, 200) << response.body;
  const auto ids = ids_of(response);
  ASSERT_EQ(ids.size(), 100u) << response.body.substr(0, 300);

  // One label by the single form (a boolean), the rest in one batch; an unknown id is reported.
  ASSERT_EQ(client.post("/api/v1/predictions/" + ids[0] + "/feedback", json{{"label", labels[0] == 1.0}}.dump()).status, 200);
  json items = json::array();
  for (std::size_t i = 1; i < ids.size(); ++i) items.push_back({{"id", ids[i]}, {"label", labels[i]}});
  items.push_back({{"id", "01000000-0000-7000-8000-000000000000"}, {"label", 1}});
  const auto batch = json::parse(client.post("/api/v1/feedback", json{{"items", items}}.dump()).body);
  EXPECT_EQ(batch["accepted"], 99);
  EXPECT_EQ(batch["unknown"], json::array({"01000000-0000-7000-8000-000000000000"}));
  EXPECT_EQ(client.post("/api/v1/predictions/01000000-0000-7000-8000-000000000000/feedback", R"({"label": 1})").status, 404);
  EXPECT_EQ(client.post("/api/v1/predictions/" + ids[0] + "/feedback", R"({"label": "maybe"})").status, 400);
  const auto not_a_class = client.post("/api/v1/predictions/" + ids[0] + "/feedback", R"({"label": 2})");
  EXPECT_EQ(not_a_class.status, 400);
  EXPECT_NE(not_a_class.body.find("one of its classes: 0, 1, or true/false"), std::string::npos) << not_a_class.body;
  EXPECT_EQ(client.post("/api/v1/predictions/" + ids[0] + "/feedback", R"({"label": 1e400})").status, 400);
  EXPECT_EQ(client.post("/api/v1/predictions/" + ids[0] + "/feedback", R"({"nolabel": 1})").status, 400);

  // Independently: accuracy, log loss and AUC of the known predictions.
  double correct = 0, logloss = 0, pairs = 0, wins = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double p = churn.xgboost[i];
    correct += ((p > 0.5 ? 1.0 : 0.0) == labels[i]);
    logloss -= labels[i] == 1.0 ? std::log(p) : std::log(1 - p);
    for (std::size_t j = 0; j < labels.size(); ++j) {
      if (labels[i] == 1.0 && labels[j] == 0.0) {
        ++pairs;
        wins += churn.xgboost[i] > churn.xgboost[j] ? 1.0 : churn.xgboost[i] == churn.xgboost[j] ? 0.5 : 0.0;
      }
    }
  }
  const auto quality = json::parse(client.get("/api/v1/endpoints/churn/quality?window=1h").body);
  ASSERT_EQ(quality["versions"].size(), 1u) << quality.dump();
  const auto& v1 = quality["versions"][0];
  EXPECT_EQ(v1["version"], 1);
  EXPECT_EQ(v1["task"], "binary");
  EXPECT_EQ(v1["labelled"], 100);
  EXPECT_NEAR(v1["metrics"]["accuracy"].get<double>(), correct / 100, 1e-12);
  EXPECT_NEAR(v1["metrics"]["logloss"].get<double>(), logloss / 100, 1e-6);
  EXPECT_NEAR(v1["metrics"]["auc"].get<double>(), wins / pairs, 1e-12);
  EXPECT_EQ(quality["arms"][0]["arm"], "@production");

  // The window slides: nothing labelled was predicted in the future.
  const auto search = json::parse(client.get("/api/v1/predictions?endpoint=churn&labelled=1&limit=10").body);
  EXPECT_EQ(search["count"], 10);
  EXPECT_TRUE(search["predictions"][0].contains("feedback"));
  EXPECT_FALSE(search["next"].is_null()) << "a full page has a cursor";
  const auto next = json::parse(client.get("/api/v1/predictions?endpoint=churn&labelled=1&limit=1000&before=" + search["next"].get<std::string>()).body);
  EXPECT_EQ(next["count"], 90);
  EXPECT_EQ(client.get("/api/v1/predictions?since=yesterday").status, 400);
  EXPECT_EQ(client.get("/api/v1/predictions?limit=0").status, 400);
  EXPECT_EQ(server.stop(), 0);
}

TEST(MonitoringApi, AbReportCallsTheKnownWinner) {
  testing::ServerProcess server({"--poll-seconds", "3600"});
  testing::HttpClient client(server.port());
  const auto& churn = testing::churn_data();
  ASSERT_EQ(client.put("/api/v1/endpoints/churn-ab", R"({"model": "churn", "arms": [{"target": "1", "weight": 1}, {"target": "2", "weight": 1}]})").status, 200);
  // Labels that make version 2 always right and version 1 always wrong.
  json items = json::array();
  int per_version[3] = {0, 0, 0};
  for (int i = 0; i < 160; ++i) {
    const std::size_t r = static_cast<std::size_t>(i) % churn.rows.size();
    const auto response = client.post("/v2/models/churn-ab/infer", testing::v2_matrix({churn.rows[r]}).dump());
    ASSERT_EQ(response.status, 200) << response.body;
    const int version = json::parse(response.body)["model_version"] == "2" ? 2 : 1;
    ++per_version[version];
    const double predicted = (version == 2 ? churn.lightgbm[r] : churn.xgboost[r]) > 0.5 ? 1 : 0;
    items.push_back({{"id", ids_of(response)[0]}, {"label", version == 2 ? predicted : 1 - predicted}});
  }
  ASSERT_GE(per_version[1], 30) << "a 50/50 split over 160 requests";
  ASSERT_GE(per_version[2], 30);
  ASSERT_EQ(json::parse(client.post("/api/v1/feedback", json{{"items", items}}.dump()).body)["accepted"], 160);

  const auto report = json::parse(client.get("/api/v1/endpoints/churn-ab/report?window=1h").body);
  ASSERT_EQ(report["arms"].size(), 2u) << report.dump(2);
  EXPECT_EQ(report["control"], "1");
  EXPECT_EQ(report["rows"], 160);
  EXPECT_EQ(report["arms"][0]["rows"], per_version[1]);
  EXPECT_EQ(report["arms"][1]["rows"], per_version[2]);
  EXPECT_EQ(report["arms"][0]["compared_metric"], 0.0);
  EXPECT_EQ(report["arms"][1]["compared_metric"], 1.0);
  EXPECT_EQ(report["arms"][1]["verdict"]["outcome"], "candidate_better") << report.dump(2);
  EXPECT_LT(report["arms"][1]["verdict"]["p_value"].get<double>(), 1e-6);
  EXPECT_NE(report["verdict"].get<std::string>().find("better"), std::string::npos);
  EXPECT_GT(report["arms"][0]["latency_us"]["p99"].get<double>(), 0);
  // Too few labels for a verdict yet: said so.
  const auto strict = json::parse(client.get("/api/v1/endpoints/churn-ab/report?window=1h&min_labelled=1000").body);
  EXPECT_EQ(strict["arms"][1]["verdict"]["outcome"], "not_enough_data");
  EXPECT_EQ(client.get("/api/v1/endpoints/nowhere/report").status, 404);
  EXPECT_EQ(server.stop(), 0);
}

TEST(MonitoringApi, ShiftedDataRaisesADriftAlertAndCallsTheWebhook) {
  testing::WebhookListener receiver;
  testing::ServerProcess server({"--poll-seconds", "3600", "--drift-webhook", receiver.url(), "--drift-check-seconds", "0.2"});
  testing::HttpClient client(server.port());
  const auto& churn = testing::churn_data();
  for (const char* endpoint : {"drift-same", "drift-shifted"}) {
    ASSERT_EQ(client.put(std::string("/api/v1/endpoints/") + endpoint, R"({"model": "churn", "arms": [{"target": "1"}]})").status, 200);
  }
  // The training data itself, and a copy whose tenure moved far beyond its training range.
  ASSERT_EQ(client.post("/v2/models/drift-same/infer", testing::v2_matrix(churn.rows).dump()).status, 200);
  auto shifted = churn.rows;
  for (auto& row : shifted) row[1] = row[1] * 3 + 100;
  ASSERT_EQ(client.post("/v2/models/drift-shifted/infer", testing::v2_matrix(shifted).dump()).status, 200);

  const auto same = json::parse(client.get("/api/v1/endpoints/drift-same/drift?window=1h").body);
  ASSERT_EQ(same["versions"].size(), 1u) << same.dump();
  EXPECT_EQ(same["versions"][0]["status"], "ok") << same.dump(2);
  for (const auto& feature : same["versions"][0]["features"]) EXPECT_LT(feature["psi"].get<double>(), 0.1) << feature.dump();

  const auto moved = json::parse(client.get("/api/v1/endpoints/drift-shifted/drift?window=1h").body);
  ASSERT_EQ(moved["versions"].size(), 1u) << moved.dump();
  EXPECT_EQ(moved["versions"][0]["status"], "alert");
  for (const auto& feature : moved["versions"][0]["features"]) {
    EXPECT_EQ(feature["status"], feature["name"] == "tenure" ? "alert" : "ok") << feature.dump();
  }
  // PSI over time, for a chart.
  const auto series = client.get("/api/v1/endpoints/drift-shifted/drift?feature=tenure&version=1&window=1h&step=5m");
  ASSERT_EQ(series.status, 200) << series.body;
  EXPECT_FALSE(json::parse(series.body)["points"].empty());

  // The webhook hears of tenure (once), not of the unshifted endpoint.
  std::vector<json> bodies;
  for (int i = 0; i < 50; ++i) {
    bodies.clear();
    for (const auto& request : receiver.wait_for(1, 0.1)) bodies.push_back(json::parse(request.body));
    bool tenure = false;
    for (const auto& b : bodies) tenure = tenure || (b["feature"] == "tenure");
    if (tenure) break;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a second call for the same crossing would arrive by now
  bodies.clear();
  for (const auto& request : receiver.wait_for(1, 0.1)) bodies.push_back(json::parse(request.body));
  int tenure_alerts = 0;
  for (const auto& body : bodies) {
    EXPECT_EQ(body["endpoint"], "drift-shifted") << body.dump();
    if (body["feature"] == "tenure") {
      ++tenure_alerts;
      EXPECT_GE(body["psi"].get<double>(), 0.25);
    }
  }
  EXPECT_EQ(tenure_alerts, 1) << "one call per crossing";

  // /metrics carries drift and stays valid.
  const std::string text = client.get("/metrics").body;
  EXPECT_NE(text.find("orchard_drift_psi{endpoint=\"drift-shifted\",model=\"churn\",version=\"1\",feature=\"tenure\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("orchard_prediction_log_written_rows_total"), std::string::npos);
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    const std::string file = testing::write_file("drift-metrics.txt", text);
    EXPECT_EQ(std::system(("promtool check metrics < '" + file + "'").c_str()), 0) << text;
  }
  EXPECT_EQ(server.stop(), 0);
}

TEST(MonitoringApi, LiveQualityIsExportedToPrometheus) {
  testing::ServerProcess server({"--poll-seconds", "3600"});
  testing::HttpClient client(server.port());
  const auto& churn = testing::churn_data();
  const auto labels = churn_labels();
  const auto ids = ids_of(client.post("/v2/models/churn/infer", testing::v2_matrix(churn.rows).dump()));
  json items = json::array();
  for (std::size_t i = 0; i < ids.size(); ++i) items.push_back({{"id", ids[i]}, {"label", labels[i]}});
  ASSERT_EQ(client.post("/api/v1/feedback", items.dump()).status, 200) << "a bare list is accepted too";
  const std::string text = client.get("/metrics").body;
  EXPECT_NE(text.find("orchard_live_labelled_predictions{model=\"churn\",version=\"1\"} 100"), std::string::npos) << text;
  EXPECT_NE(text.find("orchard_live_quality{model=\"churn\",version=\"1\",metric=\"accuracy\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("orchard_endpoint_requests_total{endpoint=\"churn\",model=\"churn\",version=\"1\",outcome=\"ok\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("orchard_endpoint_request_duration_seconds_count{endpoint=\"churn\",model=\"churn\",version=\"1\"} 1\n"), std::string::npos)
      << text;
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    const std::string file = testing::write_file("quality-metrics.txt", text);
    EXPECT_EQ(std::system(("promtool check metrics < '" + file + "'").c_str()), 0) << text;
  }
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace orchard
