#include "server/server_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/test_support.h"

namespace orchard::testing {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ServerProcess::ServerProcess(const std::vector<std::string>& extra_args, bool demo, std::string data_dir) {
  static std::atomic<int> counter{0};
  const int n = counter++;
  data_dir_ = data_dir.empty() ? temp_dir() + "/server-" + std::to_string(n) : std::move(data_dir);
  log_path_ = temp_dir() + "/server-" + std::to_string(n) + ".log";

  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<std::string> args = {orchard_binary(), "serve", "--data", data_dir_, "--port", "0"};
  if (demo) args.emplace_back("--demo");
  // No background refreshes unless a test asks for them: every change here goes through the API.
  if (std::find(extra_args.begin(), extra_args.end(), "--poll-seconds") == extra_args.end()) {
    args.insert(args.end(), {"--poll-seconds", "3600"});
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) throw std::runtime_error("cannot open " + log_path_ + " or /dev/null");
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test run
    if (::getppid() != parent) ::_exit(127);
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(log_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);

  // The port, from the line the server prints once it listens.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  const std::string marker = "endpoint(s) on ";  // then http(s)://HOST:PORT
  while (port_ == 0) {
    const std::string text = log();
    if (const std::size_t at = text.find(marker); at != std::string::npos) {
      const std::size_t end = text.find('\n', at);
      const std::size_t colon = end == std::string::npos ? std::string::npos : text.rfind(':', end);
      if (colon != std::string::npos && colon > at) port_ = static_cast<unsigned short>(std::stoi(text.substr(colon + 1, end - colon - 1)));
    }
    if (port_ != 0) break;
    if (wait_exit(std::chrono::milliseconds(0))) throw std::runtime_error("orchard serve exited with " + std::to_string(*exit_code_) + ":\n" + log());
    if (std::chrono::steady_clock::now() > deadline) {
      stop(std::chrono::seconds(2));
      throw std::runtime_error("orchard serve printed no port within 30 s:\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Ready when /v2/health/ready says so.
  for (;;) {
    try {
      HttpClient client(port_, std::chrono::seconds(5));
      if (client.get("/v2/health/ready").status == 200) return;
    } catch (const HttpError&) {
    }
    if (std::chrono::steady_clock::now() > deadline) {
      stop(std::chrono::seconds(2));
      throw std::runtime_error("orchard serve did not become ready within 30 s:\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void ServerProcess::signal(int signal_number) const {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, signal_number);
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = exit_code_of(status);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool ServerProcess::running() { return !wait_exit(std::chrono::milliseconds(0)); }

int ServerProcess::stop(std::chrono::milliseconds timeout) {
  if (exit_code_) return *exit_code_;
  signal(SIGTERM);
  if (auto code = wait_exit(timeout)) return *code;
  ::kill(pid_, SIGKILL);
  wait_exit(std::chrono::seconds(10));
  return -1;
}

std::string ServerProcess::log() const { return slurp(log_path_); }

// ---- Example data ----------------------------------------------------------------------------

std::string examples_dir() { return source_dir() + "/examples"; }

namespace {

std::vector<std::string> header_of(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> names;
  std::stringstream cells(line);
  std::string cell;
  while (std::getline(cells, cell, ',')) names.push_back(cell);
  return names;
}

std::vector<double> first_column(const std::vector<std::vector<double>>& table) {
  std::vector<double> out;
  for (const auto& row : table) out.push_back(row.at(0));
  return out;
}

}  // namespace

const ChurnData& churn_data() {
  static const ChurnData data = [] {
    ChurnData d;
    const std::string dir = examples_dir() + "/churn/";
    d.features = header_of(dir + "customers.csv");
    d.features.pop_back();  // target
    for (auto row : read_numeric_csv(dir + "customers.csv", true)) {
      row.pop_back();
      d.rows.push_back(std::move(row));
    }
    d.xgboost = first_column(read_numeric_csv(dir + "churn_xgboost.expected.csv"));
    d.xgboost_margin = first_column(read_numeric_csv(dir + "churn_xgboost.margin.csv"));
    d.lightgbm = first_column(read_numeric_csv(dir + "churn_lightgbm.expected.csv"));
    d.csv = slurp(dir + "customers.csv");
    if (d.rows.size() != 100 || d.xgboost.size() != 100 || d.lightgbm.size() != 100 || d.xgboost_margin.size() != 100) {
      throw std::runtime_error("examples/churn: expected 100 rows everywhere");
    }
    return d;
  }();
  return data;
}

const IrisData& iris_data() {
  static const IrisData data = [] {
    IrisData d;
    const std::string dir = examples_dir() + "/iris/";
    d.features = header_of(dir + "flowers.csv");
    d.features.pop_back();
    for (auto row : read_numeric_csv(dir + "flowers.csv", true)) {
      row.pop_back();
      d.rows.push_back(std::move(row));
    }
    d.expected = read_numeric_csv(dir + "iris_xgboost.expected.csv");
    if (d.rows.size() != d.expected.size() || d.rows.empty()) throw std::runtime_error("examples/iris: rows and expected outputs differ");
    return d;
  }();
  return data;
}

nlohmann::json number_or_null(double value) { return std::isnan(value) ? nlohmann::json(nullptr) : nlohmann::json(value); }

nlohmann::json row_lists(const std::vector<std::vector<double>>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row : rows) {
    nlohmann::json values = nlohmann::json::array();
    for (double v : row) values.push_back(number_or_null(v));
    out.push_back(std::move(values));
  }
  return out;
}

nlohmann::json v2_matrix(const std::vector<std::vector<double>>& rows, bool nested, const std::string& datatype, const std::string& name) {
  nlohmann::json data = nlohmann::json::array();
  if (nested) {
    data = row_lists(rows);
  } else {
    for (const auto& row : rows) {
      for (double v : row) data.push_back(number_or_null(v));
    }
  }
  const std::size_t width = rows.empty() ? 0 : rows.front().size();
  nlohmann::json tensor = {{"name", name}, {"datatype", datatype}, {"shape", nlohmann::json::array({rows.size(), width})}, {"data", data}};
  return {{"inputs", nlohmann::json::array({tensor})}};
}

nlohmann::json v2_columns(const std::vector<std::string>& features, const std::vector<std::vector<double>>& rows, const std::string& datatype) {
  nlohmann::json inputs = nlohmann::json::array();
  for (std::size_t f = 0; f < features.size(); ++f) {
    nlohmann::json data = nlohmann::json::array();
    for (const auto& row : rows) data.push_back(number_or_null(row[f]));
    inputs.push_back({{"name", features[f]}, {"datatype", datatype}, {"shape", nlohmann::json::array({rows.size()})}, {"data", data}});
  }
  return {{"inputs", inputs}};
}

nlohmann::json records(const std::vector<std::string>& features, const std::vector<std::vector<double>>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row : rows) {
    nlohmann::json record = nlohmann::json::object();
    for (std::size_t f = 0; f < features.size(); ++f) record[features[f]] = number_or_null(row[f]);
    out.push_back(std::move(record));
  }
  return out;
}

nlohmann::json parse(const std::string& body) { return nlohmann::json::parse(body, nullptr, false); }

std::vector<double> v2_output(const nlohmann::json& body) {
  std::vector<double> out;
  if (!body.is_object() || !body.contains("outputs") || !body["outputs"].is_array() || body["outputs"].empty()) return out;
  for (const auto& v : body["outputs"][0]["data"]) out.push_back(v.is_null() ? std::nan("") : v.get<double>());
  return out;
}

std::int64_t version_from_header(const Response& response) {
  const std::string value = response.header("orchard-model-version");
  const std::size_t colon = value.rfind(':');
  if (colon == std::string::npos) return 0;
  try {
    return std::stoll(value.substr(colon + 1));
  } catch (const std::exception&) {
    return 0;
  }
}

::testing::AssertionResult values_match(const std::vector<double>& actual, const std::vector<double>& expected) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure() << actual.size() << " values, expected " << expected.size();
  }
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const bool both_nan = std::isnan(actual[i]) && std::isnan(expected[i]);
    if (!both_nan && !within_tolerance(actual[i], expected[i])) {
      return ::testing::AssertionFailure() << "value " << i << " is " << actual[i] << ", expected " << expected[i];
    }
  }
  return ::testing::AssertionSuccess();
}

std::string describe(const Response& response) {
  std::string text = "HTTP " + std::to_string(response.status) + " " + response.body.substr(0, 600);
  return text;
}

::testing::AssertionResult is_json_error(const Response& response, int status) {
  if (response.status != status) return ::testing::AssertionFailure() << "expected status " << status << ", got " << describe(response);
  if (response.header("content-type").find("application/json") == std::string::npos) {
    return ::testing::AssertionFailure() << "content-type is \"" << response.header("content-type") << "\", not JSON";
  }
  const nlohmann::json body = parse(response.body);
  if (!body.is_object() || !body.contains("error") || !body["error"].is_string() || body["error"].get<std::string>().empty()) {
    return ::testing::AssertionFailure() << "the body is not {\"error\": \"...\"}: " << response.body;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace orchard::testing
