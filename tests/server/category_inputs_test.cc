// Category names as request values: a model whose feature carries category names (Orchard's model
// format, `plan` with categories basic / premium) answers `"plan": "premium"` exactly as it answers the
// code 1, in MLflow invocations (records, split, inputs) and as a v2 BYTES tensor; an unknown name is
// an unknown category (all-zero one-hot), not an error and not a missing value.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "server/server_fixture.h"
#include "support/test_support.h"

namespace orchard {
namespace {

using json = nlohmann::json;
using testing::Response;

// docs/model-format.md's example: predictions [P(stays), P(churns)].
const char* kModel = R"({"format": "orchard-model", "version": 1,
  "features": [{"name": "age"}, {"name": "plan", "type": "categorical", "categories": ["basic", "premium"]}],
  "input_steps": [{"kind": "standardize", "source": 0, "fill": 40, "offset": 40, "scale": 10},
                  {"kind": "one_hot", "source": 1, "values": [0, 1]}],
  "input_precision": "float32", "num_outputs": 1, "base_margin": [0.5], "average_divisor": 2,
  "transform": {"kind": "sigmoid_pair"}, "output_names": ["stays", "churns"],
  "linear": {"coefficients": [[1.0, 0.0, 0.25]], "bias": [-0.5]},
  "trees": [{"left": [1, -1, -1], "right": [2, -1, -1], "feature": [0, -1, -1], "threshold": [0.0, 0, 0],
             "default_left": [true, false, false], "leaf_value": [null, -1.0, 1.0]},
            {"left": [1, -1, -1], "right": [2, -1, -1], "feature": [2, -1, -1], "threshold": [0.5, 0, 0],
             "leaf_value": [null, 0.0, 2.0]}]})";

class CategoryInputsTest : public testing::DemoServerTest {
 protected:
  static void SetUpTestSuite() {
    start();
    testing::HttpClient client(server_->port());
    const Response created = client.post("/api/v1/models/plans/versions?alias=production", kModel, {{"Content-Type", "application/octet-stream"}});
    ASSERT_EQ(created.status, 201) << created.body;
  }

  // P(churns) of each row of an invocations answer.
  std::vector<double> churns(const std::string& body) {
    const Response response = client_->post("/endpoints/plans/invocations", body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(response.status, 200) << response.body;
    std::vector<double> out;
    const json answer = json::parse(response.body, nullptr, false);
    if (!answer.is_object() || !answer["predictions"].is_array()) return out;
    for (const auto& row : answer["predictions"]) out.push_back(row.is_array() ? row[1].get<double>() : row["churns"].get<double>());
    return out;
  }
};

double churn_probability(double margin) { return 1.0 / (1.0 + std::exp(-margin / 2.0)); }

TEST_F(CategoryInputsTest, NamesInInvocationsAreCategoryCodes) {
  // age 50 (tree 0 right: +1, linear +1), premium (column 2: tree 1 right +2, linear +0.25).
  const double premium = churn_probability(0.5 - 0.5 + 1.0 + 0.25 + 1.0 + 2.0);
  const double basic = churn_probability(0.5 - 0.5 + 1.0 + 0.0 + 1.0 + 0.0);
  const double unknown = churn_probability(0.5 - 0.5 + 1.0 + 1.0);  // all-zero one-hot, like basic without its column
  const auto by_name = churns(R"({"dataframe_records": [{"age": 50, "plan": "premium"}, {"age": 50, "plan": "basic"},
                                                       {"age": 50, "plan": "platinum"}]})");
  ASSERT_EQ(by_name.size(), 3u);
  EXPECT_NEAR(by_name[0], premium, 1e-12);
  EXPECT_NEAR(by_name[1], basic, 1e-12);
  EXPECT_NEAR(by_name[2], unknown, 1e-12);
  const auto by_code = churns(R"({"dataframe_records": [{"age": 50, "plan": 1}, {"age": 50, "plan": 0}]})");
  ASSERT_EQ(by_code.size(), 2u);
  EXPECT_EQ(by_code[0], by_name[0]);
  EXPECT_EQ(by_code[1], by_name[1]);
  const auto split = churns(R"({"dataframe_split": {"columns": ["plan", "age"], "data": [["premium", 50]]}})");
  ASSERT_EQ(split.size(), 1u);
  EXPECT_EQ(split[0], by_name[0]);
  const auto columns = churns(R"({"inputs": {"age": [50, 50], "plan": ["basic", "premium"]}})");
  ASSERT_EQ(columns.size(), 2u);
  EXPECT_EQ(columns[0], by_name[1]);
  EXPECT_EQ(columns[1], by_name[0]);
}

TEST_F(CategoryInputsTest, BytesTensorsInV2AreCategoryCodes) {
  const json body = {{"inputs",
                      {{{"name", "age"}, {"datatype", "FP64"}, {"shape", {3}}, {"data", {50, 50, nullptr}}},
                       {{"name", "plan"}, {"datatype", "BYTES"}, {"shape", {3}}, {"data", {"premium", "gold", nullptr}}}}}};
  const Response response = client_->post("/v2/models/plans/infer", body.dump());
  ASSERT_EQ(response.status, 200) << response.body;
  const json answer = json::parse(response.body);
  const auto& data = answer["outputs"][0]["data"];
  ASSERT_EQ(data.size(), 6u) << response.body;
  EXPECT_NEAR(data[1].get<double>(), churn_probability(0.5 - 0.5 + 1.0 + 0.25 + 1.0 + 2.0), 1e-12);
  EXPECT_NEAR(data[3].get<double>(), churn_probability(0.5 - 0.5 + 1.0 + 1.0), 1e-12);  // gold: unknown
  // Missing age (imputed 40 -> 0: tree 0 left, -1) and missing plan (all zeros).
  EXPECT_NEAR(data[5].get<double>(), churn_probability(0.5 - 0.5 - 1.0), 1e-12);

  const json numbers = {{"inputs", {{{"name", "age"}, {"datatype", "BYTES"}, {"shape", {1}}, {"data", {"fifty"}}},
                                    {{"name", "plan"}, {"datatype", "BYTES"}, {"shape", {1}}, {"data", {"premium"}}}}}};
  const Response refused = client_->post("/v2/models/plans/infer", numbers.dump());
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("\\\"fifty\\\" is not a number"), std::string::npos) << refused.body;
}

// A shadow whose model lists the same categories in another order (here premium first) gets each
// row's category by name, not by code: it answers exactly what the live version answers.
TEST_F(CategoryInputsTest, ShadowsGetCategoriesByNameWhateverTheirOrder) {
  std::string reordered = kModel;
  const auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = reordered.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    reordered.replace(at, from.size(), to);
  };
  replace(R"("categories": ["basic", "premium"])", R"("categories": ["premium", "basic"])");
  replace(R"({"kind": "one_hot", "source": 1, "values": [0, 1]})", R"({"kind": "one_hot", "source": 1, "values": [1, 0]})");
  const Response created = client_->post("/api/v1/models/plans/versions", reordered, {{"Content-Type", "application/octet-stream"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string version = std::to_string(json::parse(created.body)["version"].get<std::int64_t>());
  ASSERT_EQ(client_->put("/api/v1/endpoints/plans-shadowed",
                         R"({"model": "plans", "arms": [{"target": "@production"}], "shadows": [")" + version + R"("]})")
                .status,
            200);
  const Response answered = client_->post("/endpoints/plans-shadowed/invocations",
                                          R"({"dataframe_records": [{"age": 50, "plan": "premium"}, {"age": 30, "plan": "basic"}]})",
                                          {{"Content-Type", "application/json"}});
  ASSERT_EQ(answered.status, 200) << answered.body;
  json live, shadow;
  for (int i = 0; i < 100 && shadow.size() < 2; ++i) {
    shadow = json::parse(client_->get("/api/v1/predictions?endpoint=plans-shadowed&arm=shadow:" + version).body)["predictions"];
    if (shadow.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(shadow.size(), 2u);
  for (const auto& row : shadow) {
    const json original = json::parse(client_->get("/api/v1/predictions/" + row["shadow_of"].get<std::string>()).body);
    EXPECT_EQ(row["outputs"], original["outputs"]) << "shadow " << row.dump() << "\nlive " << original.dump();
  }
}

}  // namespace
}  // namespace orchard
