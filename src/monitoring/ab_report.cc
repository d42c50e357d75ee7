#include "monitoring/ab_report.h"

#include <algorithm>
#include <cmath>

namespace orchard {
namespace {

using json = nlohmann::json;

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const auto low = static_cast<std::size_t>(std::floor(position));
  const auto high = std::min(low + 1, values.size() - 1);
  return values[low] + (values[high] - values[low]) * (position - static_cast<double>(low));
}

json number_or_null(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

json latency_json(const ArmTraffic* traffic) {
  if (!traffic) return {{"mean", nullptr}, {"p50", nullptr}, {"p99", nullptr}};
  return {{"mean", number_or_null(traffic->mean_latency_us)},
          {"p50", number_or_null(percentile(traffic->recent_latencies_us, 0.5))},
          {"p99", number_or_null(percentile(traffic->recent_latencies_us, 0.99))}};
}

// The arm's quality on the compared metric, for significance tests.
ArmQuality arm_quality(const std::string& arm, const QualityGroup* group, bool classification) {
  ArmQuality q;
  q.arm = arm;
  if (!group) return q;
  if (classification) {
    q.labelled = static_cast<std::int64_t>(group->labelled);
    q.value = group->labelled ? static_cast<double>(group->correct) / static_cast<double>(group->labelled) : 0.0;
  } else {
    q.labelled = group->squared_error.count;
    q.value = group->squared_error.mean;
    q.variance = group->squared_error.variance;
  }
  return q;
}

const char* outcome_name(Verdict::Outcome outcome) {
  switch (outcome) {
    case Verdict::Outcome::kNotEnoughData: return "not_enough_data";
    case Verdict::Outcome::kNoDifference: return "no_difference";
    case Verdict::Outcome::kControlBetter: return "control_better";
    case Verdict::Outcome::kCandidateBetter: return "candidate_better";
  }
  return "?";
}

}  // namespace

json ab_report(const std::string& endpoint, std::chrono::seconds window, const std::vector<RouteArmInfo>& arms,
               const std::vector<ArmTraffic>& traffic, const std::vector<QualityGroup>& quality, const std::vector<ShadowPairs>& shadow_pairs,
               const AbReportOptions& options) {
  auto traffic_of = [&](const RouteArmInfo& arm) -> const ArmTraffic* {
    for (const ArmTraffic& t : traffic) {
      if (t.arm == arm.target && t.version == arm.version && t.model == arm.model) return &t;
    }
    return nullptr;
  };
  auto quality_of = [&](const RouteArmInfo& arm) -> const QualityGroup* {
    for (const QualityGroup& q : quality) {
      if (q.arm == arm.target && q.version == arm.version && q.model == arm.model) return &q;
    }
    return nullptr;
  };
  std::uint64_t live_rows = 0;
  for (const ArmTraffic& t : traffic) {
    if (t.arm.rfind("shadow:", 0) != 0) live_rows += t.rows;
  }

  // The metric: from the control's task (or the first arm with a known task).
  std::optional<TaskKind> task;
  for (const RouteArmInfo& arm : arms) {
    if (const QualityGroup* q = quality_of(arm); q && q->task) {
      task = q->task;
      break;
    }
  }
  const bool classification = !task || *task != TaskKind::kRegression;
  const MetricSpec metric = classification ? MetricSpec{"accuracy", true, true} : MetricSpec{"mean squared error", false, false};

  json out = {{"endpoint", endpoint}, {"window_seconds", window.count()}, {"rows", live_rows},
              {"metric", {{"name", metric.name}, {"higher_is_better", metric.higher_is_better},
                          {"test", classification ? "two-proportion z-test" : "Welch's t-test"}}},
              {"min_labelled", options.min_labelled}, {"alpha", options.alpha}};
  // Every candidate arm and every shadow is a comparison with the control: Bonferroni's correction
  // keeps the chance of calling any winner by luck under alpha, however many are compared.
  std::size_t comparisons = arms.empty() ? 0 : arms.size() - 1;
  if (!arms.empty()) {
    for (const ArmTraffic& t : traffic) comparisons += t.arm.rfind("shadow:", 0) == 0;
  }
  const double alpha = options.alpha / static_cast<double>(std::max<std::size_t>(comparisons, 1));
  out["alpha_per_comparison"] = alpha;
  out["control"] = arms.empty() ? json(nullptr) : json(arms.front().target);
  json arms_json = json::array();
  std::string summary = arms.size() < 2 ? "one arm only: nothing to compare" : "";
  const ArmQuality control = arms.empty() ? ArmQuality{} : arm_quality(arms.front().target, quality_of(arms.front()), classification);
  for (std::size_t i = 0; i < arms.size(); ++i) {
    const RouteArmInfo& arm = arms[i];
    const ArmTraffic* t = traffic_of(arm);
    const QualityGroup* q = quality_of(arm);
    json a = {{"arm", arm.target}, {"model", arm.model}, {"version", arm.version}, {"weight", arm.weight},
              {"rows", t ? t->rows : 0},
              {"share", live_rows && t ? static_cast<double>(t->rows) / static_cast<double>(live_rows) : 0.0},
              {"latency_us", latency_json(t)},
              {"errors", {{"failures", arm.failures}, {"requests", arm.requests},
                          {"rate", arm.requests + arm.failures ? static_cast<double>(arm.failures) / static_cast<double>(arm.requests + arm.failures) : 0.0}}},
              {"quality", q ? to_json(*q) : json(nullptr)}};
    const ArmQuality mine = arm_quality(arm.target, q, classification);
    a["compared_metric"] = mine.labelled ? json(mine.value) : json(nullptr);
    if (i > 0) {
      const Verdict verdict = compare_arms(control, mine, metric, options.min_labelled, alpha);
      a["verdict"] = {{"outcome", outcome_name(verdict.outcome)}, {"text", verdict.text}};
      if (verdict.outcome != Verdict::Outcome::kNotEnoughData) {
        a["verdict"]["difference"] = number_or_null(verdict.test.difference);
        a["verdict"]["p_value"] = number_or_null(verdict.test.p_value);
      }
      summary += (summary.empty() ? "" : "; ") + arm.target + " vs " + arms.front().target + ": " + verdict.text;
    }
    arms_json.push_back(std::move(a));
  }
  out["arms"] = arms_json;
  // Shadows answered the same rows as the live arms (all of them, not a share): their labelled quality
  // comes from the labels given to the live predictions they shadowed. Against the control they are
  // tested on the pairs (the control's rows and the shadow's answers to the same requests).
  json shadows = json::array();
  for (const ArmTraffic& t : traffic) {
    if (t.arm.rfind("shadow:", 0) != 0) continue;
    json s = {{"arm", t.arm}, {"model", t.model}, {"version", t.version}, {"rows", t.rows}, {"latency_us", latency_json(&t)}};
    const QualityGroup* q = nullptr;
    for (const QualityGroup& group : quality) {
      if (group.arm == t.arm && group.version == t.version && group.model == t.model) q = &group;
    }
    s["quality"] = q ? to_json(*q) : json(nullptr);
    const ArmQuality mine = arm_quality(t.arm, q, classification);
    s["compared_metric"] = mine.labelled ? json(mine.value) : json(nullptr);
    if (!arms.empty()) {
      PairedOutcomes paired;
      for (const ShadowPairs& p : shadow_pairs) {
        if (p.arm == t.arm && p.version == t.version && p.model == t.model) paired = p.outcomes;
      }
      const Verdict verdict = compare_paired(arms.front().target, t.arm, paired, metric, options.min_labelled, alpha);
      s["verdict"] = {{"outcome", outcome_name(verdict.outcome)}, {"text", verdict.text}, {"pairs", paired.pairs},
                      {"test", classification ? "McNemar's exact test (paired)" : "paired t-test"}};
      if (verdict.outcome != Verdict::Outcome::kNotEnoughData) {
        s["verdict"]["difference"] = number_or_null(verdict.test.difference);
        s["verdict"]["p_value"] = number_or_null(verdict.test.p_value);
      }
    }
    shadows.push_back(std::move(s));
  }
  out["shadows"] = shadows;
  out["verdict"] = summary;
  return out;
}

}  // namespace orchard
