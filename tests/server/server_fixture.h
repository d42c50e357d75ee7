// The real `orchard serve` as a child process for the server tests, and the example data they send.
//
// ServerProcess forks and execs the built binary with `serve --data DIR --port 0 [--demo] ARGS...`,
// reads the port it chose from its stderr ("serving N endpoint(s) on http://127.0.0.1:PORT"), and
// waits until GET /v2/health/ready answers 200. stop() sends SIGTERM and returns the exit code.
// Each ServerProcess gets its own data directory (a fresh registry) unless one is given.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/http_client.h"

namespace orchard::testing {

class ServerProcess {
 public:
  // Starts the server and waits until it is ready; throws std::runtime_error (with its stderr) if it
  // exits or does not become ready in time.
  explicit ServerProcess(const std::vector<std::string>& extra_args = {}, bool demo = true, std::string data_dir = "");
  ~ServerProcess();  // SIGKILL if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  unsigned short port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }

  void signal(int signal_number) const;
  // The exit code once the process has exited within `timeout` (128 + N if killed by signal N), or
  // nullopt if it is still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();
  // SIGTERM, then waits for the exit; on timeout SIGKILLs and returns -1.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // What the server wrote on stderr so far.
  std::string log() const;

 private:
  std::string data_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  unsigned short port_ = 0;
};

// ---- Example data (examples/churn, examples/iris) --------------------------------------------

// A test suite sharing one demo server: started before its first test, stopped after its last with
// SIGTERM, checking the clean exit. Each test gets a fresh keep-alive client. Suites with other
// server options define SetUpTestSuite() { start({...}); }.
class DemoServerTest : public ::testing::Test {
 protected:
  static void start(const std::vector<std::string>& extra_args = {}) { server_ = std::make_unique<ServerProcess>(extra_args); }
  static void SetUpTestSuite() { start(); }
  static void TearDownTestSuite() {
    if (!server_) return;
    EXPECT_EQ(server_->stop(), 0) << server_->log();
    server_.reset();
  }
  void SetUp() override {
    ASSERT_TRUE(server_) << "the server did not start";
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  static inline std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

struct ChurnData {
  std::vector<std::string> features;       // model order: age, tenure, monthly_charges, plan, region, support_calls
  std::vector<std::vector<double>> rows;   // the first 100 customers, NaN = missing
  std::vector<double> xgboost;             // version 1 (XGBoost), per row
  std::vector<double> xgboost_margin;      // version 1 raw margins
  std::vector<double> lightgbm;            // version 2 (LightGBM), per row
  std::string csv;                         // customers.csv as it is (with the target column)

  const std::vector<double>& expected(std::int64_t version) const { return version == 2 ? lightgbm : xgboost; }
};
const ChurnData& churn_data();

struct IrisData {
  std::vector<std::string> features;
  std::vector<std::vector<double>> rows;      // 45 flowers
  std::vector<std::vector<double>> expected;  // 3 class probabilities per flower
};
const IrisData& iris_data();

std::string examples_dir();

// A number, or null for NaN (JSON's missing value).
nlohmann::json number_or_null(double value);
// {"inputs": [{"name", "datatype", "shape": [N, F], "data": flat or nested}]}
nlohmann::json v2_matrix(const std::vector<std::vector<double>>& rows, bool nested = false, const std::string& datatype = "FP64",
                         const std::string& name = "input-0");
// {"inputs": [one tensor [N] per feature]}, every tensor with `datatype`.
nlohmann::json v2_columns(const std::vector<std::string>& features, const std::vector<std::vector<double>>& rows,
                          const std::string& datatype = "FP64");
// The rows as a list of {"feature": value} records.
nlohmann::json records(const std::vector<std::string>& features, const std::vector<std::vector<double>>& rows);
// The rows as lists of values (null for missing).
nlohmann::json row_lists(const std::vector<std::vector<double>>& rows);

// outputs[0].data of a v2 response (null as NaN).
std::vector<double> v2_output(const nlohmann::json& body);
// Parses a body; on failure returns a discarded value (check with is_discarded()).
nlohmann::json parse(const std::string& body);
// The version number from "orchard-model-version: churn:2" (0 if absent or malformed).
std::int64_t version_from_header(const Response& response);

// Every value within the fixtures' tolerance of the expected one (NaN equal to NaN).
::testing::AssertionResult values_match(const std::vector<double>& actual, const std::vector<double>& expected);
// A response with this status whose body is a JSON object {"error": "<non-empty string>"}.
::testing::AssertionResult is_json_error(const Response& response, int status);

// Prints a response in assertion messages.
std::string describe(const Response& response);

}  // namespace orchard::testing
