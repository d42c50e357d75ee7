#include "formats/onnx_model.h"

#include "common/error.h"
#include "formats/onnx_graph_mapper.h"

namespace orchard {
namespace onnx_format {

const std::set<std::string>& supported_operators() {
  static const std::set<std::string> ops{
      "ai.onnx.ml.TreeEnsembleClassifier", "ai.onnx.ml.TreeEnsembleRegressor", "ai.onnx.ml.LinearClassifier",
      "ai.onnx.ml.LinearRegressor",        "ai.onnx.ml.Scaler",                "ai.onnx.ml.Imputer",
      "ai.onnx.ml.Binarizer",              "ai.onnx.ml.OneHotEncoder",         "ai.onnx.ml.LabelEncoder",
      "ai.onnx.ml.Normalizer",             "ai.onnx.ml.ZipMap",                "ai.onnx.ml.ArrayFeatureExtractor",
      "Cast",                              "Identity",                         "Reshape",
      "Flatten",                           "Concat",                           "Gather",
      "Constant",
      // Arithmetic on a single tree's output, folded into its leaves, and the sum over trees with the
      // IsolationForest decision_function after it (onnx_leaf_values.h).
      "Sum", "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Neg", "Abs", "Log", "Exp", "Sqrt", "Equal", "Greater", "Less"};
  return ops;
}

void GraphMapper::check_operators() const {
  std::map<std::string, int> unsupported;
  for (const auto& node : graph_.node()) {
    const std::string op = qualified_op(node);
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
    Value value;
    switch (tensor.elem_type()) {
      case onnx::TensorProto::FLOAT: value.element = Value::Element::kFloat; break;
      case onnx::TensorProto::DOUBLE: value.element = Value::Element::kDouble; break;
      case onnx::TensorProto::INT64:
      case onnx::TensorProto::INT32: value.element = Value::Element::kInteger; break;
      case onnx::TensorProto::STRING: value.element = Value::Element::kString; break;
      default: fail(place + " has element type " + std::to_string(tensor.elem_type()), "float, double, int32, int64 or string");
    }
    const auto& dims = tensor.shape().dim();
    if (dims.size() != 2 || !dims[1].has_dim_value() || dims[1].dim_value() < 1) {
      fail(place + " does not have a fixed number of columns", "shape [N, F] with F a number");
    }
    const std::int64_t width = dims[1].dim_value();
    if (width + static_cast<std::int64_t>(model_.features.size()) > kMaxFeatures) fail(place + " has " + std::to_string(width) + " columns", "fewer");
    for (std::int64_t c = 0; c < width; ++c) {
      GraphColumn column;
      column.feature = static_cast<std::int32_t>(model_.features.size());
      value.columns.push_back(column);
      Feature feature;
      // Built by appending: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string temporaries.
      feature.name = inputs.size() == 1 ? std::string("f") : info->name();
      if (inputs.size() == 1) feature.name += std::to_string(c);
      else if (width > 1) feature.name += "_" + std::to_string(c);
      if (value.element == Value::Element::kInteger) feature.type = FeatureType::kInteger;
      if (value.element == Value::Element::kString) feature.type = FeatureType::kCategorical;
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

const Value& GraphMapper::features(const NodeView& view, int k) const {
  const Value& value = input(view, k);
  if (value.kind != Value::Kind::kFeatures) view.fail("input \"" + view.node().input(k) + "\" is not derived from the graph's inputs", "the features");
  return value;
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
  return tensor_integers(*value.constant, view.location() + " input " + view.node().input(k));
}

void GraphMapper::apply(const NodeView& view) {
  const onnx::NodeProto& node = view.node();
  const std::string& op = node.op_type();
  bool reads_scores = false, reads_leaves = false, reads_features = false, only_labels = node.input_size() > 0;
  for (int k = 0; k < node.input_size(); ++k) {
    const Value& value = input(view, k);
    reads_scores = reads_scores || value.kind == Value::Kind::kScores || value.kind == Value::Kind::kLabel;
    reads_leaves = reads_leaves || value.kind == Value::Kind::kLeaves;
    reads_features = reads_features || value.kind == Value::Kind::kFeatures;
    only_labels = only_labels && (value.kind == Value::Kind::kLabel || value.kind == Value::Kind::kConstant);
  }
  if (only_labels && label_inputs(view) > 0) {
    apply_to_labels(view);
    return;
  }
  if (apply_on_scores_shape(view) || apply_tree_arithmetic(view, reads_scores, reads_leaves, reads_features)) return;
  if (folds_into_leaves(op) && op != "Cast" && op != "LabelEncoder" && !reads_features) {
    apply_to_scores(view);
    return;
  }
  if (op == "Constant" || op == "Identity" || op == "Cast" || op == "Flatten" || op == "Reshape" || op == "ArrayFeatureExtractor" ||
      op == "Gather" || op == "Concat") {
    if (op == "Reshape" && reads_leaves) {  // [N, 1] stays [N, 1]
      const auto shape = constant_integers(view, 1);
      if (shape.size() != 2 || shape[1] != 1 || (shape[0] != -1 && shape[0] != 0)) view.fail("reshapes a tree's output", "shape [-1, 1]");
      define(view, 0, input(view, 0));
      return;
    }
    apply_structural(view);
  } else if (op == "Imputer" || op == "Scaler" || op == "Binarizer" || op == "OneHotEncoder" || op == "LabelEncoder") {
    apply_preprocessing(view);
  } else if (op == "TreeEnsembleClassifier" || op == "TreeEnsembleRegressor" || op == "LinearClassifier" || op == "LinearRegressor") {
    apply_estimator(view);
  } else if (op == "ZipMap" || op == "Normalizer") {
    apply_after_estimator(view);
  } else {
    view.fail("computes on the features", "arithmetic only on a single tree's output (the features go through the operators in docs/onnx-and-mlflow.md)");
  }
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
  if (!any_estimator_) fail("the graph has no estimator", "a TreeEnsemble or Linear classifier / regressor");
  // The answer: the first graph output that carries a whole model's scores (or a folded tree); every
  // other output must carry the same or nothing Orchard answers with.
  std::shared_ptr<const Estimator> answer;
  const onnx::NodeProto* answer_origin = nullptr;
  for (const auto& output : graph_.output()) {
    auto it = values_.find(output.name());
    if (it == values_.end()) fail("graph output \"" + output.name() + "\" is not computed by any node", "outputs defined by the graph");
    const Value& value = it->second;
    std::shared_ptr<const Estimator> candidate;
    if (value.kind == Value::Kind::kScores && value.complete) candidate = value.estimator;
    if (value.kind == Value::Kind::kLeaves && value.leaves->element == LeafFunction::Element::kFloat) {
      candidate = std::make_shared<const Estimator>(sum_of({value.leaves.get()}));
    }
    if (!candidate) continue;
    // Several outputs may show one estimator's scores (raw and normalized): the first is the answer.
    if (answer && answer_origin != value.origin) {
      fail("graph outputs \"" + output.name() + "\" and an earlier one carry the scores of different estimators",
           "one estimator's scores among the outputs (several models in one graph are not supported)");
    }
    if (!answer) {
      answer = candidate;
      answer_origin = value.origin;
    }
  }
  if (!answer) fail("no graph output carries an estimator's scores", "the probabilities or predictions as a graph output");

  Model model = answer->model;
  model.features = std::move(model_.features);
  model.input_steps = std::move(model_.input_steps);
  model.has_feature_names = model_.has_feature_names;
  model.source_format = "onnx";
  return model;
}

}  // namespace onnx_format

bool OnnxLoader::recognizes(std::string_view bytes) const { return onnx_format::looks_like_onnx(bytes); }

Model OnnxLoader::load(std::string_view bytes, const std::string& where) const {
  const onnx::ModelProto proto = onnx_format::parse_model(bytes, where);
  return onnx_format::GraphMapper(proto, where).map();
}

}  // namespace orchard
