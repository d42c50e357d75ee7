// The ai.onnx.ml preprocessing operators in front of an estimator (Imputer, Scaler, Binarizer,
// OneHotEncoder, LabelEncoder), tracked per column and lowered onto the IR's input steps.
//
// The graph mapper (onnx_model.cc) follows every column of the tensor an estimator reads back to one
// graph input feature, recording what happened to it on the way (GraphColumn). lower_columns then
// decides how the IR reproduces it:
// - Imputer -> the step's `fill`; OneHotEncoder -> a kOneHot step; LabelEncoder -> a kOrdinal step;
// - Scaler in front of a linear model -> a kAffine step (double arithmetic: ONNX Runtime's float
//   result to within float rounding);
// - Scaler or Binarizer in front of trees -> kept on the column (ColumnSource::transform): the tree
//   builder moves the node's threshold through ONNX Runtime's float arithmetic instead, so the
//   decisions are exact.
// Any other order or combination is refused naming the node.
#pragma once

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "engine/model.h"
#include "formats/onnx_estimator.h"
#include "formats/onnx_graph.h"

namespace orchard::onnx_format {

// An encoder shared by the columns it produces (kOneHot: one column per value; kOrdinal: one column).
struct Encoder {
  InputStepKind kind = InputStepKind::kOneHot;
  std::vector<double> values;  // the input values (or category codes) in output order
  double unknown = std::numeric_limits<double>::quiet_NaN();  // kOrdinal: the output of no match
};

struct GraphColumn {
  std::int32_t feature = 0;  // the graph input feature it comes from
  double fill = std::numeric_limits<double>::quiet_NaN();  // Imputer: NaN becomes fill
  bool scaled = false;  // Scaler: (x - offset) * scale, in float
  float offset = 0.0f;
  float scale = 1.0f;
  bool binarized = false;  // Binarizer: x > threshold ? 1 : 0
  float threshold = 0.0f;
  std::shared_ptr<const Encoder> encoder;  // OneHotEncoder / LabelEncoder
  std::int32_t position = 0;               // which of a one-hot encoder's columns

  bool plain() const { return std::isnan(fill) && !scaled && !binarized && !encoder; }
};

// Each returns the columns the operator produces from `columns` (all of the node's input), or
// refuses with the node named. `features` is the model's schema: encoders over string features set
// its category names.
std::vector<GraphColumn> apply_imputer(const NodeView& node, std::vector<GraphColumn> columns);
std::vector<GraphColumn> apply_scaler(const NodeView& node, std::vector<GraphColumn> columns);
std::vector<GraphColumn> apply_binarizer(const NodeView& node, std::vector<GraphColumn> columns);
std::vector<GraphColumn> apply_one_hot(const NodeView& node, const std::vector<GraphColumn>& columns, bool strings, std::vector<Feature>& features);
std::vector<GraphColumn> apply_label_encoder(const NodeView& node, const std::vector<GraphColumn>& columns, bool strings,
                                             std::vector<Feature>& features);

// The IR for the columns an estimator reads: the input steps to append to `steps` (equal columns share
// one step) and the ColumnSource list the estimator builders take. Without imputers, encoders or a
// Scaler in front of a linear model, no steps are needed and columns index the features directly.
std::vector<ColumnSource> lower_columns(const NodeView& estimator, const std::vector<GraphColumn>& columns, bool linear,
                                        std::vector<InputStep>& steps);

}  // namespace orchard::onnx_format
