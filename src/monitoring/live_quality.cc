#include "monitoring/live_quality.h"

#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "common/error.h"

namespace orchard {

namespace {

// The number of values a labelled row gives its task's metrics (1 for regression and binary, the
// classes for multiclass), or 0 when they cannot read it: raw margins, another width, a label that
// is not finite. Binary models give P(1), or [P(0), P(1)] (scikit-learn's predict_proba via ONNX).
int readable_width(const PredictionRecord& record, TaskKind task) {
  const int width = static_cast<int>(record.outputs.size());
  if (record.raw || !record.label || !std::isfinite(*record.label) || width < 1) return 0;
  if (task == TaskKind::kMulticlass) return width >= 2 ? width : 0;
  if (task == TaskKind::kBinary) return width <= 2 ? 1 : 0;
  return width == 1 ? 1 : 0;
}

// The class a classifier's row predicts: P(1) > 0.5, or the most probable of k.
int predicted_class(const double* values, int k, bool binary) {
  if (binary) return values[0] > 0.5 ? 1 : 0;
  int best = 0;
  for (int c = 1; c < k; ++c) {
    if (values[c] > values[best]) best = c;
  }
  return best;
}

// The values the metrics read (P(1) alone for a binary model).
const double* metric_values(const PredictionRecord& record, TaskKind task) {
  return task == TaskKind::kBinary ? &record.outputs.back() : record.outputs.data();
}

// Sums of a per-row quantity, to its mean and sample variance (ddof = 1).
struct Moments {
  double sum = 0, sum_sq = 0;
  std::int64_t count = 0;
  void add(double x) {
    sum += x;
    sum_sq += x * x;
    ++count;
  }
  MeanSummary summary() const {
    if (count == 0) return {};
    const double n = static_cast<double>(count);
    return {sum / n, count > 1 ? std::max(0.0, (sum_sq - sum * sum / n) / (n - 1)) : 0.0, count};
  }
};

// Each version's task, asked of the lookup once per (model, version).
class TaskCache {
 public:
  explicit TaskCache(const TaskLookup& lookup) : lookup_(lookup) {}
  std::optional<TaskKind> operator()(const std::string& model, std::int64_t version) {
    auto it = tasks_.find({model, version});
    if (it == tasks_.end()) it = tasks_.emplace(std::make_pair(model, version), lookup_(model, version)).first;
    return it->second;
  }

 private:
  const TaskLookup& lookup_;
  std::map<std::pair<std::string, std::int64_t>, std::optional<TaskKind>> tasks_;
};

// Scores one group's rows (already filtered to those the task can read).
void score(QualityGroup& group, const std::vector<double>& labels, const std::vector<double>& predictions, int k) {
  group.labelled = labels.size();
  if (labels.empty()) return;
  const TaskKind task = *group.task;
  if (task == TaskKind::kRegression) {
    Moments squared_error;
    for (std::size_t i = 0; i < labels.size(); ++i) squared_error.add((predictions[i] - labels[i]) * (predictions[i] - labels[i]));
    group.squared_error = squared_error.summary();
  } else {
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const int predicted = predicted_class(predictions.data() + i * static_cast<std::size_t>(k), k, task == TaskKind::kBinary);
      if (predicted == static_cast<int>(labels[i])) ++group.correct;
    }
  }
  try {
    group.metrics = compute_metrics(task, labels, predictions, k);
  } catch (const Error& e) {
    if (task != TaskKind::kBinary) {
      group.note = e.what();
      return;
    }
    // Binary labels of one class only: AUC is undefined; score as two classes (accuracy, log loss).
    std::vector<double> pairs;
    for (double p : predictions) {
      pairs.push_back(1.0 - p);
      pairs.push_back(p);
    }
    try {
      group.metrics = compute_metrics(TaskKind::kMulticlass, labels, pairs, 2);
      group.note = "AUC, F1, precision and recall need both classes among the labels";
    } catch (const Error& inner) {
      group.note = inner.what();
    }
  }
}

}  // namespace

std::vector<QualityGroup> live_quality(const std::vector<PredictionRecord>& labelled, const TaskLookup& task_of, bool by_arm) {
  struct Rows {
    QualityGroup group;
    std::vector<double> labels, predictions;
    int k = 0;
  };
  std::map<std::tuple<std::string, std::int64_t, std::string>, Rows> groups;
  TaskCache task_cache(task_of);
  // Per version, a shadow row answered by the same version as the live row it shadows is the same
  // prediction made twice (a version that is a live arm and a shadow of the endpoint at once):
  // it is counted once, as the live row. Per arm, both count, each in its own arm.
  std::set<std::tuple<PredictionId, std::string, std::int64_t>> live_rows;
  if (!by_arm) {
    for (const PredictionRecord& record : labelled) {
      if (record.label && !record.shadow_of) live_rows.emplace(record.id, record.model, record.version);
    }
  }
  for (const PredictionRecord& record : labelled) {
    if (!record.label) continue;
    if (!by_arm && record.shadow_of && live_rows.count({*record.shadow_of, record.model, record.version})) continue;
    auto [it, inserted] = groups.try_emplace({record.model, record.version, by_arm ? record.arm : std::string()});
    Rows& rows = it->second;
    if (inserted) {
      rows.group.endpoint = record.endpoint;
      rows.group.model = record.model;
      rows.group.version = record.version;
      if (by_arm) rows.group.arm = record.arm;
      rows.group.task = task_cache(record.model, record.version);
    }
    const auto& task = rows.group.task;
    const int k = task ? readable_width(record, *task) : 0;
    if (k == 0 || (rows.k != 0 && rows.k != k)) {
      ++rows.group.skipped;
      continue;
    }
    rows.k = k;
    rows.labels.push_back(*record.label);
    const double* values = metric_values(record, *task);
    rows.predictions.insert(rows.predictions.end(), values, values + k);
  }
  std::vector<QualityGroup> out;
  for (auto& [key, rows] : groups) {
    if (rows.group.task) score(rows.group, rows.labels, rows.predictions, rows.k);
    else rows.group.note = "the version is no longer in the registry";
    out.push_back(std::move(rows.group));
  }
  return out;
}

std::vector<ShadowPairs> pair_shadows_with(const std::string& control_arm, const std::vector<PredictionRecord>& labelled,
                                           const TaskLookup& task_of) {
  TaskCache task(task_of);
  // One row's outcome: right or wrong, and its squared error (regression), if its task can read it.
  struct Outcome {
    bool correct = false;
    double squared_error = 0;
  };
  auto outcome = [&](const PredictionRecord& r, TaskKind kind) -> std::optional<Outcome> {
    const int k = readable_width(r, kind);
    if (k == 0) return std::nullopt;
    const double* values = metric_values(r, kind);
    if (kind == TaskKind::kRegression) return Outcome{false, (values[0] - *r.label) * (values[0] - *r.label)};
    return Outcome{predicted_class(values, k, kind == TaskKind::kBinary) == static_cast<int>(*r.label), 0};
  };
  std::map<PredictionId, const PredictionRecord*> control_rows;
  for (const PredictionRecord& r : labelled) {
    if (r.label && !r.shadow_of && r.arm == control_arm) control_rows.emplace(r.id, &r);
  }
  struct Sums {
    PairedOutcomes outcomes;
    bool regression = false;
    std::int64_t control_right = 0, candidate_right = 0;
    double control_loss = 0, candidate_loss = 0;
    Moments difference;  // per pair: the shadow's squared error − the control's
  };
  std::map<std::tuple<std::string, std::string, std::int64_t>, Sums> by_shadow;
  for (const PredictionRecord& shadow : labelled) {
    if (!shadow.label || !shadow.shadow_of) continue;
    const auto live = control_rows.find(*shadow.shadow_of);
    if (live == control_rows.end()) continue;
    const auto kind = task(live->second->model, live->second->version), shadow_kind = task(shadow.model, shadow.version);
    if (!kind || kind != shadow_kind) continue;
    const auto mine = outcome(shadow, *kind), theirs = outcome(*live->second, *kind);
    if (!mine || !theirs) continue;
    Sums& sums = by_shadow[{shadow.arm, shadow.model, shadow.version}];
    sums.regression = *kind == TaskKind::kRegression;
    ++sums.outcomes.pairs;
    sums.control_right += theirs->correct;
    sums.candidate_right += mine->correct;
    sums.outcomes.control_only += theirs->correct && !mine->correct;
    sums.outcomes.candidate_only += mine->correct && !theirs->correct;
    sums.control_loss += theirs->squared_error;
    sums.candidate_loss += mine->squared_error;
    sums.difference.add(mine->squared_error - theirs->squared_error);
  }
  std::vector<ShadowPairs> out;
  for (auto& [key, sums] : by_shadow) {
    PairedOutcomes& o = sums.outcomes;
    const double n = static_cast<double>(o.pairs);
    if (sums.regression) {
      o.control_value = sums.control_loss / n;
      o.candidate_value = sums.candidate_loss / n;
      o.difference = sums.difference.summary();
    } else {
      o.control_value = static_cast<double>(sums.control_right) / n;
      o.candidate_value = static_cast<double>(sums.candidate_right) / n;
    }
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), o});
  }
  return out;
}

nlohmann::json to_json(const QualityGroup& group) {
  nlohmann::json metrics = nlohmann::json::object();
  for (const MetricValue& m : group.metrics) metrics[m.name] = std::isfinite(m.value) ? nlohmann::json(m.value) : nlohmann::json(nullptr);
  nlohmann::json out = {{"model", group.model}, {"version", group.version}, {"labelled", group.labelled}, {"skipped", group.skipped},
                        {"task", group.task ? nlohmann::json(task_name(*group.task)) : nlohmann::json(nullptr)}, {"metrics", metrics}};
  if (!group.arm.empty()) out["arm"] = group.arm;
  if (!group.note.empty()) out["note"] = group.note;
  return out;
}

}  // namespace orchard
