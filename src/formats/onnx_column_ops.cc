// Column plumbing (Cast, Identity, Reshape, Flatten, ArrayFeatureExtractor, Gather, Concat, Constant)
// and preprocessing (Imputer, Scaler, Binarizer, OneHotEncoder, LabelEncoder) in front of the
// estimator: which input feature each column comes from and what happened to it (onnx_preprocessing.h).
#include "common/error.h"
#include "formats/onnx_graph_mapper.h"

namespace orchard::onnx_format {

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
    out.columns = apply_imputer(view, std::move(out.columns));
  } else if (op == "Scaler") {
    if (out.element == Value::Element::kDouble) view.fail("scales doubles", "float inputs (ONNX Runtime's float arithmetic is what Orchard reproduces)");
    out.columns = apply_scaler(view, std::move(out.columns));
    out.element = Value::Element::kFloat;
  } else if (op == "Binarizer") {
    if (out.element != Value::Element::kFloat) view.fail("binarizes a tensor that is not float", "float inputs");
    out.columns = apply_binarizer(view, std::move(out.columns));
  } else if (op == "OneHotEncoder") {
    out.columns = apply_one_hot(view, out.columns, strings, model_.features);
    out.element = Value::Element::kFloat;
    out.rank3 = true;  // [N, 1] in, [N, 1, K] out
  } else if (op == "LabelEncoder") {
    out.columns = apply_label_encoder(view, out.columns, strings, model_.features);
    out.element = view.has("values_int64s") ? Value::Element::kInteger : Value::Element::kFloat;
  }
  define(view, 0, out);
}

}  // namespace orchard::onnx_format
