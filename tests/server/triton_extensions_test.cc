// Triton's extensions that its clients use by default: binary tensor data, the model repository API.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "server/http_client.h"
#include "server/server_fixture.h"

namespace orchard {
namespace {

using nlohmann::json;

class TritonExtensionsTest : public testing::DemoServerTest {
 protected:
  testing::HttpClient& client() { return *client_; }
};

TEST_F(TritonExtensionsTest, BinaryInputsAndOutputs) {
  const auto& churn = testing::churn_data();
  // Two rows as FP32 little-endian bytes after the JSON header.
  std::vector<float> values;
  for (int r = 0; r < 2; ++r) for (double v : churn.rows[static_cast<std::size_t>(r)]) values.push_back(static_cast<float>(v));
  const std::string header = json{{"inputs", json::array({{{"name", "input-0"}, {"shape", {2, 6}}, {"datatype", "FP32"},
                                                            {"parameters", {{"binary_data_size", values.size() * 4}}}}})},
                                  {"outputs", json::array({{{"name", "prediction"}, {"parameters", {{"binary_data", true}}}}})}}
                                 .dump();
  std::string body = header;
  body.append(reinterpret_cast<const char*>(values.data()), values.size() * 4);
  auto& c = client();
  const auto response = c.post("/v2/models/churn/infer", body,
                               {{"Content-Type", "application/octet-stream"}, {"Inference-Header-Content-Length", std::to_string(header.size())}});
  ASSERT_EQ(response.status, 200) << response.body;
  const auto length_header = response.headers.find("inference-header-content-length");
  ASSERT_NE(length_header, response.headers.end());
  const std::size_t json_length = std::stoul(length_header->second);
  const json meta = json::parse(response.body.substr(0, json_length));
  ASSERT_EQ(meta["outputs"][0]["parameters"]["binary_data_size"], 16);
  ASSERT_EQ(response.body.size(), json_length + 16);
  double out[2];
  std::memcpy(out, response.body.data() + json_length, 16);
  for (int r = 0; r < 2; ++r) EXPECT_NEAR(out[r], churn.expected(1)[static_cast<std::size_t>(r)], 1e-6) << "row " << r;
}

TEST_F(TritonExtensionsTest, BinaryDataThatRunsPastTheBodyIs400) {
  const std::string header = R"({"inputs":[{"name":"input-0","shape":[1,6],"datatype":"FP64","parameters":{"binary_data_size":48}}]})";
  auto& c = client();
  const auto response = c.post("/v2/models/churn/infer", header + std::string(8, '\0'),
                               {{"Content-Type", "application/octet-stream"}, {"Inference-Header-Content-Length", std::to_string(header.size())}});
  EXPECT_EQ(response.status, 400) << response.body;
}

TEST_F(TritonExtensionsTest, RepositoryIndexUnloadAndLoad) {
  auto& c = client();
  auto index = json::parse(c.post("/v2/repository/index", "{}").body);
  ASSERT_EQ(index.size(), 2u);
  for (const auto& entry : index) EXPECT_EQ(entry["state"], "READY");

  ASSERT_EQ(c.post("/v2/repository/models/iris/unload", "{}").status, 200);
  EXPECT_EQ(c.get("/v2/models/iris/ready").status, 404);
  index = json::parse(c.post("/v2/repository/index", "{}").body);
  bool found = false;
  for (const auto& entry : index) {
    if (entry["name"] == "iris") {
      found = true;
      EXPECT_EQ(entry["state"], "UNAVAILABLE");
      EXPECT_EQ(entry["reason"], "unloaded");
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(c.post("/v2/repository/models/iris/unload", "{}").status, 400) << "not loaded any more";

  ASSERT_EQ(c.post("/v2/repository/models/iris/load", "{}").status, 200);
  EXPECT_EQ(c.get("/v2/models/iris/ready").status, 200);
  EXPECT_EQ(c.post("/v2/repository/models/nope/load", "{}").status, 400);
  EXPECT_EQ(c.get("/v2/repository/index").status, 405);
}

}  // namespace
}  // namespace orchard
