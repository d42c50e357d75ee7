// Reading ONNX protobuf files safely, and typed access to a node's attributes and the graph's constants.
//
// This is the protobuf layer under the ONNX loader (onnx_model.h): it knows nothing about what the
// operators mean. Everything it refuses is Error(kInvalidModel) naming the file, the node ("node 3
// 'TreeEnsembleClassifier' (ai.onnx.ml.TreeEnsembleClassifier)") and what was expected.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "onnx/onnx_pb.h"

namespace orchard::onnx_format {

// The largest file parse_model accepts. Tree models of millions of nodes stay far below it; protobuf
// itself cannot address more than 2 GiB.
inline constexpr std::size_t kMaxModelBytes = std::size_t{1} << 30;

// True if `bytes` starts like a serialized ModelProto: field 1 (ir_version, a small varint) followed
// by another ModelProto field. Every ONNX writer emits ir_version first.
bool looks_like_onnx(std::string_view bytes);

// Parses a ModelProto. Refuses files over kMaxModelBytes, nesting deeper than protobuf's recursion
// limit (32 levels: real graphs nest 4), and anything that does not parse (truncated, corrupted),
// with Error(kInvalidModel).
onnx::ModelProto parse_model(std::string_view bytes, const std::string& where);

// "ai.onnx.ml.TreeEnsembleClassifier", or "Add" for the default domain (also spelled "ai.onnx").
std::string qualified_op(const onnx::NodeProto& node);

// A node's attributes by name, with typed getters that name the node in their errors.
class NodeView {
 public:
  NodeView(const onnx::NodeProto& node, int index, const std::string& where);

  const onnx::NodeProto& node() const { return node_; }
  // "file: node 3 'name' (OpType)": the place errors point to.
  const std::string& location() const { return location_; }
  [[noreturn]] void fail(const std::string& what, const std::string& expected = {}) const;

  bool has(const std::string& name) const { return attributes_.count(name) > 0; }
  std::int64_t integer(const std::string& name, std::int64_t fallback) const;
  std::int64_t required_integer(const std::string& name) const;
  float real(const std::string& name, float fallback) const;
  std::string text(const std::string& name, const std::string& fallback) const;
  // Repeated attributes; an absent attribute is an empty list.
  std::vector<std::int64_t> integers(const std::string& name) const;
  std::vector<float> floats(const std::string& name) const;
  std::vector<std::string> texts(const std::string& name) const;
  // A list that may be given as floats (`name`) or as a double tensor (`name` + "_as_tensor", ai.onnx.ml 3).
  std::vector<double> reals(const std::string& name) const;
  const onnx::TensorProto* tensor(const std::string& name) const;

 private:
  const onnx::AttributeProto& get(const std::string& name, onnx::AttributeProto::AttributeType type) const;

  const onnx::NodeProto& node_;
  std::string location_;
  std::map<std::string, const onnx::AttributeProto*> attributes_;
};

// A constant tensor's values as doubles or integers (float, double, int32, int64 and raw_data
// encodings). Throws Error(kInvalidModel) naming `where` for other types or inconsistent sizes.
std::vector<double> tensor_reals(const onnx::TensorProto& tensor, const std::string& where);
std::vector<std::int64_t> tensor_integers(const onnx::TensorProto& tensor, const std::string& where);

}  // namespace orchard::onnx_format
