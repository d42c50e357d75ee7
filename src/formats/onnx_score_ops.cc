// Estimators and what follows them: the estimator's scores, labels, ZipMap and Normalizer,
// arithmetic on a single tree's output folded into its leaves, Sum over trees and IsolationForest's
// decision_function chain.
#include <cmath>

#include "common/error.h"
#include "formats/onnx_graph_mapper.h"

namespace orchard::onnx_format {

void GraphMapper::apply_estimator(const NodeView& view) {
  const std::string& op = view.node().op_type();
  const Value& value = features(view, 0);
  if (value.rank3) view.fail("reads a three-dimensional tensor", "[N, F] columns");
  const bool linear = op == "LinearClassifier" || op == "LinearRegressor";
  const bool double_input = value.element == Value::Element::kDouble && !linear;
  if (value.element != Value::Element::kFloat && value.element != Value::Element::kInteger && !double_input) {
    view.fail("reads features that are not float", "a float input, or a Cast to float in front of the estimator (tree ensembles also read doubles)");
  }
  const std::vector<ColumnSource> columns = lower_columns(view, value.columns, linear, model_.input_steps);
  const std::int32_t num_columns = model_.input_steps.empty() ? model_.num_features() : model_.num_columns();
  auto estimator = std::make_shared<const Estimator>(linear ? build_linear(view, columns, num_columns)
                                                           : build_tree_ensemble(view, columns, double_input));
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

std::shared_ptr<const LeafFunction> GraphMapper::leaves(const Value& value) const {
  if (value.kind == Value::Kind::kLeaves) return value.leaves;
  if (value.kind != Value::Kind::kScores || !value.complete || value.tail != Tail::kNone) return nullptr;
  // Cached per estimator: two branches reading the same tree must fold onto the same leaves.
  auto [it, fresh] = leaf_cache_.emplace(value.estimator.get(), nullptr);
  if (fresh) it->second = leaves_of(*value.estimator);
  return it->second;
}

int GraphMapper::label_inputs(const NodeView& view) const {
  int count = 0;
  for (int k = 0; k < view.node().input_size(); ++k) count += input(view, k).kind == Value::Kind::kLabel ? 1 : 0;
  return count;
}

std::optional<double> GraphMapper::scalar_constant(const Value& value, const NodeView& view) const {
  if (value.kind != Value::Kind::kConstant) return std::nullopt;
  const std::vector<double> values = tensor_reals(*value.constant, view.location());
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
  // A regressor's output through Exp or divided by a constant: onnxmltools' LightGBM poisson, gamma
  // and tweedie objectives (Exp) and random forests (Div by the number of trees).
  const bool plain_regressor = scores != nullptr && scores->complete && (scores->tail == Tail::kNone) && !scores->estimator->classifier &&
                               scores->estimator->model.transform.kind == TransformKind::kIdentity &&
                               scores->estimator->model.average_divisor == 1.0;
  if (plain_regressor && ((op == "Exp" && inputs.size() == 1) ||
                          (op == "Div" && inputs.size() == 2 && inputs[0] == scores && constant && *constant > 0 && std::isfinite(*constant)))) {
    auto estimator = std::make_shared<Estimator>(*scores->estimator);
    if (op == "Exp") {
      estimator->model.transform.kind = TransformKind::kExp;
      estimator->model.transform.precision = Precision::kFloat64;
    } else {
      estimator->model.average_divisor = *constant;
      estimator->model.raw_is_averaged = true;
    }
    out = *scores;
    out.estimator = estimator;
    define(view, 0, out);
    return;
  }
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

// Whatever is computed from labels (casts, label encoders, reshapes) is a label: never answered.
void GraphMapper::apply_to_labels(const NodeView& view) {
  const onnx::NodeProto& node = view.node();
  for (int k = 0; k < node.output_size(); ++k) {
    if (!node.output(k).empty()) define(view, k, Value{Value::Kind::kLabel});
  }
}

// Scores reshaped or flattened to their own shape stay the scores. Returns false for other nodes.
bool GraphMapper::apply_on_scores_shape(const NodeView& view) {
  const onnx::NodeProto& node = view.node();
  const std::string& op = node.op_type();
  if ((op == "Reshape" || op == "Flatten") && node.input_size() >= 1 && input(view, 0).kind == Value::Kind::kScores) {
    const Value& scores = input(view, 0);
    const std::int64_t width = scores.estimator->model.num_predictions();
    bool same = op == "Flatten" ? view.integer("axis", 1) == 1 : false;
    if (op == "Reshape") {
      const auto shape = constant_integers(view, 1);
      same = (shape.size() == 2 && (shape[0] == -1 || shape[0] == 0) && (shape[1] == width || shape[1] == -1)) ||
             (shape.size() == 1 && shape[0] == -1 && width == 1);
    }
    define(view, 0, same ? scores : Value{Value::Kind::kLabel});
    return true;
  }
  return false;
}

// Arithmetic on a single tree's output, folded into its leaves, and Sum over trees. Returns false
// when the node is not such arithmetic.
bool GraphMapper::apply_tree_arithmetic(const NodeView& view, bool reads_scores, bool reads_leaves, bool reads_features) {
  const onnx::NodeProto& node = view.node();
  const std::string& op = node.op_type();
  const bool cast_to_real = op == "Cast" && (view.integer("to", 0) == onnx::TensorProto::FLOAT || view.integer("to", 0) == onnx::TensorProto::DOUBLE);
  if (folds_into_leaves(op) && !reads_features && (reads_leaves || reads_scores) && !(cast_to_real && !reads_leaves)) {
    // A single tree's output through arithmetic: folded into its leaves when it can be.
    std::vector<LeafOperand> operands;
    std::vector<std::shared_ptr<const LeafFunction>> keep;
    bool foldable = true;
    for (int k = 0; k < node.input_size(); ++k) {
      const Value& value = input(view, k);
      LeafOperand operand;
      if (auto leaf = leaves(value)) {
        keep.push_back(leaf);
        operand.leaves = leaf.get();
      } else if (auto c = scalar_constant(value, view)) {
        operand.constant = *c;
        const int type = value.constant->data_type();
        operand.element = type == onnx::TensorProto::FLOAT || type == onnx::TensorProto::DOUBLE ? LeafFunction::Element::kFloat
                                                                                                  : LeafFunction::Element::kInteger;
      } else {
        foldable = false;
      }
      operands.push_back(operand);
    }
    if (foldable && !keep.empty()) {
      Value out{Value::Kind::kLeaves};
      out.leaves = std::make_shared<const LeafFunction>(fold(view, operands));
      out.origin = &view.node();
      define(view, 0, out);
      return true;
    }
  }
  if (op == "Sum" && !reads_features) {
    // Single-tree outputs after arithmetic (IsolationForest) are summed leaf function by leaf
    // function, in float as ONNX's Sum; whole regressors (onnxmltools' split ensembles) are merged.
    std::vector<const LeafFunction*> parts;
    std::vector<std::shared_ptr<const LeafFunction>> keep;
    std::vector<const Estimator*> ensembles;
    for (int k = 0; k < node.input_size(); ++k) {
      const Value& value = input(view, k);
      auto leaf = value.kind == Value::Kind::kLeaves ? value.leaves : nullptr;
      const bool regressor = value.kind == Value::Kind::kScores && value.complete && value.tail == Tail::kNone && !value.estimator->classifier &&
                             value.estimator->model.num_outputs == 1 && !value.estimator->model.has_linear &&
                             value.estimator->model.transform.kind == TransformKind::kIdentity && value.estimator->model.average_divisor == 1.0;
      if (leaf && leaf->element == LeafFunction::Element::kFloat) {
        keep.push_back(leaf);
        parts.push_back(leaf.get());
      } else if (regressor) {
        ensembles.push_back(value.estimator.get());
      } else {
        view.fail("adds something else than regressors' outputs", "a Sum of tree regressor outputs (single trees after arithmetic, or whole ensembles)");
      }
    }
    if (parts.empty() && ensembles.empty()) view.fail("adds nothing", "at least one input");
    Estimator sum = sum_of(parts);
    for (const Estimator* ensemble : ensembles) {
      const Model& part = ensemble->model;
      if (part.input_precision != sum.model.input_precision) {
        if (!parts.empty() || ensemble != ensembles.front()) view.fail("adds ensembles that read float and double inputs", "one input precision");
        sum.model.input_precision = part.input_precision;
      }
      sum.model.base_margin[0] += part.base_margin[0];
      sum.model.trees.insert(sum.model.trees.end(), part.trees.begin(), part.trees.end());
      sum.model.accumulation = Precision::kFloat64;  // no longer ONNX Runtime's float order anyway
    }
    sum.model.objective = "Sum of " + std::to_string(sum.model.trees.size()) + " trees";
    Value out{Value::Kind::kScores};
    out.estimator = std::make_shared<const Estimator>(std::move(sum));
    out.tail = Tail::kSum;
    out.origin = &node;
    define(view, 0, out);
    return true;
  }
  return false;
}

// ZipMap and Normalizer after a classifier: the same numbers, or the IR's normalized transform.
void GraphMapper::apply_after_estimator(const NodeView& view) {
  const std::string& op = view.node().op_type();
  if (op == "ZipMap") {
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
  }
}

}  // namespace orchard::onnx_format
