// MLflow's scoring protocol (POST /endpoints/NAME/invocations) against the real `orchard serve --demo`:
// every body form MLflow clients send gives exactly what XGBoost predicts for examples/churn;
// multiclass answers are lists of class probabilities; bad requests get JSON errors.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "server/http_client.h"
#include "server/server_fixture.h"

namespace orchard {
namespace {

using json = nlohmann::json;
using testing::churn_data;
using testing::HttpClient;
using testing::iris_data;
using testing::is_json_error;
using testing::parse;
using testing::records;
using testing::Response;
using testing::row_lists;
using testing::ServerProcess;
using testing::values_match;

class InvocationsTest : public testing::DemoServerTest {
 protected:

  Response invoke(const std::string& endpoint, const std::string& body, const testing::Headers& headers = {}) {
    return client_->post("/endpoints/" + endpoint + "/invocations", body, headers);
  }

  // The predictions of a successful churn answer (one number per row).
  static std::vector<double> predictions(const Response& response) {
    std::vector<double> out;
    const json body = parse(response.body);
    if (!body.is_object() || !body["predictions"].is_array()) {
      ADD_FAILURE() << "no predictions in " << response.body.substr(0, 300);
      return out;
    }
    for (const auto& v : body["predictions"]) out.push_back(v.is_null() ? std::nan("") : v.get<double>());
    return out;
  }

  // Checks a churn answer against XGBoost's predictions (version 1, the production alias).
  static void expect_churn(const Response& response, const std::vector<double>& expected) {
    ASSERT_EQ(response.status, 200) << testing::describe(response);
    EXPECT_EQ(response.header("orchard-model-version"), "churn:1");
    EXPECT_EQ(parse(response.body)["model_version"], "churn:1");
    EXPECT_TRUE(values_match(predictions(response), expected));
  }

};

TEST_F(InvocationsTest, DataframeSplit) {
  const auto& churn = churn_data();
  json split = json::object();
  split["columns"] = churn.features;
  split["data"] = row_lists(churn.rows);
  expect_churn(invoke("churn", json({{"dataframe_split", split}}).dump()), churn.xgboost);

  // Columns in another order, plus columns the model does not use (ids, labels, text).
  json columns = json::array({"customer_id"});
  for (auto it = churn.features.rbegin(); it != churn.features.rend(); ++it) columns.push_back(*it);
  columns.push_back("target");
  json data = json::array();
  for (std::size_t r = 0; r < churn.rows.size(); ++r) {
    json row = json::array({"customer-" + std::to_string(r)});
    for (auto it = churn.rows[r].rbegin(); it != churn.rows[r].rend(); ++it) row.push_back(testing::number_or_null(*it));
    row.push_back(r % 2);
    data.push_back(row);
  }
  // pandas' to_json(orient="split") also sends an index.
  json reordered = json::object();
  reordered["dataframe_split"]["index"] = json::array();
  reordered["dataframe_split"]["columns"] = columns;
  reordered["dataframe_split"]["data"] = data;
  expect_churn(invoke("churn", reordered.dump()), churn.xgboost);
}

TEST_F(InvocationsTest, DataframeRecords) {
  const auto& churn = churn_data();
  json rows = records(churn.features, churn.rows);
  for (std::size_t r = 0; r < rows.size(); ++r) rows[r]["customer_id"] = "customer-" + std::to_string(r);  // ignored
  expect_churn(invoke("churn", json({{"dataframe_records", rows}}).dump()), churn.xgboost);
}

TEST_F(InvocationsTest, InstancesAsListsAndAsObjects) {
  const auto& churn = churn_data();
  expect_churn(invoke("churn", json({{"instances", row_lists(churn.rows)}}).dump()), churn.xgboost);
  expect_churn(invoke("churn", json({{"instances", records(churn.features, churn.rows)}}).dump()), churn.xgboost);
}

TEST_F(InvocationsTest, InputsAsListsAsColumnsAndAsObjects) {
  const auto& churn = churn_data();
  expect_churn(invoke("churn", json({{"inputs", row_lists(churn.rows)}}).dump()), churn.xgboost);
  json columns = json::object();
  for (std::size_t f = 0; f < churn.features.size(); ++f) {
    json values = json::array();
    for (const auto& row : churn.rows) values.push_back(testing::number_or_null(row[f]));
    columns[churn.features[f]] = values;
  }
  columns["unused"] = json::array({1, 2});  // extra columns are ignored, whatever their length
  expect_churn(invoke("churn", json({{"inputs", columns}}).dump()), churn.xgboost);
  expect_churn(invoke("churn", json({{"inputs", records(churn.features, churn.rows)}}).dump()), churn.xgboost);
}

TEST_F(InvocationsTest, Csv) {
  const auto& churn = churn_data();
  // customers.csv as it is: a header row, empty cells for missing values, and the target column.
  expect_churn(invoke("churn", churn.csv, {{"Content-Type", "text/csv"}}), churn.xgboost);
  expect_churn(invoke("churn", churn.csv, {{"Content-Type", "text/csv; charset=utf-8"}}), churn.xgboost);
  // Without its trailing newline, with CRLF line ends.
  std::string crlf;
  for (char c : churn.csv) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  while (!crlf.empty() && (crlf.back() == '\n' || crlf.back() == '\r')) crlf.pop_back();
  expect_churn(invoke("churn", crlf, {{"Content-Type", "text/csv"}}), churn.xgboost);
}

TEST_F(InvocationsTest, NumbersAsStringsAndNulls) {
  const auto& churn = churn_data();
  // pandas sends numbers; some clients send them as strings. null is missing.
  json row = {{"age", "56"}, {"tenure", "9.6705334"}, {"monthly_charges", 103.916975}, {"plan", "4"}, {"region", 0}, {"support_calls", "1"}};
  expect_churn(invoke("churn", json({{"dataframe_records", json::array({row})}}).dump()), {churn.xgboost[0]});
  std::size_t r = 0;
  while (!std::isnan(churn.rows[r][5])) ++r;  // a customer with no support_calls
  json missing = records(churn.features, {churn.rows[r]});
  ASSERT_TRUE(missing[0]["support_calls"].is_null());
  expect_churn(invoke("churn", json({{"dataframe_records", missing}}).dump()), {churn.xgboost[r]});
}

TEST_F(InvocationsTest, MulticlassGivesListsOfProbabilities) {
  const auto& iris = iris_data();
  const Response response = invoke("iris", json({{"instances", row_lists(iris.rows)}}).dump());
  ASSERT_EQ(response.status, 200) << testing::describe(response);
  EXPECT_EQ(response.header("orchard-model-version"), "iris:1");
  const json body = parse(response.body);
  ASSERT_EQ(body["predictions"].size(), iris.rows.size());
  for (std::size_t r = 0; r < iris.rows.size(); ++r) {
    const json& p = body["predictions"][r];
    ASSERT_TRUE(p.is_array() && p.size() == 3) << p.dump();
    const std::vector<double> got = {p[0].get<double>(), p[1].get<double>(), p[2].get<double>()};
    EXPECT_TRUE(values_match(got, iris.expected[r])) << "flower " << r;
    EXPECT_NEAR(got[0] + got[1] + got[2], 1.0, 1e-6);
  }
  // The same through CSV and records.
  std::string csv = "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n5.8,2.8,5.1,2.4\n";
  const Response from_csv = invoke("iris", csv, {{"Content-Type", "text/csv"}});
  ASSERT_EQ(from_csv.status, 200) << testing::describe(from_csv);
  EXPECT_EQ(parse(from_csv.body)["predictions"][0], body["predictions"][0]);
  const Response from_records = invoke("iris", json({{"dataframe_records", records(iris.features, {iris.rows[0]})}}).dump());
  EXPECT_EQ(parse(from_records.body)["predictions"][0], body["predictions"][0]);
}

TEST_F(InvocationsTest, Errors) {
  const auto& churn = churn_data();
  // A missing feature is named.
  json incomplete = records(churn.features, {churn.rows[0]});
  incomplete[0].erase("tenure");
  const Response missing = invoke("churn", json({{"dataframe_records", incomplete}}).dump());
  EXPECT_TRUE(is_json_error(missing, 400));
  EXPECT_NE(missing.body.find("tenure"), std::string::npos) << missing.body;
  json split = json::object();
  split["dataframe_split"]["columns"] = json::array({"age", "tenure"});
  split["dataframe_split"]["data"] = json::array({json::array({1, 2})});
  EXPECT_TRUE(is_json_error(invoke("churn", split.dump()), 400));
  json columns = json::object();
  columns["inputs"]["age"] = json::array({1});
  columns["inputs"]["tenure"] = json::array({2});
  EXPECT_TRUE(is_json_error(invoke("churn", columns.dump()), 400));
  const Response csv_missing = invoke("churn", "age,tenure\n1,2\n", {{"Content-Type", "text/csv"}});
  EXPECT_TRUE(is_json_error(csv_missing, 400));
  EXPECT_NE(csv_missing.body.find("monthly_charges"), std::string::npos) << csv_missing.body;

  // Not JSON, or not an object, or none of the known forms.
  EXPECT_TRUE(is_json_error(invoke("churn", "{\"instances\": [[1, 2"), 400));
  EXPECT_TRUE(is_json_error(invoke("churn", "[[1, 2, 3, 4, 5, 6]]"), 400));
  EXPECT_TRUE(is_json_error(invoke("churn", R"({"rows": [[1, 2, 3, 4, 5, 6]]})"), 400));
  EXPECT_TRUE(is_json_error(invoke("churn", R"({"inputs": 7})"), 400));
  EXPECT_TRUE(is_json_error(invoke("churn", ""), 400));

  // No rows.
  EXPECT_TRUE(is_json_error(invoke("churn", R"({"instances": []})"), 400));
  EXPECT_TRUE(is_json_error(invoke("churn", R"({"dataframe_records": []})"), 400));
  json empty_split = json::object();
  empty_split["dataframe_split"]["columns"] = churn.features;
  empty_split["dataframe_split"]["data"] = json::array();
  EXPECT_TRUE(is_json_error(invoke("churn", empty_split.dump()), 400));
  EXPECT_TRUE(is_json_error(invoke("churn", "age,tenure,monthly_charges,plan,region,support_calls\n", {{"Content-Type", "text/csv"}}), 400));
  EXPECT_TRUE(is_json_error(invoke("churn", "", {{"Content-Type", "text/csv"}}), 400));

  // Bad values and shapes.
  EXPECT_TRUE(is_json_error(invoke("churn", R"({"instances": [[56, "lots", 1, 2, 3, 4]]})"), 400));
  EXPECT_TRUE(is_json_error(invoke("churn", R"({"instances": [[56, {"a": 1}, 1, 2, 3, 4]]})"), 400));
  EXPECT_TRUE(is_json_error(invoke("churn", R"({"instances": [[1, 2, 3]]})"), 400));
  EXPECT_TRUE(is_json_error(invoke("churn", R"({"instances": [7]})"), 400));
  EXPECT_TRUE(is_json_error(invoke("churn", "age,tenure,monthly_charges,plan,region,support_calls\n1,2,x,4,5,6\n", {{"Content-Type", "text/csv"}}), 400));

  // Method, media type, endpoint.
  EXPECT_TRUE(is_json_error(client_->get("/endpoints/churn/invocations"), 405));
  EXPECT_TRUE(is_json_error(client_->request("PUT", "/endpoints/churn/invocations", R"({"instances": [[1,2,3,4,5,6]]})"), 405));
  EXPECT_TRUE(is_json_error(invoke("churn", R"({"instances": [[1,2,3,4,5,6]]})", {{"Content-Type", "application/octet-stream"}}), 415));
  EXPECT_TRUE(is_json_error(invoke("churn", "x", {{"Content-Type", "application/x-protobuf"}}), 415));
  EXPECT_TRUE(is_json_error(invoke("nosuchmodel", R"({"instances": [[1,2,3,4,5,6]]})"), 404));
  // /invocations (mlflow models serve's path) needs exactly one served model; the demo serves two.
  EXPECT_TRUE(is_json_error(client_->post("/invocations", R"({"instances": [[1,2,3,4,5,6]]})"), 404));

  // The connection survived all of it.
  EXPECT_EQ(client_->connections_opened(), 1u);
}

TEST_F(InvocationsTest, MlflowPingAndHealth) {
  for (const char* path : {"/ping", "/health"}) {
    const Response response = client_->get(path);
    EXPECT_EQ(response.status, 200) << path;
  }
}

}  // namespace
}  // namespace orchard
