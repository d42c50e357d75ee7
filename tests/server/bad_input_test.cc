// Bad input against the real server (issue 7, hardening): every case is one row of a table, sent to
// one `orchard serve --demo` started with small limits (--read-timeout 2, --body-limit-mib 1,
// --max-rows 1000). Each must be answered with its 4xx status and a JSON {"error": "..."} body,
// within the client's timeout (no hang), and the server must still answer GET /health after it (no
// crash). The server runs under AddressSanitizer in scripts/sanitize.sh, which turns a leak or a
// memory error on any of these paths into a failure.
//
// Tables: the Open Inference Protocol v2 decoder, MLflow invocations, the management API, names and
// paths (traversal, odd Unicode), hostile model files uploaded as versions, and HTTP itself (raw
// bytes: oversized and malformed requests, clients that stall or trickle a byte per second).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/http_client.h"
#include "server/server_fixture.h"

namespace orchard {
namespace {

using testing::DemoServerTest;
using testing::Headers;
using testing::HttpClient;
using testing::HttpError;
using testing::RawConnection;
using testing::Response;
using testing::is_json_error;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr int kReadTimeout = 2;  // --read-timeout of the server under test

struct BadRequest {
  std::string name;
  std::string method;
  std::string target;
  std::string body;
  int status;
  Headers headers = {};
};

// A string literal with NULs, whole.
template <std::size_t N>
std::string bytes(const char (&literal)[N]) { return std::string(literal, N - 1); }
// UBJSON: {"learner": [a typed array of 10^12 float64]} with no values; {"learner": a string of 2^63 - 1 bytes}.
constexpr char kTrillionValues[] = "{i\x07learner[$D#L\x00\x00\x00\xe8\xd4\xa5\x10\x00";
// ONNX: ir_version 7, then a graph field declared 4 GiB long.
constexpr char kOnnxOverlong[] = "\x08\x07\x3a\xff\xff\xff\xff\x0f";
constexpr char kHugeString[] = "{i\x07learnerSL\x7f\xff\xff\xff\xff\xff\xff\xff";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string repeat(const std::string& text, std::size_t n) {
  std::string out;
  out.reserve(text.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += text;
  return out;
}

// One v2 tensor as JSON text, for bodies that nlohmann would refuse to write (NaN, huge numbers).
std::string v2_body(const std::string& tensor) { return "{\"inputs\":[" + tensor + "]}"; }
const std::string kGoodRow = R"({"name":"input-0","datatype":"FP64","shape":[1,6],"data":[34,12,70.5,1,2,0]})";
std::string matrix(const std::string& shape, const std::string& data, const std::string& datatype = "FP64") {
  return R"({"name":"input-0","datatype":")" + datatype + R"(","shape":)" + shape + R"(,"data":)" + data + "}";
}
std::string column(const std::string& name, const std::string& shape, const std::string& data, const std::string& datatype = "FP64") {
  return R"({"name":")" + name + R"(","datatype":")" + datatype + R"(","shape":)" + shape + R"(,"data":)" + data + "}";
}
// Every churn feature as a [1] column except those listed in `skip`, then `extra`.
std::string columns(const std::vector<std::string>& skip, const std::string& extra = "") {
  std::string out;
  for (const char* f : {"age", "tenure", "monthly_charges", "plan", "region", "support_calls"}) {
    if (std::find(skip.begin(), skip.end(), f) != skip.end()) continue;
    out += (out.empty() ? "" : ",") + column(f, "[1]", "[1]");
  }
  if (!extra.empty()) out += "," + extra;
  return "{\"inputs\":[" + out + "]}";
}

class BadInputTest : public DemoServerTest {
 protected:
  static void SetUpTestSuite() { start({"--read-timeout", std::to_string(kReadTimeout), "--body-limit-mib", "1", "--max-rows", "1000"}); }

  void expect_alive(const std::string& after) {
    HttpClient client(server_->port(), std::chrono::seconds(10));
    Response health;
    ASSERT_NO_THROW(health = client.get("/health")) << "the server no longer answers after " << after << "\n" << server_->log();
    EXPECT_EQ(health.status, 200) << "after " << after;
    ASSERT_TRUE(server_->running()) << "the server exited after " << after << "\n" << server_->log();
  }

  void run_table(const std::vector<BadRequest>& table) {
    for (const BadRequest& c : table) {
      SCOPED_TRACE(c.name);
      HttpClient client(server_->port(), std::chrono::seconds(20));
      Headers headers = c.headers;
      const bool has_type = std::any_of(headers.begin(), headers.end(), [](const auto& h) { return h.first == "Content-Type"; });
      if (!c.body.empty() && !has_type) headers.emplace_back("Content-Type", "application/json");
      const auto started = Clock::now();
      Response response;
      try {
        response = client.request(c.method, c.target, c.body, headers);
      } catch (const HttpError& e) {
        ADD_FAILURE() << c.name << ": no response (" << e.what() << ")";
        expect_alive(c.name);
        continue;
      }
      EXPECT_TRUE(is_json_error(response, c.status)) << c.name;
      EXPECT_LT(std::chrono::duration<double>(Clock::now() - started).count(), 10.0) << c.name << " took too long";
      expect_alive(c.name);
    }
  }

  static std::string churn_ubj() { return slurp(testing::examples_dir() + "/churn/churn_xgboost.ubj"); }
  static std::string churn_lightgbm() { return slurp(testing::examples_dir() + "/churn/churn_lightgbm.txt"); }
  static json iris_xgboost() { return json::parse(slurp(testing::examples_dir() + "/iris/iris_xgboost.json")); }
};

// ---- Open Inference Protocol v2 --------------------------------------------------------------

TEST_F(BadInputTest, V2RequestsAreRefusedWithClearErrors) {
  const std::string infer = "/v2/models/churn/infer";
  const Headers binary = {{"Content-Type", "application/octet-stream"}};
  const std::string binary_header = R"({"inputs":[{"name":"input-0","datatype":"FP64","shape":[1,6],"parameters":{"binary_data_size":5}}]})";
  std::vector<BadRequest> table = {
      // Malformed and deeply nested JSON.
      {"unterminated object", "POST", infer, "{", 400},
      {"not JSON at all", "POST", infer, "hello", 400},
      {"JSON null", "POST", infer, "null", 400},
      {"JSON list", "POST", infer, "[]", 400},
      {"inputs is a number", "POST", infer, R"({"inputs":5})", 400},
      {"inputs is an object", "POST", infer, R"({"inputs":{}})", 400},
      {"inputs is empty", "POST", infer, R"({"inputs":[]})", 400},
      {"trailing garbage", "POST", infer, v2_body(kGoodRow) + " xyz", 400},
      {"unterminated string", "POST", infer, R"({"inputs":[{"name":"input-0)", 400},
      {"invalid UTF-8 in a name", "POST", infer, v2_body(column("\xff\xfe", "[1]", "[1]")), 400},
      {"100000 open brackets", "POST", infer, repeat("[", 100000), 400},
      {"5000 nested lists", "POST", infer, "{\"inputs\":" + repeat("[", 5000) + repeat("]", 5000) + "}", 400},
      {"5000 nested objects", "POST", infer, repeat("{\"a\":", 5000) + "1" + repeat("}", 5000), 400},
      {"data nested 3000 deep", "POST", infer, v2_body(matrix("[1,6]", repeat("[", 3000) + "1" + repeat("]", 3000))), 400},
      // Shapes: huge, negative, not integers.
      {"negative shape", "POST", infer, v2_body(matrix("[-1,6]", "[]")), 400},
      {"huge shape", "POST", infer, v2_body(matrix("[1000000000000,6]", "[]")), 400},
      {"shape whose product overflows", "POST", infer, v2_body(matrix("[9223372036854775807,9223372036854775807]", "[]")), 400},
      {"shape beyond int64", "POST", infer, v2_body(matrix("[18446744073709551615,6]", "[]")), 400},
      {"fractional shape", "POST", infer, v2_body(matrix("[1.5,6]", "[1,2,3,4,5,6]")), 400},
      {"shape of strings", "POST", infer, v2_body(matrix(R"(["1","6"])", "[1,2,3,4,5,6]")), 400},
      {"shape is a number", "POST", infer, v2_body(matrix("6", "[1,2,3,4,5,6]")), 400},
      {"shape overflows a double", "POST", infer, v2_body(matrix("[1e999,6]", "[1,2,3,4,5,6]")), 400},
      {"no shape", "POST", infer, v2_body(R"({"name":"input-0","datatype":"FP64","data":[1,2,3,4,5,6]})"), 400},
      {"scalar shape", "POST", infer, v2_body(matrix("[]", "[1]")), 400},
      {"wrong width", "POST", infer, v2_body(matrix("[1,7]", "[1,2,3,4,5,6,7]")), 400},
      // Shape and data that disagree.
      {"too few values", "POST", infer, v2_body(matrix("[2,6]", "[1,2,3]")), 400},
      {"too many values", "POST", infer, v2_body(matrix("[1,6]", "[1,2,3,4,5,6,7]")), 400},
      {"ragged nested data", "POST", infer, v2_body(matrix("[2,6]", "[[1,2,3,4,5,6],[1]]")), 400},
      {"data is an object", "POST", infer, v2_body(matrix("[1,6]", R"({"a":1})")), 400},
      {"zero rows", "POST", infer, v2_body(matrix("[0,6]", "[]")), 400},
      {"more rows than --max-rows", "POST", infer, v2_body(matrix("[2000,6]", "[]")), 413},
      // NaN and Inf are not JSON; text is not a number.
      {"NaN literal", "POST", infer, v2_body(matrix("[1,6]", "[NaN,1,2,3,4,5]")), 400},
      {"Infinity literal", "POST", infer, v2_body(matrix("[1,6]", "[Infinity,1,2,3,4,5]")), 400},
      {"-Infinity literal", "POST", infer, v2_body(matrix("[1,6]", "[-Infinity,1,2,3,4,5]")), 400},
      {"number overflowing a double", "POST", infer, v2_body(matrix("[1,6]", "[1e999,1,2,3,4,5]")), 400},
      {"\"nan\" as text in FP64", "POST", infer, v2_body(matrix("[1,6]", R"(["nan",1,2,3,4,5])")), 400},
      // Datatypes.
      {"unknown datatype", "POST", infer, v2_body(matrix("[1,6]", "[1,2,3,4,5,6]", "FP128")), 400},
      {"BOOL holding numbers", "POST", infer, v2_body(matrix("[1,6]", "[1,2,3,4,5,6]", "BOOL")), 400},
      {"FP64 holding booleans", "POST", infer, v2_body(matrix("[1,6]", "[true,1,2,3,4,5]")), 400},
      {"INT32 holding a fraction", "POST", infer, v2_body(matrix("[1,6]", "[1.5,1,2,3,4,5]", "INT32")), 400},
      {"INT64 beyond int64", "POST", infer, v2_body(matrix("[1,6]", "[1e19,1,2,3,4,5]", "INT64")), 400},
      {"BYTES as a matrix", "POST", infer, v2_body(matrix("[1,6]", R"(["a","b","c","d","e","f"])", "BYTES")), 400},
      {"BYTES holding numbers", "POST", infer, columns({"plan"}, column("plan", "[1]", "[1]", "BYTES")), 400},
      {"BYTES text that is no number", "POST", infer, columns({"age"}, column("age", "[1]", R"(["old"])", "BYTES")), 400},
      // Tensors that do not match the model's features.
      {"no name", "POST", infer, v2_body(R"({"datatype":"FP64","shape":[1,6],"data":[1,2,3,4,5,6]})"), 400},
      {"no datatype", "POST", infer, v2_body(R"({"name":"input-0","shape":[1,6],"data":[1,2,3,4,5,6]})"), 400},
      {"no data", "POST", infer, v2_body(R"({"name":"input-0","datatype":"FP64","shape":[1,6]})"), 400},
      {"unknown feature", "POST", infer, columns({}, column("shoe_size", "[1]", "[1]")), 400},
      {"feature given twice", "POST", infer, columns({}, column("age", "[1]", "[1]")), 400},
      {"missing feature", "POST", infer, columns({"tenure"}), 400},
      {"columns of different lengths", "POST", infer, columns({"age"}, column("age", "[2]", "[1,2]")), 400},
      {"column of width 2", "POST", infer, columns({"age"}, column("age", "[1,2]", "[1,2]")), 400},
      // Triton's binary tensors.
      {"binary size beyond the body", "POST", infer, R"({"inputs":[{"name":"input-0","datatype":"FP64","shape":[1,6],"parameters":{"binary_data_size":48}}]})", 400},
      {"binary size negative", "POST", infer, R"({"inputs":[{"name":"input-0","datatype":"FP64","shape":[1,6],"parameters":{"binary_data_size":-1}}]})", 400},
      {"binary data not whole values", "POST", infer, binary_header + "12345", 400,
       {{"Inference-Header-Content-Length", std::to_string(binary_header.size())}, binary[0]}},
      {"header length beyond the body", "POST", infer, v2_body(kGoodRow), 400, {{"Inference-Header-Content-Length", "99999"}, binary[0]}},
      {"negative header length", "POST", infer, v2_body(kGoodRow), 400, {{"Inference-Header-Content-Length", "-1"}, binary[0]}},
      {"header length not a number", "POST", infer, v2_body(kGoodRow), 400, {{"Inference-Header-Content-Length", "ten"}, binary[0]}},
      // Content type, model, version, method.
      {"XML content type", "POST", infer, v2_body(kGoodRow), 415, {{"Content-Type", "application/xml"}}},
      {"unknown model", "POST", "/v2/models/nosuch/infer", v2_body(kGoodRow), 404},
      {"unknown version", "POST", "/v2/models/churn/versions/99/infer", v2_body(kGoodRow), 404},
      {"negative version", "POST", "/v2/models/churn/versions/-1/infer", v2_body(kGoodRow), 404},
      {"version beyond int64", "POST", "/v2/models/churn/versions/99999999999999999999/infer", v2_body(kGoodRow), 404},
      {"GET on infer", "GET", infer, "", 405},
      {"unknown action", "GET", "/v2/models/churn/explode", "", 404},
  };
  run_table(table);
  EXPECT_GE(table.size(), 60u);
}

// ---- MLflow invocations ----------------------------------------------------------------------

TEST_F(BadInputTest, InvocationsAreRefusedWithClearErrors) {
  const std::string url = "/endpoints/churn/invocations";
  const Headers csv = {{"Content-Type", "text/csv"}};
  const std::string header = "age,tenure,monthly_charges,plan,region,support_calls\n";
  std::string many_rows = "{\"instances\":[";
  for (int r = 0; r < 1001; ++r) many_rows += std::string(r ? "," : "") + "[1,2,3,4,5,6]";
  many_rows += "]}";
  std::vector<BadRequest> table = {
      {"unterminated object", "POST", url, "{", 400},
      {"a list, not an object", "POST", url, "[1,2]", 400},
      {"none of the forms", "POST", url, "{}", 400},
      {"deeply nested", "POST", url, "{\"instances\":" + repeat("[", 5000) + repeat("]", 5000) + "}", 400},
      {"split without data", "POST", url, R"({"dataframe_split":{"columns":["age"]}})", 400},
      {"split column names not strings", "POST", url, R"({"dataframe_split":{"columns":[1,2],"data":[[1,2]]}})", 400},
      {"split row of the wrong length", "POST", url, R"({"dataframe_split":{"columns":["age","tenure"],"data":[[1]]}})", 400},
      {"split missing a feature", "POST", url, R"({"dataframe_split":{"columns":["age"],"data":[[1]]}})", 400},
      {"records that are numbers", "POST", url, R"({"dataframe_records":[1,2]})", 400},
      {"record missing a feature", "POST", url, R"({"dataframe_records":[{"age":1}]})", 400},
      {"instance of the wrong length", "POST", url, R"({"instances":[[1,2]]})", 400},
      {"instance holding an object", "POST", url, R"({"instances":[[{"a":1},2,3,4,5,6]]})", 400},
      {"text that is no number", "POST", url, R"({"instances":[["old",2,3,4,5,6]]})", 400},
      {"columns of different lengths", "POST", url, R"({"inputs":{"age":[1,2],"tenure":[1]}})", 400},
      {"inputs is a number", "POST", url, R"({"inputs":5})", 400},
      {"inputs column not a list", "POST", url, R"({"inputs":{"age":5}})", 400},
      {"NaN literal", "POST", url, R"({"instances":[[NaN,2,3,4,5,6]]})", 400},
      {"number overflowing a double", "POST", url, R"({"instances":[[1e999,2,3,4,5,6]]})", 400},
      {"more rows than --max-rows", "POST", url, many_rows, 413},
      {"CSV missing features", "POST", url, "age,tenure\n1,2\n", 400, csv},
      {"CSV cell that is no number", "POST", url, header + "old,2,3,4,5,6\n", 400, csv},
      {"CSV row of the wrong length", "POST", url, header + "1,2,3\n", 400, csv},
      {"CSV quote spanning lines", "POST", url, header + "1,\"2\n\",3,4,5,6\n", 400, csv},
      {"CSV empty", "POST", url, "", 400, csv},
      {"CSV header only", "POST", url, header, 400, csv},
      {"XML content type", "POST", url, "<rows/>", 415, {{"Content-Type", "application/xml"}}},
      {"GET", "GET", url, "", 405},
      {"unknown endpoint", "POST", "/endpoints/nosuch/invocations", R"({"instances":[[1,2,3,4,5,6]]})", 404},
      {"/invocations with two endpoints", "POST", "/invocations", R"({"instances":[[1,2,3,4,5,6]]})", 404},
  };
  run_table(table);
  EXPECT_GE(table.size(), 25u);
}

// ---- Management API --------------------------------------------------------------------------

TEST_F(BadInputTest, ManagementRequestsAreRefusedWithClearErrors) {
  const std::string alias = "/api/v1/models/churn/aliases/production";
  const std::string route = "/api/v1/endpoints/churn";
  const std::string customers = slurp(testing::examples_dir() + "/churn/customers.csv");
  const Headers csv = {{"Content-Type", "text/csv"}};
  std::vector<BadRequest> table = {
      {"alias: not JSON", "PUT", alias, "{", 400},
      {"alias: version is text", "PUT", alias, R"({"version":"x"})", 400},
      {"alias: version is a fraction", "PUT", alias, R"({"version":1.5})", 400},
      {"alias: version overflows", "PUT", alias, R"({"version":1e999})", 400},
      {"alias: version does not exist", "PUT", alias, R"({"version":99})", 404},
      {"alias: 400000 open brackets", "PUT", alias, repeat("[", 400000), 400},
      {"alias: 150000 nested objects", "PUT", alias, repeat("{\"a\":", 150000) + "1" + repeat("}", 150000), 400},
      {"route: negative weight", "PUT", route, R"({"model":"churn","arms":[{"target":"1","weight":-1}]})", 400},
      {"route: infinite weight", "PUT", route, R"({"model":"churn","arms":[{"target":"1","weight":1e999}]})", 400},
      {"route: weights sum to zero", "PUT", route, R"({"model":"churn","arms":[{"target":"1","weight":0}]})", 400},
      {"route: weight is text", "PUT", route, R"({"model":"churn","arms":[{"target":"1","weight":"NaN"}]})", 400},
      {"route: no arms", "PUT", route, R"({"model":"churn","arms":[]})", 400},
      {"route: no model", "PUT", route, R"({"arms":[]})", 400},
      {"route: target does not exist", "PUT", route, R"({"model":"churn","arms":[{"target":"99","weight":1}]})", 409},
      {"route: model name with a path", "PUT", route, R"({"model":"../etc","arms":[{"target":"1","weight":1}]})", 400},
      {"tags: not an object", "PATCH", "/api/v1/models/churn", R"({"tags":5})", 400},
      {"tags: key with a path", "PATCH", "/api/v1/models/churn", R"({"tags":{"../x":"1"}})", 400},
      {"tags: value over 1024 bytes", "PATCH", "/api/v1/models/churn", R"({"tags":{"k":")" + std::string(2000, 'v') + "\"}}", 400},
      {"evaluate: no label", "POST", "/api/v1/models/churn/evaluate", customers, 400, csv},
      {"evaluate: unknown label", "POST", "/api/v1/models/churn/evaluate?label=nosuch", customers, 400, csv},
      {"evaluate: malformed CSV", "POST", "/api/v1/models/churn/evaluate?label=target", "a,b\n1,\"2\n", 400, csv},
      {"unknown model", "GET", "/api/v1/models/nosuch", "", 404},
      {"version not a number", "GET", "/api/v1/models/churn/versions/abc", "", 404},
      {"version beyond int64", "GET", "/api/v1/models/churn/versions/99999999999999999999", "", 404},
      {"prediction id not a UUID", "GET", "/api/v1/predictions/not-a-uuid", "", 400},
      {"prediction limit not a number", "GET", "/api/v1/predictions?limit=abc", "", 400},
      {"feedback without items", "POST", "/api/v1/feedback", R"({"labels":5})", 400},
      {"DELETE a model", "DELETE", "/api/v1/models/churn", "", 405},
  };
  run_table(table);
  EXPECT_GE(table.size(), 25u);
}

// ---- Names and paths -------------------------------------------------------------------------

TEST_F(BadInputTest, PathTraversalAndOddUnicodeInNamesAreRefused) {
  const std::string iris = slurp(testing::examples_dir() + "/iris/iris_xgboost.json");
  const std::vector<std::string> names = {
      "..", "%2E%2E", "..%2F..%2Fetc", "a%2Fb", "%2Fetc%2Fpasswd", "a%5Cb",
      "%C3%A9t%C3%A9",         // été: letters, but not ASCII
      "%E2%80%AE",             // RIGHT-TO-LEFT OVERRIDE
      "%F0%9F%8D%8E",          // an emoji
      "%00", "%C0%AF",         // NUL, an overlong '/'
      "a%0Ab", "a%20b",        // newline (header injection), space
      ".hidden", "-dash", std::string(129, 'x'),
  };
  std::vector<BadRequest> table;
  for (const std::string& name : names) {
    table.push_back({"upload as " + name.substr(0, 20), "POST", "/api/v1/models/" + name + "/versions", iris, 400,
                     {{"Content-Type", "application/octet-stream"}}});
    table.push_back({"model " + name.substr(0, 20), "GET", "/api/v1/models/" + name, "", 400});
  }
  table.push_back({"traversal in an alias", "PUT", "/api/v1/models/churn/aliases/..", R"({"version":1})", 400});
  table.push_back({"traversal in an endpoint", "PUT", "/api/v1/endpoints/..", R"({"model":"churn","arms":[{"target":"1","weight":1}]})", 400});
  table.push_back({"traversal in a v2 path", "POST", "/v2/models/../../etc/passwd/infer", v2_body(kGoodRow), 404});
  table.push_back({"emoji in a v2 model", "POST", "/v2/models/%F0%9F%8D%8E/infer", v2_body(kGoodRow), 404});
  run_table(table);
  EXPECT_GE(table.size(), 30u);
  // Nothing was registered under any of those names.
  HttpClient client(server_->port());
  const json models = testing::parse(client.get("/api/v1/models").body);
  ASSERT_TRUE(models.is_array());
  for (const json& model : models) EXPECT_TRUE(model["name"] == "churn" || model["name"] == "iris") << model.dump();
}

// ---- Hostile model files ---------------------------------------------------------------------

TEST_F(BadInputTest, HostileModelFilesAreRefusedAsVersions) {
  const std::string upload = "/api/v1/models/hostile/versions";
  const Headers octets = {{"Content-Type", "application/octet-stream"}};
  // XGBoost JSON (iris): one change to its first tree or its parameters.
  auto xgboost = [](const std::function<void(json& learner, json& tree)>& change) {
    json model = iris_xgboost();
    json& learner = model["learner"];
    change(learner, learner["gradient_booster"]["model"]["trees"][0]);
    return model.dump();
  };
  // LightGBM text (churn): one line of the header or the first tree replaced.
  const std::string lightgbm = churn_lightgbm();
  auto lgbm = [&](const std::string& from, const std::string& to) {
    std::string text = lightgbm;
    const std::size_t at = text.find("\n" + from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at + 1, from.size(), to);
    return text;
  };
  const std::string ubj = churn_ubj();
  const std::string iris_text = iris_xgboost().dump();
  const std::string orchard_tree =
      R"({"format":"orchard-model","version":1,"features":[{"name":"x","type":"numeric"}],"num_outputs":1,"base_margin":[0],)"
      R"("transform":{"kind":"identity"},"trees":[{"left":LEFT,"right":[2,-1,-1],"feature":[0,-1,-1],"threshold":[0.5,0,0],"leaf_value":[null,-1,1]}]})";
  auto orchard = [&](const std::string& left) {
    std::string text = orchard_tree;
    text.replace(text.find("LEFT"), 4, left);
    return text;
  };
  std::vector<BadRequest> table = {
      {"xgboost: a cycle", "POST", upload, xgboost([](json&, json& t) { t["left_children"][1] = 0; t["right_children"][1] = 0; }), 422, octets},
      {"xgboost: a node its own child", "POST", upload, xgboost([](json&, json& t) { t["left_children"][0] = 0; }), 422, octets},
      {"xgboost: child out of range", "POST", upload, xgboost([](json&, json& t) { t["left_children"][0] = 99999; }), 422, octets},
      {"xgboost: child negative", "POST", upload, xgboost([](json&, json& t) { t["left_children"][0] = -7; }), 422, octets},
      {"xgboost: a billion declared nodes", "POST", upload, xgboost([](json&, json& t) { t["tree_param"]["num_nodes"] = "1000000000"; }), 422, octets},
      {"xgboost: negative node count", "POST", upload, xgboost([](json&, json& t) { t["tree_param"]["num_nodes"] = "-1"; }), 422, octets},
      {"xgboost: four billion declared trees", "POST", upload,
       xgboost([](json& l, json&) { l["gradient_booster"]["model"]["gbtree_model_param"]["num_trees"] = "4000000000"; }), 422, octets},
      {"xgboost: feature out of range", "POST", upload, xgboost([](json&, json& t) { t["split_indices"][0] = 1000000; }), 422, octets},
      {"xgboost: a billion features", "POST", upload, xgboost([](json& l, json&) { l["learner_model_param"]["num_feature"] = "1000000000"; }), 422, octets},
      {"xgboost: a billion classes", "POST", upload, xgboost([](json& l, json&) { l["learner_model_param"]["num_class"] = "1000000000"; }), 422, octets},
      {"xgboost: tree of a class that does not exist", "POST", upload,
       xgboost([](json& l, json&) { l["gradient_booster"]["model"]["tree_info"][0] = 99; }), 422, octets},
      {"xgboost: arrays shorter than the tree", "POST", upload, xgboost([](json&, json& t) { t["right_children"] = json::array({1}); }), 422, octets},
      {"xgboost: base_score NaN", "POST", upload, xgboost([](json& l, json&) { l["learner_model_param"]["base_score"] = "nan"; }), 422, octets},
      {"xgboost: threshold Infinity", "POST", upload,
       [&] { std::string t = iris_text; t.replace(t.find("\"split_conditions\":[") + 20, 0, "Infinity,"); return t; }(), 422, octets},
      {"xgboost: truncated", "POST", upload, iris_text.substr(0, iris_text.size() / 2), 422, octets},
      {"xgboost: 300000 open brackets", "POST", upload, "{\"learner\":" + repeat("[", 300000), 422, octets},
      {"ubjson: truncated", "POST", upload, ubj.substr(0, ubj.size() / 2), 422, octets},
      {"ubjson: a trillion declared values", "POST", upload, bytes(kTrillionValues), 422, octets},
      {"ubjson: a string of 2^63 bytes", "POST", upload, bytes(kHugeString), 422, octets},
      {"lightgbm: a billion declared leaves", "POST", upload, lgbm("num_leaves=31", "num_leaves=1000000000"), 422, octets},
      {"lightgbm: child out of range", "POST", upload, lgbm("left_child=2 ", "left_child=9999 "), 422, octets},
      {"lightgbm: a cycle", "POST", upload, lgbm("left_child=2 4", "left_child=0 0"), 422, octets},
      {"lightgbm: feature out of range", "POST", upload, lgbm("split_feature=2 ", "split_feature=9999 "), 422, octets},
      {"lightgbm: a billion features", "POST", upload, lgbm("max_feature_idx=5", "max_feature_idx=1000000000"), 422, octets},
      {"lightgbm: a billion classes", "POST", upload, lgbm("num_class=1", "num_class=1000000000"), 422, octets},
      {"lightgbm: a billion categorical splits", "POST", upload, lgbm("num_cat=2", "num_cat=1000000000"), 422, octets},
      {"lightgbm: threshold NaN", "POST", upload, lgbm("threshold=78.270789500000021", "threshold=nan"), 422, octets},
      {"lightgbm: truncated", "POST", upload, lightgbm.substr(0, lightgbm.size() / 3), 422, octets},
      {"orchard: a cycle", "POST", upload, orchard("[1,0,-1]"), 422, octets},
      {"orchard: child out of range", "POST", upload, orchard("[7,-1,-1]"), 422, octets},
      {"orchard: arrays of different lengths", "POST", upload, orchard("[1,-1]"), 422, octets},
      {"orchard: nested 100 deep", "POST", upload, "{\"format\":\"orchard-model\",\"version\":1,\"x\":" + repeat("[", 100) + repeat("]", 100) + "}", 422, octets},
      {"onnx: field longer than the file", "POST", upload, bytes(kOnnxOverlong), 422, octets},
      {"mlflow bundle: header only", "POST", upload, "ORCHARD-MLFLOW-BUNDLE 1\n", 422, octets},
      {"not a model", "POST", upload, "hello, world", 422, octets},
      {"empty body", "POST", upload, "", 400, octets},
  };
  run_table(table);
  EXPECT_GE(table.size(), 35u);
  HttpClient client(server_->port());
  EXPECT_EQ(client.get("/api/v1/models/hostile").status, 404) << "a hostile file was registered";
}

// ---- HTTP itself -----------------------------------------------------------------------------

struct RawCase {
  std::string name;
  std::string bytes;
  int status;
};

TEST_F(BadInputTest, MalformedAndOversizedHttpIsRefused) {
  std::string many_headers = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 3000; ++i) many_headers += "X-" + std::to_string(i) + ": y\r\n";
  many_headers += "\r\n";
  const std::vector<RawCase> table = {
      {"one header over the limit", "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", 431},
      {"too many headers", many_headers, 431},
      {"a target over the header limit", "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 431},
      {"body over the limit", "POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n" + std::string(2000000, ' '), 413},
      {"declared body over the limit", "POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413},
      {"chunked body over the limit", "POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n" + std::string(0x200000, ' ') + "\r\n0\r\n\r\n", 413},
      {"negative Content-Length", "POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400},
      {"two different Content-Lengths", "POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400},
      {"binary garbage", std::string("\x00\x01\x02garbage\r\n\r\n", 14), 400},
      {"unknown HTTP version", "GET /health HTTP/9.9\r\n\r\n", 400},
      {"request line without a target", "GET\r\n\r\n", 400},
      {"bad chunk size", "POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"header without a colon", "GET /health HTTP/1.1\r\nHost x\r\n\r\n", 400},
      {"body shorter than declared", "POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}", 408},
  };
  for (const RawCase& c : table) {
    SCOPED_TRACE(c.name);
    const auto started = Clock::now();
    RawConnection connection(server_->port());
    connection.send(c.bytes);  // the server may close before taking it all
    const auto result = connection.read_until_closed(std::chrono::seconds(kReadTimeout + 8));
    EXPECT_TRUE(result.closed) << c.name << ": the connection stayed open";
    ASSERT_TRUE(testing::holds_whole_response(result.data)) << c.name << ": no response: " << result.data.substr(0, 200);
    EXPECT_TRUE(is_json_error(testing::parse_response(result.data), c.status)) << c.name;
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - started).count(), kReadTimeout + 3.0) << c.name;
    expect_alive(c.name);
  }
  EXPECT_GE(table.size(), 14u);
}

// A client that sends a byte per second is cut off by --read-timeout (with a 408), in the header
// and in the body, instead of holding its connection for as long as it keeps trickling.
TEST_F(BadInputTest, ClientsTricklingAByteASecondAreCutOff) {
  const std::string body = v2_body(kGoodRow);
  const std::vector<RawCase> table = {
      {"header trickled", "POST /v2/models/churn/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body, 408},
      {"body trickled", body, 408},
  };
  for (const RawCase& c : table) {
    SCOPED_TRACE(c.name);
    RawConnection connection(server_->port());
    const auto started = Clock::now();
    if (c.name == "body trickled") {
      ASSERT_TRUE(connection.send("POST /v2/models/churn/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n"));
    }
    RawConnection::ReadResult result;
    for (std::size_t i = 0; i < c.bytes.size() && !result.closed; ++i) {
      if (!connection.send(c.bytes.substr(i, 1))) break;
      auto part = connection.read_until_closed(std::chrono::seconds(1));
      result.data += part.data;
      result.closed = part.closed;
      ASSERT_LT(std::chrono::duration<double>(Clock::now() - started).count(), kReadTimeout + 4.0)
          << c.name << ": still connected after " << i + 1 << " bytes";
    }
    if (!result.closed) {
      auto rest = connection.read_until_closed(std::chrono::seconds(kReadTimeout + 2));
      result.data += rest.data;
      result.closed = rest.closed;
    }
    EXPECT_TRUE(result.closed);
    ASSERT_TRUE(testing::holds_whole_response(result.data)) << "no response: " << result.data;
    EXPECT_TRUE(is_json_error(testing::parse_response(result.data), c.status));
    expect_alive(c.name);
  }
}

}  // namespace
}  // namespace orchard
