#include "formats/onnx_leaf_values.h"

#include <cmath>
#include <set>

#include "common/error.h"

namespace orchard::onnx_format {
namespace {

using Element = LeafFunction::Element;

const std::set<std::string>& unary_ops() {
  static const std::set<std::string> ops{"Neg", "Abs", "Log", "Exp", "Sqrt"};
  return ops;
}
const std::set<std::string>& binary_ops() {
  static const std::set<std::string> ops{"Add", "Sub", "Mul", "Div", "Pow", "Equal", "Greater", "Less", "Max", "Min"};
  return ops;
}

// ONNX Runtime computes these in the tensor's type, float32 here.
float unary(const std::string& op, float a) {
  if (op == "Neg") return -a;
  if (op == "Abs") return std::fabs(a);
  if (op == "Log") return std::log(a);
  if (op == "Exp") return std::exp(a);
  return std::sqrt(a);  // Sqrt
}

float binary(const std::string& op, float a, float b) {
  if (op == "Add") return a + b;
  if (op == "Sub") return a - b;
  if (op == "Mul") return a * b;
  if (op == "Div") return a / b;
  if (op == "Pow") return std::pow(a, b);
  if (op == "Max") return std::fmax(a, b);
  if (op == "Min") return std::fmin(a, b);
  if (op == "Equal") return a == b ? 1.0f : 0.0f;
  if (op == "Greater") return a > b ? 1.0f : 0.0f;
  return a < b ? 1.0f : 0.0f;  // Less
}

LeafFunction cast(const NodeView& node, const LeafFunction& in) {
  const std::int64_t to = node.required_integer("to");
  LeafFunction out = in;
  for (double& v : out.values) {
    if (to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE) {
      v = static_cast<double>(static_cast<float>(v));
    } else if (to == onnx::TensorProto::INT64 || to == onnx::TensorProto::INT32) {
      if (!(std::fabs(v) < 9007199254740992.0)) node.fail("casts a leaf value " + std::to_string(v) + " to an integer", "finite values");
      v = std::trunc(v);
    } else {
      node.fail("casts to type " + std::to_string(to), "float, double, int32 or int64");
    }
  }
  out.element = to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE ? Element::kFloat : Element::kInteger;
  return out;
}

LeafFunction label_encode(const NodeView& node, const LeafFunction& in) {
  const std::vector<float> outputs = node.floats("values_floats");
  if (outputs.empty()) node.fail("maps to something else than floats", "values_floats");
  std::vector<double> keys;
  if (in.element == Element::kInteger) {
    for (std::int64_t k : node.integers("keys_int64s")) keys.push_back(static_cast<double>(k));
  } else {
    for (float k : node.floats("keys_floats")) keys.push_back(k);
  }
  if (keys.size() != outputs.size()) node.fail(std::to_string(keys.size()) + " keys of the input's type and " + std::to_string(outputs.size()) + " values", "one value per key");
  const double unknown = node.real("default_float", -0.0f);
  LeafFunction out = in;
  out.element = Element::kFloat;
  for (double& v : out.values) {
    double mapped = unknown;
    for (std::size_t j = 0; j < keys.size(); ++j) {
      if (keys[j] == v) {
        mapped = outputs[j];
        break;
      }
    }
    v = mapped;
  }
  return out;
}

}  // namespace

std::shared_ptr<const LeafFunction> leaves_of(const Estimator& estimator) {
  const Model& model = estimator.model;
  // Folding computes in float, as ONNX Runtime does for float graphs; a double graph is not folded.
  if (model.input_precision != Precision::kFloat32) return nullptr;
  if (estimator.classifier || model.trees.size() != 1 || model.num_outputs != 1 || model.has_linear || !model.input_steps.empty() ||
      model.transform.kind != TransformKind::kIdentity || model.average_divisor != 1.0 || model.trees[0].leaf_size != 1) {
    return nullptr;
  }
  auto leaves = std::make_shared<LeafFunction>();
  leaves->tree = std::make_shared<const Tree>(model.trees[0]);
  const float base = static_cast<float>(model.base_margin[0]);
  for (double w : model.trees[0].leaf_values) leaves->values.push_back(static_cast<double>(static_cast<float>(w) + base));
  return leaves;
}

Estimator sum_of(const std::vector<const LeafFunction*>& parts) {
  Estimator estimator;
  Model& model = estimator.model;
  for (const LeafFunction* part : parts) {
    Tree tree = *part->tree;
    tree.leaf_values = part->values;
    tree.group = 0;
    tree.leaf_size = 1;
    model.trees.push_back(std::move(tree));
  }
  model.num_outputs = 1;
  model.base_margin = {0.0};
  model.input_precision = Precision::kFloat32;
  model.comparison = Comparison::kLessOrEqual;
  model.accumulation = Precision::kFloat32;
  model.output_names = {"prediction"};
  model.objective = "Sum of " + std::to_string(parts.size()) + " single-tree regressors";
  return estimator;
}

bool folds_into_leaves(const std::string& op) {
  return op == "Cast" || op == "LabelEncoder" || unary_ops().count(op) || binary_ops().count(op);
}

LeafFunction fold(const NodeView& node, const std::vector<LeafOperand>& operands) {
  const std::string& op = node.node().op_type();
  const LeafFunction* first = nullptr;
  for (const LeafOperand& operand : operands) {
    if (operand.leaves == nullptr) continue;
    if (first != nullptr && operand.leaves->tree != first->tree) node.fail("combines the outputs of two different trees", "values of one tree (a Sum adds trees)");
    if (first == nullptr) first = operand.leaves;
  }
  if (first == nullptr) node.fail("folds no tree output", "an input computed from a tree's output");
  if (op == "Cast") return cast(node, *first);
  if (op == "LabelEncoder") return label_encode(node, *first);

  const bool unary_op = unary_ops().count(op) > 0;
  const bool variadic = op == "Max" || op == "Min";
  if ((unary_op && operands.size() != 1) || (!unary_op && !variadic && operands.size() != 2) || operands.empty()) {
    node.fail("has " + std::to_string(operands.size()) + " inputs", unary_op ? "one input" : "two inputs");
  }
  for (const LeafOperand& operand : operands) {
    const Element element = operand.leaves ? operand.leaves->element : operand.element;
    if (element != Element::kFloat) node.fail("computes on integers or booleans", "float operands (a Cast to float first)");
  }
  LeafFunction out = *first;
  const bool comparison = op == "Equal" || op == "Greater" || op == "Less";
  out.element = comparison ? Element::kBool : Element::kFloat;
  for (std::size_t leaf = 0; leaf < out.values.size(); ++leaf) {
    auto value_of = [&](const LeafOperand& operand) {
      return static_cast<float>(operand.leaves ? operand.leaves->values[leaf] : operand.constant);
    };
    float result = value_of(operands[0]);
    if (unary_op) {
      result = unary(op, result);
    } else {
      for (std::size_t k = 1; k < operands.size(); ++k) result = binary(op, result, value_of(operands[k]));
    }
    if (!std::isfinite(result)) node.fail("gives a leaf the value " + std::to_string(result), "finite values for every leaf");
    out.values[leaf] = static_cast<double>(result);
  }
  return out;
}

}  // namespace orchard::onnx_format
