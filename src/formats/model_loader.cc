#include "formats/model_loader.h"

#include "common/error.h"
#include "formats/lightgbm_text.h"
#include "formats/mlflow_bundle.h"
#include "formats/mlflow_model.h"
#include "formats/onnx_model.h"
#include "formats/orchard_json.h"
#include "formats/xgboost_json.h"

namespace orchard {

const std::vector<const ModelLoader*>& model_loaders() {
  // Orchard's own JSON first: the XGBoost JSON loader recognizes any JSON object.
  static const OrchardJsonLoader orchard_json;
  static const XgboostJsonLoader xgboost_json;
  static const XgboostUbjsonLoader xgboost_ubjson;
  static const LightgbmTextLoader lightgbm_text;
  static const OnnxLoader onnx;
  static const MlflowBundleLoader mlflow_bundle;
  static const std::vector<const ModelLoader*> loaders{&orchard_json, &xgboost_json, &xgboost_ubjson, &lightgbm_text, &onnx, &mlflow_bundle};
  return loaders;
}

Model load_model_bytes(std::string_view bytes, const std::string& where) {
  if (bytes.empty()) throw_invalid_model(where, "file is empty", "a model file");
  for (const ModelLoader* loader : model_loaders()) {
    if (loader->recognizes(bytes)) {
      Model model = loader->load(bytes, where);
      model.validate(where);
      return model;
    }
  }
  std::string formats;
  for (const ModelLoader* loader : model_loaders()) {
    if (!formats.empty()) formats += ", ";
    formats += loader->format_name();
  }
  throw_invalid_model(where, "unrecognized model format", "one of: " + formats);
}

Model load_model_file(const std::string& path) {
  // A model file, or an MLflow model directory read into a bundle (formats/mlflow_model.h).
  const std::string bytes = read_model_path(path);
  return load_model_bytes(bytes, path);
}

}  // namespace orchard
