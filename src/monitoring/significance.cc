#include "monitoring/significance.h"

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/error.h"

namespace orchard {
namespace {

[[noreturn]] void bad(const std::string& what, const std::string& where, const std::string& expected) {
  throw Error(ErrorKind::kInvalidArgument, what, where, expected);
}

TestResult no_variance(double difference) {
  TestResult result;
  result.difference = difference;
  if (difference == 0) return result;
  result.statistic = difference > 0 ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  result.p_value = 0;
  return result;
}

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

// Fills in the verdict's outcome and text from its test.
void decide(Verdict& verdict, const std::string& control_arm, double control_value, const std::string& candidate_arm, double candidate_value,
            const MetricSpec& metric, double alpha) {
  if (!(verdict.test.p_value < alpha)) {
    verdict.outcome = Verdict::Outcome::kNoDifference;
    verdict.text = "no significant difference (" + format_p_value(verdict.test.p_value) + ")";
    return;
  }
  const bool candidate_better = (verdict.test.difference > 0) == metric.higher_is_better;
  verdict.outcome = candidate_better ? Verdict::Outcome::kCandidateBetter : Verdict::Outcome::kControlBetter;
  verdict.text = (candidate_better ? candidate_arm : control_arm) + " is better: " + metric.name + " " +
                 number(candidate_better ? candidate_value : control_value) + " vs " + number(candidate_better ? control_value : candidate_value) +
                 ", " + format_p_value(verdict.test.p_value);
}

}  // namespace

TestResult two_proportion_z_test(std::int64_t control_successes, std::int64_t control_n, std::int64_t candidate_successes,
                                 std::int64_t candidate_n) {
  if (control_n < 1 || candidate_n < 1) bad("an arm with no rows", "two-proportion z-test", "at least one row per arm");
  if (control_successes < 0 || control_successes > control_n || candidate_successes < 0 || candidate_successes > candidate_n) {
    bad("successes outside [0, n]", "two-proportion z-test", "0 <= successes <= n on each arm");
  }
  const double n1 = static_cast<double>(control_n), n2 = static_cast<double>(candidate_n);
  const double p1 = static_cast<double>(control_successes) / n1, p2 = static_cast<double>(candidate_successes) / n2;
  const double pooled = static_cast<double>(control_successes + candidate_successes) / (n1 + n2);
  const double se = std::sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (!(se > 0)) return no_variance(p2 - p1);  // pooled 0 or 1: both arms identical
  TestResult result;
  result.difference = p2 - p1;
  result.statistic = result.difference / se;
  result.p_value = 2 * boost::math::cdf(boost::math::complement(boost::math::normal_distribution<double>(), std::abs(result.statistic)));
  return result;
}

TestResult welch_t_test(const MeanSummary& control, const MeanSummary& candidate) {
  if (control.count < 2 || candidate.count < 2) bad("an arm with fewer than 2 rows", "Welch's t-test", "at least 2 rows per arm");
  if (!(control.variance >= 0) || !(candidate.variance >= 0) || !std::isfinite(control.mean) || !std::isfinite(candidate.mean)) {
    bad("a negative or non-finite variance or mean", "Welch's t-test", "finite means and variances >= 0");
  }
  const double v1 = control.variance / static_cast<double>(control.count);
  const double v2 = candidate.variance / static_cast<double>(candidate.count);
  const double difference = candidate.mean - control.mean;
  if (!(v1 + v2 > 0)) return no_variance(difference);
  TestResult result;
  result.difference = difference;
  result.statistic = difference / std::sqrt(v1 + v2);
  result.degrees_of_freedom =
      (v1 + v2) * (v1 + v2) / (v1 * v1 / static_cast<double>(control.count - 1) + v2 * v2 / static_cast<double>(candidate.count - 1));
  const boost::math::students_t_distribution<double> t(result.degrees_of_freedom);
  result.p_value = 2 * boost::math::cdf(boost::math::complement(t, std::abs(result.statistic)));
  return result;
}

TestResult mcnemar_test(std::int64_t control_only, std::int64_t candidate_only, std::int64_t pairs) {
  if (control_only < 0 || candidate_only < 0 || control_only + candidate_only > pairs) {
    bad("discordant pairs outside [0, pairs]", "McNemar's test", "0 <= control_only + candidate_only <= pairs");
  }
  const std::int64_t discordant = control_only + candidate_only;
  TestResult result;
  result.difference = pairs ? static_cast<double>(candidate_only - control_only) / static_cast<double>(pairs) : 0.0;
  if (discordant == 0) return result;  // the arms agree on every pair
  result.statistic = static_cast<double>(candidate_only - control_only) / std::sqrt(static_cast<double>(discordant));
  const boost::math::binomial_distribution<double> coin(static_cast<double>(discordant), 0.5);
  const double tail = boost::math::cdf(coin, static_cast<double>(std::min(control_only, candidate_only)));
  result.p_value = std::min(1.0, 2 * tail);
  return result;
}

TestResult paired_t_test(const MeanSummary& differences) {
  if (differences.count < 2) bad("fewer than 2 pairs", "paired t-test", "at least 2 pairs");
  if (!(differences.variance >= 0) || !std::isfinite(differences.mean)) {
    bad("a negative or non-finite variance or mean", "paired t-test", "finite mean and variance >= 0");
  }
  const double standard_error = std::sqrt(differences.variance / static_cast<double>(differences.count));
  if (!(standard_error > 0)) return no_variance(differences.mean);
  TestResult result;
  result.difference = differences.mean;
  result.statistic = differences.mean / standard_error;
  result.degrees_of_freedom = static_cast<double>(differences.count - 1);
  const boost::math::students_t_distribution<double> t(result.degrees_of_freedom);
  result.p_value = 2 * boost::math::cdf(boost::math::complement(t, std::abs(result.statistic)));
  return result;
}

std::string format_p_value(double p) {
  if (p < 0.001) return "p < 0.001";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "p = %.2g", p);
  return buffer;
}

Verdict compare_arms(const ArmQuality& control, const ArmQuality& candidate, const MetricSpec& metric, std::int64_t min_labelled, double alpha) {
  Verdict verdict;
  const ArmQuality& fewer = candidate.labelled < control.labelled ? candidate : control;
  if (fewer.labelled < std::max<std::int64_t>(min_labelled, 2)) {
    verdict.text = "not enough data yet (" + std::to_string(fewer.labelled) + " of " + std::to_string(min_labelled) + " labelled on " + fewer.arm + ")";
    return verdict;
  }
  if (metric.proportion) {
    auto successes = [](const ArmQuality& a) {
      return static_cast<std::int64_t>(std::llround(std::clamp(a.value, 0.0, 1.0) * static_cast<double>(a.labelled)));
    };
    verdict.test = two_proportion_z_test(successes(control), control.labelled, successes(candidate), candidate.labelled);
  } else {
    verdict.test = welch_t_test({control.value, control.variance, control.labelled}, {candidate.value, candidate.variance, candidate.labelled});
  }
  decide(verdict, control.arm, control.value, candidate.arm, candidate.value, metric, alpha);
  return verdict;
}

Verdict compare_paired(const std::string& control_arm, const std::string& candidate_arm, const PairedOutcomes& outcomes,
                       const MetricSpec& metric, std::int64_t min_labelled, double alpha) {
  Verdict verdict;
  if (outcomes.pairs < std::max<std::int64_t>(min_labelled, 2)) {
    verdict.text = "not enough data yet (" + std::to_string(outcomes.pairs) + " of " + std::to_string(min_labelled) +
                   " labelled rows answered by both " + control_arm + " and " + candidate_arm + ")";
    return verdict;
  }
  verdict.test = metric.proportion ? mcnemar_test(outcomes.control_only, outcomes.candidate_only, outcomes.pairs)
                                   : paired_t_test(outcomes.difference);
  decide(verdict, control_arm, outcomes.control_value, candidate_arm, outcomes.candidate_value, metric, alpha);
  return verdict;
}

}  // namespace orchard
