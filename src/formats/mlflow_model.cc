#include "formats/mlflow_model.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file_bytes.h"
#include "formats/model_loader.h"

namespace orchard {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxModelBytes = std::size_t{2} << 30;  // as load_model_file
constexpr std::size_t kMaxMlmodelBytes = std::size_t{4} << 20;
constexpr std::size_t kMaxExampleBytes = std::size_t{64} << 20;

// The flavors Orchard reads, in order of preference: ONNX carries the whole pipeline.
const char* const kFlavors[] = {"onnx", "xgboost", "lightgbm"};

std::string scalar(const YAML::Node& node) {
  return node && node.IsScalar() ? node.as<std::string>() : std::string();
}

// A path named by the MLmodel file, resolved inside the model directory (never outside it).
fs::path inside(const fs::path& directory, const std::string& relative, const std::string& where, const std::string& what) {
  const fs::path path(relative);
  if (relative.empty() || path.is_absolute()) {
    throw_invalid_model(where, what + " \"" + relative + "\" is not a path relative to the model directory", "a relative path such as model.xgb");
  }
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(directory, ec);
  const fs::path full = fs::weakly_canonical(directory / path, ec);
  const auto [end, unused] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
  (void)unused;
  if (ec || end != base.end()) throw_invalid_model(where, what + " \"" + relative + "\" leads outside the model directory", "a file inside the directory");
  return full;
}

FeatureType column_type(const std::string& type, const std::string& name, const std::string& where) {
  if (type == "double" || type == "float") return FeatureType::kNumeric;
  if (type == "long" || type == "integer" || type == "boolean") return FeatureType::kInteger;
  if (type == "string") return FeatureType::kCategorical;
  throw_invalid_model(where, "signature column \"" + name + "\" has type " + type, "double, float, long, integer, boolean or string");
}

// Column names and types from the signature's inputs (a JSON string). Tensor-based signatures name no
// columns: they give nothing.
// Refuses, with what to do instead, a flavor's model file that no loader reads: pickles (the
// scikit-learn API of LightGBM and XGBoost under some MLflow versions) and XGBoost's deprecated binary
// format.
void check_model_file(const std::string& bytes, const std::string& flavor, const std::string& where) {
  for (const ModelLoader* loader : model_loaders()) {
    if (loader->recognizes(bytes)) return;
  }
  const bool pickle = bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x80 && bytes[1] >= 2 && bytes[1] <= 5;
  if (pickle) {
    throw_invalid_model(where, "the " + flavor + " flavor's model file is a Python pickle, which Orchard never loads",
                        flavor == "lightgbm" ? "a Booster saved as text (booster_.save_model), logged with mlflow.lightgbm"
                                             : "the model saved in its library's own format");
  }
  if (flavor == "xgboost") {
    throw_invalid_model(where, "the xgboost flavor's model file is neither XGBoost JSON nor UBJSON (the deprecated binary format?)",
                        "mlflow.xgboost.log_model(..., model_format=\"json\") or \"ubj\"");
  }
  throw_invalid_model(where, "the " + flavor + " flavor's model file is not a format Orchard reads", "an ONNX, XGBoost JSON/UBJSON or LightGBM text model");
}

std::vector<BundleFeature> signature_features(const YAML::Node& root, const std::string& where) {
  const YAML::Node inputs = root["signature"] ? root["signature"]["inputs"] : YAML::Node();
  const std::string text = scalar(inputs);
  if (text.empty()) return {};
  const std::string place = where + ": signature.inputs";
  std::vector<BundleFeature> features;
  try {
    const nlohmann::json specs = nlohmann::json::parse(text);
    if (!specs.is_array()) throw_invalid_model(place, "is not a list", "a JSON list of column specs");
    for (const auto& spec : specs) {
      const std::string type = spec.at("type").get<std::string>();
      if (type == "tensor") return {};
      if (!spec.contains("name")) throw_invalid_model(place, "a column spec has no name", "{\"name\": ..., \"type\": ...}");
      BundleFeature feature;
      feature.name = spec.at("name").get<std::string>();
      feature.type = column_type(type, feature.name, place);
      features.push_back(std::move(feature));
    }
  } catch (const nlohmann::json::exception& e) {
    throw_invalid_model(place, std::string("is not a valid column list: ") + e.what(), "[{\"name\": \"age\", \"type\": \"double\"}, ...]");
  }
  return features;
}

// Column names (and string columns) from the saved input example, when there is no signature.
std::vector<BundleFeature> example_features(const YAML::Node& root, const fs::path& directory, const std::string& where) {
  const YAML::Node info = root["saved_input_example_info"];
  const std::string artifact = info ? scalar(info["artifact_path"]) : std::string();
  if (artifact.empty()) return {};
  const fs::path path = inside(directory, artifact, where, "saved_input_example_info.artifact_path");
  const std::string place = path.string();
  std::vector<BundleFeature> features;
  try {
    // ordered_json keeps the columns of a record in the file's order.
    nlohmann::ordered_json example = nlohmann::ordered_json::parse(read_file_bytes(place, kMaxExampleBytes));
    if (example.is_object() && example.contains("dataframe_split")) example = example["dataframe_split"];
    if (example.is_object() && example.contains("dataframe_records")) example = example["dataframe_records"];
    if (example.is_object() && example.contains("columns")) {
      const auto& data = example.contains("data") && example["data"].is_array() && !example["data"].empty() ? example["data"][0] : nlohmann::ordered_json();
      for (std::size_t c = 0; c < example["columns"].size(); ++c) {
        BundleFeature feature;
        feature.name = example["columns"][c].get<std::string>();
        if (data.is_array() && c < data.size() && data[c].is_string()) feature.type = FeatureType::kCategorical;
        features.push_back(std::move(feature));
      }
    } else if (example.is_array() && !example.empty() && example[0].is_object()) {
      for (const auto& [name, value] : example[0].items()) {
        features.push_back({name, value.is_string() ? FeatureType::kCategorical : FeatureType::kNumeric});
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw_invalid_model(place, std::string("the input example is not usable: ") + e.what(), "pandas split orient or a list of records");
  }
  return features;
}

}  // namespace

MlflowBundle read_mlflow_directory(const std::string& directory) {
  const fs::path dir(directory);
  const std::string mlmodel = (dir / "MLmodel").string();
  const std::string text = read_file_bytes(mlmodel, kMaxMlmodelBytes);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw_invalid_model(mlmodel + ":" + std::to_string(e.mark.line + 1), "not valid YAML: " + e.msg, "an MLmodel file as MLflow writes it");
  }
  try {
    if (!root.IsMap() || !root["flavors"] || !root["flavors"].IsMap()) {
      throw_invalid_model(mlmodel, "has no \"flavors\" mapping", "an MLmodel file with flavors (xgboost, lightgbm or onnx)");
    }
    const YAML::Node flavors = root["flavors"];
    MlflowBundle bundle;
    bundle.source = fs::absolute(dir).string();
    YAML::Node flavor;
    for (const char* name : kFlavors) {
      if (flavors[name]) {
        bundle.flavor = name;
        flavor = flavors[name];
        break;
      }
    }
    if (bundle.flavor.empty()) {
      if (flavors["sklearn"]) {
        const std::string pickle = flavors["sklearn"].IsMap() ? scalar(flavors["sklearn"]["pickled_model"]) : std::string();
        throw_invalid_model(mlmodel, "an MLflow model with the sklearn flavor: Orchard does not load pickled scikit-learn models",
                            "Orchard's JSON format: python3 -m orchard_export " + (dir / (pickle.empty() ? "model.pkl" : pickle)).string() +
                                " model.json (then use model.json)");
      }
      std::string found;
      for (const auto& entry : flavors) found += (found.empty() ? "" : ", ") + entry.first.as<std::string>();
      throw_invalid_model(mlmodel, "no flavor Orchard reads (found: " + found + ")", "the onnx, xgboost or lightgbm flavor");
    }
    const std::string where = mlmodel + ": flavors." + bundle.flavor;
    if (!flavor.IsMap()) throw_invalid_model(where, "is not a mapping", "data: MODEL_FILE");
    bundle.model_file = scalar(flavor["data"]);
    if (bundle.model_file.empty()) bundle.model_file = scalar(flavor["model_data"]);
    if (bundle.model_file.empty()) throw_invalid_model(where, "names no model file", "data: MODEL_FILE (or model_data)");
    const fs::path file = inside(dir, bundle.model_file, where, "data");
    if (fs::is_directory(file)) throw_invalid_model(where, "data \"" + bundle.model_file + "\" is a directory", "a model file");
    bundle.model_bytes = read_file_bytes(file.string(), kMaxModelBytes);
    check_model_file(bundle.model_bytes, bundle.flavor, file.string());
    bundle.features = signature_features(root, mlmodel);
    if (bundle.features.empty()) bundle.features = example_features(root, dir, mlmodel);
    bundle.has_features = !bundle.features.empty();
    return bundle;
  } catch (const YAML::Exception& e) {
    throw_invalid_model(mlmodel + ":" + std::to_string(e.mark.line + 1), "unexpected MLmodel content: " + e.msg, "an MLmodel file as MLflow writes it");
  }
}

std::string read_model_path(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (!fs::exists(fs::path(path) / "MLmodel", ec)) {
      throw Error(ErrorKind::kInvalidArgument, "is a directory without an MLmodel file", path, "a model file or an MLflow model directory");
    }
    return write_mlflow_bundle(read_mlflow_directory(path));
  }
  return read_file_bytes(path, kMaxModelBytes);
}

}  // namespace orchard
