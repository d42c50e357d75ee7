// The ai.onnx.ml estimators Orchard maps onto its IR: TreeEnsembleClassifier/Regressor
// (onnx_tree_ensemble.cc) and LinearClassifier/Regressor (onnx_linear.cc).
//
// Each builder reproduces what ONNX Runtime computes for the node, including its special cases (a
// binary ensemble with weights for one class reports [1 - s, s] or [sigmoid(-s), sigmoid(s)]), and
// refuses with Error(kInvalidModel) naming the node whatever it cannot reproduce exactly (PROBIT,
// SOFTMAX_ZERO, MIN/MAX aggregation, ambiguous base values) rather than answer differently.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/model.h"
#include "formats/onnx_graph.h"

namespace orchard::onnx_format {

// Where one column of the tensor an estimator reads comes from: a column of the IR (a feature, or an
// input step's output), optionally through a transform that only tree ensembles take, applied as
// ONNX Runtime does in float arithmetic (onnx_preprocessing.h).
struct ColumnSource {
  enum class Transform : std::uint8_t {
    kNone,
    kScale,     // ai.onnx.ml Scaler: (x - offset) * scale
    kBinarize,  // ai.onnx.ml Binarizer: x > threshold ? 1 : 0 (NaN gives 0)
  };
  std::int32_t column = 0;
  Transform transform = Transform::kNone;
  float offset = 0.0f;
  float scale = 1.0f;
  float threshold = 0.0f;
};

struct Estimator {
  // Trees or the linear part, num_outputs, base_margin, averaging, transform, output_names and
  // objective; features are left to the caller, and node features / linear weights already index
  // the caller's features (through the ColumnSource list).
  Model model;
  // The outputs are class probabilities that sum to 1 in every row, so an L1 Normalizer after the
  // node changes nothing.
  bool probabilities = false;
  bool classifier = false;
};

// `columns[c]` says where column c of the node's input comes from; `num_columns` is the number of IR
// columns (linear weights are laid out over them). Linear models take only untransformed columns.
// `double_input`: the ensemble reads a double tensor, which ONNX Runtime compares with the thresholds
// in double (the model's input precision is then float64); otherwise inputs are float32.
Estimator build_tree_ensemble(const NodeView& node, const std::vector<ColumnSource>& columns, bool double_input = false);
Estimator build_linear(const NodeView& node, const std::vector<ColumnSource>& columns, std::int32_t num_columns);

// Output names for a classifier's labels: "class_<label>" (int labels) or the label itself when it is
// a plain word (string labels), else "class_<k>".
std::vector<std::string> class_output_names(const NodeView& node, std::size_t expected);

}  // namespace orchard::onnx_format
