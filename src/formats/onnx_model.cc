#include "formats/onnx_model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "common/error.h"
#include "formats/onnx_estimator.h"
#include "formats/onnx_graph.h"
#include "formats/onnx_leaf_values.h"
#include "formats/onnx_preprocessing.h"

namespace orchard {
namespace {

using onnx_format::ColumnSource;
using onnx_format::Estimator;
using onnx_format::GraphColumn;
using onnx_format::NodeView;

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

// The chain skl2onnx writes after the Sum of an IsolationForest's per-tree depths S:
// Div(S, c) -> Neg -> Pow(2, .) -> Neg -> Add(., -offset_) = decision_function.
enum class Tail { kNone, kSum, kDivided, kNegated, kPowered, kNegPowered, kDecision };

// What a tensor of the graph holds, as far as the mapping onto the IR is concerned.
struct Value {
  // kScores: an estimator's output (complete: a model Orchard can answer with; false in the middle of
  // the IsolationForest chain). kLeaves: a single tree's output after arithmetic (onnx_leaf_values.h).
  // kLabel: anything else computed from scores (labels, comparisons): never answered.
  enum class Kind { kFeatures, kScores, kLeaves, kLabel, kConstant } kind = Kind::kFeatures;
  // kFeatures: the element type. kFloat also covers doubles cast from float (same values); kInteger
  // covers inputs cast to int64, which truncates (the documented difference for non-integer inputs).
  enum class Element { kFloat, kDouble, kInteger, kString } element = Element::kFloat;
  std::vector<GraphColumn> columns;  // kFeatures: where each column comes from
  bool rank3 = false;                // kFeatures: [N, 1, W] (a OneHotEncoder's output), else [N, W]
  const onnx::TensorProto* constant = nullptr;  // kConstant
  std::shared_ptr<const Estimator> estimator;   // kScores
  const onnx::NodeProto* origin = nullptr;      // kScores, kLeaves: the estimator (or Sum) node behind it
  bool complete = true;                         // kScores
  Tail tail = Tail::kNone;                      // kScores
  std::shared_ptr<const onnx_format::LeafFunction> leaves;  // kLeaves
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
  const Value& features(const NodeView& view, int k) const;
  void define(const NodeView& view, int k, Value value);
  void apply(const NodeView& view);
  void apply_structural(const NodeView& view);
  void apply_preprocessing(const NodeView& view);
  void apply_estimator(const NodeView& view);
  void apply_to_scores(const NodeView& view);
  std::shared_ptr<const onnx_format::LeafFunction> leaves(const Value& value) const;
  std::optional<double> scalar_constant(const Value& value, const NodeView& view) const;
  int label_inputs(const NodeView& view) const;  // how many inputs are labels
  std::vector<std::int64_t> constant_integers(const NodeView& view, int k) const;

  const onnx::ModelProto& proto_;
  const onnx::GraphProto& graph_;
  const std::string& where_;
  std::map<std::string, Value> values_;
  Model model_;  // features and input steps as they are found; the estimator fills the rest
  bool any_estimator_ = false;
  mutable std::map<const Estimator*, std::shared_ptr<const onnx_format::LeafFunction>> leaf_cache_;
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
  return onnx_format::tensor_integers(*value.constant, view.location() + " input " + view.node().input(k));
}

// Operators that move columns around without changing values.
void GraphMapper::apply_structural(const NodeView& view) {
  const onnx::NodeProto& node = view.node();
  const std::string& op = node.op_type();
  if (op == "Constant") {
    const onnx::TensorProto* tensor = view.tensor("value");
    if (tensor == nullptr) view.fail("has no tensor attribute \"value\"", "a tensor constant");
    Value value;
    value.kind = Value::Kind::kConstant;
    value.constant = tensor;
    define(view, 0, value);
  } else if (op == "Identity") {
    define(view, 0, input(view, 0));
  } else if (op == "Cast") {
    const std::int64_t to = view.required_integer("to");
    Value value = input(view, 0);
    const bool to_real = to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE;
    const bool to_integer = to == onnx::TensorProto::INT64 || to == onnx::TensorProto::INT32;
    if (value.kind == Value::Kind::kFeatures) {
      if (value.element == Value::Element::kString || !(to_real || to_integer)) {
        view.fail("casts the features to type " + std::to_string(to), "numbers cast to float (1), double (11), int32 (6) or int64 (7)");
      }
      if (to_integer) {
        value.element = Value::Element::kInteger;
      } else if (to == onnx::TensorProto::FLOAT && value.element == Value::Element::kDouble) {
        value.element = Value::Element::kFloat;
      }
    } else if (value.kind == Value::Kind::kScores) {
      if (!to_real) value = Value{Value::Kind::kLabel};  // e.g. labels cast to int64: not answered
    } else if (value.kind == Value::Kind::kConstant) {
      view.fail("casts a constant", "casts of the features, scores or labels");
    }
    define(view, 0, value);
  } else if (op == "Flatten") {
    const std::int64_t axis = view.integer("axis", 1);
    if (axis != 1) view.fail("flattens from axis " + std::to_string(axis), "axis 1 (rows stay rows)");
    Value value = features(view, 0);
    value.rank3 = false;
    define(view, 0, value);
  } else if (op == "Reshape") {
    Value value = features(view, 0);
    const auto shape = constant_integers(view, 1);
    const auto width = static_cast<std::int64_t>(value.columns.size());
    // 0 copies the input's dimension (N) unless allowzero; one -1 is inferred.
    const bool zero_copies = view.integer("allowzero", 0) == 0;
    const bool rows = shape.size() == 2 && (shape[0] == -1 || (shape[0] == 0 && zero_copies));
    if (!rows || !(shape[1] == width || (shape[1] == -1 && shape[0] == 0))) {
      view.fail("reshapes the features", "shape [-1, " + std::to_string(width) + "] (rows stay rows)");
    }
    value.rank3 = false;
    define(view, 0, value);
  } else if (op == "ArrayFeatureExtractor" || op == "Gather") {
    const Value& value = features(view, 0);
    if (value.rank3) view.fail("selects from a three-dimensional tensor", "a selection of columns of [N, F]");
    if (op == "Gather") {
      const std::int64_t axis = view.integer("axis", 0);
      if (axis != 1 && axis != -1) view.fail("gathers along axis " + std::to_string(axis), "axis 1 (columns of the features)");
    }
    Value out = value;
    out.columns.clear();
    const auto width = static_cast<std::int64_t>(value.columns.size());
    for (std::int64_t index : constant_integers(view, 1)) {
      if (index < -width || index >= width) view.fail("selects column " + std::to_string(index), "a column below " + std::to_string(width));
      out.columns.push_back(value.columns[static_cast<std::size_t>(index < 0 ? index + width : index)]);
    }
    if (out.columns.empty()) view.fail("selects no column", "at least one column");
    define(view, 0, out);
  } else if (op == "Concat") {
    const std::int64_t axis = view.required_integer("axis");
    Value out;
    for (int k = 0; k < node.input_size(); ++k) {
      const Value& part = features(view, k);
      if (k == 0) {
        out.rank3 = part.rank3;
        out.element = part.element;
      }
      if (part.rank3 != out.rank3) view.fail("concatenates tensors of different ranks", "all [N, W] or all [N, 1, W]");
      if (part.element != out.element) {
        if (part.element == Value::Element::kString || out.element == Value::Element::kString) view.fail("concatenates strings and numbers", "one element type");
        out.element = part.element == Value::Element::kDouble || out.element == Value::Element::kDouble ? Value::Element::kDouble : Value::Element::kFloat;
      }
      out.columns.insert(out.columns.end(), part.columns.begin(), part.columns.end());
    }
    const std::int64_t last = out.rank3 ? 2 : 1;
    if (axis != last && axis != -1) view.fail("concatenates along axis " + std::to_string(axis), "the last axis (columns)");
    if (static_cast<std::int64_t>(out.columns.size()) > kMaxFeatures) view.fail("builds too many columns", "at most " + std::to_string(kMaxFeatures));
    define(view, 0, out);
  }
}

void GraphMapper::apply_preprocessing(const NodeView& view) {
  const std::string& op = view.node().op_type();
  Value out = features(view, 0);
  if (out.rank3) view.fail("reads a three-dimensional tensor", "[N, F] columns");
  const bool strings = out.element == Value::Element::kString;
  if (strings && op != "OneHotEncoder" && op != "LabelEncoder") view.fail("reads strings", "numbers (strings only into OneHotEncoder or LabelEncoder)");
  if (op == "Imputer") {
    out.columns = onnx_format::apply_imputer(view, std::move(out.columns));
  } else if (op == "Scaler") {
    if (out.element == Value::Element::kDouble) view.fail("scales doubles", "float inputs (ONNX Runtime's float arithmetic is what Orchard reproduces)");
    out.columns = onnx_format::apply_scaler(view, std::move(out.columns));
    out.element = Value::Element::kFloat;
  } else if (op == "Binarizer") {
    if (out.element != Value::Element::kFloat) view.fail("binarizes a tensor that is not float", "float inputs");
    out.columns = onnx_format::apply_binarizer(view, std::move(out.columns));
  } else if (op == "OneHotEncoder") {
    out.columns = onnx_format::apply_one_hot(view, out.columns, strings, model_.features);
    out.element = Value::Element::kFloat;
    out.rank3 = true;  // [N, 1] in, [N, 1, K] out
  } else if (op == "LabelEncoder") {
    out.columns = onnx_format::apply_label_encoder(view, out.columns, strings, model_.features);
    out.element = view.has("values_int64s") ? Value::Element::kInteger : Value::Element::kFloat;
  }
  define(view, 0, out);
}

void GraphMapper::apply_estimator(const NodeView& view) {
  const std::string& op = view.node().op_type();
  const Value& value = features(view, 0);
  if (value.rank3) view.fail("reads a three-dimensional tensor", "[N, F] columns");
  if (value.element != Value::Element::kFloat && value.element != Value::Element::kInteger) {
    view.fail("reads features that are not float", "a float input, or a Cast to float in front of the estimator");
  }
  const bool linear = op == "LinearClassifier" || op == "LinearRegressor";
  const std::vector<ColumnSource> columns = onnx_format::lower_columns(view, value.columns, linear, model_.input_steps);
  const std::int32_t num_columns = model_.input_steps.empty() ? model_.num_features() : model_.num_columns();
  auto estimator = std::make_shared<const Estimator>(linear ? onnx_format::build_linear(view, columns, num_columns)
                                                           : onnx_format::build_tree_ensemble(view, columns));
  any_estimator_ = true;
  Value scores;
  scores.kind = Value::Kind::kScores;
  scores.estimator = estimator;
  scores.origin = &view.node();
  if (estimator->classifier) {
    Value label;
    label.kind = Value::Kind::kLabel;
    define(view, 0, label);
    if (view.node().output_size() > 1) define(view, 1, scores);
  } else {
    define(view, 0, scores);
  }
}

std::shared_ptr<const onnx_format::LeafFunction> GraphMapper::leaves(const Value& value) const {
  if (value.kind == Value::Kind::kLeaves) return value.leaves;
  if (value.kind != Value::Kind::kScores || !value.complete || value.tail != Tail::kNone) return nullptr;
  // Cached per estimator: two branches reading the same tree must fold onto the same leaves.
  auto [it, fresh] = leaf_cache_.emplace(value.estimator.get(), nullptr);
  if (fresh) it->second = onnx_format::leaves_of(*value.estimator);
  return it->second;
}

int GraphMapper::label_inputs(const NodeView& view) const {
  int count = 0;
  for (int k = 0; k < view.node().input_size(); ++k) count += input(view, k).kind == Value::Kind::kLabel ? 1 : 0;
  return count;
}

std::optional<double> GraphMapper::scalar_constant(const Value& value, const NodeView& view) const {
  if (value.kind != Value::Kind::kConstant) return std::nullopt;
  const std::vector<double> values = onnx_format::tensor_reals(*value.constant, view.location());
  if (values.size() != 1) view.fail("combines a tree's output with a constant of " + std::to_string(values.size()) + " values", "a scalar constant");
  return values[0];
}

// Elementwise operators on an estimator's scores: the IsolationForest chain after a Sum, or something
// Orchard does not answer with (labels, comparisons).
void GraphMapper::apply_to_scores(const NodeView& view) {
  const std::string& op = view.node().op_type();
  std::vector<const Value*> inputs;
  for (int k = 0; k < view.node().input_size(); ++k) inputs.push_back(&input(view, k));
  const Value* scores = nullptr;
  std::optional<double> constant;
  for (const Value* value : inputs) {
    if (value->kind == Value::Kind::kScores) scores = value;
    if (auto c = scalar_constant(*value, view)) constant = c;
  }
  Value out{Value::Kind::kLabel};
  if (scores != nullptr) {
    const Tail tail = scores->tail;
    const bool scores_first = inputs.size() == 2 && inputs[0] == scores;
    Tail next = Tail::kNone;
    if (op == "Div" && tail == Tail::kSum && scores_first && constant && *constant > 0 && std::isfinite(*constant)) next = Tail::kDivided;
    if (op == "Neg" && inputs.size() == 1 && tail == Tail::kDivided) next = Tail::kNegated;
    if (op == "Pow" && tail == Tail::kNegated && !scores_first && constant && *constant == 2.0) next = Tail::kPowered;
    if (op == "Neg" && inputs.size() == 1 && tail == Tail::kPowered) next = Tail::kNegPowered;
    if (op == "Add" && tail == Tail::kNegPowered && inputs.size() == 2 && constant && std::isfinite(*constant)) next = Tail::kDecision;
    if (next != Tail::kNone) {
      auto estimator = std::make_shared<Estimator>(*scores->estimator);
      Model& model = estimator->model;
      out = *scores;
      out.tail = next;
      out.complete = false;
      if (next == Tail::kDivided) {
        model.average_divisor = *constant;
        model.raw_is_averaged = true;
        out.complete = true;  // the average of the trees is a model too
      } else if (next == Tail::kDecision) {
        // -(2^-x) - offset with offset = -constant: scikit-learn's decision_function (model.h).
        model.transform.kind = TransformKind::kIsolationScore;
        model.transform.offset = -*constant;
        model.transform.precision = Precision::kFloat64;
        model.output_names = {"score"};
        model.objective = "IsolationForest decision_function";
        out.tail = Tail::kNone;
        out.complete = true;
      }
      out.estimator = estimator;
    }
  }
  define(view, 0, out);
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
    // Whatever is computed from labels (casts, label encoders, reshapes) is a label: never answered.
    for (int k = 0; k < node.output_size(); ++k) {
      if (!node.output(k).empty()) define(view, k, Value{Value::Kind::kLabel});
    }
    return;
  }
  if ((op == "Reshape" || op == "Flatten") && node.input_size() >= 1 && input(view, 0).kind == Value::Kind::kScores) {
    // [N, K] scores reshaped to [N, K] (or [N] for one column): the same numbers.
    const Value& scores = input(view, 0);
    const std::int64_t width = scores.estimator->model.num_predictions();
    bool same = op == "Flatten" ? view.integer("axis", 1) == 1 : false;
    if (op == "Reshape") {
      const auto shape = constant_integers(view, 1);
      same = (shape.size() == 2 && (shape[0] == -1 || shape[0] == 0) && (shape[1] == width || shape[1] == -1)) ||
             (shape.size() == 1 && shape[0] == -1 && width == 1);
    }
    define(view, 0, same ? scores : Value{Value::Kind::kLabel});
    return;
  }
  const bool cast_to_real = op == "Cast" && (view.integer("to", 0) == onnx::TensorProto::FLOAT || view.integer("to", 0) == onnx::TensorProto::DOUBLE);
  if (onnx_format::folds_into_leaves(op) && !reads_features && (reads_leaves || reads_scores) && !(cast_to_real && !reads_leaves)) {
    // A single tree's output through arithmetic: folded into its leaves when it can be.
    std::vector<onnx_format::LeafOperand> operands;
    std::vector<std::shared_ptr<const onnx_format::LeafFunction>> keep;
    bool foldable = true;
    for (int k = 0; k < node.input_size(); ++k) {
      const Value& value = input(view, k);
      onnx_format::LeafOperand operand;
      if (auto leaf = leaves(value)) {
        keep.push_back(leaf);
        operand.leaves = leaf.get();
      } else if (auto c = scalar_constant(value, view)) {
        operand.constant = *c;
        const int type = value.constant->data_type();
        operand.element = type == onnx::TensorProto::FLOAT || type == onnx::TensorProto::DOUBLE ? onnx_format::LeafFunction::Element::kFloat
                                                                                                  : onnx_format::LeafFunction::Element::kInteger;
      } else {
        foldable = false;
      }
      operands.push_back(operand);
    }
    if (foldable && !keep.empty()) {
      Value out{Value::Kind::kLeaves};
      out.leaves = std::make_shared<const onnx_format::LeafFunction>(onnx_format::fold(view, operands));
      out.origin = &view.node();
      define(view, 0, out);
      return;
    }
  }
  if (op == "Sum" && !reads_features) {
    std::vector<const onnx_format::LeafFunction*> parts;
    std::vector<std::shared_ptr<const onnx_format::LeafFunction>> keep;
    for (int k = 0; k < node.input_size(); ++k) {
      auto leaf = leaves(input(view, k));
      if (!leaf || leaf->element != onnx_format::LeafFunction::Element::kFloat) {
        view.fail("adds something else than single-tree outputs", "a Sum of single-tree regressor outputs (as skl2onnx writes IsolationForest)");
      }
      keep.push_back(leaf);
      parts.push_back(leaf.get());
    }
    if (parts.empty()) view.fail("adds nothing", "at least one input");
    Value out{Value::Kind::kScores};
    out.estimator = std::make_shared<const Estimator>(onnx_format::sum_of(parts));
    out.tail = Tail::kSum;
    out.origin = &node;
    define(view, 0, out);
    return;
  }
  if (onnx_format::folds_into_leaves(op) && op != "Cast" && op != "LabelEncoder" && !reads_features) {
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
  } else if (op == "ZipMap") {
    const Value& value = input(view, 0);
    if (value.kind != Value::Kind::kScores || !value.estimator->classifier) view.fail("does not read a classifier's scores", "a classifier's probabilities");
    define(view, 0, value);
  } else if (op == "Normalizer") {
    Value value = input(view, 0);
    const std::string norm = view.text("norm", "MAX");
    if (value.kind != Value::Kind::kScores || norm != "L1") view.fail("normalizes (" + norm + ") something else than an estimator's scores", "norm L1 on the scores");
    if (!value.estimator->probabilities) {
      // One-vs-rest logistic scores (all positive) divided by their sum: the IR's own transform.
      const OutputTransform& transform = value.estimator->model.transform;
      if (transform.kind != TransformKind::kSigmoid || transform.scale != 1.0) {
        view.fail("normalizes scores that are neither probabilities summing to 1 nor per-class logistic outputs",
                  "an L1 Normalizer after SOFTMAX or LOGISTIC scores");
      }
      auto normalized = std::make_shared<Estimator>(*value.estimator);
      normalized->model.transform.kind = TransformKind::kSigmoidNormalized;
      normalized->probabilities = true;
      value.estimator = normalized;
    }
    define(view, 0, value);
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
    if (value.kind == Value::Kind::kLeaves && value.leaves->element == onnx_format::LeafFunction::Element::kFloat) {
      candidate = std::make_shared<const Estimator>(onnx_format::sum_of({value.leaves.get()}));
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

}  // namespace

bool OnnxLoader::recognizes(std::string_view bytes) const { return onnx_format::looks_like_onnx(bytes); }

Model OnnxLoader::load(std::string_view bytes, const std::string& where) const {
  const onnx::ModelProto proto = onnx_format::parse_model(bytes, where);
  return GraphMapper(proto, where).map();
}

}  // namespace orchard
