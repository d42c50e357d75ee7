// The MLflow bundle: one model file plus the feature schema an MLflow model directory declares for
// it (names and types from the MLmodel signature or the input example), as a single byte string.
//
// An MLflow model is a directory, but Orchard loads and stores models as bytes (the registry keeps
// artifacts by digest, the server receives uploads as bodies). read_model_path (mlflow_model.h)
// turns a directory into a bundle; this loader reads the bundle back anywhere a model file is read,
// so a pushed MLflow model keeps its signature's names after a reload.
//
// Layout (text header, then the model's own bytes unchanged):
//   "ORCHARD-MLFLOW-BUNDLE 1\n"
//   one line of JSON: {"flavor": "xgboost", "model_file": "model.xgb", "source": "/path/to/dir",
//                      "features": [{"name": "age", "type": "numeric"|"integer"|"categorical"}, ...]}
//   the model file's bytes (any format model_loaders() reads, except another bundle)
// "features" may be absent (no signature and no input example): the model's own schema is kept.
#pragma once

#include <string>
#include <vector>

#include "formats/model_loader.h"

namespace orchard {

struct BundleFeature {
  std::string name;
  FeatureType type = FeatureType::kNumeric;
};

struct MlflowBundle {
  std::string flavor;      // "xgboost", "lightgbm", "onnx"
  std::string model_file;  // the flavor's model file, relative to the directory
  std::string source;      // the directory, for messages
  bool has_features = false;
  std::vector<BundleFeature> features;
  std::string model_bytes;
};

inline constexpr std::string_view kMlflowBundleMagic = "ORCHARD-MLFLOW-BUNDLE 1\n";

std::string write_mlflow_bundle(const MlflowBundle& bundle);

// Applies the bundle's schema to a model loaded from its model file. With a model that carries
// feature names, the schema must name the same features (in any order; types are taken from the
// schema); without, the schema's names are given to the features by position. A string-typed column
// needs a model feature with category names. Throws Error(kInvalidModel) naming `where`.
void apply_bundle_schema(const std::vector<BundleFeature>& schema, Model& model, const std::string& where);

class MlflowBundleLoader final : public ModelLoader {
 public:
  std::string_view format_name() const override { return "mlflow"; }
  bool recognizes(std::string_view bytes) const override;
  // The inner model's format is kept in Model::source_format, prefixed "mlflow-" ("mlflow-xgboost-json").
  Model load(std::string_view bytes, const std::string& where) const override;
};

}  // namespace orchard
