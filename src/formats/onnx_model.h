// ONNX-ML models (.onnx) as skl2onnx and onnxmltools write them, mapped onto the IR so that they run
// on the engine's compiled path (no operator-by-operator interpreter).
//
// Accepts graphs of the shape converters produce:
//   float / double / integer / string inputs
//   ─► column plumbing: Cast, Identity, Reshape, Flatten, ArrayFeatureExtractor / Gather (constant
//      columns), Concat, Constant
//   ─► preprocessing per column (onnx_preprocessing.h): Imputer, Scaler, Binarizer (trees only),
//      OneHotEncoder, LabelEncoder — input steps, or thresholds moved through the Scaler/Binarizer
//   ─► one estimator: ai.onnx.ml TreeEnsembleClassifier/Regressor, LinearClassifier/Regressor
//   ─► ZipMap, Cast, Identity, Normalizer L1 (on probabilities, or one-vs-rest logistic scores)
// and single-tree regressors followed by elementwise arithmetic (folded into their leaves,
// onnx_leaf_values.h), summed over trees, then IsolationForest's decision_function chain
// (Div, Neg, Pow(2, .), Neg, Add): skl2onnx's IsolationForest.
// The predictions are the estimator's scores: probabilities one column per class for classifiers,
// the prediction for regressors, the decision_function for IsolationForest; outputs computed from the
// scores (labels) are not computed. Two outputs carrying different estimators' scores are refused. One input [N, F] gives unnamed
// features (matched by position); one input per column gives features named after the inputs.
//
// Refuses, with Error(kInvalidModel), before any prediction is made:
// - a graph with an operator outside that set: the message lists every unsupported operator;
// - a supported operator used in a way Orchard cannot reproduce exactly (a Normalizer on raw scores,
//   a Binarizer in front of a linear model, PROBIT, SOFTMAX_ZERO, MIN/MAX aggregation, thresholds no
//   float input can meet, an Imputer of values other than NaN, ...), naming the node;
// - files that are not a complete ModelProto (truncated, corrupted, deeper than 32 levels, > 1 GiB).
// Known differences, both on inputs the converters' own pipelines never produce: a missing (NaN)
// input contributes nothing to a linear model (ONNX Runtime answers NaN), and a non-integer value
// cast to int64 in front of an encoder is an unknown category (ONNX Runtime truncates it).
#pragma once

#include "formats/model_loader.h"

namespace orchard {

class OnnxLoader final : public ModelLoader {
 public:
  std::string_view format_name() const override { return "onnx"; }
  bool recognizes(std::string_view bytes) const override;
  Model load(std::string_view bytes, const std::string& where) const override;
};

}  // namespace orchard
