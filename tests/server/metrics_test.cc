// GET /metrics: the Prometheus text format, counting what the server did; validated by promtool
// (Debian's prometheus package) when it is installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>

#include "server/http_client.h"
#include "server/server_fixture.h"
#include "support/test_support.h"

namespace orchard {
namespace {

double value_of(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(Metrics, CountRequestsVersionsAndLatencyInPrometheusFormat) {
  testing::ServerProcess server({"--poll-seconds", "3600"});
  testing::HttpClient client(server.port());
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(client.post("/endpoints/churn/invocations", R"({"instances": [[56, 9.67, 103.9, 4, 0, 1], [40, 43.4, 42.6, 4, 3, 2]]})").status, 200);
  }
  EXPECT_EQ(client.get("/nope").status, 404);
  const auto response = client.get("/metrics");
  ASSERT_EQ(response.status, 200);
  EXPECT_NE(response.header("content-type").find("text/plain"), std::string::npos);
  const std::string& text = response.body;
  EXPECT_EQ(value_of(text, R"(orchard_predictions_total{model="churn",version="1"})"), 5);
  EXPECT_EQ(value_of(text, R"(orchard_predicted_rows_total{model="churn",version="1"})"), 10);
  EXPECT_EQ(value_of(text, R"(orchard_prediction_latency_seconds_count{model="churn",version="1"})"), 5);
  EXPECT_EQ(value_of(text, R"(orchard_prediction_latency_seconds_bucket{model="churn",version="1",le="+Inf"})"), 5);
  EXPECT_GE(value_of(text, R"(orchard_http_responses_total{code="200"})"), 5);  // + the fixture's readiness checks
  EXPECT_EQ(value_of(text, R"(orchard_http_responses_total{code="404"})"), 1);
  EXPECT_EQ(value_of(text, "orchard_loaded_versions"), 2);
  EXPECT_GT(value_of(text, R"(orchard_model_load_seconds{model="churn",version="1"})"), 0);
  EXPECT_GT(value_of(text, R"(orchard_model_artifact_bytes{model="churn",version="1"})"), 0);
  // What the compiled model holds, measured from its arrays, not the file: positive for every loaded version.
  EXPECT_GT(value_of(text, R"(orchard_model_memory_bytes{model="churn",version="1"})"), 0);
  EXPECT_NE(text.find("# TYPE orchard_model_memory_bytes gauge\n"), std::string::npos);
  std::regex memory(R"re(\norchard_model_memory_bytes\{model="[^"]+",version="\d+"\} (\d+))re");
  int memory_series = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), memory); it != std::sregex_iterator(); ++it) {
    EXPECT_GT(std::stoll((*it)[1]), 0) << (*it)[0];
    ++memory_series;
  }
  EXPECT_EQ(memory_series, 2);  // one per loaded version (orchard_loaded_versions)
  // Histogram buckets are cumulative.
  std::regex bucket(R"re(orchard_prediction_latency_seconds_bucket\{model="churn",version="1",le="[^"]+"\} (\d+))re");
  long previous = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), bucket); it != std::sregex_iterator(); ++it) {
    const long count = std::stol((*it)[1]);
    EXPECT_GE(count, previous);
    previous = count;
  }
  EXPECT_EQ(previous, 5);

  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed (apt-get install prometheus): format checked by this test only";
  }
  const std::string file = testing::write_file("metrics.txt", text);
  EXPECT_EQ(std::system(("promtool check metrics < '" + file + "'").c_str()), 0) << text;
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace orchard
