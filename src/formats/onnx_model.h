// ONNX-ML models (.onnx) as skl2onnx and onnxmltools write them, mapped onto the IR so that they run
// on the engine's compiled path (no operator-by-operator interpreter).
//
// Accepts graphs of the shape converters produce:
//   float inputs ─► [Cast, Identity, Reshape, Flatten, ArrayFeatureExtractor / Gather (constant
//   columns), Concat (of inputs), Scaler (only in front of a linear model)] ─► one estimator
//   (ai.onnx.ml TreeEnsembleClassifier/Regressor, LinearClassifier/Regressor) ─► [ZipMap, Cast,
//   Identity, Normalizer L1 on probabilities]
// The predictions are the estimator's scores: probabilities one column per class for classifiers,
// the prediction for regressors; the label output is not computed.
//
// Refuses, with Error(kInvalidModel), before any prediction is made:
// - a graph with an operator outside that set: the message lists every unsupported operator;
// - a supported operator used in a way Orchard cannot reproduce exactly (a Normalizer on scores that
//   do not sum to 1, a Scaler in front of trees, PROBIT, SOFTMAX_ZERO, MIN/MAX aggregation, BRANCH
//   modes with thresholds no float input can meet, ...), naming the node;
// - files that are not a complete ModelProto (truncated, corrupted, deeper than 32 levels, > 1 GiB).
// Known difference: a missing (NaN) input contributes nothing to a linear model, where ONNX Runtime
// would answer NaN.
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
