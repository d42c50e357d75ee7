#include "formats/mlflow_bundle.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.h"

namespace orchard {
namespace {

const char* type_name(FeatureType type) {
  switch (type) {
    case FeatureType::kInteger: return "integer";
    case FeatureType::kCategorical: return "categorical";
    case FeatureType::kNumeric: break;
  }
  return "numeric";
}

// A feature takes the schema's type, except that a string column needs category names to turn
// cells into codes.
void apply_type(const BundleFeature& column, Feature& feature, const std::string& where) {
  if (column.type == FeatureType::kCategorical) {
    if (feature.categories.empty()) {
      throw_invalid_model(where, "signature column \"" + column.name + "\" holds strings, but the model reads it as a number (it carries no category names)",
                          "a numeric column, or a model that names its categories");
    }
    feature.type = FeatureType::kCategorical;
  } else if (feature.type != FeatureType::kCategorical) {
    feature.type = column.type;
  }
}

}  // namespace

std::string write_mlflow_bundle(const MlflowBundle& bundle) {
  nlohmann::json header = {{"flavor", bundle.flavor}, {"model_file", bundle.model_file}, {"source", bundle.source}};
  if (bundle.has_features) {
    nlohmann::json features = nlohmann::json::array();
    for (const BundleFeature& f : bundle.features) features.push_back({{"name", f.name}, {"type", type_name(f.type)}});
    header["features"] = features;
  }
  // dump() escapes control characters, so the header is a single line.
  std::string out(kMlflowBundleMagic);
  out += header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += '\n';
  out += bundle.model_bytes;
  return out;
}

void apply_bundle_schema(const std::vector<BundleFeature>& schema, Model& model, const std::string& where) {
  if (schema.size() != model.features.size()) {
    throw_invalid_model(where, "the MLflow signature has " + std::to_string(schema.size()) + " input columns, the model " +
                                   std::to_string(model.features.size()) + " features",
                        "one signature column per model feature");
  }
  std::set<std::string> names;
  for (const BundleFeature& column : schema) {
    if (column.name.empty() || !names.insert(column.name).second) {
      throw_invalid_model(where, "signature column name \"" + column.name + "\" is empty or repeated", "unique column names");
    }
  }
  if (model.has_feature_names) {
    std::map<std::string, const BundleFeature*> by_name;
    for (const BundleFeature& column : schema) by_name[column.name] = &column;
    for (Feature& feature : model.features) {
      auto it = by_name.find(feature.name);
      if (it == by_name.end()) {
        throw_invalid_model(where, "the model's feature \"" + feature.name + "\" is not a column of the MLflow signature",
                            "the signature to name the model's features");
      }
      apply_type(*it->second, feature, where);
    }
    return;
  }
  for (std::size_t f = 0; f < schema.size(); ++f) {
    model.features[f].name = schema[f].name;
    apply_type(schema[f], model.features[f], where);
  }
  model.has_feature_names = true;
}

bool MlflowBundleLoader::recognizes(std::string_view bytes) const { return bytes.substr(0, kMlflowBundleMagic.size()) == kMlflowBundleMagic; }

Model MlflowBundleLoader::load(std::string_view bytes, const std::string& where) const {
  bytes.remove_prefix(kMlflowBundleMagic.size());
  const std::size_t end = bytes.find('\n');
  if (end == std::string_view::npos) throw_invalid_model(where, "the MLflow bundle's header line is not terminated (truncated?)", "a complete bundle");
  // The header is Orchard's own, but a stored artifact may still be damaged: every shape is checked.
  std::string flavor, model_file;
  bool has_features = false;
  std::vector<BundleFeature> schema;
  try {
    const nlohmann::json header = nlohmann::json::parse(bytes.substr(0, end));
    flavor = header.at("flavor").get<std::string>();
    model_file = header.value("model_file", std::string("model"));
    if (header.contains("features")) {
      has_features = true;
      for (const auto& f : header.at("features")) {
        BundleFeature column;
        column.name = f.at("name").get<std::string>();
        const std::string type = f.value("type", std::string("numeric"));
        column.type = type == "integer" ? FeatureType::kInteger : type == "categorical" ? FeatureType::kCategorical : FeatureType::kNumeric;
        schema.push_back(std::move(column));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw_invalid_model(where, std::string("the MLflow bundle's header is damaged: ") + e.what(),
                        "a bundle written by Orchard (flavor, model_file, features [{name, type}])");
  }
  const std::string_view model_bytes = bytes.substr(end + 1);
  if (MlflowBundleLoader().recognizes(model_bytes)) throw_invalid_model(where, "an MLflow bundle inside an MLflow bundle", "one model file");
  const std::string inner_where = where + " (MLflow " + flavor + " flavor, " + model_file + ")";
  Model model = load_model_bytes(model_bytes, inner_where);
  if (has_features) apply_bundle_schema(schema, model, inner_where);
  model.source_format = "mlflow-" + model.source_format;
  return model;
}

}  // namespace orchard
