#include "formats/onnx_model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "common/error.h"
#include "formats/onnx_estimator.h"
#include "formats/onnx_graph.h"

namespace orchard {
namespace {

using onnx_format::ColumnSource;
using onnx_format::Estimator;
using onnx_format::NodeView;

const std::set<std::string>& supported_operators() {
  static const std::set<std::string> ops{
      "ai.onnx.ml.TreeEnsembleClassifier", "ai.onnx.ml.TreeEnsembleRegressor", "ai.onnx.ml.LinearClassifier",
      "ai.onnx.ml.LinearRegressor",        "ai.onnx.ml.Scaler",                "ai.onnx.ml.Normalizer",
      "ai.onnx.ml.ZipMap",                 "ai.onnx.ml.ArrayFeatureExtractor", "Cast",
      "Identity",                          "Reshape",                          "Flatten",
      "Concat",                            "Gather",                           "Constant"};
  return ops;
}

// What a tensor of the graph holds, as far as the mapping onto the IR is concerned.
struct Value {
  enum class Kind { kFeatures, kScores, kLabel, kConstant } kind = Kind::kFeatures;
  std::vector<ColumnSource> columns;  // kFeatures: where each column comes from
  bool float_valued = true;           // kFeatures: values are float32 (the input, or cast to float)
  const onnx::TensorProto* constant = nullptr;  // kConstant
};

class GraphMapper {
 public:
  GraphMapper(const onnx::ModelProto& proto, const std::string& where) : proto_(proto), graph_(proto.graph()), where_(where) {}

  Model map();

 private:
  [[noreturn]] void fail(const std::string& what, const std::string& expected = {}) const { throw_invalid_model(where_, what, expected); }
  void check_operators() const;
  void read_inputs();
  const Value& input(const NodeView& view, int k) const;
  void define(const NodeView& view, int k, Value value);
  void apply(const NodeView& view);
  std::vector<std::int64_t> constant_integers(const NodeView& view, int k) const;

  const onnx::ModelProto& proto_;
  const onnx::GraphProto& graph_;
  const std::string& where_;
  std::map<std::string, Value> values_;
  Model model_;
  std::optional<Estimator> estimator_;
  std::string estimator_node_;
};

void GraphMapper::check_operators() const {
  std::map<std::string, int> unsupported;
  for (const auto& node : graph_.node()) {
    const std::string op = onnx_format::qualified_op(node);
    if (!supported_operators().count(op)) ++unsupported[op];
  }
  if (unsupported.empty()) return;
  std::string list;
  for (const auto& [op, count] : unsupported) list += (list.empty() ? "" : ", ") + op + (count > 1 ? " (x" + std::to_string(count) + ")" : "");
  std::string supported;
  for (const auto& op : supported_operators()) supported += (supported.empty() ? "" : ", ") + op;
  throw_invalid_model(where_, "the graph uses operators Orchard does not run: " + list, "only " + supported);
}

void GraphMapper::read_inputs() {
  std::set<std::string> initializers;
  for (const auto& tensor : graph_.initializer()) {
    initializers.insert(tensor.name());
    Value value;
    value.kind = Value::Kind::kConstant;
    value.constant = &tensor;
    values_[tensor.name()] = value;
  }
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& info : graph_.input()) {
    if (!initializers.count(info.name())) inputs.push_back(&info);
  }
  if (inputs.empty()) fail("the graph has no inputs", "a float tensor input [N, features]");
  for (const onnx::ValueInfoProto* info : inputs) {
    const std::string place = "graph input \"" + info->name() + "\"";
    if (!info->type().has_tensor_type()) fail(place + " is not a tensor", "a tensor of shape [N, features]");
    const auto& tensor = info->type().tensor_type();
    const int type = tensor.elem_type();
    if (type != onnx::TensorProto::FLOAT && type != onnx::TensorProto::DOUBLE && type != onnx::TensorProto::INT64 &&
        type != onnx::TensorProto::INT32) {
      fail(place + " has element type " + std::to_string(type), "float (or double / integers cast to float)");
    }
    const auto& dims = tensor.shape().dim();
    if (dims.size() != 2 || !dims[1].has_dim_value() || dims[1].dim_value() < 1) {
      fail(place + " does not have a fixed number of columns", "shape [N, F] with F a number");
    }
    const std::int64_t width = dims[1].dim_value();
    if (width + static_cast<std::int64_t>(model_.features.size()) > kMaxFeatures) fail(place + " has " + std::to_string(width) + " columns", "fewer");
    Value value;
    value.float_valued = type == onnx::TensorProto::FLOAT;
    for (std::int64_t c = 0; c < width; ++c) {
      value.columns.push_back({static_cast<std::int32_t>(model_.features.size()), false, 0.0, 1.0});
      Feature feature;
      // Built by appending: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string temporaries.
      feature.name = inputs.size() == 1 ? std::string("f") : info->name();
      if (inputs.size() == 1) feature.name += std::to_string(c);
      else if (width > 1) feature.name += "_" + std::to_string(c);
      if (type != onnx::TensorProto::FLOAT && type != onnx::TensorProto::DOUBLE) feature.type = FeatureType::kInteger;
      model_.features.push_back(std::move(feature));
    }
    values_[info->name()] = std::move(value);
  }
  // One tensor [N, F] carries no feature names (inputs are matched by position); one input per
  // column (skl2onnx with named columns) does.
  model_.has_feature_names = inputs.size() > 1;
}

const Value& GraphMapper::input(const NodeView& view, int k) const {
  if (k >= view.node().input_size() || view.node().input(k).empty()) view.fail("input " + std::to_string(k) + " is missing");
  auto it = values_.find(view.node().input(k));
  if (it == values_.end()) {
    view.fail("reads \"" + view.node().input(k) + "\", which no earlier node, input or initializer defines", "nodes in topological order");
  }
  return it->second;
}

void GraphMapper::define(const NodeView& view, int k, Value value) {
  if (k >= view.node().output_size()) view.fail("has no output " + std::to_string(k));
  if (!values_.emplace(view.node().output(k), std::move(value)).second) {
    view.fail("redefines \"" + view.node().output(k) + "\"", "every tensor defined once");
  }
}

std::vector<std::int64_t> GraphMapper::constant_integers(const NodeView& view, int k) const {
  const Value& value = input(view, k);
  if (value.kind != Value::Kind::kConstant) view.fail("input \"" + view.node().input(k) + "\" is computed", "a constant (initializer)");
  return onnx_format::tensor_integers(*value.constant, view.location() + " input " + view.node().input(k));
}

void GraphMapper::apply(const NodeView& view) {
  const onnx::NodeProto& node = view.node();
  const std::string& op = node.op_type();
  auto features = [&](int k) -> const Value& {
    const Value& value = input(view, k);
    if (value.kind != Value::Kind::kFeatures) view.fail("input \"" + node.input(k) + "\" is not derived from the graph's inputs", "the features");
    return value;
  };

  if (op == "Constant") {
    const onnx::TensorProto* tensor = view.tensor("value");
    if (tensor == nullptr) view.fail("has no tensor attribute \"value\"", "a tensor constant");
    Value value;
    value.kind = Value::Kind::kConstant;
    value.constant = tensor;
    define(view, 0, value);
    return;
  }
  if (op == "Identity") {
    define(view, 0, input(view, 0));
    return;
  }
  if (op == "Cast") {
    const std::int64_t to = view.required_integer("to");
    Value value = input(view, 0);
    const bool to_real = to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE;
    if (value.kind == Value::Kind::kFeatures) {
      if (!to_real) view.fail("casts the features to type " + std::to_string(to), "float (1) or double (11)");
      if (to == onnx::TensorProto::FLOAT) value.float_valued = true;
    } else if (value.kind == Value::Kind::kScores) {
      if (!to_real) view.fail("casts the scores to type " + std::to_string(to), "float (1) or double (11)");
    } else if (value.kind == Value::Kind::kConstant) {
      view.fail("casts a constant", "casts of the features, scores or labels");
    }
    define(view, 0, value);
    return;
  }
  if (op == "Flatten") {
    const std::int64_t axis = view.integer("axis", 1);
    if (axis != 1) view.fail("flattens from axis " + std::to_string(axis), "axis 1 on [N, F] features (a no-op)");
    define(view, 0, features(0));
    return;
  }
  if (op == "Reshape") {
    const Value& value = features(0);
    const auto shape = constant_integers(view, 1);
    const auto width = static_cast<std::int64_t>(value.columns.size());
    if (shape.size() != 2 || (shape[0] != -1 && shape[0] != 0) || shape[1] != width) {
      view.fail("reshapes the features", "shape [-1, " + std::to_string(width) + "] (a no-op)");
    }
    define(view, 0, value);
    return;
  }
  if (op == "ArrayFeatureExtractor" || op == "Gather") {
    const Value& value = features(0);
    if (op == "Gather") {
      const std::int64_t axis = view.integer("axis", 0);
      if (axis != 1 && axis != -1) view.fail("gathers along axis " + std::to_string(axis), "axis 1 (columns of the features)");
    }
    Value out = value;
    out.columns.clear();
    for (std::int64_t index : constant_integers(view, 1)) {
      const auto width = static_cast<std::int64_t>(value.columns.size());
      if (index < -width || index >= width) view.fail("selects column " + std::to_string(index), "a column below " + std::to_string(width));
      out.columns.push_back(value.columns[static_cast<std::size_t>(index < 0 ? index + width : index)]);
    }
    if (out.columns.empty()) view.fail("selects no column", "at least one column");
    define(view, 0, out);
    return;
  }
  if (op == "Concat") {
    const std::int64_t axis = view.required_integer("axis");
    if (axis != 1 && axis != -1) view.fail("concatenates along axis " + std::to_string(axis), "axis 1 (columns)");
    Value out;
    for (int k = 0; k < node.input_size(); ++k) {
      const Value& part = features(k);
      out.columns.insert(out.columns.end(), part.columns.begin(), part.columns.end());
      out.float_valued = out.float_valued && part.float_valued;
    }
    if (static_cast<std::int64_t>(out.columns.size()) > kMaxFeatures) view.fail("builds too many columns", "at most " + std::to_string(kMaxFeatures));
    define(view, 0, out);
    return;
  }
  if (op == "Scaler") {
    Value out = features(0);
    const auto offsets = view.floats("offset");
    const auto scales = view.floats("scale");
    const std::size_t width = out.columns.size();
    auto pick = [&](const std::vector<float>& list, const char* name, float fallback, std::size_t c) {
      if (list.empty()) return fallback;
      if (list.size() != 1 && list.size() != width) {
        view.fail(std::string(name) + " has " + std::to_string(list.size()) + " values", "1 or " + std::to_string(width) + " (one per column)");
      }
      return list.size() == 1 ? list[0] : list[c];
    };
    for (std::size_t c = 0; c < width; ++c) {
      ColumnSource& column = out.columns[c];
      if (column.scaled) view.fail("scales a column that a Scaler already scaled", "one Scaler per column");
      column.scaled = true;
      column.offset = pick(offsets, "offset", 0.0f, c);
      column.scale = pick(scales, "scale", 1.0f, c);
      if (!std::isfinite(column.offset) || !std::isfinite(column.scale)) view.fail("offset or scale is not finite", "finite numbers");
    }
    define(view, 0, out);
    return;
  }
  if (op == "TreeEnsembleClassifier" || op == "TreeEnsembleRegressor" || op == "LinearClassifier" || op == "LinearRegressor") {
    if (estimator_) {
      view.fail("is a second estimator (after " + estimator_node_ + ")", "one estimator per graph (stacking and voting ensembles are not supported)");
    }
    const Value& value = features(0);
    if (!value.float_valued) view.fail("reads features that are not cast to float", "a float input, or a Cast to float in front of the estimator");
    const bool linear = op == "LinearClassifier" || op == "LinearRegressor";
    estimator_ = linear ? onnx_format::build_linear(view, value.columns, model_.num_features())
                        : onnx_format::build_tree_ensemble(view, value.columns);
    estimator_node_ = view.location();
    Value scores;
    scores.kind = Value::Kind::kScores;
    if (estimator_->classifier) {
      Value label;
      label.kind = Value::Kind::kLabel;
      define(view, 0, label);
      if (node.output_size() > 1) define(view, 1, scores);
    } else {
      define(view, 0, scores);
    }
    return;
  }
  if (op == "ZipMap") {
    const Value& value = input(view, 0);
    if (value.kind != Value::Kind::kScores || !estimator_->classifier) view.fail("does not read a classifier's scores", "a classifier's probabilities");
    define(view, 0, value);
    return;
  }
  if (op == "Normalizer") {
    const Value& value = input(view, 0);
    const std::string norm = view.text("norm", "MAX");
    if (value.kind != Value::Kind::kScores || norm != "L1" || !estimator_->probabilities) {
      view.fail("normalizes (" + norm + ") scores that are not already probabilities summing to 1",
                "an L1 Normalizer after a softmax or a two-class logistic output (where it changes nothing)");
    }
    define(view, 0, value);
    return;
  }
  view.fail("is not supported here");
}

Model GraphMapper::map() {
  if (!proto_.has_graph()) fail("the model has no graph", "a ModelProto with a graph");
  for (const auto& opset : proto_.opset_import()) {
    const std::string& domain = opset.domain();
    if (domain == "ai.onnx.ml" && opset.version() > 5) fail("ai.onnx.ml opset " + std::to_string(opset.version()), "ai.onnx.ml opsets 1 to 5");
  }
  check_operators();
  read_inputs();
  for (int i = 0; i < graph_.node_size(); ++i) apply(NodeView(graph_.node(i), i, where_));
  if (!estimator_) fail("the graph has no estimator", "a TreeEnsemble or Linear classifier / regressor");
  bool scores_out = false;
  for (const auto& output : graph_.output()) {
    auto it = values_.find(output.name());
    if (it == values_.end()) fail("graph output \"" + output.name() + "\" is not computed by any node", "outputs defined by the graph");
    scores_out = scores_out || it->second.kind == Value::Kind::kScores;
  }
  if (!scores_out) fail("no graph output carries the estimator's scores", "the probabilities or predictions as a graph output");

  Model model = std::move(estimator_->model);
  model.features = std::move(model_.features);
  model.has_feature_names = model_.has_feature_names;
  model.source_format = "onnx";
  if (model.has_linear) model.linear.num_features = model.num_features();
  return model;
}

}  // namespace

bool OnnxLoader::recognizes(std::string_view bytes) const { return onnx_format::looks_like_onnx(bytes); }

Model OnnxLoader::load(std::string_view bytes, const std::string& where) const {
  const onnx::ModelProto proto = onnx_format::parse_model(bytes, where);
  return GraphMapper(proto, where).map();
}

}  // namespace orchard
