#include "formats/model_loader.h"

#include "common/error.h"
#include "common/file_bytes.h"
#include "formats/lightgbm_text.h"
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
  static const std::vector<const ModelLoader*> loaders{&orchard_json, &xgboost_json, &xgboost_ubjson, &lightgbm_text, &onnx};
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
  // Model files are at most a few hundred megabytes; refuse anything absurd before reading it.
  const std::string bytes = read_file_bytes(path, std::size_t{2} << 30);
  return load_model_bytes(bytes, path);
}

}  // namespace orchard
