// Running a model on labelled data: quality metrics (metrics.h) and speed, for `orchard evaluate`
// and promotion gates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/predictor.h"
#include "evaluation/metrics.h"

namespace orchard {

struct LabelledData {
  std::string path;          // CSV with a header row
  std::string label_column;  // required
  std::string group_column;  // ranking: the query id column (optional)
};

struct Evaluation {
  TaskKind task = TaskKind::kRegression;
  std::int64_t rows = 0;
  std::vector<MetricValue> metrics;
  double p50_us = 0;      // single-row latency, median over repeated calls
  double rows_per_s = 0;  // batch throughput with all cores
};

// The task a model solves: ranking objectives (or a group column) -> ranking; several outputs ->
// multiclass; a sigmoid output -> binary; otherwise regression.
TaskKind task_for(const Model& model, bool has_group);

// Scores every row of `data` with `predictor`, computes the task's metrics against the label column,
// and (if measure_speed) times single-row and batch prediction on the same rows. Throws
// Error(kInvalidArgument) naming the file, line and column for unusable data.
Evaluation evaluate(const Predictor& predictor, const LabelledData& data, bool measure_speed);

// Looks a metric up by name ("auc", "p50_us", "rows_per_s", ...). Returns false if absent.
bool find_metric(const Evaluation& evaluation, const std::string& name, double& value, bool& higher_is_better);

}  // namespace orchard
