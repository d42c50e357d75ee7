// Tests for compute_metrics (src/evaluation/metrics.h): hand-computed cases for every metric, the
// input errors, and parity with scikit-learn 1.2.1 on random data (tests/evaluation/sklearn_reference.py,
// run with the system /usr/bin/python3, which has Debian's python3-sklearn).
#include "evaluation/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "support/test_support.h"

namespace orchard {
namespace {

using Groups = std::vector<std::string>;

std::vector<std::string> names_of(const std::vector<MetricValue>& metrics) {
  std::vector<std::string> names;
  for (const auto& m : metrics) names.push_back(m.name);
  return names;
}

// Metric values by name; a missing name fails the test.
class Values {
 public:
  explicit Values(const std::vector<MetricValue>& metrics) {
    for (const auto& m : metrics) values_[m.name] = m.value;
  }
  double operator[](const std::string& name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) {
      ADD_FAILURE() << "no metric named " << name;
      return std::numeric_limits<double>::quiet_NaN();
    }
    return it->second;
  }

 private:
  std::map<std::string, double> values_;
};

Values values_of(const std::vector<MetricValue>& metrics) { return Values(metrics); }

// Runs `body`, expecting an orchard::Error(kInvalidArgument) whose message contains every one of `parts`.
void expect_invalid(const std::function<void()>& body, const std::vector<std::string>& parts) {
  try {
    body();
    ADD_FAILURE() << "expected an orchard::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();
    const std::string message = e.what();
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "\"" << part << "\" not in: " << message;
  }
}

constexpr double kEps = std::numeric_limits<double>::epsilon();  // log_loss's eps="auto"
double log2_discount(int rank) { return 1 / std::log2(rank + 2.0); }  // rank is 0-based

// --- Binary ------------------------------------------------------------------------------------------

TEST(BinaryMetricsTest, NamesOrderAndDirection) {
  const auto metrics = compute_metrics(TaskKind::kBinary, {0, 1}, {0.2, 0.7}, 1);
  EXPECT_EQ(names_of(metrics), (std::vector<std::string>{"auc", "logloss", "accuracy", "f1", "precision", "recall"}));
  for (const auto& m : metrics) EXPECT_EQ(m.higher_is_better, m.name != "logloss") << m.name;
}

TEST(BinaryMetricsTest, HandComputed) {
  // Scores 0.1, 0.4 (negatives), 0.35, 0.8 (positives): 3 of the 4 pairs ordered correctly.
  // Thresholded at 0.5: predictions 0, 0, 0, 1 -> tp 1, fp 0, fn 1.
  const auto v = values_of(compute_metrics(TaskKind::kBinary, {0, 0, 1, 1}, {0.1, 0.4, 0.35, 0.8}, 1));
  EXPECT_DOUBLE_EQ(v["auc"], 0.75);
  EXPECT_NEAR(v["logloss"], -(std::log(0.9) + std::log(0.6) + std::log(0.35) + std::log(0.8)) / 4, 1e-15);
  EXPECT_DOUBLE_EQ(v["accuracy"], 0.75);
  EXPECT_DOUBLE_EQ(v["precision"], 1.0);
  EXPECT_DOUBLE_EQ(v["recall"], 0.5);
  EXPECT_DOUBLE_EQ(v["f1"], 2.0 / 3.0);
}

TEST(BinaryMetricsTest, TiedScoresCountHalf) {
  // Positives 0.5, 0.9; negatives 0.5, 0.2: pairs 0.5 (tie), 1, 1, 1 -> 3.5 / 4.
  EXPECT_DOUBLE_EQ(values_of(compute_metrics(TaskKind::kBinary, {0, 1, 0, 1}, {0.5, 0.5, 0.2, 0.9}, 1))["auc"], 0.875);
  // All scores equal: the ROC curve is the diagonal.
  EXPECT_DOUBLE_EQ(values_of(compute_metrics(TaskKind::kBinary, {0, 1, 1, 0, 1}, {0.3, 0.3, 0.3, 0.3, 0.3}, 1))["auc"], 0.5);
  // Perfectly inverted.
  EXPECT_DOUBLE_EQ(values_of(compute_metrics(TaskKind::kBinary, {1, 1, 0}, {0.1, 0.2, 0.9}, 1))["auc"], 0.0);
}

TEST(BinaryMetricsTest, ThresholdIsStrictlyAboveHalf) {
  // p == 0.5 predicts class 0; with no predicted positives precision and f1 are 0, not NaN.
  const auto v = values_of(compute_metrics(TaskKind::kBinary, {1, 0}, {0.5, 0.5}, 1));
  EXPECT_DOUBLE_EQ(v["accuracy"], 0.5);
  EXPECT_EQ(v["precision"], 0.0);
  EXPECT_EQ(v["recall"], 0.0);
  EXPECT_EQ(v["f1"], 0.0);
  EXPECT_DOUBLE_EQ(v["logloss"], std::log(2.0));
}

TEST(BinaryMetricsTest, LogLossClipsAtMachineEpsilon) {
  // p = 0 for a positive is clipped to eps: -ln(eps) = 36.04...; p = 0 for a negative costs -ln(1 - eps).
  const auto v = values_of(compute_metrics(TaskKind::kBinary, {1, 0}, {0.0, 0.0}, 1));
  EXPECT_NEAR(v["logloss"], (-std::log(kEps) - std::log1p(-kEps)) / 2, 1e-13);
  EXPECT_NEAR(v["logloss"], 36.04365338911715 / 2, 1e-13);
  // Probabilities outside [0, 1] are clipped too, not rejected.
  const auto w = values_of(compute_metrics(TaskKind::kBinary, {1, 0}, {1.5, -0.5}, 1));
  EXPECT_NEAR(w["logloss"], 0.0, 1e-15);
  EXPECT_DOUBLE_EQ(w["auc"], 1.0);
}

// --- Multiclass --------------------------------------------------------------------------------------

TEST(MulticlassMetricsTest, HandComputed) {
  // Predicted classes: 0 (right), 2 (wrong, label 1), 2 (right), 0 (tie 0.5/0.5 -> lowest index; wrong).
  const std::vector<double> p = {0.7, 0.2, 0.1, 0.3, 0.3, 0.4, 0.2, 0.2, 0.6, 0.5, 0.5, 0.0};
  const auto metrics = compute_metrics(TaskKind::kMulticlass, {0, 1, 2, 2}, p, 3);
  EXPECT_EQ(names_of(metrics), (std::vector<std::string>{"accuracy", "macro_f1", "logloss"}));
  EXPECT_TRUE(metrics[0].higher_is_better && metrics[1].higher_is_better && !metrics[2].higher_is_better);
  const auto v = values_of(metrics);
  EXPECT_DOUBLE_EQ(v["accuracy"], 0.5);
  // Class 0: P 1/2, R 1 -> 2/3. Class 1: never predicted -> 0. Class 2: P 1/2, R 1/2 -> 1/2.
  EXPECT_DOUBLE_EQ(v["macro_f1"], (2.0 / 3.0 + 0.0 + 0.5) / 3);
  // The last row's 0 is clipped to eps and the row renormalized by its sum 1 + eps.
  const double last = -std::log(kEps / (1 + kEps));
  EXPECT_NEAR(v["logloss"], (-std::log(0.7) - std::log(0.3) - std::log(0.6) + last) / 4, 1e-13);
}

TEST(MulticlassMetricsTest, MacroF1OnlyOverClassesPresent) {
  // k = 4, but classes 2 and 3 appear neither in the labels nor in the predictions.
  const std::vector<double> p = {0.9, 0.1, 0, 0, 0.2, 0.8, 0, 0};
  EXPECT_DOUBLE_EQ(values_of(compute_metrics(TaskKind::kMulticlass, {0, 1}, p, 4))["macro_f1"], 1.0);
  // A class only predicted counts (with F1 0).
  const std::vector<double> q = {0.9, 0.1, 0, 0, 0.2, 0.1, 0.7, 0};
  EXPECT_DOUBLE_EQ(values_of(compute_metrics(TaskKind::kMulticlass, {0, 1}, q, 4))["macro_f1"], 1.0 / 3);
}

TEST(MulticlassMetricsTest, LogLossRenormalizesRows) {
  // Rows scaled by 1/2 give the same loss as the normalized rows.
  const auto a = values_of(compute_metrics(TaskKind::kMulticlass, {0, 1}, {0.6, 0.4, 0.25, 0.75}, 2));
  const auto b = values_of(compute_metrics(TaskKind::kMulticlass, {0, 1}, {0.3, 0.2, 0.125, 0.375}, 2));
  EXPECT_NEAR(a["logloss"], -(std::log(0.6) + std::log(0.75)) / 2, 1e-15);
  EXPECT_NEAR(b["logloss"], a["logloss"], 1e-15);
  // Clipping comes first: 1.2 becomes 1 - eps before the row is divided by its sum.
  const auto c = values_of(compute_metrics(TaskKind::kMulticlass, {0}, {1.2, 0.8}, 2));
  EXPECT_NEAR(c["logloss"], -std::log((1 - kEps) / (1.8 - kEps)), 1e-15);
}

// --- Regression --------------------------------------------------------------------------------------

TEST(RegressionMetricsTest, HandComputed) {
  const auto metrics = compute_metrics(TaskKind::kRegression, {1, 2, 3, 4}, {1, 2, 3, 5}, 1);
  EXPECT_EQ(names_of(metrics), (std::vector<std::string>{"rmse", "mae", "r2"}));
  EXPECT_TRUE(!metrics[0].higher_is_better && !metrics[1].higher_is_better && metrics[2].higher_is_better);
  const auto v = values_of(metrics);
  EXPECT_DOUBLE_EQ(v["rmse"], 0.5);
  EXPECT_DOUBLE_EQ(v["mae"], 0.25);
  EXPECT_DOUBLE_EQ(v["r2"], 1 - 1.0 / 5.0);  // SS_tot = 2.25 + 0.25 + 0.25 + 2.25
}

TEST(RegressionMetricsTest, R2EdgeCases) {
  EXPECT_EQ(values_of(compute_metrics(TaskKind::kRegression, {2, 2}, {2, 2}, 1))["r2"], 1.0);  // perfect, constant
  EXPECT_EQ(values_of(compute_metrics(TaskKind::kRegression, {2, 2}, {2, 3}, 1))["r2"], 0.0);  // constant labels
  EXPECT_EQ(values_of(compute_metrics(TaskKind::kRegression, {1, 3}, {1, 3}, 1))["r2"], 1.0);
  EXPECT_DOUBLE_EQ(values_of(compute_metrics(TaskKind::kRegression, {1, 3}, {2, 2}, 1))["r2"], 0.0);  // the mean
  const auto one = values_of(compute_metrics(TaskKind::kRegression, {5}, {3}, 1));
  EXPECT_TRUE(std::isnan(one["r2"]));  // scikit-learn: not defined for one sample
  EXPECT_DOUBLE_EQ(one["rmse"], 2.0);
  EXPECT_DOUBLE_EQ(one["mae"], 2.0);
}

TEST(RegressionMetricsTest, LargeOffsetDoesNotCancel) {
  const double base = 1e9;
  const auto v = values_of(compute_metrics(TaskKind::kRegression, {base + 1, base + 2, base + 3, base + 4},
                                           {base + 1, base + 2, base + 3, base + 5}, 1));
  EXPECT_DOUBLE_EQ(v["r2"], 0.8);
  EXPECT_DOUBLE_EQ(v["rmse"], 0.5);
}

// --- Ranking -----------------------------------------------------------------------------------------

TEST(RankingMetricsTest, ScikitLearnDocstringExample) {
  // ndcg_score([[10, 0, 0, 1, 5]], [[.1, .2, .3, 4, 70]]) = 0.69...: order 5, 1, 0, 0, 10.
  const Groups groups(5, "q");
  const auto metrics = compute_metrics(TaskKind::kRanking, {10, 0, 0, 1, 5}, {.1, .2, .3, 4, 70}, 1, &groups);
  EXPECT_EQ(names_of(metrics), (std::vector<std::string>{"ndcg@5", "ndcg@10"}));
  EXPECT_TRUE(metrics[0].higher_is_better && metrics[1].higher_is_better);
  const double dcg = 5 * log2_discount(0) + 1 * log2_discount(1) + 10 * log2_discount(4);
  const double ideal = 10 * log2_discount(0) + 5 * log2_discount(1) + 1 * log2_discount(2);
  EXPECT_NEAR(metrics[0].value, dcg / ideal, 1e-15);
  EXPECT_NEAR(metrics[1].value, dcg / ideal, 1e-15);
  EXPECT_NEAR(metrics[0].value, 0.6956940443813076, 1e-12);
}

TEST(RankingMetricsTest, TiesAreAveraged) {
  // Scores tie the relevances 10 and 5 for the top two ranks: each gets their mean 7.5.
  const Groups groups(5, "q");
  const auto v = values_of(compute_metrics(TaskKind::kRanking, {10, 0, 0, 0, 5}, {1, 0, 0, 0, 1}, 1, &groups));
  const double ideal = 10 * log2_discount(0) + 5 * log2_discount(1);
  EXPECT_NEAR(v["ndcg@5"], 7.5 * (log2_discount(0) + log2_discount(1)) / ideal, 1e-15);
}

TEST(RankingMetricsTest, TieStraddlingTheCutoff) {
  // Twelve equally scored documents, one relevant: it is at each rank with probability 1/12.
  const Groups groups(12, "q");
  std::vector<double> relevance(12, 0.0);
  relevance[7] = 3;
  const auto v = values_of(compute_metrics(TaskKind::kRanking, relevance, std::vector<double>(12, 0.25), 1, &groups));
  double top5 = 0, top10 = 0;
  for (int r = 0; r < 10; ++r) (r < 5 ? top5 : top10) += log2_discount(r);
  top10 += top5;
  EXPECT_NEAR(v["ndcg@5"], top5 / 12, 1e-15);
  EXPECT_NEAR(v["ndcg@10"], top10 / 12, 1e-15);
}

TEST(RankingMetricsTest, CutoffIgnoresLowerRanks) {
  // The only relevant document is ranked 7th (0-based 6): outside the top 5, inside the top 10.
  const Groups groups(8, "q");
  const std::vector<double> relevance = {0, 0, 0, 0, 0, 0, 2, 0};
  const std::vector<double> scores = {8, 7, 6, 5, 4, 3, 2, 1};
  const auto v = values_of(compute_metrics(TaskKind::kRanking, relevance, scores, 1, &groups));
  EXPECT_EQ(v["ndcg@5"], 0.0);
  EXPECT_NEAR(v["ndcg@10"], log2_discount(6) / log2_discount(0), 1e-15);
}

TEST(RankingMetricsTest, AllIrrelevantAndSingleDocumentQueries) {
  // Query a: perfect (1). Query b: all relevances 0 -> 0. Query c: one relevant document -> 1.
  // Query d: one irrelevant document -> 0. The mean over the four queries is 0.5.
  const Groups groups = {"a", "a", "b", "b", "c", "d"};
  const auto v = values_of(compute_metrics(TaskKind::kRanking, {2, 1, 0, 0, 3, 0}, {0.9, 0.1, 0.4, 0.6, 0.5, 0.5}, 1, &groups));
  EXPECT_DOUBLE_EQ(v["ndcg@5"], 0.5);
  EXPECT_DOUBLE_EQ(v["ndcg@10"], 0.5);
}

TEST(RankingMetricsTest, QueriesNeedNotBeContiguous) {
  const Groups contiguous = {"x", "x", "x", "y", "y", "y"};
  const std::vector<double> rel = {3, 1, 0, 0, 2, 1};
  const std::vector<double> score = {0.1, 0.5, 0.3, 0.9, 0.2, 0.4};
  const auto a = values_of(compute_metrics(TaskKind::kRanking, rel, score, 1, &contiguous));
  // The same rows interleaved and reversed.
  const Groups interleaved = {"y", "x", "y", "x", "y", "x"};
  const std::vector<double> rel2 = {1, 0, 2, 1, 0, 3};
  const std::vector<double> score2 = {0.4, 0.3, 0.2, 0.5, 0.9, 0.1};
  const auto b = values_of(compute_metrics(TaskKind::kRanking, rel2, score2, 1, &interleaved));
  EXPECT_DOUBLE_EQ(a["ndcg@5"], b["ndcg@5"]);
  EXPECT_DOUBLE_EQ(a["ndcg@10"], b["ndcg@10"]);
  // Query x: order 1, 0, 3. Query y: order 0, 1, 2.
  const double x = (1 * log2_discount(0) + 3 * log2_discount(2)) / (3 * log2_discount(0) + 1 * log2_discount(1));
  const double y = (1 * log2_discount(1) + 2 * log2_discount(2)) / (2 * log2_discount(0) + 1 * log2_discount(1));
  EXPECT_NEAR(a["ndcg@5"], (x + y) / 2, 1e-15);
}

// --- Errors ------------------------------------------------------------------------------------------

TEST(MetricsErrorTest, EmptyInput) {
  expect_invalid([] { compute_metrics(TaskKind::kRegression, {}, {}, 1); }, {"empty"});
  const Groups none;
  expect_invalid([&] { compute_metrics(TaskKind::kRanking, {}, {}, 1, &none); }, {"empty"});
}

TEST(MetricsErrorTest, SizeMismatches) {
  expect_invalid([] { compute_metrics(TaskKind::kBinary, {0, 1}, {0.5}, 1); }, {"size mismatch", "1 predictions", "2 labels"});
  expect_invalid([] { compute_metrics(TaskKind::kMulticlass, {0, 1}, {0.5, 0.5, 0.5}, 2); }, {"size mismatch", "4 predictions"});
  expect_invalid([] { compute_metrics(TaskKind::kRegression, {1}, {1, 2}, 1); }, {"size mismatch"});
  const Groups groups = {"q"};
  expect_invalid([&] { compute_metrics(TaskKind::kRanking, {1, 0}, {1, 2}, 1, &groups); }, {"size mismatch", "1 query ids"});
}

TEST(MetricsErrorTest, InvalidK) {
  expect_invalid([] { compute_metrics(TaskKind::kBinary, {0, 1}, {0.1, 0.9, 0.9, 0.1}, 2); }, {"k = 2", "k = 1"});
  expect_invalid([] { compute_metrics(TaskKind::kMulticlass, {0, 0}, {1, 1}, 1); }, {"k = 1", "k >= 2"});
  expect_invalid([] { compute_metrics(TaskKind::kRegression, {0}, {}, 0); }, {"k = 0"});
}

TEST(MetricsErrorTest, BinaryLabelNotZeroOrOne) {
  expect_invalid([] { compute_metrics(TaskKind::kBinary, {0, 2, 1}, {0.1, 0.2, 0.3}, 1); }, {"row 1", "binary label is 2", "0 or 1"});
  expect_invalid([] { compute_metrics(TaskKind::kBinary, {0, 1, 0.5}, {0.1, 0.2, 0.3}, 1); }, {"row 2", "0.5"});
}

TEST(MetricsErrorTest, OnlyOneBinaryClass) {
  expect_invalid([] { compute_metrics(TaskKind::kBinary, {1, 1}, {0.1, 0.9}, 1); }, {"only one class", "ROC AUC"});
  expect_invalid([] { compute_metrics(TaskKind::kBinary, {0}, {0.1}, 1); }, {"only one class"});
}

TEST(MetricsErrorTest, ClassIndexOutOfRange) {
  const std::vector<double> p(6, 1.0 / 3);
  expect_invalid([&] { compute_metrics(TaskKind::kMulticlass, {0, 3}, p, 3); }, {"row 1", "class index is 3", "0..2"});
  expect_invalid([&] { compute_metrics(TaskKind::kMulticlass, {-1, 0}, p, 3); }, {"row 0", "-1"});
  expect_invalid([&] { compute_metrics(TaskKind::kMulticlass, {0, 1.5}, p, 3); }, {"row 1", "1.5"});
}

TEST(MetricsErrorTest, NaNAndInfinity) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  expect_invalid([&] { compute_metrics(TaskKind::kRegression, {1, nan}, {1, 2}, 1); }, {"row 1", "label is nan"});
  expect_invalid([&] { compute_metrics(TaskKind::kBinary, {0, 1}, {nan, 0.5}, 1); }, {"row 0", "prediction is nan"});
  expect_invalid([&] { compute_metrics(TaskKind::kMulticlass, {0, 1}, {0.5, 0.5, 0.5, nan}, 2); }, {"row 1, column 1", "nan"});
  expect_invalid([&] { compute_metrics(TaskKind::kRegression, {1, 2}, {inf, 2}, 1); }, {"row 0", "inf"});
  const Groups groups = {"q", "q"};
  expect_invalid([&] { compute_metrics(TaskKind::kRanking, {nan, 1}, {1, 2}, 1, &groups); }, {"row 0", "nan"});
}

TEST(MetricsErrorTest, RankingGroups) {
  expect_invalid([] { compute_metrics(TaskKind::kRanking, {1, 0}, {1, 2}, 1); }, {"ranking metrics need query groups"});
  const Groups groups = {"q", "q"};
  expect_invalid([&] { compute_metrics(TaskKind::kRanking, {1, -1}, {1, 2}, 1, &groups); }, {"row 1", "relevance is -1"});
  expect_invalid([&] { compute_metrics(TaskKind::kRegression, {1, 0}, {1, 2}, 1, &groups); }, {"groups", "regression"});
}

// --- Parity with scikit-learn ------------------------------------------------------------------------

const char* kPython = "/usr/bin/python3";

bool sklearn_available() {
  const std::string command = std::string(kPython) + " -c 'import sklearn.metrics' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

std::string number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round-trip form
  return std::string(buffer, result.ptr);
}

// One data set for compute_metrics.
struct Case {
  std::vector<double> labels;
  std::vector<double> predictions;
  int k = 1;
  Groups groups;
};

// Runs the reference script; returns, per case, its metric=value lines.
std::vector<std::map<std::string, double>> run_reference(const std::string& task, const std::string& csv_path) {
  const std::string script = orchard::testing::source_dir() + "/tests/evaluation/sklearn_reference.py";
  const std::string err_path = csv_path + ".err";
  const std::string command = std::string(kPython) + " '" + script + "' " + task + " '" + csv_path + "' 2>'" + err_path + "'";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string out;
  char buffer[4096];
  while (const std::size_t got = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, got);
  const int status = pclose(pipe);
  if (status != 0) {
    std::ifstream err(err_path);
    std::stringstream text;
    text << err.rdbuf();
    throw std::runtime_error("reference script failed (" + command + "):\n" + text.str());
  }
  std::vector<std::map<std::string, double>> cases;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    if (key == "case") {
      cases.emplace_back();
    } else if (!cases.empty()) {
      cases.back()[key] = std::strtod(line.c_str() + eq + 1, nullptr);
    }
  }
  return cases;
}

void check_parity(TaskKind task, const std::string& task_name, const std::vector<Case>& cases) {
  if (!sklearn_available()) {
    GTEST_SKIP() << kPython << " cannot import sklearn (install Debian's python3-sklearn); parity with "
                 << "scikit-learn is not checked";
  }
  std::string csv = "case,label";
  const int k = cases.front().k;
  if (task == TaskKind::kMulticlass) {
    for (int c = 0; c < k; ++c) {
      csv += ",p";
      csv += std::to_string(c);
    }
  } else {
    csv += task == TaskKind::kRanking ? ",score,group" : ",prediction";
  }
  csv += "\n";
  for (std::size_t id = 0; id < cases.size(); ++id) {
    const Case& c = cases[id];
    ASSERT_EQ(c.k, k) << "one CSV holds one k";
    for (std::size_t i = 0; i < c.labels.size(); ++i) {
      csv += std::to_string(id);
      csv += ',';
      csv += number(c.labels[i]);
      for (int j = 0; j < c.k; ++j) {
        csv += ',';
        csv += number(c.predictions[i * static_cast<std::size_t>(c.k) + static_cast<std::size_t>(j)]);
      }
      if (task == TaskKind::kRanking) {
        csv += ',';
        csv += c.groups[i];
      }
      csv += '\n';
    }
  }
  const std::string path = orchard::testing::write_file("metrics_" + task_name + "_k" + std::to_string(k) + ".csv", csv);
  const auto expected = run_reference(task_name, path);
  ASSERT_EQ(expected.size(), cases.size());

  int compared = 0;
  for (std::size_t id = 0; id < cases.size(); ++id) {
    const Case& c = cases[id];
    const auto ours = compute_metrics(task, c.labels, c.predictions, c.k, task == TaskKind::kRanking ? &c.groups : nullptr);
    ASSERT_EQ(ours.size(), expected[id].size()) << "case " << id;
    for (const auto& metric : ours) {
      const auto it = expected[id].find(metric.name);
      ASSERT_NE(it, expected[id].end()) << "case " << id << ": scikit-learn gave no " << metric.name;
      const double want = it->second;
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(metric.value)) << task_name << " case " << id << " " << metric.name << ": " << metric.value;
      } else {
        // 1e-9 relative; values under 1e-6 in magnitude are compared to 1e-15 absolute.
        EXPECT_LE(std::abs(metric.value - want), 1e-9 * std::max(std::abs(want), 1e-6))
            << task_name << " case " << id << " (n = " << c.labels.size() << ") " << metric.name << ": ours "
            << number(metric.value) << ", scikit-learn " << number(want) << "\nCSV: " << path;
      }
      ++compared;
    }
  }
  EXPECT_GT(compared, 0);
}

using Rng = std::mt19937_64;

double uniform(Rng& rng, double lo = 0, double hi = 1) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
int uniform_int(Rng& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

TEST(SklearnParityTest, Binary) {
  Rng rng(20240611);
  std::vector<Case> cases;
  for (int id = 0; id < 60; ++id) {
    Case c;
    const int n = id < 5 ? 2 + id : uniform_int(rng, 2, 400);
    const double rate = uniform(rng, 0.05, 0.95);
    const int style = id % 5;
    for (int i = 0; i < n; ++i) {
      const double label = uniform(rng) < rate ? 1 : 0;
      double p = 0;
      switch (style) {
        case 0: p = uniform(rng); break;                                       // continuous
        case 1: p = uniform_int(rng, 0, 10) / 10.0; break;                     // heavy ties, 0, 0.5 and 1 exactly
        case 2: p = std::clamp(0.35 * label + uniform(rng, 0, 0.65), 0.0, 1.0); break;  // informative
        case 3: p = uniform_int(rng, 0, 2) / 2.0; break;                       // three values only
        default: p = uniform(rng) < 0.2 ? (uniform(rng) < 0.5 ? 1e-20 : 1 - 1e-17) : uniform(rng, -0.2, 1.2); break;  // clipping
      }
      c.labels.push_back(label);
      c.predictions.push_back(p);
    }
    if (std::all_of(c.labels.begin(), c.labels.end(), [&](double y) { return y == c.labels[0]; })) c.labels[0] = 1 - c.labels[0];
    cases.push_back(std::move(c));
  }
  check_parity(TaskKind::kBinary, "binary", cases);
}

TEST(SklearnParityTest, Multiclass) {
  Rng rng(7);
  for (const int k : {2, 3, 5, 9}) {
    std::vector<Case> cases;
    for (int id = 0; id < 30; ++id) {
      Case c;
      c.k = k;
      const int n = id < 3 ? 1 + id : uniform_int(rng, 1, 300);
      const int used_classes = uniform_int(rng, 1, k);  // labels only from the first `used_classes` classes
      const int style = id % 4;
      for (int i = 0; i < n; ++i) {
        c.labels.push_back(uniform_int(rng, 0, used_classes - 1));
        std::vector<double> row(static_cast<std::size_t>(k));
        double sum = 0;
        for (auto& v : row) {
          v = style == 1 || style == 3 ? uniform_int(rng, 0, 3) : uniform(rng);  // integer weights: argmax ties, zeros
          sum += v;
        }
        for (auto& v : row) {
          if (style < 2 && sum > 0) v /= sum;  // styles 2 and 3 leave rows unnormalized (log_loss renormalizes)
          c.predictions.push_back(v);
        }
      }
      cases.push_back(std::move(c));
    }
    SCOPED_TRACE("k = " + std::to_string(k));
    check_parity(TaskKind::kMulticlass, "multiclass", cases);
  }
}

TEST(SklearnParityTest, Regression) {
  Rng rng(99);
  std::normal_distribution<double> normal;
  std::vector<Case> cases;
  for (int id = 0; id < 40; ++id) {
    Case c;
    const int n = id < 3 ? 1 + id : uniform_int(rng, 1, 500);
    const double offset = id % 4 == 3 ? 1e6 : uniform(rng, -10, 10);
    const double scale = std::pow(10.0, uniform(rng, -3, 3));
    for (int i = 0; i < n; ++i) {
      const double y = id % 10 == 5 ? offset : offset + scale * normal(rng);  // some constant targets
      double p = y + 0.5 * scale * normal(rng);
      if (id % 10 == 7) p = y;                                 // perfect predictions
      if (id % 10 == 5 && id % 20 == 5) p = offset;            // constant and perfect
      c.labels.push_back(y);
      c.predictions.push_back(p);
    }
    cases.push_back(std::move(c));
  }
  check_parity(TaskKind::kRegression, "regression", cases);
}

TEST(SklearnParityTest, Ranking) {
  Rng rng(31337);
  std::vector<Case> cases;
  for (int id = 0; id < 40; ++id) {
    Case c;
    const int queries = uniform_int(rng, 1, 12);
    const int style = id % 4;
    for (int q = 0; q < queries; ++q) {
      const int size = q == 0 && id % 3 == 0 ? 1 : uniform_int(rng, 1, 25);
      const bool irrelevant = uniform(rng) < 0.15;
      for (int d = 0; d < size; ++d) {
        double relevance = irrelevant ? 0 : uniform_int(rng, 0, 4);
        if (style == 3 && !irrelevant) relevance = std::round(uniform(rng, 0, 3) * 100) / 100;  // graded, non-integer
        const double score = style == 0 ? uniform(rng) : style == 1 ? uniform_int(rng, 0, 3) : uniform_int(rng, 0, 20) / 4.0;
        c.labels.push_back(relevance);
        c.predictions.push_back(score);
        std::string query = "q";
        query += std::to_string(q);
        c.groups.push_back(query);
      }
    }
    // Shuffle the rows: a query's documents are scattered through the input.
    std::vector<std::size_t> order(c.labels.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    Case shuffled;
    for (const std::size_t i : order) {
      shuffled.labels.push_back(c.labels[i]);
      shuffled.predictions.push_back(c.predictions[i]);
      shuffled.groups.push_back(c.groups[i]);
    }
    cases.push_back(std::move(shuffled));
  }
  check_parity(TaskKind::kRanking, "ranking", cases);
}

}  // namespace
}  // namespace orchard
