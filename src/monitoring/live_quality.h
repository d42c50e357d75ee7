// Live quality: labelled predictions (feedback attached in the prediction log) scored with the task's
// metrics (evaluation/metrics.h, scikit-learn's definitions), per version or per route arm, over a
// window. Raw-margin predictions are not scored (their outputs are not probabilities); they are
// counted as skipped.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluation/metrics.h"
#include "monitoring/significance.h"
#include "tracing/prediction_record.h"

namespace orchard {

struct QualityGroup {
  std::string endpoint, model, arm;  // arm is empty when grouped by version
  std::int64_t version = 0;
  std::optional<TaskKind> task;
  std::uint64_t labelled = 0;      // rows scored
  std::uint64_t skipped = 0;       // raw margins, or outputs the task cannot read
  std::vector<MetricValue> metrics;
  std::string note;                // why a metric is missing (e.g. AUC with one class)
  // For significance tests between arms: classification counts correct predictions; regression
  // summarizes the squared error.
  std::int64_t correct = 0;
  MeanSummary squared_error;
};

// The task of a version (from its model), or nullopt when it is unknown (the version is gone).
using TaskLookup = std::function<std::optional<TaskKind>(const std::string& model, std::int64_t version)>;

// Groups `labelled` (records with a label) by (model, version) — and by arm too when `by_arm` — and
// scores each group. Groups come out in order of (model, version, arm). Per version, a shadow row
// whose live row (shadow_of) is in `labelled` with the same model and version is not counted twice.
std::vector<QualityGroup> live_quality(const std::vector<PredictionRecord>& labelled, const TaskLookup& task_of, bool by_arm);

// A shadow against the control arm on the requests both answered: each labelled shadow row whose
// live row (shadow_of) is a labelled row of `control_arm` in `labelled` makes a pair. One entry per
// shadow (arm, model, version) with at least one pair, in order of (arm, model, version).
struct ShadowPairs {
  std::string arm, model;
  std::int64_t version = 0;
  PairedOutcomes outcomes;  // classifiers: right/wrong per pair; regressors: squared errors
};
std::vector<ShadowPairs> pair_shadows_with(const std::string& control_arm, const std::vector<PredictionRecord>& labelled,
                                           const TaskLookup& task_of);

// {"model", "version", ["arm"], "task", "labelled", "skipped", "metrics": {name: value}, ["note"]}
nlohmann::json to_json(const QualityGroup& group);

}  // namespace orchard
