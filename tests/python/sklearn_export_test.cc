// python/orchard_export end to end: scikit-learn (Debian's python3-sklearn, /usr/bin/python3) trains
// every supported estimator on the fixture datasets (tests/python/sklearn_roundtrip.py), the exporter
// writes Orchard model files, the real `orchard predict` runs them, and its output must match
// scikit-learn's predict_proba / predict / decision_function within 1e-6 absolute + 1e-6 relative
// (and --raw its decision_function). String categories ("premium") travel through the CSV. Refusals:
// an unsupported estimator is refused at export, naming it and the supported list.
// Skips with a message when /usr/bin/python3 has no scikit-learn or the fixtures are absent.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace orchard {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

struct Shell {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `command` with sh, stdout and stderr together.
Shell shell(const std::string& command) {
  Shell result;
  FILE* pipe = popen(("{ " + command + "; } 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string q(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string python_path() { return "PYTHONPATH=" + q(testing::source_dir() + "/python") + " "; }

#define REQUIRE_SKLEARN()                                                                                       \
  if (shell(std::string(kPython) + " -c 'import sklearn, numpy'").exit_code != 0)                               \
    GTEST_SKIP() << kPython << " has no scikit-learn (apt-get install python3-sklearn): exporter tests did not run"

std::vector<std::vector<double>> parse_output(const std::string& text, std::string& header) {
  std::istringstream in(text);
  std::getline(in, header);
  std::vector<std::vector<double>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::istringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

// Every estimator the issue lists; the generator must have produced each.
const std::set<std::string> kRequiredCases = {
    "decision_tree_classifier_iris", "decision_tree_regressor_diabetes", "random_forest_classifier_cancer",
    "random_forest_regressor_diabetes", "extra_trees_classifier_wine", "extra_trees_regressor_diabetes",
    "gradient_boosting_binary_cancer", "gradient_boosting_multiclass_iris", "gradient_boosting_multiclass_wine_zero_init",
    "gradient_boosting_exponential_cancer", "gradient_boosting_regressor_diabetes", "gradient_boosting_huber_diabetes",
    "hist_gb_classifier_churn_categorical", "hist_gb_multiclass_iris_missing", "hist_gb_regressor_diabetes_missing",
    "hist_gb_poisson_diabetes", "isolation_forest_cancer", "linear_regression_diabetes", "ridge_diabetes", "lasso_diabetes",
    "elastic_net_diabetes", "logistic_binary_cancer", "logistic_multinomial_iris", "logistic_ovr_wine",
    "logistic_binary_multinomial_cancer", "pipeline_onehot_logistic_churn", "pipeline_ordinal_random_forest_churn",
    "pipeline_ordinal_hist_gb_churn",
};

// Compares `orchard predict` on one case with scikit-learn's numbers; returns the largest error.
double check_case(const std::string& dir, const std::string& name, bool raw) {
  const std::string expected_path = dir + "/" + name + (raw ? ".raw.csv" : ".expected.csv");
  const auto result = testing::run_orchard("predict " + q(dir + "/" + name + ".json") + " " + q(dir + "/" + name + ".input.csv") +
                                           (raw ? " --raw" : ""));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  if (result.exit_code != 0) return INFINITY;
  std::string header;
  const auto actual = parse_output(result.out, header);
  const auto expected = testing::read_numeric_csv(expected_path);
  EXPECT_EQ(actual.size(), expected.size());
  if (actual.size() != expected.size()) return INFINITY;
  double worst = 0;
  int mismatches = 0;
  for (std::size_t r = 0; r < expected.size(); ++r) {
    EXPECT_EQ(actual[r].size(), expected[r].size()) << "row " << r;
    if (actual[r].size() != expected[r].size()) return INFINITY;
    for (std::size_t k = 0; k < expected[r].size(); ++k) {
      worst = std::max(worst, std::fabs(actual[r][k] - expected[r][k]));
      if (!testing::within_tolerance(actual[r][k], expected[r][k]) && ++mismatches <= 5) {
        ADD_FAILURE() << "row " << r << ", column " << k << ": orchard " << actual[r][k] << ", scikit-learn " << expected[r][k];
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
  return worst;
}

TEST(SklearnExport, EveryEstimatorRoundTripsThroughOrchardPredict) {
  REQUIRE_SKLEARN();
  const auto fixtures = testing::fixtures_dir();
  if (!fixtures) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES): exporter round trips did not run";
  const std::string dir = testing::temp_dir() + "/sklearn";
  const Shell generated = shell("mkdir -p " + q(dir) + " && " + python_path() + kPython + " " +
                                q(testing::source_dir() + "/tests/python/sklearn_roundtrip.py") + " " + q(*fixtures + "/data") + " " + q(dir));
  std::ifstream manifest(dir + "/MANIFEST.tsv");
  ASSERT_TRUE(manifest.good()) << "the generator wrote no manifest:\n" << generated.output;
  std::set<std::string> seen;
  std::string name;
  int raw = 0;
  while (manifest >> name >> raw) {
    SCOPED_TRACE(name);
    seen.insert(name);
    const double worst = check_case(dir, name, false);
    std::cout << "  " << name << ": max |error| " << worst;
    if (raw) std::cout << ", raw " << check_case(dir, name, true);
    std::cout << "\n";
  }
  for (const std::string& required : kRequiredCases) EXPECT_TRUE(seen.count(required)) << required << " was not generated:\n" << generated.output;
}

TEST(SklearnExport, StringCategoriesReachTheirCodes) {
  REQUIRE_SKLEARN();
  // A one-hot pipeline over a string column: "premium" must give premium's prediction, an unknown
  // plan the all-zero encoding (as handle_unknown='ignore'), an empty cell the imputed plan.
  const std::string dir = testing::temp_dir() + "/strings";
  const std::string script = R"(
import sys, numpy as np, orchard_export
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
X = np.array([["basic", 1.0], ["premium", 2.0], ["gold", 3.0], ["premium", 4.0]], dtype=object)
y = np.array([1.0, 10.0, 100.0, 12.0])
m = Pipeline([("c", ColumnTransformer([("p", Pipeline([("i", SimpleImputer(strategy="most_frequent")), ("o", OneHotEncoder(handle_unknown="ignore"))]), [0])], remainder="passthrough")), ("r", LinearRegression())]).fit(X, y)
orchard_export.save(m, sys.argv[1] + "/plan.json", feature_names=["plan", "x"])
T = np.array([["premium", 2.0], ["platinum", 2.0], [np.nan, 2.0]], dtype=object)
print(",".join(repr(v) for v in m.predict(T)))
)";
  const Shell made = shell("mkdir -p " + q(dir) + " && " + python_path() + kPython + " -c " + q(script) + " " + q(dir));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  std::vector<double> expected;
  std::istringstream values(made.output);
  std::string value;
  while (std::getline(values, value, ',')) expected.push_back(std::stod(value));
  ASSERT_EQ(expected.size(), 3u) << made.output;
  const std::string input = testing::write_file("plan.csv", "plan,x\npremium,2\nplatinum,2\n,2\n");
  const auto result = testing::run_orchard("predict " + q(dir + "/plan.json") + " " + q(input));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::string header;
  const auto actual = parse_output(result.out, header);
  ASSERT_EQ(actual.size(), 3u);
  for (std::size_t r = 0; r < 3; ++r) EXPECT_TRUE(testing::within_tolerance(actual[r][0], expected[r])) << "row " << r << ": " << actual[r][0] << " vs " << expected[r];
  EXPECT_NE(actual[0][0], actual[1][0]) << "an unknown plan must not read as premium";
}

TEST(SklearnExport, CommandLineExportsPicklesAndRefusesUnsupportedEstimators) {
  REQUIRE_SKLEARN();
  const std::string dir = testing::temp_dir() + "/cli";
  const std::string script = R"(
import pickle, sys, joblib
from sklearn.datasets import load_iris
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
X, y = load_iris(return_X_y=True)
joblib.dump(DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y), sys.argv[1] + "/tree.joblib")
pickle.dump(SVC().fit(X, y), open(sys.argv[1] + "/svc.pkl", "wb"))
)";
  const Shell made = shell("mkdir -p " + q(dir) + " && " + python_path() + kPython + " -c " + q(script) + " " + q(dir));
  ASSERT_EQ(made.exit_code, 0) << made.output;

  const Shell exported = shell(python_path() + kPython + " -m orchard_export " + q(dir + "/tree.joblib") + " " + q(dir + "/tree.json"));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const std::string input = testing::write_file("iris.csv", "a,b,c,d\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n");
  const auto predicted = testing::run_orchard("predict " + q(dir + "/tree.json") + " " + q(input));
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  EXPECT_EQ(predicted.out.substr(0, predicted.out.find('\n')), "class_0,class_1,class_2");
  EXPECT_NE(predicted.out.find("\n1,0,0\n"), std::string::npos) << predicted.out;

  const Shell refused = shell(python_path() + kPython + " -m orchard_export " + q(dir + "/svc.pkl") + " " + q(dir + "/svc.json"));
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("SVC is not supported"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("supported: DecisionTreeClassifier"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("HistGradientBoostingClassifier"), std::string::npos) << refused.output;
  std::ifstream none(dir + "/svc.json");
  EXPECT_FALSE(none.good()) << "a refused export must not leave a file";

  // A transformer alone is not a model, and a setting outside the format is named.
  const std::string settings = R"(
import sys, numpy as np, orchard_export
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.linear_model import LinearRegression
X = np.arange(12.0).reshape(6, 2); y = np.arange(6.0)
for model in [StandardScaler().fit(X), Pipeline([("m", MinMaxScaler(clip=True)), ("r", LinearRegression())]).fit(X, y),
              Pipeline([("a", StandardScaler()), ("b", StandardScaler()), ("r", LinearRegression())]).fit(X, y)]:
    try:
        orchard_export.to_document(model)
        print("exported")
    except orchard_export.UnsupportedEstimator as e:
        print("refused:", e)
)";
  const Shell refusals = shell(python_path() + kPython + " -c " + q(settings));
  EXPECT_EQ(refusals.output.find("exported"), std::string::npos) << refusals.output;
  EXPECT_NE(refusals.output.find("StandardScaler, is not a model"), std::string::npos) << refusals.output;
  EXPECT_NE(refusals.output.find("MinMaxScaler(clip=True) is not supported"), std::string::npos) << refusals.output;
  EXPECT_NE(refusals.output.find("StandardScaler after another transformation"), std::string::npos) << refusals.output;
}

TEST(SklearnExport, EvaluateReadsClassProbabilities) {
  REQUIRE_SKLEARN();
  const auto fixtures = testing::fixtures_dir();
  if (!fixtures) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES): evaluate test did not run";
  // `orchard evaluate` on exported classifiers (binary [P(0), P(1)], one-vs-rest, forest averages)
  // must report scikit-learn's own metrics of predict_proba.
  const std::string dir = testing::temp_dir() + "/evaluate";
  const std::string script = R"(
import csv, json, sys, numpy as np, orchard_export
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
def read(path):
    rows = list(csv.reader(open(path)))
    return rows[0][:-1], np.array([[float(c) for c in r[:-1]] for r in rows[1:]]), np.array([float(r[-1]) for r in rows[1:]])
data, out = sys.argv[1], sys.argv[2]
metrics = {}
for name, model, dataset in [("binary", GradientBoostingClassifier(n_estimators=20, random_state=0), "breast_cancer"),
                             ("ovr", LogisticRegression(multi_class="ovr", max_iter=5000), "wine"),
                             ("forest", RandomForestClassifier(n_estimators=10, random_state=0), "iris")]:
    names, X, y = read(f"{data}/{dataset}_train.csv")
    _, Xt, yt = read(f"{data}/{dataset}_test.csv")
    model.fit(X, y)
    orchard_export.save(model, f"{out}/{name}.json", feature_names=names)
    p = model.predict_proba(Xt)
    m = {"accuracy": accuracy_score(yt, p.argmax(axis=1)), "logloss": log_loss(yt, p)}
    if p.shape[1] == 2:
        m["auc"] = roc_auc_score(yt, p[:, 1])
    metrics[name] = (dataset, m)
json.dump(metrics, open(f"{out}/metrics.json", "w"))
)";
  const Shell made = shell("mkdir -p " + q(dir) + " && " + python_path() + kPython + " -c " + q(script) + " " + q(*fixtures + "/data") + " " + q(dir));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const auto metrics = nlohmann::json::parse(testing::read_text(dir + "/metrics.json"));
  for (const auto& [name, entry] : metrics.items()) {
    SCOPED_TRACE(name);
    const std::string data_dir = dir + "/registry-" + name;
    ASSERT_EQ(testing::run_orchard("push m " + q(dir + "/" + name + ".json") + " --data " + q(data_dir)).exit_code, 0);
    const auto result = testing::run_orchard("evaluate m " + q(*fixtures + "/data/" + entry[0].get<std::string>() + "_test.csv") +
                                             " --label target --json --no-speed --data " + q(data_dir));
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const auto reported = nlohmann::json::parse(result.out)[0];
    for (const auto& [metric, value] : entry[1].items()) {
      ASSERT_TRUE(reported.contains(metric)) << metric << " missing from " << result.out;
      EXPECT_NEAR(reported[metric].get<double>(), value.get<double>(), 1e-9) << metric;
    }
  }
}

}  // namespace
}  // namespace orchard
