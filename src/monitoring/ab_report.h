// The A/B report of an endpoint: for each route arm over a window, its traffic, latency, error rate
// and labelled quality, and for each candidate arm a significance test against the control (the
// route's first arm) with a plain-language verdict.
//
// The compared metric follows the task: accuracy (two-proportion z-test) for classifiers, mean
// squared error (Welch's t-test on per-row squared errors) for regressors. Shadows appear with their
// traffic, latency and labelled quality (labels given to the live predictions they shadowed), tested
// against the control on the requests both answered: paired tests (McNemar's exact test, or the
// paired t-test on squared errors), since a shadow answers the control's own rows.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "monitoring/live_quality.h"
#include "tracing/prediction_sink.h"

namespace orchard {

// What the server knows of a route arm: its place in the route and its error counters.
struct RouteArmInfo {
  std::string target;  // "@production", "3"
  std::string model;
  std::int64_t version = 0;
  double weight = 0;   // share of draws, 0..1
  std::uint64_t requests = 0;  // answered by the version since it was loaded
  std::uint64_t failures = 0;  // failed while running on the version since it was loaded
};

struct AbReportOptions {
  std::int64_t min_labelled = 30;  // per arm, before a verdict
  double alpha = 0.05;             // for the whole report: each of m comparisons is tested at alpha / m
};

// `arms`: the route's arms, control first. `traffic`: rows per arm in the window (the log's traffic()).
// `quality`: labelled quality grouped by arm (live_quality(..., by_arm = true)). `shadow_pairs`: each
// shadow against the control (pair_shadows_with(control's target, ...)).
nlohmann::json ab_report(const std::string& endpoint, std::chrono::seconds window, const std::vector<RouteArmInfo>& arms,
                         const std::vector<ArmTraffic>& traffic, const std::vector<QualityGroup>& quality,
                         const std::vector<ShadowPairs>& shadow_pairs = {}, const AbReportOptions& options = {});

}  // namespace orchard
