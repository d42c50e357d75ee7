// The Open Inference Protocol (KServe v2) over HTTP, against the real `orchard serve --demo`:
// server and model metadata, health, inference in every input form and datatype (checked against
// what XGBoost and LightGBM predict for examples/churn and examples/iris), errors and their statuses,
// limits, statistics, and HTTP-level behaviour (keep-alive, malformed requests).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
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
using testing::RawConnection;
using testing::Response;
using testing::ServerProcess;
using testing::v2_columns;
using testing::v2_matrix;
using testing::v2_output;
using testing::values_match;

class KServeV2Test : public testing::DemoServerTest {
 protected:

  Response infer(const std::string& model, const json& body, const testing::Headers& headers = {}) {
    return client_->post("/v2/models/" + model + "/infer", body.dump(), headers);
  }

};

TEST_F(KServeV2Test, ServerMetadataAndHealth) {
  const Response root = client_->get("/v2");
  ASSERT_EQ(root.status, 200) << testing::describe(root);
  const json meta = parse(root.body);
  EXPECT_EQ(meta["name"], "orchard");
  EXPECT_TRUE(meta["version"].is_string());
  EXPECT_TRUE(meta["extensions"].is_array());

  const Response live = client_->get("/v2/health/live");
  ASSERT_EQ(live.status, 200);
  EXPECT_EQ(parse(live.body), json({{"live", true}}));
  const Response ready = client_->get("/v2/health/ready");
  ASSERT_EQ(ready.status, 200);
  EXPECT_EQ(parse(ready.body)["ready"], true);
  EXPECT_EQ(parse(ready.body)["endpoints"], 2);
  EXPECT_EQ(parse(ready.body)["problems"], json::array());
  EXPECT_TRUE(is_json_error(client_->post("/v2/health/live", "{}"), 405));
  EXPECT_TRUE(is_json_error(client_->post("/v2/health/ready", "{}"), 405));
  EXPECT_TRUE(is_json_error(client_->request("DELETE", "/v2"), 405));
}

TEST_F(KServeV2Test, ModelMetadataListsInputsAndOutputs) {
  const Response response = client_->get("/v2/models/churn");
  ASSERT_EQ(response.status, 200) << testing::describe(response);
  const json meta = parse(response.body);
  EXPECT_EQ(meta["name"], "churn");
  EXPECT_EQ(meta["versions"], json::array({"1"}));
  EXPECT_TRUE(meta["platform"].is_string());
  EXPECT_EQ(meta["parameters"]["model_version"], "1");
  // First the [N, F] tensor, then one tensor per feature, in the model's feature order.
  const auto& features = churn_data().features;
  ASSERT_EQ(meta["inputs"].size(), features.size() + 1);
  EXPECT_EQ(meta["inputs"][0]["datatype"], "FP64");
  EXPECT_EQ(meta["inputs"][0]["shape"], json::array({-1, static_cast<int>(features.size())}));
  for (std::size_t f = 0; f < features.size(); ++f) {
    const json& input = meta["inputs"][f + 1];
    EXPECT_EQ(input["name"], features[f]);
    EXPECT_EQ(input["datatype"], "FP64");
    EXPECT_EQ(input["shape"], json::array({-1}));
  }
  ASSERT_EQ(meta["outputs"].size(), 1u);
  EXPECT_EQ(meta["outputs"][0]["datatype"], "FP64");
  EXPECT_EQ(meta["outputs"][0]["shape"], json::array({-1}));
  EXPECT_TRUE(meta["outputs"][0]["name"].is_string());

  // Multiclass: one output tensor [N, 3].
  const json iris = parse(client_->get("/v2/models/iris").body);
  EXPECT_EQ(iris["inputs"][0]["shape"], json::array({-1, 4}));
  EXPECT_EQ(iris["inputs"][1]["name"], iris_data().features[0]);
  EXPECT_EQ(iris["outputs"][0]["shape"], json::array({-1, 3}));

  // A specific version.
  const Response v2 = client_->get("/v2/models/churn/versions/2");
  ASSERT_EQ(v2.status, 200) << testing::describe(v2);
  const json meta2 = parse(v2.body);
  EXPECT_EQ(meta2["versions"], json::array({"2"}));
  EXPECT_EQ(meta2["parameters"]["model_version"], "2");
  EXPECT_NE(meta2["platform"], meta["platform"]);  // LightGBM, not XGBoost

  EXPECT_TRUE(is_json_error(client_->get("/v2/models/nosuchmodel"), 404));
  EXPECT_TRUE(is_json_error(client_->get("/v2/models/churn/versions/9"), 404));
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn", "{}"), 405));
}

TEST_F(KServeV2Test, ReadyForEndpointAndVersion) {
  const Response endpoint = client_->get("/v2/models/churn/ready");
  ASSERT_EQ(endpoint.status, 200) << testing::describe(endpoint);
  EXPECT_EQ(parse(endpoint.body)["ready"], true);
  EXPECT_EQ(parse(endpoint.body)["version"], "1");
  const Response version = client_->get("/v2/models/churn/versions/2/ready");
  ASSERT_EQ(version.status, 200) << testing::describe(version);
  EXPECT_EQ(parse(version.body)["ready"], true);
  EXPECT_EQ(parse(version.body)["version"], "2");
  EXPECT_TRUE(is_json_error(client_->get("/v2/models/nosuchmodel/ready"), 404));
  EXPECT_TRUE(is_json_error(client_->get("/v2/models/churn/versions/7/ready"), 404));
  EXPECT_TRUE(is_json_error(client_->get("/v2/models/churn/versions/x/ready"), 404));
}

TEST_F(KServeV2Test, InferOneTensorFlatData) {
  const auto& churn = churn_data();
  json body = v2_matrix(churn.rows);
  body["id"] = "request-42";
  const Response response = infer("churn", body);
  ASSERT_EQ(response.status, 200) << testing::describe(response);
  EXPECT_EQ(response.header("orchard-model-version"), "churn:1");
  const json answer = parse(response.body);
  EXPECT_EQ(answer["model_name"], "churn");
  EXPECT_EQ(answer["model_version"], "1");
  EXPECT_EQ(answer["id"], "request-42");
  ASSERT_EQ(answer["outputs"].size(), 1u);
  EXPECT_EQ(answer["outputs"][0]["datatype"], "FP64");
  EXPECT_EQ(answer["outputs"][0]["shape"], json::array({100}));
  EXPECT_TRUE(values_match(v2_output(answer), churn.xgboost));
}

TEST_F(KServeV2Test, InferOneTensorNestedData) {
  const auto& churn = churn_data();
  const Response response = infer("churn", v2_matrix(churn.rows, /*nested=*/true));
  ASSERT_EQ(response.status, 200) << testing::describe(response);
  const json answer = parse(response.body);
  EXPECT_FALSE(answer.contains("id"));  // none was sent
  EXPECT_TRUE(values_match(v2_output(answer), churn.xgboost));
}

TEST_F(KServeV2Test, InferOneTensorPerFeature) {
  const auto& churn = churn_data();
  const Response response = infer("churn", v2_columns(churn.features, churn.rows));
  ASSERT_EQ(response.status, 200) << testing::describe(response);
  EXPECT_TRUE(values_match(v2_output(parse(response.body)), churn.xgboost));

  // In another order, and with shape [N, 1].
  json body = v2_columns(churn.features, churn.rows);
  std::reverse(body["inputs"].begin(), body["inputs"].end());
  for (auto& input : body["inputs"]) input["shape"] = json::array({100, 1});
  const Response reordered = infer("churn", body);
  ASSERT_EQ(reordered.status, 200) << testing::describe(reordered);
  EXPECT_TRUE(values_match(v2_output(parse(reordered.body)), churn.xgboost));
}

TEST_F(KServeV2Test, NullIsMissing) {
  const auto& churn = churn_data();
  // The example rows have missing cells; each such row alone, with null where the cell is empty.
  int with_missing = 0;
  for (std::size_t r = 0; r < churn.rows.size(); ++r) {
    if (std::none_of(churn.rows[r].begin(), churn.rows[r].end(), [](double v) { return std::isnan(v); })) continue;
    ++with_missing;
    const json body = v2_matrix({churn.rows[r]});
    ASSERT_NE(body.dump().find("null"), std::string::npos);
    const Response response = infer("churn", body);
    ASSERT_EQ(response.status, 200) << testing::describe(response);
    EXPECT_TRUE(values_match(v2_output(parse(response.body)), {churn.xgboost[r]})) << "row " << r;
  }
  EXPECT_GT(with_missing, 10);
  // A row of nothing but nulls is still a row.
  json all_missing = v2_matrix({std::vector<double>(6, std::nan(""))});
  const Response response = infer("churn", all_missing);
  ASSERT_EQ(response.status, 200) << testing::describe(response);
  ASSERT_EQ(v2_output(parse(response.body)).size(), 1u);
  EXPECT_FALSE(std::isnan(v2_output(parse(response.body))[0]));
}

TEST_F(KServeV2Test, EveryNumericDatatype) {
  const auto& churn = churn_data();
  // XGBoost reads its inputs as float32, so FP32 data gives the same predictions as FP64.
  const Response fp32 = infer("churn", v2_matrix(churn.rows, false, "FP32"));
  ASSERT_EQ(fp32.status, 200) << testing::describe(fp32);
  EXPECT_TRUE(values_match(v2_output(parse(fp32.body)), churn.xgboost));

  // Integer features as INT32 / INT64 tensors (with nulls), the others as FP64 / FP32.
  json body = v2_columns(churn.features, churn.rows);
  const std::map<std::string, std::string> types = {{"age", "INT32"},   {"tenure", "FP64"}, {"monthly_charges", "FP32"},
                                                    {"plan", "INT64"},  {"region", "INT32"}, {"support_calls", "INT64"}};
  for (auto& input : body["inputs"]) {
    const std::string type = types.at(input["name"].get<std::string>());
    input["datatype"] = type;
    if (type.rfind("INT", 0) == 0) {
      for (auto& v : input["data"]) {
        if (!v.is_null()) v = static_cast<std::int64_t>(v.get<double>());
      }
    }
  }
  const Response mixed = infer("churn", body);
  ASSERT_EQ(mixed.status, 200) << testing::describe(mixed);
  EXPECT_TRUE(values_match(v2_output(parse(mixed.body)), churn.xgboost));

  // The other integer types read the same numbers.
  for (const char* type : {"INT8", "INT16", "UINT8", "UINT16", "UINT32", "UINT64"}) {
    json small = v2_columns({"plan"}, {{1}, {3}}, type);
    json rest = v2_columns({"age", "tenure", "monthly_charges", "region", "support_calls"}, {{40, 12, 70, 2, 1}, {60, 2, 99, 5, 4}});
    for (auto& input : rest["inputs"]) small["inputs"].push_back(input);
    const Response r1 = infer("churn", small);
    const Response r2 = infer("churn", v2_matrix({{40, 12, 70, 1, 2, 1}, {60, 2, 99, 3, 5, 4}}));
    ASSERT_EQ(r1.status, 200) << type << ": " << testing::describe(r1);
    ASSERT_EQ(r2.status, 200) << testing::describe(r2);
    EXPECT_TRUE(values_match(v2_output(parse(r1.body)), v2_output(parse(r2.body)))) << type;
  }

  // BOOL: true / false are 1 / 0.
  const std::vector<std::vector<double>> rows = {{30, 5, 50, 1, 2, 1}, {45, 20, 80, 2, 3, 0}, {70, 1, 110, 0, 1, 1}};
  json as_bool = v2_columns(churn.features, rows);
  for (auto& input : as_bool["inputs"]) {
    if (input["name"] != "support_calls") continue;
    input["datatype"] = "BOOL";
    input["data"] = json::array({true, false, true});
  }
  const Response b = infer("churn", as_bool);
  ASSERT_EQ(b.status, 200) << testing::describe(b);
  const Response numeric = infer("churn", v2_matrix(rows));
  ASSERT_EQ(numeric.status, 200);
  EXPECT_TRUE(values_match(v2_output(parse(b.body)), v2_output(parse(numeric.body))));

  // A BOOL tensor holding numbers, or true/false in a numeric tensor, is refused; so is BYTES.
  json bool_numbers = v2_matrix(rows, false, "BOOL");
  EXPECT_TRUE(is_json_error(infer("churn", bool_numbers), 400));
  json numeric_bools = v2_matrix({{1, 2, 3, 4, 5, 6}});
  numeric_bools["inputs"][0]["data"][3] = true;
  EXPECT_TRUE(is_json_error(infer("churn", numeric_bools), 400));
  EXPECT_TRUE(is_json_error(infer("churn", v2_matrix(rows, false, "BYTES")), 400));
}

TEST_F(KServeV2Test, RawMargins) {
  const auto& churn = churn_data();
  json body = v2_matrix(churn.rows);
  body["parameters"] = {{"raw", true}};
  const Response response = infer("churn", body);
  ASSERT_EQ(response.status, 200) << testing::describe(response);
  EXPECT_TRUE(values_match(v2_output(parse(response.body)), churn.xgboost_margin));
}

TEST_F(KServeV2Test, VersionSpecificInfer) {
  const auto& churn = churn_data();
  const Response response = client_->post("/v2/models/churn/versions/2/infer", v2_matrix(churn.rows).dump());
  ASSERT_EQ(response.status, 200) << testing::describe(response);
  EXPECT_EQ(response.header("orchard-model-version"), "churn:2");
  const json answer = parse(response.body);
  EXPECT_EQ(answer["model_version"], "2");
  EXPECT_TRUE(values_match(v2_output(answer), churn.lightgbm));

  // Version 1 by number, and the endpoint itself still answers with version 1.
  const Response v1 = client_->post("/v2/models/churn/versions/1/infer", v2_columns(churn.features, churn.rows).dump());
  ASSERT_EQ(v1.status, 200) << testing::describe(v1);
  EXPECT_EQ(v1.header("orchard-model-version"), "churn:1");
  EXPECT_TRUE(values_match(v2_output(parse(v1.body)), churn.xgboost));
  const Response endpoint = infer("churn", v2_matrix(churn.rows));
  EXPECT_EQ(endpoint.header("orchard-model-version"), "churn:1");
}

TEST_F(KServeV2Test, MulticlassIris) {
  const auto& iris = iris_data();
  const Response response = infer("iris", v2_matrix(iris.rows));
  ASSERT_EQ(response.status, 200) << testing::describe(response);
  EXPECT_EQ(response.header("orchard-model-version"), "iris:1");
  const json answer = parse(response.body);
  EXPECT_EQ(answer["outputs"][0]["shape"], json::array({static_cast<int>(iris.rows.size()), 3}));
  std::vector<double> expected;
  for (const auto& row : iris.expected) expected.insert(expected.end(), row.begin(), row.end());
  EXPECT_TRUE(values_match(v2_output(answer), expected));
}

TEST_F(KServeV2Test, BadInputsAre400WithTheReason) {
  const auto& churn = churn_data();
  const std::vector<std::vector<double>> one = {churn.rows[0]};

  // Wrong feature count in the [N, F] tensor.
  const Response five = infer("churn", v2_matrix({{1, 2, 3, 4, 5}}));
  EXPECT_TRUE(is_json_error(five, 400));
  EXPECT_NE(parse(five.body)["error"].get<std::string>().find('6'), std::string::npos) << five.body;

  // An unknown feature is named.
  json unknown = v2_columns(churn.features, one);
  unknown["inputs"][2]["name"] = "favourite_colour";
  const Response named = infer("churn", unknown);
  EXPECT_TRUE(is_json_error(named, 400));
  EXPECT_NE(named.body.find("favourite_colour"), std::string::npos) << named.body;

  // A missing feature is named.
  json missing = v2_columns(churn.features, one);
  missing["inputs"].erase(3);  // plan
  const Response absent = infer("churn", missing);
  EXPECT_TRUE(is_json_error(absent, 400));
  EXPECT_NE(absent.body.find("plan"), std::string::npos) << absent.body;

  // A non-numeric value.
  json text = v2_matrix(one);
  text["inputs"][0]["data"][1] = "twelve";
  EXPECT_TRUE(is_json_error(infer("churn", text), 400));
  json object = v2_matrix(one);
  object["inputs"][0]["data"][1] = json::object();
  EXPECT_TRUE(is_json_error(infer("churn", object), 400));

  // Data count not matching the shape, both ways.
  json short_data = v2_matrix(one);
  short_data["inputs"][0]["shape"] = json::array({2, 6});
  EXPECT_TRUE(is_json_error(infer("churn", short_data), 400));
  json long_data = v2_matrix({churn.rows[0], churn.rows[1]});
  long_data["inputs"][0]["shape"] = json::array({1, 6});
  EXPECT_TRUE(is_json_error(infer("churn", long_data), 400));
  // Feature tensors with different row counts.
  json ragged = v2_columns(churn.features, {churn.rows[0], churn.rows[1]});
  ragged["inputs"][0]["data"] = json::array({30});
  ragged["inputs"][0]["shape"] = json::array({1});
  EXPECT_TRUE(is_json_error(infer("churn", ragged), 400));
  // The same feature twice.
  json twice = v2_columns(churn.features, one);
  twice["inputs"].push_back(twice["inputs"][0]);
  EXPECT_TRUE(is_json_error(infer("churn", twice), 400));

  // Malformed JSON and bodies that are not inference requests.
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn/infer", "{\"inputs\": [ {\"name\": "), 400));
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn/infer", "not json at all"), 400));
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn/infer", ""), 400));
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn/infer", "{}"), 400));
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn/infer", R"({"inputs": []})"), 400));
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn/infer", R"({"inputs": [{"name": "input-0", "shape": [1, 6], "data": [1,2,3,4,5,6]}])"), 400));
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn/infer", R"({"inputs": [{"name": "input-0", "datatype": "FP64", "shape": [1, 6]}]})"), 400));
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn/infer", R"({"inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, 6], "data": []}]})"), 400));
  // No rows.
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn/infer", R"({"inputs": [{"name": "input-0", "datatype": "FP64", "shape": [0, 6], "data": []}]})"), 400));
}

TEST_F(KServeV2Test, RoutingErrors) {
  const json body = v2_matrix({churn_data().rows[0]});
  EXPECT_TRUE(is_json_error(infer("nosuchmodel", body), 404));
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn/versions/9/infer", body.dump()), 404));
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn/versions/0/infer", body.dump()), 404));
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn/versions/one/infer", body.dump()), 404));
  EXPECT_TRUE(is_json_error(client_->get("/v2/models/churn/infer"), 405));
  EXPECT_TRUE(is_json_error(client_->request("PUT", "/v2/models/churn/infer", body.dump()), 405));
  EXPECT_TRUE(is_json_error(client_->get("/v2/models/churn/bogus"), 404));
  EXPECT_TRUE(is_json_error(client_->get("/nowhere"), 404));

  const Response octet = client_->post("/v2/models/churn/infer", body.dump(), {{"Content-Type", "application/octet-stream"}});
  EXPECT_TRUE(is_json_error(octet, 415));
  EXPECT_TRUE(is_json_error(client_->post("/v2/models/churn/infer", body.dump(), {{"Content-Type", "image/png"}}), 415));
  // JSON with a charset, and the types curl sends by default, are accepted.
  EXPECT_EQ(client_->post("/v2/models/churn/infer", body.dump(), {{"Content-Type", "application/json; charset=utf-8"}}).status, 200);
  EXPECT_EQ(client_->post("/v2/models/churn/infer", body.dump(), {{"Content-Type", "application/x-www-form-urlencoded"}}).status, 200);
}

TEST_F(KServeV2Test, StatisticsCountRequestsAndRows) {
  auto stats = [&](const std::string& target) {
    const Response response = client_->get(target);
    EXPECT_EQ(response.status, 200) << testing::describe(response);
    const json body = parse(response.body);
    EXPECT_TRUE(body["model_stats"].is_array()) << response.body;
    return body["model_stats"];
  };
  const json before = stats("/v2/models/iris/stats");
  ASSERT_EQ(before.size(), 1u) << before.dump();
  EXPECT_EQ(before[0]["name"], "iris");
  EXPECT_EQ(before[0]["version"], "1");

  const auto& iris = iris_data();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(infer("iris", v2_matrix({iris.rows[0], iris.rows[1]})).status, 200);
  }
  ASSERT_EQ(client_->post("/v2/models/iris/versions/1/infer", v2_matrix({iris.rows[2]}).dump()).status, 200);
  EXPECT_EQ(infer("iris", v2_matrix({{1, 2, 3}})).status, 400);  // a refused request runs nothing

  const json after = stats("/v2/models/iris/versions/1/stats");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0]["execution_count"].get<std::int64_t>() - before[0]["execution_count"].get<std::int64_t>(), 4);
  EXPECT_EQ(after[0]["inference_count"].get<std::int64_t>() - before[0]["inference_count"].get<std::int64_t>(), 7);
  EXPECT_EQ(after[0]["inference_stats"]["success"]["count"].get<std::int64_t>() -
                before[0]["inference_stats"]["success"]["count"].get<std::int64_t>(),
            4);
  EXPECT_GT(after[0]["inference_stats"]["success"]["ns"].get<std::int64_t>(), 0);

  // All served versions.
  const json all = stats("/v2/models/stats");
  bool saw_churn = false, saw_iris = false;
  for (const auto& entry : all) {
    saw_churn = saw_churn || (entry["name"] == "churn" && entry["version"] == "1");
    saw_iris = saw_iris || (entry["name"] == "iris" && entry["version"] == "1");
  }
  EXPECT_TRUE(saw_churn && saw_iris) << all.dump();
}

TEST_F(KServeV2Test, KeepAliveServesManyRequestsOnOneConnection) {
  const json body = v2_matrix({churn_data().rows[5]});
  for (int i = 0; i < 50; ++i) {
    const Response response = infer("churn", body);
    ASSERT_EQ(response.status, 200);
    ASSERT_TRUE(response.keep_alive);
    // Errors keep the connection too.
    ASSERT_EQ(client_->get("/v2/models/nosuchmodel").status, 404);
  }
  EXPECT_EQ(client_->connections_opened(), 1u);
}

TEST_F(KServeV2Test, HeadersOverTheLimitGet431) {
  RawConnection raw(server_->port());
  const std::string big(20000, 'a');
  ASSERT_TRUE(raw.send("GET /v2 HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n"));
  const auto result = raw.read_until_closed(std::chrono::seconds(5));
  ASSERT_TRUE(testing::holds_whole_response(result.data)) << result.data;
  EXPECT_TRUE(is_json_error(testing::parse_response(result.data), 431));
  EXPECT_TRUE(result.closed);
}

TEST_F(KServeV2Test, PipelinedRequestsAreAnsweredInOrder) {
  RawConnection raw(server_->port());
  const std::string body = v2_matrix({churn_data().rows[1]}).dump();
  const std::string infer = "POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_TRUE(raw.send("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n" + infer + "GET /v2/models/nosuchmodel HTTP/1.1\r\nHost: x\r\n\r\n"));
  const Response first = raw.read_response(std::chrono::seconds(5));
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(parse(first.body)["live"], true);
  const Response second = raw.read_response(std::chrono::seconds(5));
  EXPECT_EQ(second.status, 200);
  EXPECT_TRUE(values_match(v2_output(parse(second.body)), {churn_data().xgboost[1]}));
  EXPECT_TRUE(is_json_error(raw.read_response(std::chrono::seconds(5)), 404));
}

// BUG (reported, not fixed): "Expect: 100-continue" is ignored; clients that send it (curl does for
// bodies over 1 MiB) wait for their own timeout (1 s in curl) before sending the body.
TEST_F(KServeV2Test, Expect100ContinueIsAnswered) {
  RawConnection raw(server_->port());
  const std::string body = v2_matrix({churn_data().rows[1]}).dump();
  ASSERT_TRUE(raw.send("POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\n"
                       "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
  const auto interim = raw.read_until_closed(std::chrono::milliseconds(800));
  EXPECT_EQ(interim.data.rfind("HTTP/1.1 100", 0), 0u) << "no 100 Continue within 0.8 s: \"" << interim.data << "\"";
  ASSERT_TRUE(raw.send(body));
}

// BUG (reported, not fixed): a request whose start line or headers cannot be parsed gets no answer;
// the connection is just closed. HttpServer's on_header() closes on every error except header_limit,
// so the 400 path in on_read() is never reached for these.
TEST_F(KServeV2Test, MalformedRequestLineGets400) {
  for (const std::string bad : {"GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nHost x\r\n\r\n", "GET / HTTP/9.9\r\n\r\n"}) {
    RawConnection raw(server_->port());
    ASSERT_TRUE(raw.send(bad));
    const auto result = raw.read_until_closed(std::chrono::seconds(5));
    ASSERT_TRUE(testing::holds_whole_response(result.data)) << "no response to " << bad;
    EXPECT_TRUE(is_json_error(testing::parse_response(result.data), 400));
  }
}

// BUG (reported, not fixed): HEAD is answered with a body (HEAD is treated as GET and the body is
// serialized), so the next response on a kept-alive connection is misframed.
TEST_F(KServeV2Test, HeadHasNoBody) {
  const Response head = client_->request("HEAD", "/v2/health/live");
  EXPECT_EQ(head.status, 200);
  const Response next = client_->get("/v2");
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(parse(next.body)["name"], "orchard");
}

// A server with small limits: 1 MiB bodies and 10 rows per request.
class KServeV2LimitsTest : public testing::DemoServerTest {
 protected:
  static void SetUpTestSuite() { start({"--body-limit-mib", "1", "--max-rows", "10"}); }
};

TEST_F(KServeV2LimitsTest, TooManyRows) {
  HttpClient client(server_->port());
  const auto& churn = churn_data();
  const std::vector<std::vector<double>> ten(churn.rows.begin(), churn.rows.begin() + 10);
  const std::vector<std::vector<double>> eleven(churn.rows.begin(), churn.rows.begin() + 11);
  const Response ok = client.post("/v2/models/churn/infer", v2_matrix(ten).dump());
  ASSERT_EQ(ok.status, 200) << testing::describe(ok);
  EXPECT_TRUE(values_match(v2_output(parse(ok.body)), std::vector<double>(churn.xgboost.begin(), churn.xgboost.begin() + 10)));

  const Response over = client.post("/v2/models/churn/infer", v2_matrix(eleven).dump());
  EXPECT_TRUE(is_json_error(over, over.status == 413 ? 413 : 400));
  EXPECT_NE(over.body.find("10"), std::string::npos) << over.body;
  const Response columns = client.post("/v2/models/churn/infer", v2_columns(churn.features, eleven).dump());
  EXPECT_TRUE(is_json_error(columns, columns.status == 413 ? 413 : 400));
  const Response invocations = client.post("/endpoints/churn/invocations", json({{"instances", testing::row_lists(eleven)}}).dump());
  EXPECT_TRUE(is_json_error(invocations, invocations.status == 413 ? 413 : 400));
}

TEST_F(KServeV2LimitsTest, BodyJustUnderTheLimitIsServed) {
  HttpClient client(server_->port());
  // A one-row request padded with whitespace to just under 1 MiB.
  std::string body = v2_matrix({churn_data().rows[0]}).dump();
  body.insert(1, std::string((std::size_t{1} << 20) - body.size() - 16, ' '));
  const Response response = client.post("/v2/models/churn/infer", body);
  ASSERT_EQ(response.status, 200) << testing::describe(response);
  EXPECT_TRUE(values_match(v2_output(parse(response.body)), {churn_data().xgboost[0]}));
}

TEST_F(KServeV2LimitsTest, ChunkedBodyOverTheLimitGets413) {
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.send("POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk(256 << 10, ' ');
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
  for (int i = 0; i < 8; ++i) {  // 2 MiB; the server may stop reading (and close) part way
    if (!raw.send(size + chunk + "\r\n")) break;
  }
  const auto result = raw.read_until_closed(std::chrono::seconds(10));
  ASSERT_TRUE(testing::holds_whole_response(result.data)) << "no response: " << result.data.substr(0, 200);
  EXPECT_TRUE(is_json_error(testing::parse_response(result.data), 413));
  // The server is fine afterwards.
  HttpClient client(server_->port());
  EXPECT_EQ(client.get("/v2/health/ready").status, 200);
}

// BUG (reported, not fixed): a body announced by Content-Length over --body-limit-mib gets no 413;
// Beast reports body_limit while reading the header, and on_header() closes the connection without
// answering (the 413 in on_read() is only reached by chunked bodies).
TEST_F(KServeV2LimitsTest, ContentLengthBodyOverTheLimitGets413) {
  RawConnection raw(server_->port());
  const std::string body((std::size_t{2} << 20), ' ');
  ASSERT_TRUE(raw.send("POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n"));
  raw.send(body);  // the server may close before reading it all
  const auto result = raw.read_until_closed(std::chrono::seconds(10));
  ASSERT_TRUE(testing::holds_whole_response(result.data)) << "no response: " << result.data.substr(0, 200);
  EXPECT_TRUE(is_json_error(testing::parse_response(result.data), 413));
}

}  // namespace
}  // namespace orchard
