#include "formats/onnx_builder.h"

#include <cmath>

#include <gtest/gtest.h>

#include "common/error.h"
#include "formats/model_loader.h"

namespace orchard::testing {
namespace {

onnx::AttributeProto& attribute(onnx::NodeProto& node, const std::string& name, onnx::AttributeProto::AttributeType type) {
  onnx::AttributeProto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(type);
  return *a;
}

void tensor_input(onnx::ValueInfoProto* info, const std::string& name, int width, int element = onnx::TensorProto::FLOAT) {
  info->set_name(name);
  auto* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(element);
  tensor->mutable_shape()->add_dim();  // N: symbolic
  tensor->mutable_shape()->add_dim()->set_dim_value(width);
}

}  // namespace

OnnxBuilder::OnnxBuilder(int width, const std::string& input, int element) {
  model_.set_ir_version(8);
  model_.set_producer_name("orchard-tests");
  auto* opset = model_.add_opset_import();
  opset->set_domain("");
  opset->set_version(15);
  opset = model_.add_opset_import();
  opset->set_domain("ai.onnx.ml");
  opset->set_version(3);
  model_.mutable_graph()->set_name("test");
  tensor_input(model_.mutable_graph()->add_input(), input, width, element);
}

void OnnxBuilder::add_input(const std::string& name, int width, int element) {
  tensor_input(model_.mutable_graph()->add_input(), name, width, element);
}

onnx::NodeProto& OnnxBuilder::node(const std::string& op, const std::string& domain, const std::vector<std::string>& inputs,
                                   const std::vector<std::string>& outputs) {
  onnx::NodeProto* node = model_.mutable_graph()->add_node();
  node->set_op_type(op);
  node->set_domain(domain);
  node->set_name(op);
  for (const auto& name : inputs) node->add_input(name);
  for (const auto& name : outputs) node->add_output(name);
  return *node;
}

void OnnxBuilder::int64_initializer(const std::string& name, const std::vector<std::int64_t>& values) {
  onnx::TensorProto* tensor = model_.mutable_graph()->add_initializer();
  tensor->set_name(name);
  tensor->set_data_type(onnx::TensorProto::INT64);
  tensor->add_dims(static_cast<std::int64_t>(values.size()));
  for (auto v : values) tensor->add_int64_data(v);
}

void OnnxBuilder::float_initializer(const std::string& name, const std::vector<float>& values) {
  onnx::TensorProto* tensor = model_.mutable_graph()->add_initializer();
  tensor->set_name(name);
  tensor->set_data_type(onnx::TensorProto::FLOAT);
  tensor->add_dims(static_cast<std::int64_t>(values.size()));
  for (float v : values) tensor->add_float_data(v);
}

void OnnxBuilder::output(const std::string& name) {
  onnx::ValueInfoProto* info = model_.mutable_graph()->add_output();
  info->set_name(name);
  info->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
}

std::string OnnxBuilder::bytes() const { return model_.SerializeAsString(); }

void set_int(onnx::NodeProto& node, const std::string& name, std::int64_t value) {
  attribute(node, name, onnx::AttributeProto::INT).set_i(value);
}
void set_float(onnx::NodeProto& node, const std::string& name, float value) {
  attribute(node, name, onnx::AttributeProto::FLOAT).set_f(value);
}
void set_string(onnx::NodeProto& node, const std::string& name, const std::string& value) {
  attribute(node, name, onnx::AttributeProto::STRING).set_s(value);
}
void set_ints(onnx::NodeProto& node, const std::string& name, const std::vector<std::int64_t>& values) {
  auto& a = attribute(node, name, onnx::AttributeProto::INTS);
  for (auto v : values) a.add_ints(v);
}
void set_floats(onnx::NodeProto& node, const std::string& name, const std::vector<float>& values) {
  auto& a = attribute(node, name, onnx::AttributeProto::FLOATS);
  for (auto v : values) a.add_floats(v);
}
void set_strings(onnx::NodeProto& node, const std::string& name, const std::vector<std::string>& values) {
  auto& a = attribute(node, name, onnx::AttributeProto::STRINGS);
  for (const auto& v : values) a.add_strings(v);
}
void set_doubles_tensor(onnx::NodeProto& node, const std::string& name, const std::vector<double>& values) {
  onnx::TensorProto* t = attribute(node, name, onnx::AttributeProto::TENSOR).mutable_t();
  t->set_data_type(onnx::TensorProto::DOUBLE);
  t->add_dims(static_cast<std::int64_t>(values.size()));
  for (double v : values) t->add_double_data(v);
}

void EnsembleSpec::branch(std::int64_t tree, std::int64_t id, const std::string& mode, std::int64_t feature, float threshold,
                          std::int64_t on_true, std::int64_t on_false, bool tracks) {
  tree_ids.push_back(tree);
  node_ids.push_back(id);
  feature_ids.push_back(feature);
  true_ids.push_back(on_true);
  false_ids.push_back(on_false);
  tracks_true.push_back(tracks ? 1 : 0);
  modes.push_back(mode);
  thresholds.push_back(threshold);
}

void EnsembleSpec::leaf(std::int64_t tree, std::int64_t id, const std::vector<std::pair<std::int64_t, float>>& leaf_weights) {
  branch(tree, id, "LEAF", 0, 0.0f, 0, 0);
  for (const auto& [output, weight] : leaf_weights) {
    weight_tree_ids.push_back(tree);
    weight_node_ids.push_back(id);
    weight_ids.push_back(output);
    weights.push_back(weight);
  }
}

void EnsembleSpec::write(onnx::NodeProto& node, bool classifier) const {
  set_ints(node, "nodes_treeids", tree_ids);
  set_ints(node, "nodes_nodeids", node_ids);
  set_ints(node, "nodes_featureids", feature_ids);
  set_ints(node, "nodes_truenodeids", true_ids);
  set_ints(node, "nodes_falsenodeids", false_ids);
  set_ints(node, "nodes_missing_value_tracks_true", tracks_true);
  set_strings(node, "nodes_modes", modes);
  set_floats(node, "nodes_values", thresholds);
  const std::string prefix = classifier ? "class_" : "target_";
  set_ints(node, prefix + "treeids", weight_tree_ids);
  set_ints(node, prefix + "nodeids", weight_node_ids);
  set_ints(node, prefix + "ids", weight_ids);
  set_floats(node, prefix + "weights", weights);
}

Predictor load_onnx(const OnnxBuilder& builder, const std::string& name) {
  return Predictor(load_model_bytes(builder.bytes(), name), name);
}

std::string onnx_refusal(const OnnxBuilder& builder, const std::string& name) {
  try {
    load_onnx(builder, name);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidModel) << e.what();
    return e.what();
  }
  return "";
}

bool onnx_true(const std::string& mode, double x, double t, bool tracks) {
  if (tracks && std::isnan(x)) return true;
  if (mode == "BRANCH_LEQ") return x <= t;
  if (mode == "BRANCH_LT") return x < t;
  if (mode == "BRANCH_GTE") return x >= t;
  if (mode == "BRANCH_GT") return x > t;
  if (mode == "BRANCH_EQ") return x == t;
  return x != t;  // BRANCH_NEQ
}

}  // namespace orchard::testing
