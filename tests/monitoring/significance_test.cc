#include "monitoring/significance.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "support/test_support.h"

namespace orchard {
namespace {

// Reference values computed once with scipy 1.10.1 (/usr/bin/python3).

TEST(Significance, TwoProportionZTestMatchesScipy) {
  // p1, p2 = 870/1000, 910/1000; p = 1780/2000; se = sqrt(p(1-p)(1/1000 + 1/1000));
  // z = (p2 - p1) / se; scipy.stats.norm.sf(abs(z)) * 2
  const TestResult a = two_proportion_z_test(870, 1000, 910, 1000);
  EXPECT_NEAR(a.difference, 0.04, 1e-12);
  EXPECT_NEAR(a.statistic, 2.8586016996464672, 1e-10);
  EXPECT_NEAR(a.p_value, 0.0042551268767973185, 1e-12);
  // The same for 40/50 against 38/45.
  const TestResult b = two_proportion_z_test(40, 50, 38, 45);
  EXPECT_NEAR(b.statistic, 0.56428535819812675, 1e-10);
  EXPECT_NEAR(b.p_value, 0.57255994440865232, 1e-10);
  // Swapping the arms flips the sign, not the p-value.
  const TestResult swapped = two_proportion_z_test(910, 1000, 870, 1000);
  EXPECT_NEAR(swapped.statistic, -a.statistic, 1e-12);
  EXPECT_NEAR(swapped.p_value, a.p_value, 1e-15);
}

TEST(Significance, ZTestWithoutVarianceAndBadCounts) {
  const TestResult all = two_proportion_z_test(30, 30, 50, 50);  // both perfect
  EXPECT_EQ(all.statistic, 0);
  EXPECT_EQ(all.p_value, 1);
  EXPECT_ERROR_KIND(two_proportion_z_test(5, 4, 1, 2), ErrorKind::kInvalidArgument);
  EXPECT_ERROR_KIND(two_proportion_z_test(0, 0, 1, 2), ErrorKind::kInvalidArgument);
  EXPECT_ERROR_KIND(two_proportion_z_test(-1, 3, 1, 2), ErrorKind::kInvalidArgument);
}

TEST(Significance, WelchTTestMatchesScipy) {
  // scipy.stats.ttest_ind_from_stats(0.52, sqrt(0.09), 200, 0.47, sqrt(0.07), 150, equal_var=False)
  const TestResult a = welch_t_test({0.47, 0.07, 150}, {0.52, 0.09, 200});
  EXPECT_NEAR(a.difference, 0.05, 1e-12);
  EXPECT_NEAR(a.statistic, 1.6514456476895423, 1e-10);
  EXPECT_NEAR(a.p_value, 0.099573773834814042, 1e-10);
  EXPECT_NEAR(a.degrees_of_freedom, 338.93323684896666, 1e-8);
  // ttest_ind_from_stats(1.0, sqrt(4.0), 31, 2.5, sqrt(1.0), 40, equal_var=False)
  const TestResult b = welch_t_test({2.5, 1.0, 40}, {1.0, 4.0, 31});
  EXPECT_NEAR(b.statistic, -3.8219536683392614, 1e-10);
  EXPECT_NEAR(b.p_value, 0.0004359461038221921, 1e-12);
  // Few degrees of freedom: ttest_ind_from_stats(3.0, sqrt(2.0), 3, 1.0, sqrt(0.5), 2, equal_var=False)
  const TestResult c = welch_t_test({1.0, 0.5, 2}, {3.0, 2.0, 3});
  EXPECT_NEAR(c.statistic, 2.088931871468374, 1e-10);
  EXPECT_NEAR(c.p_value, 0.12940659844260255, 1e-10);
}

TEST(Significance, WelchTTestWithoutVarianceAndBadSummaries) {
  const TestResult same = welch_t_test({1.0, 0.0, 10}, {1.0, 0.0, 10});
  EXPECT_EQ(same.statistic, 0);
  EXPECT_EQ(same.p_value, 1);
  const TestResult apart = welch_t_test({1.0, 0.0, 10}, {2.0, 0.0, 10});
  EXPECT_TRUE(std::isinf(apart.statistic) && apart.statistic > 0);
  EXPECT_EQ(apart.p_value, 0);
  EXPECT_ERROR_KIND(welch_t_test({1.0, 1.0, 1}, {1.0, 1.0, 10}), ErrorKind::kInvalidArgument);
  EXPECT_ERROR_KIND(welch_t_test({1.0, -1.0, 5}, {1.0, 1.0, 10}), ErrorKind::kInvalidArgument);
  EXPECT_ERROR_KIND(welch_t_test({NAN, 1.0, 5}, {1.0, 1.0, 10}), ErrorKind::kInvalidArgument);
}

TEST(Significance, VerdictNeedsTheMinimumSampleOnBothArms) {
  const MetricSpec accuracy{"accuracy", true, true};
  const Verdict v = compare_arms({"a", 100, 0.9, 0}, {"b", 12, 0.95, 0}, accuracy);
  EXPECT_EQ(v.outcome, Verdict::Outcome::kNotEnoughData);
  EXPECT_EQ(v.text, "not enough data yet (12 of 30 labelled on b)");
}

TEST(Significance, VerdictNamesTheBetterArm) {
  const MetricSpec accuracy{"accuracy", true, true};
  // 870/1000 against 910/1000: p = 0.0043 (the z-test above).
  const Verdict v = compare_arms({"a", 1000, 0.87, 0}, {"b", 1000, 0.91, 0}, accuracy);
  EXPECT_EQ(v.outcome, Verdict::Outcome::kCandidateBetter);
  EXPECT_EQ(v.text, "b is better: accuracy 0.91 vs 0.87, p = 0.0043");
  // The same numbers as an error rate: lower is better, so the control wins.
  const MetricSpec error_rate{"error rate", true, false};
  const Verdict e = compare_arms({"a", 1000, 0.87, 0}, {"b", 1000, 0.91, 0}, error_rate);
  EXPECT_EQ(e.outcome, Verdict::Outcome::kControlBetter);
  EXPECT_EQ(e.text, "a is better: error rate 0.87 vs 0.91, p = 0.0043");
  // Log loss (lower is better) through Welch: candidate 1.0 (n 31) against control 2.5 (n 40), p = 0.00044.
  const MetricSpec log_loss{"log loss", false, false};
  const Verdict l = compare_arms({"control", 40, 2.5, 1.0}, {"candidate", 31, 1.0, 4.0}, log_loss);
  EXPECT_EQ(l.outcome, Verdict::Outcome::kCandidateBetter);
  EXPECT_EQ(l.text, "candidate is better: log loss 1 vs 2.5, p < 0.001");
}

TEST(Significance, VerdictWithoutSignificance) {
  const MetricSpec accuracy{"accuracy", true, true};
  const Verdict v = compare_arms({"a", 50, 0.8, 0}, {"b", 45, 38.0 / 45, 0}, accuracy);  // p = 0.57
  EXPECT_EQ(v.outcome, Verdict::Outcome::kNoDifference);
  EXPECT_EQ(v.text, "no significant difference (p = 0.57)");
  EXPECT_NEAR(v.test.p_value, 0.57255994440865232, 1e-10);
}

// McNemar's exact test: 10 pairs only the control got right, 2 only the candidate, 88 both or
// neither: p = 2 · P(X <= 2), X ~ Binomial(12, 1/2) = 2 · (1 + 12 + 66) / 4096.
TEST(Significance, McNemarExactTestOnDiscordantPairs) {
  const TestResult r = mcnemar_test(10, 2, 100);
  EXPECT_NEAR(r.p_value, 158.0 / 4096, 1e-12);
  EXPECT_DOUBLE_EQ(r.difference, -0.08);
  EXPECT_LT(r.statistic, 0);
  EXPECT_NEAR(mcnemar_test(2, 10, 100).p_value, 158.0 / 4096, 1e-12) << "two-sided";
  EXPECT_DOUBLE_EQ(mcnemar_test(6, 6, 100).p_value, 1.0);
  EXPECT_DOUBLE_EQ(mcnemar_test(0, 0, 100).p_value, 1.0) << "the arms agree on every pair";
  EXPECT_THROW(mcnemar_test(60, 50, 100), Error);
}

// The paired t-test on differences 1, 2, 3, 4, 5: t = 3 / sqrt(2.5 / 5), 4 degrees of freedom,
// p = 0.013236 (scipy.stats.ttest_rel([3, 5, 7, 9, 11], [2, 3, 4, 5, 6])).
TEST(Significance, PairedTTestOnDifferences) {
  const TestResult r = paired_t_test({3.0, 2.5, 5});
  EXPECT_NEAR(r.statistic, 4.242640687119285, 1e-12);
  EXPECT_DOUBLE_EQ(r.degrees_of_freedom, 4);
  EXPECT_NEAR(r.p_value, 0.013235599, 1e-8);
  EXPECT_DOUBLE_EQ(paired_t_test({0.0, 0.0, 10}).p_value, 1.0);
  EXPECT_DOUBLE_EQ(paired_t_test({0.5, 0.0, 10}).p_value, 0.0);
  EXPECT_THROW(paired_t_test({1.0, 1.0, 1}), Error);
}

// Paired verdicts: the same texts as compare_arms, on the pairs.
TEST(Significance, PairedVerdicts) {
  const MetricSpec accuracy{"accuracy", true, true};
  PairedOutcomes o;
  o.pairs = 100;
  o.control_only = 2;
  o.candidate_only = 10;
  o.control_value = 0.80;
  o.candidate_value = 0.88;
  const Verdict v = compare_paired("@production", "shadow:3", o, accuracy);
  EXPECT_EQ(v.outcome, Verdict::Outcome::kCandidateBetter);
  EXPECT_EQ(v.text, "shadow:3 is better: accuracy 0.88 vs 0.8, p = 0.039");
  o.pairs = 20;
  EXPECT_EQ(compare_paired("@production", "shadow:3", o, accuracy).text,
            "not enough data yet (20 of 30 labelled rows answered by both @production and shadow:3)");
}

TEST(Significance, PValueText) {
  EXPECT_EQ(format_p_value(0.003), "p = 0.003");
  EXPECT_EQ(format_p_value(0.41), "p = 0.41");
  EXPECT_EQ(format_p_value(0.0004), "p < 0.001");
  EXPECT_EQ(format_p_value(1.0), "p = 1");
}

}  // namespace
}  // namespace orchard
