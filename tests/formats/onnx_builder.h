// Building small ONNX models in tests with the protobuf API, so that every operator, mode and refusal
// can be exercised without a Python converter.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/predictor.h"
#include "onnx/onnx_pb.h"

namespace orchard::testing {

class OnnxBuilder {
 public:
  // A model (IR 8, opsets ai.onnx 15 and ai.onnx.ml 3) with one float input `input` of shape [N, width].
  explicit OnnxBuilder(int width, const std::string& input = "X", int element = onnx::TensorProto::FLOAT);

  // Adds another input [N, width] (float unless `element` says otherwise, e.g. onnx::TensorProto::STRING).
  void add_input(const std::string& name, int width, int element = onnx::TensorProto::FLOAT);
  // Appends a node; domain "" is ai.onnx.
  onnx::NodeProto& node(const std::string& op, const std::string& domain, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs);
  onnx::NodeProto& ml_node(const std::string& op, const std::vector<std::string>& inputs, const std::vector<std::string>& outputs) {
    return node(op, "ai.onnx.ml", inputs, outputs);
  }
  // An int64 initializer (indices, shapes).
  void int64_initializer(const std::string& name, const std::vector<std::int64_t>& values);
  // A float initializer of shape [values.size()].
  void float_initializer(const std::string& name, const std::vector<float>& values);
  void output(const std::string& name);

  onnx::ModelProto& proto() { return model_; }
  std::string bytes() const;

 private:
  onnx::ModelProto model_;
};

void set_int(onnx::NodeProto& node, const std::string& name, std::int64_t value);
void set_float(onnx::NodeProto& node, const std::string& name, float value);
void set_string(onnx::NodeProto& node, const std::string& name, const std::string& value);
void set_ints(onnx::NodeProto& node, const std::string& name, const std::vector<std::int64_t>& values);
void set_floats(onnx::NodeProto& node, const std::string& name, const std::vector<float>& values);
void set_strings(onnx::NodeProto& node, const std::string& name, const std::vector<std::string>& values);
// A double tensor attribute (ai.onnx.ml 3's `*_as_tensor`).
void set_doubles_tensor(onnx::NodeProto& node, const std::string& name, const std::vector<double>& values);

// One tree ensemble node's structure, in ONNX's parallel-array layout.
struct EnsembleSpec {
  std::vector<std::int64_t> tree_ids, node_ids, feature_ids, true_ids, false_ids, tracks_true;
  std::vector<std::string> modes;
  std::vector<float> thresholds;
  // Leaf weights (class_* or target_*).
  std::vector<std::int64_t> weight_tree_ids, weight_node_ids, weight_ids;
  std::vector<float> weights;

  // Adds a branch node (tracks: missing_value_tracks_true).
  void branch(std::int64_t tree, std::int64_t id, const std::string& mode, std::int64_t feature, float threshold,
              std::int64_t on_true, std::int64_t on_false, bool tracks = false);
  // Adds a leaf with weights (id, weight).
  void leaf(std::int64_t tree, std::int64_t id, const std::vector<std::pair<std::int64_t, float>>& weights);
  // Writes the node_* and class_* / target_* attributes.
  void write(onnx::NodeProto& node, bool classifier) const;
};

// The builder's model loaded as the file `name` (load_model_bytes) and compiled.
Predictor load_onnx(const OnnxBuilder& builder, const std::string& name);
// The message of the Error(kInvalidModel) that load_onnx throws; "" if the model loads (callers that
// expect a refusal check the message).
std::string onnx_refusal(const OnnxBuilder& builder, const std::string& name);

// ONNX Runtime's node test for BRANCH_`mode`: `x MODE t || (tracks && isnan(x))`, with x the float
// input widened to the threshold's type.
bool onnx_true(const std::string& mode, double x, double t, bool tracks);

}  // namespace orchard::testing
