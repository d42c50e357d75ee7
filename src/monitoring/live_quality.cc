#include "monitoring/live_quality.h"

#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "common/error.h"

namespace orchard {

namespace {

// Scores one group's rows (already filtered to those the task can read).
void score(QualityGroup& group, const std::vector<double>& labels, const std::vector<double>& predictions, int k) {
  group.labelled = labels.size();
  if (labels.empty()) return;
  const TaskKind task = *group.task;
  if (task == TaskKind::kRegression) {
    double sum = 0, sum_sq = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const double e = (predictions[i] - labels[i]) * (predictions[i] - labels[i]);
      sum += e;
      sum_sq += e * e;
    }
    const double n = static_cast<double>(labels.size());
    group.squared_error.count = static_cast<std::int64_t>(labels.size());
    group.squared_error.mean = sum / n;
    group.squared_error.variance = labels.size() > 1 ? std::max(0.0, (sum_sq - sum * sum / n) / (n - 1)) : 0.0;
  } else {
    for (std::size_t i = 0; i < labels.size(); ++i) {
      int predicted = 0;
      if (task == TaskKind::kBinary) {
        predicted = predictions[i] > 0.5 ? 1 : 0;
      } else {
        for (int c = 1; c < k; ++c) {
          if (predictions[i * static_cast<std::size_t>(k) + static_cast<std::size_t>(c)] >
              predictions[i * static_cast<std::size_t>(k) + static_cast<std::size_t>(predicted)]) predicted = c;
        }
      }
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
  std::map<std::pair<std::string, std::int64_t>, std::optional<TaskKind>> tasks;
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
      auto task = tasks.find({record.model, record.version});
      if (task == tasks.end()) task = tasks.emplace(std::make_pair(record.model, record.version), task_of(record.model, record.version)).first;
      rows.group.task = task->second;
    }
    const auto& task = rows.group.task;
    const int width = static_cast<int>(record.outputs.size());
    const bool readable = task && !record.raw && width >= 1 &&
                          (*task == TaskKind::kMulticlass ? width >= 2 : width == 1) && std::isfinite(*record.label) &&
                          (rows.k == 0 || rows.k == width);
    if (!readable) {
      ++rows.group.skipped;
      continue;
    }
    rows.k = width;
    rows.labels.push_back(*record.label);
    rows.predictions.insert(rows.predictions.end(), record.outputs.begin(), record.outputs.end());
  }
  std::vector<QualityGroup> out;
  for (auto& [key, rows] : groups) {
    if (rows.group.task) score(rows.group, rows.labels, rows.predictions, rows.k);
    else rows.group.note = "the version is no longer in the registry";
    out.push_back(std::move(rows.group));
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
