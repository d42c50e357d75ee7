// Significance tests for comparing two arms of an endpoint (the A/B report), and a verdict in plain
// language. Pure functions: callers summarize each arm's labelled predictions first.
//
// Differences are always candidate − control. p-values are two-sided.
#pragma once

#include <cstdint>
#include <string>

namespace orchard {

struct TestResult {
  double difference = 0;  // candidate − control (rates or means)
  double statistic = 0;   // z or t; ±inf when the arms differ with no variance at all
  double p_value = 1;
  double degrees_of_freedom = 0;  // Welch's t-test only (Welch–Satterthwaite); 0 for the z-test
};

// Two-proportion z-test with the pooled standard error (successes / n per arm, e.g. correct
// predictions for accuracy, wrong ones for the error rate). Requires n >= 1 on both sides and
// 0 <= successes <= n; throws Error(kInvalidArgument) otherwise. Equal proportions of 0 or 1 on both
// sides (no variance): statistic 0, p = 1.
TestResult two_proportion_z_test(std::int64_t control_successes, std::int64_t control_n, std::int64_t candidate_successes,
                                 std::int64_t candidate_n);

// Mean, sample variance (ddof = 1) and count of a per-row quantity (squared error, absolute error,
// log loss, …).
struct MeanSummary {
  double mean = 0;
  double variance = 0;
  std::int64_t count = 0;
};

// Welch's unequal-variances t-test (scipy.stats.ttest_ind(…, equal_var=False)). Requires count >= 2
// on both sides and variances >= 0; throws Error(kInvalidArgument) otherwise. Both variances zero:
// statistic 0 and p = 1 when the means are equal, ±inf and p = 0 when they are not.
TestResult welch_t_test(const MeanSummary& control, const MeanSummary& candidate);

// Paired tests: two arms that answered the same rows (a shadow and the live arm whose requests it
// also answered). Pairing removes the rows' own difficulty from the comparison, which the
// independent-sample tests above would count as noise (their p-values come out too large).

// McNemar's exact test (statsmodels' mcnemar(exact=True)): of the pairs where exactly one arm was
// right, the candidate's share against 1/2, by the binomial distribution. `control_only`: pairs only
// the control got right; `candidate_only`: only the candidate. difference = (candidate_only −
// control_only) / pairs, the accuracy difference on the pairs. No discordant pair: p = 1.
TestResult mcnemar_test(std::int64_t control_only, std::int64_t candidate_only, std::int64_t pairs);

// The paired t-test (scipy.stats.ttest_rel) on per-pair differences, candidate − control. Requires
// count >= 2; zero variance: p = 1 if the mean difference is 0, else 0.
TestResult paired_t_test(const MeanSummary& differences);

// Two arms' outcomes on the same labelled rows.
struct PairedOutcomes {
  std::int64_t pairs = 0;
  std::int64_t control_only = 0;    // proportion metric: pairs only the control got right
  std::int64_t candidate_only = 0;  // pairs only the candidate got right
  MeanSummary difference;           // mean metric: per pair, candidate's loss − control's
  double control_value = 0;         // the metric on the pairs (accuracy, or mean loss)
  double candidate_value = 0;
};

// One arm's labelled quality on one metric. For a proportion metric, `value` is the rate (accuracy,
// error rate) and `variance` is ignored; for a mean metric, `value` is the mean per-row loss and
// `variance` its sample variance.
struct ArmQuality {
  std::string arm;
  std::int64_t labelled = 0;
  double value = 0;
  double variance = 0;
};

struct MetricSpec {
  std::string name;             // "accuracy", "log loss", …: used in the verdict's text
  bool proportion = true;       // z-test on rates; otherwise Welch's t-test on means
  bool higher_is_better = true;
};

struct Verdict {
  enum class Outcome { kNotEnoughData, kNoDifference, kControlBetter, kCandidateBetter };
  Outcome outcome = Outcome::kNotEnoughData;
  TestResult test;   // unset (defaults) when there is not enough data
  std::string text;  // "not enough data yet (12 of 30 labelled on b)", "no significant difference (p = 0.41)",
                     // "b is better: accuracy 0.91 vs 0.87, p = 0.003"
};

// Compares `candidate` with `control` once each arm has at least `min_labelled` labelled rows;
// significant when p < alpha.
Verdict compare_arms(const ArmQuality& control, const ArmQuality& candidate, const MetricSpec& metric, std::int64_t min_labelled = 30,
                     double alpha = 0.05);

// The same verdict from paired outcomes (McNemar's exact test, or the paired t-test), once there are
// at least `min_labelled` pairs.
Verdict compare_paired(const std::string& control_arm, const std::string& candidate_arm, const PairedOutcomes& outcomes,
                       const MetricSpec& metric, std::int64_t min_labelled = 30, double alpha = 0.05);

// "p = 0.003", "p = 0.41", "p < 0.001".
std::string format_p_value(double p);

}  // namespace orchard
