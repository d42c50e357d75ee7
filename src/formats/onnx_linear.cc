// ai.onnx.ml LinearClassifier / LinearRegressor onto the IR's linear part.
//
// margin[g] = intercept[g] + sum_c coefficient[g][c] * column[c]. The columns are the IR's (a Scaler
// in front of the node is an input step, onnx_preprocessing.h); several input columns may read the
// same IR column (ArrayFeatureExtractor), whose weights then add up.
#include <cmath>

#include "common/error.h"
#include "formats/onnx_estimator.h"

namespace orchard::onnx_format {

Estimator build_linear(const NodeView& node, const std::vector<ColumnSource>& columns, std::int32_t num_features) {
  for (const ColumnSource& column : columns) {
    if (column.transform != ColumnSource::Transform::kNone) node.fail("reads a transformed column", "plain columns (an internal error)");
  }
  const bool classifier = node.node().op_type() == "LinearClassifier";
  const std::vector<float> coefficients = node.floats("coefficients");
  std::vector<float> intercepts = node.floats("intercepts");
  const std::string post = node.text("post_transform", "NONE");
  const std::size_t width = columns.size();
  std::size_t rows = 0;
  if (classifier) {
    if (intercepts.empty()) node.fail("the classifier has no intercepts", "one intercept per class row");
    rows = intercepts.size();
  } else {
    const std::int64_t targets = node.integer("targets", 1);
    if (targets < 1 || targets > kMaxFeatures) node.fail("targets is " + std::to_string(targets), "at least 1");
    rows = static_cast<std::size_t>(targets);
    if (intercepts.empty()) intercepts.assign(rows, 0.0f);
    if (intercepts.size() != rows) node.fail(std::to_string(intercepts.size()) + " intercepts", std::to_string(rows) + " (one per target)");
  }
  if (width == 0 || coefficients.size() != rows * width) {
    node.fail(std::to_string(coefficients.size()) + " coefficients for " + std::to_string(rows) + " rows and " + std::to_string(width) + " input columns",
              std::to_string(rows * width));
  }
  for (float c : coefficients) if (!std::isfinite(c)) node.fail("a coefficient is not finite", "finite coefficients");
  for (float c : intercepts) if (!std::isfinite(c)) node.fail("an intercept is not finite", "finite intercepts");
  if (post != "NONE" && post != "LOGISTIC" && post != "SOFTMAX") {
    node.fail("post_transform is \"" + post + "\"", "NONE, LOGISTIC or SOFTMAX (SOFTMAX_ZERO and PROBIT are not supported)");
  }

  Estimator estimator;
  estimator.classifier = classifier;
  Model& model = estimator.model;
  // Two outputs from one row: ONNX Runtime's binary LinearClassifier reports [1 - s, s].
  std::size_t labels = 0;
  if (classifier) labels = std::max(node.integers("classlabels_ints").size(), node.texts("classlabels_strings").size());
  const bool pair = classifier && rows == 1 && labels == 2;
  const std::size_t outputs = pair ? 2 : rows;
  // The weights span every IR column: refuse a layout far beyond any real model before allocating it.
  if (static_cast<std::size_t>(num_features) * outputs > (std::size_t{1} << 25)) {
    node.fail(std::to_string(outputs) + " outputs over " + std::to_string(num_features) + " columns", "at most 2^25 weights");
  }

  LinearModel& linear = model.linear;
  linear.num_features = num_features;
  linear.num_groups = static_cast<std::int32_t>(outputs);
  linear.weights.assign(static_cast<std::size_t>(num_features) * outputs, 0.0);
  linear.bias.assign(outputs, 0.0);
  for (std::size_t g = 0; g < rows; ++g) {
    const double bias = intercepts[g];
    std::vector<double> row(static_cast<std::size_t>(num_features), 0.0);
    for (std::size_t c = 0; c < width; ++c) row[static_cast<std::size_t>(columns[c].column)] += coefficients[g * width + c];
    for (std::size_t f = 0; f < row.size(); ++f) {
      if (pair) {
        linear.weights[f * 2] = -row[f];
        linear.weights[f * 2 + 1] = row[f];
      } else {
        linear.weights[f * outputs + g] = row[f];
      }
    }
    if (pair) {
      linear.bias = {-bias, bias};
    } else {
      linear.bias[g] = bias;
    }
  }
  model.has_linear = true;
  model.num_outputs = static_cast<std::int32_t>(outputs);
  model.base_margin.assign(outputs, 0.0);
  if (pair) model.base_margin[0] = 1.0;  // 1 - s
  model.input_precision = Precision::kFloat32;
  model.accumulation = Precision::kFloat64;
  model.transform.precision = Precision::kFloat64;

  if (classifier) {
    model.objective = "LinearClassifier, post_transform " + post;
    if (rows == 1 && post != "NONE") {
      // ONNX Runtime applies no transform to a single score row; converters never write this.
      node.fail("post_transform " + post + " on a single row of coefficients (ONNX Runtime ignores it)", "NONE, or one row per class");
    }
    if (rows > 1 && labels != rows) node.fail(std::to_string(rows) + " coefficient rows for " + std::to_string(labels) + " class labels", "one row per class");
    model.output_names = class_output_names(node, outputs);
    if (pair) {
      estimator.probabilities = false;  // [1 - s, s] with s unbounded: an L1 Normalizer would change it
    } else if (post == "SOFTMAX") {
      model.transform.kind = TransformKind::kSoftmax;
      estimator.probabilities = true;
    } else if (post == "LOGISTIC") {
      model.transform.kind = TransformKind::kSigmoid;
      // scikit-learn's binary LogisticRegression becomes rows (-w, -b) and (w, b): sigmoid(-z) +
      // sigmoid(z) = 1, so the L1 Normalizer the converter appends changes nothing.
      bool opposite = rows == 2 && intercepts[0] == -intercepts[1];
      for (std::size_t c = 0; opposite && c < width; ++c) opposite = coefficients[c] == -coefficients[width + c];
      estimator.probabilities = opposite;
    }
  } else {
    if (post != "NONE") node.fail("post_transform " + post + " on a LinearRegressor", "NONE");
    model.objective = "LinearRegressor";
    if (rows == 1) {
      model.output_names = {"prediction"};
    } else {
      for (std::size_t k = 0; k < rows; ++k) model.output_names.push_back("target_" + std::to_string(k));
    }
  }
  return estimator;
}

}  // namespace orchard::onnx_format
