#include "formats/onnx_preprocessing.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "common/error.h"

namespace orchard::onnx_format {
namespace {

// One value per column, or one for all.
template <typename T>
T per_column(const NodeView& node, const std::vector<T>& list, const char* name, std::size_t c, std::size_t width, T fallback) {
  if (list.empty()) return fallback;
  if (list.size() != 1 && list.size() != width) {
    node.fail(std::string(name) + " has " + std::to_string(list.size()) + " values", "1 or " + std::to_string(width) + " (one per column)");
  }
  return list.size() == 1 ? list[0] : list[c];
}

// Sets the category names of a string feature, or checks that an earlier encoder set the same ones.
void name_categories(const NodeView& node, Feature& feature, const std::vector<std::string>& categories) {
  if (feature.categories.empty()) {
    feature.categories = categories;
  } else if (feature.categories != categories) {
    node.fail("encodes the string input \"" + feature.name + "\" with another list of categories than an earlier encoder", "one category list per input");
  }
}

const GraphColumn& single_column(const NodeView& node, const std::vector<GraphColumn>& columns) {
  if (columns.size() != 1) node.fail("encodes " + std::to_string(columns.size()) + " columns at once", "one column (as skl2onnx writes: Gather, then the encoder)");
  return columns[0];
}

void require_unencoded(const NodeView& node, const GraphColumn& column) {
  if (column.scaled || column.binarized || column.encoder) {
    node.fail("encodes a column that a Scaler, Binarizer or encoder already transformed", "an encoder on an input column (an Imputer may come first)");
  }
}

}  // namespace

std::vector<GraphColumn> apply_imputer(const NodeView& node, std::vector<GraphColumn> columns) {
  if (node.has("imputed_value_int64s") || node.has("replaced_value_int64")) node.fail("imputes integers", "imputed_value_floats over float columns");
  // Only NaN (the default: "missing") is reproduced; the steps' fill replaces missing values only.
  const float replaced = node.real("replaced_value_float", std::numeric_limits<float>::quiet_NaN());
  if (!std::isnan(replaced)) node.fail("replaces the value " + std::to_string(replaced), "an Imputer of missing values (replaced_value_float NaN)");
  const std::vector<float> values = node.floats("imputed_value_floats");
  if (values.empty()) node.fail("has no imputed_value_floats", "the values that replace missing inputs");
  for (std::size_t c = 0; c < columns.size(); ++c) {
    GraphColumn& column = columns[c];
    if (!column.plain()) node.fail("imputes a column that an earlier operator transformed", "an Imputer directly on the inputs");
    column.fill = per_column(node, values, "imputed_value_floats", c, columns.size(), 0.0f);
    if (!std::isfinite(column.fill)) node.fail("imputes a value that is not finite", "finite imputed values");
  }
  return columns;
}

std::vector<GraphColumn> apply_scaler(const NodeView& node, std::vector<GraphColumn> columns) {
  const std::vector<float> offsets = node.floats("offset");
  const std::vector<float> scales = node.floats("scale");
  for (std::size_t c = 0; c < columns.size(); ++c) {
    GraphColumn& column = columns[c];
    if (column.scaled || column.binarized || column.encoder) node.fail("scales a column that an earlier operator transformed", "a Scaler on input (or imputed) columns");
    column.scaled = true;
    column.offset = per_column(node, offsets, "offset", c, columns.size(), 0.0f);
    column.scale = per_column(node, scales, "scale", c, columns.size(), 1.0f);
    if (!std::isfinite(column.offset) || !std::isfinite(column.scale) || column.scale == 0.0f) {
      node.fail("has an offset or scale that is not finite, or a zero scale", "finite offsets and non-zero finite scales");
    }
  }
  return columns;
}

std::vector<GraphColumn> apply_binarizer(const NodeView& node, std::vector<GraphColumn> columns) {
  const float threshold = node.real("threshold", 0.0f);
  if (!std::isfinite(threshold)) node.fail("has a threshold that is not finite", "a finite threshold");
  for (GraphColumn& column : columns) {
    if (column.scaled || column.binarized || column.encoder) node.fail("binarizes a column that an earlier operator transformed", "a Binarizer on input (or imputed) columns");
    column.binarized = true;
    column.threshold = threshold;
  }
  return columns;
}

std::vector<GraphColumn> apply_one_hot(const NodeView& node, const std::vector<GraphColumn>& columns, bool strings, std::vector<Feature>& features) {
  const GraphColumn& input = single_column(node, columns);
  require_unencoded(node, input);
  if (node.integer("zeros", 1) != 1) {
    node.fail("has zeros=0 (ONNX Runtime fails on an unknown category)", "zeros=1 (unknown categories give all zeros, handle_unknown='ignore')");
  }
  auto encoder = std::make_shared<Encoder>();
  encoder->kind = InputStepKind::kOneHot;
  const auto ints = node.integers("cats_int64s");
  const auto texts = node.texts("cats_strings");
  if (strings) {
    if (texts.empty()) node.fail("reads strings without cats_strings", "cats_strings for a string input");
    name_categories(node, features[static_cast<std::size_t>(input.feature)], texts);
    for (std::size_t k = 0; k < texts.size(); ++k) encoder->values.push_back(static_cast<double>(k));
  } else {
    if (ints.empty()) node.fail("reads numbers without cats_int64s", "cats_int64s for an integer input");
    std::vector<std::int64_t> sorted = ints;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) node.fail("lists a category twice", "distinct categories");
    for (std::int64_t v : ints) encoder->values.push_back(static_cast<double>(v));
  }
  if (encoder->values.size() > static_cast<std::size_t>(kMaxFeatures)) node.fail("has too many categories", "at most " + std::to_string(kMaxFeatures));
  std::vector<GraphColumn> out;
  for (std::size_t k = 0; k < encoder->values.size(); ++k) {
    GraphColumn column = input;
    column.encoder = encoder;
    column.position = static_cast<std::int32_t>(k);
    out.push_back(column);
  }
  return out;
}

std::vector<GraphColumn> apply_label_encoder(const NodeView& node, const std::vector<GraphColumn>& columns, bool strings,
                                             std::vector<Feature>& features) {
  const auto key_ints = node.integers("keys_int64s");
  const auto key_texts = node.texts("keys_strings");
  const std::size_t keys = strings ? key_texts.size() : key_ints.size();
  if (keys == 0) node.fail(strings ? "reads strings without keys_strings" : "reads numbers without keys_int64s", "keys of the input's type");
  if (node.has("values_strings") || node.has("keys_floats")) node.fail("maps to strings or from floats", "keys_strings or keys_int64s mapped to numbers");
  // The outputs must be the positions 0..K-1 in some order: the IR's ordinal step gives positions.
  std::vector<double> outputs;
  double unknown = 0.0;
  if (node.has("values_int64s")) {
    for (std::int64_t v : node.integers("values_int64s")) outputs.push_back(static_cast<double>(v));
    unknown = static_cast<double>(node.integer("default_int64", -1));
  } else {
    for (float v : node.floats("values_floats")) outputs.push_back(v);
    unknown = node.real("default_float", -0.0f);
  }
  if (outputs.size() != keys) node.fail(std::to_string(keys) + " keys and " + std::to_string(outputs.size()) + " values", "one value per key");
  std::vector<double> by_output(keys, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t j = 0; j < keys; ++j) {
    const double v = outputs[j];
    if (!(v >= 0 && v < static_cast<double>(keys)) || v != std::floor(v) || !std::isnan(by_output[static_cast<std::size_t>(v)])) {
      node.fail("maps keys to values that are not 0.." + std::to_string(keys - 1) + " each once", "ordinal codes (as OrdinalEncoder writes)");
    }
    by_output[static_cast<std::size_t>(v)] = strings ? static_cast<double>(j) : static_cast<double>(key_ints[j]);
  }
  std::vector<GraphColumn> out;
  for (const GraphColumn& input : columns) {
    require_unencoded(node, input);
    if (strings) name_categories(node, features[static_cast<std::size_t>(input.feature)], key_texts);
    auto encoder = std::make_shared<Encoder>();
    encoder->kind = InputStepKind::kOrdinal;
    encoder->values = by_output;
    encoder->unknown = unknown;
    GraphColumn column = input;
    column.encoder = encoder;
    out.push_back(column);
  }
  return out;
}

std::vector<ColumnSource> lower_columns(const NodeView& estimator, const std::vector<GraphColumn>& columns, bool linear,
                                        std::vector<InputStep>& steps) {
  bool needs_steps = false;
  for (const GraphColumn& column : columns) {
    if (linear && column.binarized) estimator.fail("reads a Binarizer's output", "a Binarizer only in front of tree ensembles");
    needs_steps = needs_steps || !std::isnan(column.fill) || column.encoder || (linear && column.scaled);
  }
  auto transform_of = [&](const GraphColumn& column, ColumnSource& source) {
    if (linear) return;  // a linear model's Scaler is a kAffine step
    if (column.scaled) {
      source.transform = ColumnSource::Transform::kScale;
      source.offset = column.offset;
      source.scale = column.scale;
    } else if (column.binarized) {
      source.transform = ColumnSource::Transform::kBinarize;
      source.threshold = column.threshold;
    }
  };
  std::vector<ColumnSource> sources;
  if (!needs_steps) {
    for (const GraphColumn& column : columns) {
      ColumnSource source;
      source.column = column.feature;
      transform_of(column, source);
      sources.push_back(source);
    }
    return sources;
  }
  // Every column the model reads now comes from a step; equal steps are shared.
  std::int64_t width = 0;
  for (const InputStep& step : steps) width += step.width();
  using Key = std::tuple<int, std::int32_t, double, float, float, const Encoder*>;
  std::map<Key, std::int64_t> first_column;
  for (const GraphColumn& column : columns) {
    const bool affine = linear && column.scaled;
    const InputStepKind kind = column.encoder ? column.encoder->kind : affine ? InputStepKind::kAffine : InputStepKind::kCopy;
    // NaN fills compare unequal: key them as one value.
    const double fill_key = std::isnan(column.fill) ? std::numeric_limits<double>::infinity() : column.fill;
    const Key key{static_cast<int>(kind), column.feature, fill_key, affine ? column.offset : 0.0f, affine ? column.scale : 1.0f, column.encoder.get()};
    auto [it, fresh] = first_column.emplace(key, width);
    if (fresh) {
      InputStep step;
      step.kind = kind;
      step.source = column.feature;
      step.fill = column.fill;
      if (affine) {
        step.offset = column.offset;
        step.scale = column.scale;
      }
      if (column.encoder) {
        step.values = column.encoder->values;
        step.unknown = column.encoder->unknown;
      }
      width += step.width();
      if (width > kMaxFeatures) estimator.fail("reads more columns than Orchard allows", "at most " + std::to_string(kMaxFeatures));
      steps.push_back(std::move(step));
    }
    ColumnSource source;
    source.column = static_cast<std::int32_t>(it->second + (kind == InputStepKind::kOneHot ? column.position : 0));
    transform_of(column, source);
    sources.push_back(source);
  }
  return sources;
}

}  // namespace orchard::onnx_format
