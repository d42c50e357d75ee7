// `orchard evaluate` against scikit-learn: several fixture models pushed as versions of one name,
// evaluated on a fixture test set; every metric equals sklearn's computed on `orchard predict`'s
// output for the same rows (Debian's python3-sklearn at /usr/bin/python3).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_support.h"

namespace orchard {
namespace {

bool sklearn_available() { return std::system("/usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1") == 0; }

std::map<std::string, double> sklearn_metrics(const std::string& task, const std::string& data, const std::string& label,
                                              const std::string& predictions) {
  const std::string out = testing::temp_dir() + "/sklearn-" + task + ".txt";
  const std::string command = "/usr/bin/python3 '" + testing::source_dir() + "/tests/cli/sklearn_metrics.py' " + task + " '" + data +
                              "' " + label + " '" + predictions + "' > '" + out + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::map<std::string, double> metrics;
  std::istringstream lines(testing::read_text(out));
  std::string line;
  while (std::getline(lines, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) metrics[line.substr(0, eq)] = std::stod(line.substr(eq + 1));
  }
  return metrics;
}

// `data` without its "target" column: what `orchard predict` is given (models without feature
// names, such as scikit-learn's through ONNX, read columns by position).
std::string features_only(const std::string& data, const std::string& name) {
  std::string out;
  std::size_t target = std::string::npos;
  for (const std::string& line : testing::lines_of(testing::read_text(data))) {
    auto cells = testing::split_commas(line);
    if (target == std::string::npos) target = static_cast<std::size_t>(std::find(cells.begin(), cells.end(), "target") - cells.begin());
    if (target < cells.size()) cells.erase(cells.begin() + static_cast<long>(target));
    for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + cells[i];
    out += "\n";
  }
  return testing::write_file(name, out);
}

struct Case {
  const char* task;
  const char* data;
  std::vector<const char*> models;
};

TEST(OrchardEvaluate, MetricsEqualScikitLearns) {
  auto fixtures = testing::fixtures_dir();
  if (!fixtures) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES): evaluate parity did not run";
  if (!sklearn_available()) GTEST_SKIP() << "scikit-learn not importable by /usr/bin/python3 (apt-get install python3-sklearn)";
  const std::string models = *fixtures + "/models/";
  const std::vector<Case> cases = {
      // The ONNX ones answer [P(0), P(1)]: binary metrics on P(1), as for the others.
      {"binary", "breast_cancer_test.csv",
       {"xgboost/binary_breast_cancer.json", "xgboost/binary_breast_cancer.ubj", "lightgbm/binary_breast_cancer.txt",
        "onnx/rf_classifier_breast_cancer.onnx", "onnx/xgb_binary_breast_cancer.onnx"}},
      {"multiclass", "iris_test.csv", {"xgboost/multiclass_iris.json", "lightgbm/multiclass_iris.txt"}},
      {"regression", "diabetes_test.csv",
       {"xgboost/regression_diabetes.json", "xgboost/poisson_diabetes.json", "lightgbm/regression_diabetes.txt"}},
  };
  for (const Case& c : cases) {
    const std::string data_dir = testing::temp_dir() + "/evaluate-" + c.task;
    const std::string data = *fixtures + "/data/" + c.data;
    for (const char* model : c.models) {
      ASSERT_EQ(testing::run_orchard("push m '" + models + model + "' --data '" + data_dir + "'").exit_code, 0) << model;
    }
    const auto result = testing::run_orchard("evaluate m '" + data + "' --label target --json --no-speed --data '" + data_dir + "'");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const auto evaluations = nlohmann::json::parse(result.out);
    ASSERT_EQ(evaluations.size(), c.models.size());
    for (std::size_t i = 0; i < c.models.size(); ++i) {
      const auto& ours = evaluations[i];
      EXPECT_EQ(ours["version"].get<int>(), static_cast<int>(i + 1));
      const std::string inputs = features_only(data, std::string("inputs-") + c.task + ".csv");
      const auto predicted = testing::run_orchard(std::string("predict '") + models + c.models[i] + "' '" + inputs + "'");
      ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
      const std::string predictions = testing::write_file(std::string("predictions-") + c.task + std::to_string(i) + ".csv", predicted.out);
      const auto expected = sklearn_metrics(c.task, data, "target", predictions);
      ASSERT_FALSE(expected.empty());
      for (const auto& [name, value] : expected) {
        ASSERT_TRUE(ours.contains(name)) << c.models[i] << ": no " << name << " in " << ours.dump();
        // Predictions go through text with round-trip precision, so the metrics agree to rounding.
        EXPECT_NEAR(ours[name].get<double>(), value, 1e-12 + 1e-9 * std::abs(value)) << c.models[i] << " " << name;
      }
    }
  }
}

TEST(OrchardEvaluate, RecordsResultsAndPromotionGatesUseThem) {
  const std::string data_dir = testing::temp_dir() + "/evaluate-gates";
  const std::string examples = testing::source_dir() + "/examples/churn/";
  ASSERT_EQ(testing::run_orchard("push churn '" + examples + "churn_xgboost.ubj' --data '" + data_dir + "'").exit_code, 0);
  ASSERT_EQ(testing::run_orchard("push churn '" + examples + "churn_lightgbm.txt' --data '" + data_dir + "'").exit_code, 0);
  const auto evaluated = testing::run_orchard("evaluate churn '" + examples + "customers.csv' --label target --record --data '" + data_dir + "'");
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  EXPECT_NE(evaluated.out.find("auc"), std::string::npos);
  EXPECT_NE(evaluated.out.find("p50_us"), std::string::npos);
  EXPECT_NE(evaluated.out.find('*'), std::string::npos) << "the best value per column is marked";

  // A gate that cannot hold is refused with the metric, its value and the shortfall; the alias is not set.
  const auto refused = testing::run_orchard("promote churn 1 --alias production --require 'auc>=0.999' --data '" + data_dir + "'");
  EXPECT_EQ(refused.exit_code, 7);
  EXPECT_NE(refused.err.find("auc>=0.999 failed"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("off by"), std::string::npos) << refused.err;
  EXPECT_NE(testing::run_orchard("show churn@production --data '" + data_dir + "'").exit_code, 0);

  // A mistyped gate is a usage error (2), not a gate that failed (7).
  for (const char* typo : {"auc=>0.9", "auc", ">=0.9", "auc>=high"}) {
    const auto mistyped = testing::run_orchard(std::string("promote churn 1 --alias production --require '") + typo + "' --data '" + data_dir + "'");
    EXPECT_EQ(mistyped.exit_code, 2) << typo << ": " << mistyped.err;
  }

  const auto promoted = testing::run_orchard("promote churn 1 --alias production --require 'auc>=0.5' --require 'p50_us<100000' --data '" + data_dir + "'");
  EXPECT_EQ(promoted.exit_code, 0) << promoted.err;
  // Version 2 must beat production on the data to replace it; whichever is better, the answer is consistent.
  const auto challenge = testing::run_orchard("promote churn 2 --alias production --better-than production --on '" + examples +
                                              "customers.csv' --label target --metric logloss --data '" + data_dir + "'");
  const auto json = nlohmann::json::parse(testing::run_orchard("evaluate churn '" + examples + "customers.csv' --label target --json --no-speed --data '" + data_dir + "'").out);
  const bool two_is_better = json[1]["logloss"].get<double>() < json[0]["logloss"].get<double>();
  EXPECT_EQ(challenge.exit_code, two_is_better ? 0 : 7) << challenge.err;
}

}  // namespace
}  // namespace orchard
