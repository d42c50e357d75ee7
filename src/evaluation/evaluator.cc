#include "evaluation/evaluator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "common/error.h"
#include "engine/thread_pool.h"
#include "evaluation/class_labels.h"
#include "tabular/column_mapping.h"
#include "tabular/csv_reader.h"

namespace orchard {

TaskKind task_for(const Model& model, bool has_group) {
  const std::string& o = model.objective;
  if (has_group || o.rfind("rank:", 0) == 0 || o.rfind("lambdarank", 0) == 0 || o.rfind("rank_xendcg", 0) == 0) return TaskKind::kRanking;
  // scikit-learn's classifiers of two classes through ONNX answer [P(class 0), P(class 1)]: binary
  // (AUC, F1, ... on the second column), not a multiclass problem of two classes.
  if (model.num_outputs == 2 && o.find("Classifier") != std::string::npos) return TaskKind::kBinary;
  if (model.num_outputs > 1) return TaskKind::kMulticlass;
  if (model.transform.kind == TransformKind::kSigmoid || model.transform.kind == TransformKind::kHinge ||
      model.transform.kind == TransformKind::kSigmoidPair) {
    return TaskKind::kBinary;
  }
  return TaskKind::kRegression;
}

Evaluation evaluate(const Predictor& predictor, const LabelledData& data, bool measure_speed) {
  const Model& model = predictor.model();
  CsvReader reader(data.path);
  const auto& header = reader.header();
  auto column_of = [&](const std::string& name, const char* what) {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      throw Error(ErrorKind::kInvalidArgument, std::string(what) + " column \"" + name + "\" is not in the header", data.path,
                  "a column named " + name);
    }
    return static_cast<std::size_t>(it - header.begin());
  };
  if (data.label_column.empty()) throw Error(ErrorKind::kInvalidArgument, "no label column given", "", "--label COLUMN");
  const std::size_t label_index = column_of(data.label_column, "label");
  const bool has_group = !data.group_column.empty();
  const std::size_t group_index = has_group ? column_of(data.group_column, "group") : 0;
  std::vector<std::string> excluded{data.label_column};
  if (has_group) excluded.push_back(data.group_column);
  const ColumnMapping mapping(model, header, data.path, excluded);

  Evaluation result;
  result.task = task_for(model, has_group);
  // Classifiers: the metrics read class indexes, the data has class values (or names).
  std::optional<ClassLabels> classes;
  if (result.task == TaskKind::kBinary || result.task == TaskKind::kMulticlass) classes.emplace(model);

  const std::size_t nf = static_cast<std::size_t>(model.num_features());
  std::vector<double> rows, labels;
  std::vector<std::string> groups;
  std::vector<std::string_view> cells;
  while (reader.next_row(cells)) {
    rows.resize(rows.size() + nf);
    mapping.fill(cells, reader.line_number(), rows.data() + rows.size() - nf);
    const std::string_view cell = cells[label_index];
    double label = 0;
    if (classes) {
      const auto index = classes->index_of(cell);
      if (!index) {
        throw Error(ErrorKind::kInvalidArgument, "label \"" + std::string(cell) + "\" is not a class of the model",
                    data.path + ":" + std::to_string(reader.line_number()), "one of its classes: " + classes->describe());
      }
      label = *index;
    } else if (!parse_cell(cell, label) || std::isnan(label)) {
      throw Error(ErrorKind::kInvalidArgument, "label \"" + std::string(cell) + "\" is not a number",
                  data.path + ":" + std::to_string(reader.line_number()), "a numeric label in every row");
    }
    labels.push_back(label);
    if (has_group) groups.emplace_back(cells[group_index]);
  }
  const std::size_t n = labels.size();
  if (n == 0) throw Error(ErrorKind::kInvalidArgument, "no data rows", data.path, "at least one labelled row");

  result.rows = static_cast<std::int64_t>(n);
  ThreadPool pool(0);
  std::vector<double> predictions;
  int k = 1;
  if (result.task == TaskKind::kMulticlass && model.transform.kind == TransformKind::kArgMax) {
    // multi:softmax predicts a class index; metrics need probabilities: softmax of the margins.
    k = model.num_outputs;
    predictions.resize(n * static_cast<std::size_t>(k));
    predictor.predict_rows(rows.data(), n, predictions.data(), true, &pool);
    for (std::size_t r = 0; r < n; ++r) {
      double* p = predictions.data() + r * static_cast<std::size_t>(k);
      const double top = *std::max_element(p, p + k);
      double sum = 0;
      for (int c = 0; c < k; ++c) sum += (p[c] = std::exp(p[c] - top));
      for (int c = 0; c < k; ++c) p[c] /= sum;
    }
  } else {
    k = predictor.num_values(false);
    predictions.resize(n * static_cast<std::size_t>(k));
    predictor.predict_rows(rows.data(), n, predictions.data(), false, &pool);
    const bool probability_pair = result.task == TaskKind::kBinary && k == 2;
    if (probability_pair) {
      // [P(0), P(1)] per row (scikit-learn's predict_proba): binary metrics read P(1).
      for (std::size_t r = 0; r < n; ++r) predictions[r] = predictions[2 * r + 1];
      predictions.resize(n);
      k = 1;
    }
    if (result.task != TaskKind::kMulticlass && k != 1) {
      throw Error(ErrorKind::kInvalidArgument, "model has " + std::to_string(k) + " outputs but the task is not multiclass", data.path,
                  "a single-output regressor or ranker");
    }
    if (result.task != TaskKind::kMulticlass) k = 1;
  }
  result.metrics = compute_metrics(result.task, labels, predictions, k, has_group ? &groups : nullptr);

  if (measure_speed) {
    using clock = std::chrono::steady_clock;
    std::vector<double> out(static_cast<std::size_t>(std::max(predictor.num_values(false), predictor.num_values(true))));
    std::vector<double> samples;
    const std::size_t calls = std::max<std::size_t>(2000, n);
    samples.reserve(std::min<std::size_t>(calls, 20000));
    for (std::size_t i = 0; i < std::min<std::size_t>(calls, 20000); ++i) {
      const double* row = rows.data() + (i % n) * nf;
      const auto start = clock::now();
      predictor.predict_row(row, out.data(), false);
      samples.push_back(std::chrono::duration<double, std::micro>(clock::now() - start).count());
    }
    std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(samples.size() / 2), samples.end());
    result.p50_us = samples[samples.size() / 2];
    std::vector<double> batch(n * static_cast<std::size_t>(predictor.num_values(false)));
    std::size_t scored = 0;
    const auto start = clock::now();
    double elapsed = 0;
    do {
      predictor.predict_rows(rows.data(), n, batch.data(), false, &pool);
      scored += n;
      elapsed = std::chrono::duration<double>(clock::now() - start).count();
    } while (elapsed < 0.2);
    result.rows_per_s = static_cast<double>(scored) / elapsed;
  }
  return result;
}

bool find_metric(const Evaluation& evaluation, const std::string& name, double& value, bool& higher_is_better) {
  if (name == "p50_us") {
    value = evaluation.p50_us;
    higher_is_better = false;
    return true;
  }
  if (name == "rows_per_s") {
    value = evaluation.rows_per_s;
    higher_is_better = true;
    return true;
  }
  for (const MetricValue& m : evaluation.metrics) {
    if (m.name == name) {
      value = m.value;
      higher_is_better = m.higher_is_better;
      return true;
    }
  }
  return false;
}

}  // namespace orchard
