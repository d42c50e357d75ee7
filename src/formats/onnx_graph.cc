#include "formats/onnx_graph.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>

#include <climits>
#include <cstring>
#include <iterator>
#include <map>

#include "common/error.h"

namespace orchard::onnx_format {
namespace {

// Reads a varint at bytes[i], advancing i; false if it runs off the end or past 10 bytes.
bool read_varint(std::string_view bytes, std::size_t& i, std::uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && i < bytes.size(); shift += 7) {
    const auto byte = static_cast<std::uint8_t>(bytes[i++]);
    value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

const char* type_name(int data_type) {
  switch (data_type) {
    case onnx::TensorProto::FLOAT: return "float";
    case onnx::TensorProto::DOUBLE: return "double";
    case onnx::TensorProto::INT32: return "int32";
    case onnx::TensorProto::INT64: return "int64";
    case onnx::TensorProto::STRING: return "string";
    default: return "another type";
  }
}

// The number of elements the tensor's dims declare, refusing negative dims and overflow.
std::size_t element_count(const onnx::TensorProto& tensor, const std::string& where) {
  std::size_t count = 1;
  for (std::int64_t dim : tensor.dims()) {
    if (dim < 0 || (dim > 0 && count > (std::size_t{1} << 40) / static_cast<std::size_t>(dim))) {
      throw_invalid_model(where, "tensor \"" + tensor.name() + "\" has dimension " + std::to_string(dim), "non-negative dimensions of a small constant");
    }
    count *= static_cast<std::size_t>(dim);
  }
  return count;
}

template <typename Raw, typename Out>
void decode_raw(const onnx::TensorProto& tensor, std::size_t count, const std::string& where, std::vector<Out>& out) {
  const std::string& raw = tensor.raw_data();
  if (raw.size() != count * sizeof(Raw)) {
    throw_invalid_model(where, "tensor \"" + tensor.name() + "\" has " + std::to_string(raw.size()) + " bytes of raw data",
                        std::to_string(count * sizeof(Raw)) + " (its dims times the element size)");
  }
  out.resize(count);
  for (std::size_t k = 0; k < count; ++k) {
    Raw value;
    std::memcpy(&value, raw.data() + k * sizeof(Raw), sizeof(Raw));  // ONNX raw data is little-endian, like x86 and ARM
    out[k] = static_cast<Out>(value);
  }
}

template <typename Out, typename Field>
void copy_field(const onnx::TensorProto& tensor, const Field& field, std::size_t count, const std::string& where, std::vector<Out>& out) {
  if (static_cast<std::size_t>(field.size()) != count) {
    throw_invalid_model(where, "tensor \"" + tensor.name() + "\" has " + std::to_string(field.size()) + " values",
                        std::to_string(count) + " (the product of its dims)");
  }
  out.assign(field.begin(), field.end());
}

template <typename Out>
std::vector<Out> decode(const onnx::TensorProto& tensor, const std::string& where, bool allow_real) {
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    throw_invalid_model(where, "tensor \"" + tensor.name() + "\" keeps its data in an external file", "tensors stored inside the .onnx file");
  }
  const std::size_t count = element_count(tensor, where);
  const bool raw = tensor.has_raw_data();
  std::vector<Out> out;
  switch (tensor.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (!allow_real) break;
      if (raw) decode_raw<float>(tensor, count, where, out); else copy_field(tensor, tensor.float_data(), count, where, out);
      return out;
    case onnx::TensorProto::DOUBLE:
      if (!allow_real) break;
      if (raw) decode_raw<double>(tensor, count, where, out); else copy_field(tensor, tensor.double_data(), count, where, out);
      return out;
    case onnx::TensorProto::INT32:
      if (raw) decode_raw<std::int32_t>(tensor, count, where, out); else copy_field(tensor, tensor.int32_data(), count, where, out);
      return out;
    case onnx::TensorProto::INT64:
      if (raw) decode_raw<std::int64_t>(tensor, count, where, out); else copy_field(tensor, tensor.int64_data(), count, where, out);
      return out;
    default:
      break;
  }
  throw_invalid_model(where, "tensor \"" + tensor.name() + "\" holds " + type_name(tensor.data_type()) + " values",
                      allow_real ? "float, double, int32 or int64 values" : "int32 or int64 values");
}

// Field names of the messages a damage report walks into (ModelProto, GraphProto, NodeProto).
struct FieldInfo {
  int number;
  const char* name;
  int child;  // index into kSchemas of the message it holds, or -1
};
constexpr FieldInfo kModelFields[] = {{1, "ir_version", -1}, {2, "producer_name", -1}, {3, "producer_version", -1}, {4, "domain", -1},
                                      {5, "model_version", -1}, {6, "doc_string", -1}, {7, "graph", 1}, {8, "opset_import", -1},
                                      {14, "metadata_props", -1}, {20, "training_info", -1}, {25, "functions", -1}};
constexpr FieldInfo kGraphFields[] = {{1, "node", 2}, {2, "name", -1}, {5, "initializer", -1}, {10, "doc_string", -1}, {11, "input", -1},
                                      {12, "output", -1}, {13, "value_info", -1}, {14, "quantization_annotation", -1},
                                      {15, "sparse_initializer", -1}};
constexpr FieldInfo kNodeFields[] = {{1, "input", -1}, {2, "output", -1}, {3, "name", -1}, {4, "op_type", -1},
                                     {5, "attribute", -1}, {6, "doc_string", -1}, {7, "domain", -1}};
struct Schema {
  const FieldInfo* fields;
  std::size_t count;
};
constexpr Schema kSchemas[] = {{kModelFields, std::size(kModelFields)}, {kGraphFields, std::size(kGraphFields)}, {kNodeFields, std::size(kNodeFields)}};

// Walks the wire format of `bytes` (a message of kSchemas[schema]) and describes the first field
// that cannot be right: a length past the end, a cut varint, a wire type protobuf does not have.
// Returns "" if this level looks sound. `base` is the offset of `bytes` in the file.
std::string locate_damage(std::string_view bytes, std::size_t base, int schema, const std::string& path) {
  std::size_t i = 0;
  std::map<int, int> seen;  // repeated fields are reported with their index
  while (i < bytes.size()) {
    const std::size_t start = i;
    std::uint64_t key = 0;
    if (!read_varint(bytes, i, key)) return "at byte " + std::to_string(base + start) + ": a field key is cut off";
    const int number = static_cast<int>(key >> 3);
    const int wire = static_cast<int>(key & 7);
    const FieldInfo* info = nullptr;
    for (std::size_t k = 0; k < kSchemas[schema].count; ++k) {
      if (kSchemas[schema].fields[k].number == number) info = &kSchemas[schema].fields[k];
    }
    const int index = seen[number]++;
    const std::string name = path + (info ? info->name : "field " + std::to_string(number)) + (index > 0 || (info && info->child == 2) ? "[" + std::to_string(index) + "]" : "");
    const std::string at = "at byte " + std::to_string(base + start) + ", " + name;
    std::uint64_t value = 0;
    switch (wire) {
      case 0:
        if (!read_varint(bytes, i, value)) return at + ": its number is cut off";
        break;
      case 1:
      case 5: {
        const std::size_t size = wire == 1 ? 8 : 4;
        if (bytes.size() - i < size) return at + ": its " + std::to_string(size) + " bytes are cut off";
        i += size;
        break;
      }
      case 2: {
        if (!read_varint(bytes, i, value)) return at + ": its length is cut off";
        if (value > bytes.size() - i) {
          // Cut inside a message: the innermost field that runs past the end says more.
          if (info && info->child >= 0) {
            std::string inner = locate_damage(bytes.substr(i), base + i, info->child, name + ".");
            if (!inner.empty()) return inner;
          }
          return at + " declares " + std::to_string(value) + " bytes but only " + std::to_string(bytes.size() - i) + " remain";
        }
        if (info && info->child >= 0) {
          std::string inner = locate_damage(bytes.substr(i, value), base + i, info->child, name + ".");
          if (!inner.empty()) return inner;
        }
        i += value;
        break;
      }
      default:
        return at + " has wire type " + std::to_string(wire) + ", which ONNX files never use";
    }
  }
  return "";
}

}  // namespace

bool looks_like_onnx(std::string_view bytes) {
  std::size_t i = 0;
  std::uint64_t value = 0;
  if (bytes.size() < 4 || static_cast<std::uint8_t>(bytes[0]) != 0x08) return false;  // field 1, varint
  ++i;
  if (!read_varint(bytes, i, value) || value == 0 || value > 100) return false;
  if (!read_varint(bytes, i, value)) return false;
  const std::uint64_t field = value >> 3, wire = value & 7;
  // producer_name .. opset_import, metadata_props, training_info, functions: strings or messages,
  // except model_version (5, a varint).
  if (field == 5) return wire == 0;
  return wire == 2 && ((field >= 2 && field <= 8) || field == 14 || field == 20 || field == 25);
}

onnx::ModelProto parse_model(std::string_view bytes, const std::string& where) {
  if (bytes.size() > kMaxModelBytes) {
    throw_invalid_model(where, "the ONNX file is " + std::to_string(bytes.size() >> 20) + " MiB",
                        "at most " + std::to_string(kMaxModelBytes >> 20) + " MiB");
  }
  google::protobuf::io::ArrayInputStream stream(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetTotalBytesLimit(INT_MAX);
  coded.SetRecursionLimit(32);
  onnx::ModelProto model;
  bool parsed = false;
  {
    // protobuf logs its own complaint to stderr; the Error below is the message users see.
    google::protobuf::LogSilencer silence;
    parsed = model.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
  }
  if (!parsed) {
    const std::string damage = locate_damage(bytes, 0, 0, "");
    throw_invalid_model(where,
                        "the file does not parse as an ONNX ModelProto: " +
                            (damage.empty() ? std::string("a value inside is corrupted, or messages nest deeper than 32 levels") : damage + " (truncated or corrupted?)"),
                        "a complete .onnx file");
  }
  return model;
}

std::string qualified_op(const onnx::NodeProto& node) {
  if (node.domain().empty() || node.domain() == "ai.onnx") return node.op_type();
  return node.domain() + "." + node.op_type();
}

NodeView::NodeView(const onnx::NodeProto& node, int index, const std::string& where) : node_(node) {
  location_ = where + ": node " + std::to_string(index) + (node.name().empty() ? "" : " '" + node.name() + "'") + " (" + qualified_op(node) + ")";
  for (const auto& attribute : node.attribute()) {
    if (!attributes_.emplace(attribute.name(), &attribute).second) fail("attribute \"" + attribute.name() + "\" appears twice", "each attribute once");
  }
}

void NodeView::fail(const std::string& what, const std::string& expected) const { throw_invalid_model(location_, what, expected); }

const onnx::AttributeProto& NodeView::get(const std::string& name, onnx::AttributeProto::AttributeType type) const {
  const onnx::AttributeProto& attribute = *attributes_.at(name);
  // Writers that omit `type` (IR version 1) are not produced by any converter Orchard reads.
  if (attribute.type() != type) {
    fail("attribute \"" + name + "\" has type " + onnx::AttributeProto::AttributeType_Name(attribute.type()),
         onnx::AttributeProto::AttributeType_Name(type));
  }
  return attribute;
}

std::int64_t NodeView::integer(const std::string& name, std::int64_t fallback) const {
  return has(name) ? get(name, onnx::AttributeProto::INT).i() : fallback;
}

std::int64_t NodeView::required_integer(const std::string& name) const {
  if (!has(name)) fail("attribute \"" + name + "\" is missing", "an integer attribute \"" + name + "\"");
  return integer(name, 0);
}

float NodeView::real(const std::string& name, float fallback) const {
  return has(name) ? get(name, onnx::AttributeProto::FLOAT).f() : fallback;
}

std::string NodeView::text(const std::string& name, const std::string& fallback) const {
  return has(name) ? get(name, onnx::AttributeProto::STRING).s() : fallback;
}

std::vector<std::int64_t> NodeView::integers(const std::string& name) const {
  if (!has(name)) return {};
  const auto& values = get(name, onnx::AttributeProto::INTS).ints();
  return {values.begin(), values.end()};
}

std::vector<float> NodeView::floats(const std::string& name) const {
  if (!has(name)) return {};
  const auto& values = get(name, onnx::AttributeProto::FLOATS).floats();
  return {values.begin(), values.end()};
}

std::vector<std::string> NodeView::texts(const std::string& name) const {
  if (!has(name)) return {};
  const auto& values = get(name, onnx::AttributeProto::STRINGS).strings();
  return {values.begin(), values.end()};
}

const onnx::TensorProto* NodeView::tensor(const std::string& name) const {
  return has(name) ? &get(name, onnx::AttributeProto::TENSOR).t() : nullptr;
}

std::vector<double> NodeView::reals(const std::string& name) const {
  if (const onnx::TensorProto* t = tensor(name + "_as_tensor")) {
    if (has(name)) fail("both \"" + name + "\" and \"" + name + "_as_tensor\" are set", "one of them");
    return tensor_reals(*t, location_ + " attribute " + name + "_as_tensor");
  }
  const std::vector<float> values = floats(name);
  return {values.begin(), values.end()};
}

std::vector<double> tensor_reals(const onnx::TensorProto& tensor, const std::string& where) {
  return decode<double>(tensor, where, true);
}

std::vector<std::int64_t> tensor_integers(const onnx::TensorProto& tensor, const std::string& where) {
  return decode<std::int64_t>(tensor, where, false);
}

}  // namespace orchard::onnx_format
