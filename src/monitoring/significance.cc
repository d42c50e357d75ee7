#include "monitoring/significance.h"

#include <algorithm>
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
  if (!(verdict.test.p_value < alpha)) {
    verdict.outcome = Verdict::Outcome::kNoDifference;
    verdict.text = "no significant difference (" + format_p_value(verdict.test.p_value) + ")";
    return verdict;
  }
  const bool candidate_better = (verdict.test.difference > 0) == metric.higher_is_better;
  const ArmQuality& winner = candidate_better ? candidate : control;
  const ArmQuality& loser = candidate_better ? control : candidate;
  verdict.outcome = candidate_better ? Verdict::Outcome::kCandidateBetter : Verdict::Outcome::kControlBetter;
  verdict.text = winner.arm + " is better: " + metric.name + " " + number(winner.value) + " vs " + number(loser.value) + ", " +
                 format_p_value(verdict.test.p_value);
  return verdict;
}

}  // namespace orchard
