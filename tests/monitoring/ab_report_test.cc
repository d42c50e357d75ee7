// The A/B report: traffic shares and latency percentiles per arm, shadows apart, and a verdict per
// candidate that follows the significance test (or says there is not enough data yet).
#include <gtest/gtest.h>

#include "monitoring/ab_report.h"

namespace orchard {
namespace {

ArmTraffic traffic(const std::string& arm, std::int64_t version, std::uint64_t rows, std::vector<double> latencies) {
  ArmTraffic t;
  t.endpoint = "churn";
  t.model = "churn";
  t.arm = arm;
  t.version = version;
  t.rows = rows;
  double sum = 0;
  for (double l : latencies) sum += l;
  t.mean_latency_us = latencies.empty() ? 0 : sum / static_cast<double>(latencies.size());
  t.recent_latencies_us = std::move(latencies);
  return t;
}

QualityGroup quality(const std::string& arm, std::int64_t version, std::uint64_t labelled, std::int64_t correct) {
  QualityGroup q;
  q.model = "churn";
  q.version = version;
  q.arm = arm;
  q.task = TaskKind::kBinary;
  q.labelled = labelled;
  q.correct = correct;
  return q;
}

const std::vector<RouteArmInfo> kArms = {{"@production", "churn", 1, 0.8, 800, 0}, {"@staging", "churn", 2, 0.2, 200, 2}};

TEST(AbReport, TrafficLatencyAndErrorsPerArm) {
  const auto report = ab_report("churn", std::chrono::hours(1), kArms,
                                {traffic("@production", 1, 75, {10, 20, 30, 40, 50}), traffic("@staging", 2, 25, {100}),
                                 traffic("shadow:3", 3, 100, {7})},
                                {});
  EXPECT_EQ(report["rows"], 100) << "shadow rows are not live traffic";
  EXPECT_EQ(report["control"], "@production");
  ASSERT_EQ(report["arms"].size(), 2u);
  EXPECT_DOUBLE_EQ(report["arms"][0]["share"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(report["arms"][0]["latency_us"]["p50"].get<double>(), 30);
  EXPECT_DOUBLE_EQ(report["arms"][0]["latency_us"]["mean"].get<double>(), 30);
  EXPECT_NEAR(report["arms"][0]["latency_us"]["p99"].get<double>(), 49.6, 1e-9);
  EXPECT_NEAR(report["arms"][1]["errors"]["rate"].get<double>(), 2.0 / 202, 1e-12);
  ASSERT_EQ(report["shadows"].size(), 1u);
  EXPECT_EQ(report["shadows"][0]["arm"], "shadow:3");
  EXPECT_EQ(report["arms"][1]["verdict"]["outcome"], "not_enough_data");
}

TEST(AbReport, AClearWinnerIsCalledAndATieIsNot) {
  const auto winner = ab_report("churn", std::chrono::hours(1), kArms, {},
                                {quality("@production", 1, 400, 280), quality("@staging", 2, 400, 360)});
  EXPECT_EQ(winner["metric"]["name"], "accuracy");
  EXPECT_EQ(winner["arms"][1]["verdict"]["outcome"], "candidate_better") << winner.dump(2);
  EXPECT_LT(winner["arms"][1]["verdict"]["p_value"].get<double>(), 0.001);
  EXPECT_NE(winner["verdict"].get<std::string>().find("@staging"), std::string::npos);

  const auto loser = ab_report("churn", std::chrono::hours(1), kArms, {},
                               {quality("@production", 1, 400, 360), quality("@staging", 2, 400, 280)});
  EXPECT_EQ(loser["arms"][1]["verdict"]["outcome"], "control_better");

  const auto tie = ab_report("churn", std::chrono::hours(1), kArms, {},
                             {quality("@production", 1, 400, 300), quality("@staging", 2, 400, 302)});
  EXPECT_EQ(tie["arms"][1]["verdict"]["outcome"], "no_difference");

  AbReportOptions strict;
  strict.min_labelled = 500;
  const auto few = ab_report("churn", std::chrono::hours(1), kArms, {},
                             {quality("@production", 1, 400, 280), quality("@staging", 2, 400, 360)}, {}, strict);
  EXPECT_EQ(few["arms"][1]["verdict"]["outcome"], "not_enough_data");
}

// A shadow answers the control's own requests: it is compared on those pairs. Here both are right
// on most rows; the shadow alone is right on 10 and the control alone on 2: McNemar's p = 0.039,
// significant when the shadow is the only comparison (an unpaired test of 0.80 against 0.88 on 100
// rows each would find nothing: p = 0.12), not when a candidate arm shares alpha with it.
TEST(AbReport, ShadowsAreComparedWithTheControlOnTheRequestsBothAnswered) {
  ShadowPairs pairs;
  pairs.arm = "shadow:3";
  pairs.model = "churn";
  pairs.version = 3;
  pairs.outcomes.pairs = 100;
  pairs.outcomes.control_only = 2;
  pairs.outcomes.candidate_only = 10;
  pairs.outcomes.control_value = 0.80;
  pairs.outcomes.candidate_value = 0.88;
  const std::vector<RouteArmInfo> one_arm = {kArms[0]};
  const auto report = ab_report("churn", std::chrono::hours(1), one_arm, {traffic("shadow:3", 3, 100, {7})},
                                {quality("@production", 1, 100, 80), quality("shadow:3", 3, 100, 88)}, {pairs});
  ASSERT_EQ(report["shadows"].size(), 1u);
  const auto& verdict = report["shadows"][0]["verdict"];
  EXPECT_EQ(verdict["outcome"], "candidate_better") << report.dump(2);
  EXPECT_EQ(verdict["pairs"], 100);
  EXPECT_EQ(verdict["test"], "McNemar's exact test (paired)");
  EXPECT_NEAR(verdict["p_value"].get<double>(), 158.0 / 4096, 1e-12);

  // With a candidate arm too, two comparisons share alpha: 0.039 is no longer under 0.025.
  const auto two = ab_report("churn", std::chrono::hours(1), kArms, {traffic("shadow:3", 3, 100, {7})},
                             {quality("@production", 1, 100, 80), quality("shadow:3", 3, 100, 88)}, {pairs});
  EXPECT_DOUBLE_EQ(two["alpha_per_comparison"].get<double>(), 0.025);
  EXPECT_EQ(two["shadows"][0]["verdict"]["outcome"], "no_difference") << two.dump(2);

  const auto unpaired = ab_report("churn", std::chrono::hours(1), kArms, {traffic("shadow:3", 3, 100, {7})},
                                  {quality("@production", 1, 100, 80), quality("shadow:3", 3, 100, 88)});
  EXPECT_EQ(unpaired["shadows"][0]["verdict"]["outcome"], "not_enough_data") << "no pairs: no verdict";
}

TEST(AbReport, RegressionComparesMeanSquaredErrorWithWelch) {
  QualityGroup control, candidate;
  control.model = candidate.model = "price";
  control.task = candidate.task = TaskKind::kRegression;
  control.version = 1;
  candidate.version = 2;
  control.arm = "1";
  candidate.arm = "2";
  control.labelled = candidate.labelled = 200;
  control.squared_error = {4.0, 1.0, 200};
  candidate.squared_error = {2.0, 1.0, 200};
  const std::vector<RouteArmInfo> arms = {{"1", "price", 1, 0.5, 0, 0}, {"2", "price", 2, 0.5, 0, 0}};
  const auto report = ab_report("price", std::chrono::hours(1), arms, {}, {control, candidate});
  EXPECT_EQ(report["metric"]["name"], "mean squared error");
  EXPECT_FALSE(report["metric"]["higher_is_better"].get<bool>());
  EXPECT_EQ(report["arms"][1]["verdict"]["outcome"], "candidate_better") << report.dump(2);
}

}  // namespace
}  // namespace orchard
