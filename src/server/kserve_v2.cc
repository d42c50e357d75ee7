// The Open Inference Protocol (KServe v2) over REST.
//
//   GET  /v2, /v2/health/live, /v2/health/ready
//   GET  /v2/models/{name}[/versions/{v}]            metadata: inputs and outputs with datatype and shape
//   GET  /v2/models/{name}[/versions/{v}]/ready
//   GET  /v2/models[/{name}[/versions/{v}]]/stats    Triton's statistics extension
//   POST /v2/models/{name}[/versions/{v}]/infer
//
// Without a version, {name} is an endpoint and the request follows its route. Inputs: one tensor
// [N, F] in the model's feature order, or one tensor per feature named by feature name ([N] or
// [N, 1]); FP32, FP64, INT8..INT64, UINT8..UINT64 and BOOL; data flat or nested; null = missing.
#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <set>

#include "registry/registry.h"
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "server/kserve_v2.h"
#include "server/service.h"
#include "server/sticky_key.h"
#include "tabular/column_mapping.h"

namespace orchard {
namespace {

using simdjson::dom::element;

struct Path {
  std::string model;
  std::optional<std::int64_t> version;
  std::string action;  // "", "ready", "infer", "stats"
};

[[noreturn]] void bad_request(const std::string& message) { throw Error(ErrorKind::kInvalidArgument, message); }

// /v2/models/NAME[/versions/V][/ACTION]
std::optional<Path> parse_model_path(std::string_view path) {
  constexpr std::string_view prefix = "/v2/models/";
  if (path.rfind(prefix, 0) != 0) return std::nullopt;
  std::vector<std::string_view> parts;
  std::string_view rest = path.substr(prefix.size());
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  if (parts.empty() || parts[0].empty()) return std::nullopt;
  Path out;
  out.model = std::string(parts[0]);
  std::size_t i = 1;
  if (parts.size() >= 3 && parts[1] == "versions") {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), v);
    if (ec != std::errc() || end != parts[2].data() + parts[2].size() || v < 1) {
      throw Error(ErrorKind::kNotFound, "version \"" + std::string(parts[2]) + "\" of model \"" + out.model + "\" does not exist", "",
                  "a version number");
    }
    out.version = v;
    i = 3;
  }
  if (i < parts.size()) out.action = std::string(parts[i++]);
  if (i != parts.size()) return std::nullopt;
  return out;
}

HttpResponse ok_json(std::string body) {
  HttpResponse response;
  response.body = std::move(body);
  return response;
}

const char* datatype_name(FeatureType) { return "FP64"; }

std::string metadata(const LoadedVersion& version, const std::string& name, const std::vector<std::int64_t>& versions) {
  const Model& model = version.predictor->model();
  std::string out = "{\"name\":\"";
  append_json_string(out, name);
  out += "\",\"versions\":[";
  for (std::size_t i = 0; i < versions.size(); ++i) out += (i ? ",\"" : "\"") + std::to_string(versions[i]) + "\"";
  out += "],\"platform\":\"orchard_";
  out += model.source_format;
  out += "\",\"inputs\":[{\"name\":\"input-0\",\"datatype\":\"FP64\",\"shape\":[-1," + std::to_string(model.num_features()) + "]}";
  for (const Feature& feature : model.features) {
    out += ",{\"name\":\"";
    append_json_string(out, feature.name);
    out += "\",\"datatype\":\"";
    out += datatype_name(feature.type);
    out += "\",\"shape\":[-1]}";
  }
  const int width = version.predictor->num_values(false);
  out += "],\"outputs\":[{\"name\":\"";
  append_json_string(out, width == 1 ? model.output_names[0] : std::string("predictions"));
  out += "\",\"datatype\":\"FP64\",\"shape\":" + std::string(width == 1 ? "[-1]" : "[-1," + std::to_string(width) + "]") + "}]";
  out += ",\"parameters\":{\"model_version\":\"" + std::to_string(version.number) + "\",\"objective\":\"";
  append_json_string(out, model.objective);
  out += "\",\"input_forms\":\"one tensor [N, F] in feature order, or one tensor [N] per feature\"}}";
  return out;
}

// Appends every scalar of a (possibly nested) array to `out`, converted per the tensor's datatype.
void flatten(const element& value, bool as_float32, bool as_bool, bool as_integer, std::vector<double>& out, const std::string& tensor) {
  switch (value.type()) {
    case simdjson::dom::element_type::ARRAY:
      for (element item : value.get_array()) flatten(item, as_float32, as_bool, as_integer, out, tensor);
      return;
    case simdjson::dom::element_type::DOUBLE:
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64: {
      double v = 0;
      if (value.type() == simdjson::dom::element_type::DOUBLE) v = value.get_double().value_unsafe();
      else if (value.type() == simdjson::dom::element_type::INT64) v = static_cast<double>(value.get_int64().value_unsafe());
      else v = static_cast<double>(value.get_uint64().value_unsafe());
      if (as_bool) bad_request("tensor \"" + tensor + "\" is BOOL but holds a number");
      if (as_integer && (std::floor(v) != v || std::fabs(v) > 9.2e18)) {
        bad_request("tensor \"" + tensor + "\" has an integer datatype but holds " + std::to_string(v));
      }
      out.push_back(as_float32 ? static_cast<double>(static_cast<float>(v)) : v);
      return;
    }
    case simdjson::dom::element_type::BOOL:
      if (!as_bool) bad_request("tensor \"" + tensor + "\" holds true/false but its datatype is not BOOL");
      out.push_back(value.get_bool().value_unsafe() ? 1.0 : 0.0);
      return;
    case simdjson::dom::element_type::NULL_VALUE:
      out.push_back(std::nan(""));
      return;
    default:
      bad_request("tensor \"" + tensor + "\" holds a string or an object; expected numbers (null for a missing value)");
  }
}

struct Tensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<double> data;
  // BYTES tensors (one feature's column of strings, e.g. category names): the texts, null = missing.
  bool bytes = false;
  std::vector<std::optional<std::string>> texts;
};

void flatten_texts(const element& value, std::vector<std::optional<std::string>>& out, const std::string& tensor) {
  switch (value.type()) {
    case simdjson::dom::element_type::ARRAY:
      for (element item : value.get_array()) flatten_texts(item, out, tensor);
      return;
    case simdjson::dom::element_type::STRING:
      out.emplace_back(std::string(value.get_string().value_unsafe()));
      return;
    case simdjson::dom::element_type::NULL_VALUE:
      out.emplace_back(std::nullopt);
      return;
    default:
      bad_request("tensor \"" + tensor + "\" is BYTES but holds something other than strings (null for a missing value)");
  }
}

// One string of a BYTES feature tensor: a category name gives its code (model.h, category_code), any
// other text on a feature with categories an unknown category; elsewhere the text must be a number.
double text_value(const std::optional<std::string>& text, const Feature& feature) {
  if (!text) return std::nan("");
  if (!feature.categories.empty()) {
    const double code = category_code(feature, *text);
    if (code != kUnknownCategory || !numbers_are_category_codes(feature)) return code;
  }
  double number = 0;
  if (parse_cell(*text, number)) return number;
  if (!feature.categories.empty()) return kUnknownCategory;
  bad_request("feature \"" + feature.name + "\": \"" + *text + "\" is not a number (the feature has no category names)");
}

// Triton's binary tensor extension: little-endian values of the tensor's datatype.
void decode_binary(std::string_view bytes, std::string_view datatype, std::vector<double>& out, const std::string& tensor) {
  auto read_all = [&](auto sample) {
    using T = decltype(sample);
    if (bytes.size() % sizeof(T) != 0) bad_request("binary data of input \"" + tensor + "\" is not a whole number of " + std::string(datatype) + " values");
    for (std::size_t i = 0; i < bytes.size(); i += sizeof(T)) {
      T v;
      std::memcpy(&v, bytes.data() + i, sizeof(T));  // the wire is little-endian, as is every platform Orchard builds on
      out.push_back(static_cast<double>(v));
    }
  };
  if (datatype == "FP32") read_all(float{});
  else if (datatype == "FP64") read_all(double{});
  else if (datatype == "INT8") read_all(std::int8_t{});
  else if (datatype == "INT16") read_all(std::int16_t{});
  else if (datatype == "INT32") read_all(std::int32_t{});
  else if (datatype == "INT64") read_all(std::int64_t{});
  else if (datatype == "UINT8" || datatype == "BOOL") read_all(std::uint8_t{});
  else if (datatype == "UINT16") read_all(std::uint16_t{});
  else if (datatype == "UINT32") read_all(std::uint32_t{});
  else if (datatype == "UINT64") read_all(std::uint64_t{});
  else bad_request("binary data of datatype " + std::string(datatype) + " is not supported");
}

Tensor read_tensor(const element& input, std::string_view binary, std::size_t& binary_offset, std::size_t max_rows) {
  Tensor tensor;
  std::string_view name, datatype;
  if (input["name"].get(name) != simdjson::SUCCESS) bad_request("an input has no \"name\"");
  tensor.name = std::string(name);
  if (input["datatype"].get(datatype) != simdjson::SUCCESS) bad_request("input \"" + tensor.name + "\" has no \"datatype\"");
  simdjson::dom::array shape;
  if (input["shape"].get(shape) != simdjson::SUCCESS) bad_request("input \"" + tensor.name + "\" has no \"shape\"");
  std::int64_t expected = 1;
  for (element dim : shape) {
    std::int64_t d = 0;
    if (dim.get(d) != simdjson::SUCCESS || d < 0) bad_request("input \"" + tensor.name + "\" has a shape that is not a list of non-negative integers");
    tensor.shape.push_back(d);
    if (d > 0 && expected > (std::int64_t{1} << 40) / d) bad_request("input \"" + tensor.name + "\" has an impossibly large shape");
    expected *= d;
  }
  // The row limit applies before anything is decoded or copied.
  if (!tensor.shape.empty() && static_cast<std::uint64_t>(tensor.shape[0]) > max_rows) {
    throw TooManyRows(static_cast<std::size_t>(tensor.shape[0]), max_rows);
  }
  if (datatype == "BYTES") {
    element texts;
    if (input["data"].get(texts) != simdjson::SUCCESS) bad_request("BYTES input \"" + tensor.name + "\" needs \"data\" as JSON strings");
    tensor.bytes = true;
    flatten_texts(texts, tensor.texts, tensor.name);
    if (static_cast<std::int64_t>(tensor.texts.size()) != expected) {
      bad_request("input \"" + tensor.name + "\" has " + std::to_string(tensor.texts.size()) + " values but its shape holds " + std::to_string(expected));
    }
    return tensor;
  }
  const bool is_bool = datatype == "BOOL";
  const bool is_float32 = datatype == "FP32";
  static const std::string_view kNumeric[] = {"FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "BOOL"};
  bool known = false;
  for (auto t : kNumeric) known = known || datatype == t;
  if (!known) {
    bad_request("input \"" + tensor.name + "\" has datatype " + std::string(datatype) + "; expected FP32, FP64, INT8..INT64, UINT8..UINT64, BOOL or BYTES");
  }
  element data;
  std::uint64_t binary_size = 0;
  element input_parameters;
  if (input["parameters"].get(input_parameters) == simdjson::SUCCESS && input_parameters["binary_data_size"].get(binary_size) == simdjson::SUCCESS) {
    if (binary_size > binary.size() - binary_offset) {
      bad_request("input \"" + tensor.name + "\" declares " + std::to_string(binary_size) + " bytes of binary data beyond the end of the body");
    }
    decode_binary(binary.substr(binary_offset, binary_size), datatype, tensor.data, tensor.name);
    binary_offset += binary_size;
  } else if (input["data"].get(data) == simdjson::SUCCESS) {
    const bool is_integer = datatype.find("INT") != std::string_view::npos;
    flatten(data, is_float32, is_bool, is_integer, tensor.data, tensor.name);
  } else {
    bad_request("input \"" + tensor.name + "\" has neither \"data\" nor parameters.binary_data_size");
  }
  if (static_cast<std::int64_t>(tensor.data.size()) != expected) {
    bad_request("input \"" + tensor.name + "\" has " + std::to_string(tensor.data.size()) + " values but its shape holds " + std::to_string(expected));
  }
  return tensor;
}

InferRequest build_rows(const Model& model, const std::vector<Tensor>& tensors, std::size_t max_rows) {
  const std::size_t nf = static_cast<std::size_t>(model.num_features());
  InferRequest request;
  auto feature_index = [&](const std::string& name) -> std::int64_t {
    for (std::size_t f = 0; f < nf; ++f) if (model.features[f].name == name) return static_cast<std::int64_t>(f);
    return -1;
  };
  if (tensors.size() == 1 && tensors[0].shape.size() == 2 && feature_index(tensors[0].name) < 0) {
    const Tensor& t = tensors[0];
    if (t.bytes) bad_request("BYTES input \"" + t.name + "\" must be one feature's column, named after it");
    if (static_cast<std::size_t>(t.shape[1]) != nf) {
      bad_request("input \"" + t.name + "\" has " + std::to_string(t.shape[1]) + " features per row; the model expects " + std::to_string(nf));
    }
    request.count = static_cast<std::size_t>(t.shape[0]);
    request.rows = t.data;
  } else {
    std::vector<const Tensor*> columns(nf, nullptr);
    std::int64_t rows = -1;
    for (const Tensor& t : tensors) {
      const std::int64_t f = feature_index(t.name);
      if (f < 0) {
        std::string names;
        for (std::size_t i = 0; i < std::min<std::size_t>(nf, 8); ++i) names += (i ? ", " : "") + model.features[i].name;
        bad_request("unknown feature \"" + t.name + "\"; the model's features are " + names + (nf > 8 ? ", ..." : "") +
                    " (or send one tensor [N, " + std::to_string(nf) + "])");
      }
      if (!(t.shape.size() == 1 || (t.shape.size() == 2 && t.shape[1] == 1))) {
        bad_request("feature tensor \"" + t.name + "\" must have shape [N] or [N, 1]");
      }
      if (rows >= 0 && t.shape[0] != rows) bad_request("feature tensors have different numbers of rows");
      rows = t.shape[0];
      if (columns[static_cast<std::size_t>(f)]) bad_request("feature \"" + t.name + "\" is given twice");
      columns[static_cast<std::size_t>(f)] = &t;
    }
    for (std::size_t f = 0; f < nf; ++f) {
      if (!columns[f]) bad_request("feature \"" + model.features[f].name + "\" is missing (send null values for missing data)");
    }
    request.count = static_cast<std::size_t>(std::max<std::int64_t>(rows, 0));
    request.rows.resize(request.count * nf);
    for (std::size_t f = 0; f < nf; ++f) {
      if (columns[f]->bytes) {
        for (std::size_t r = 0; r < request.count; ++r) request.rows[r * nf + f] = text_value(columns[f]->texts[r], model.features[f]);
      } else {
        for (std::size_t r = 0; r < request.count; ++r) request.rows[r * nf + f] = columns[f]->data[r];
      }
    }
  }
  if (request.count == 0) bad_request("the request has no rows");
  if (request.count > max_rows) throw TooManyRows(request.count, max_rows);
  return request;
}

// The JSON part and the binary tensors of an infer body. Binary tensors (Triton's extension): a JSON
// header of `header_length` bytes, then the raw tensors. Returns false for a content type that is
// neither JSON nor binary tensors (415).
bool split_infer_body(std::string_view body, std::string_view content_type, std::string_view header_length,
                      std::string_view& json_part, std::string_view& binary) {
  json_part = body;
  binary = {};
  if (!header_length.empty()) {
    std::size_t length = 0;
    auto [end, ec] = std::from_chars(header_length.data(), header_length.data() + header_length.size(), length);
    if (ec != std::errc() || end != header_length.data() + header_length.size() || length > body.size()) {
      bad_request("Inference-Header-Content-Length is not a length within the body");
    }
    json_part = body.substr(0, length);
    binary = body.substr(length);
    return true;
  }
  return json_content_type(content_type);
}

element parse_infer_json(simdjson::dom::parser& parser, std::string_view json_part) {
  element doc;
  if (auto error = parser.parse(json_part.data(), json_part.size()).get(doc); error) {
    bad_request(std::string("the body is not valid JSON: ") + simdjson::error_message(error));
  }
  return doc;
}

std::vector<Tensor> read_inputs(const element& doc, std::string_view binary, std::size_t max_rows) {
  simdjson::dom::array inputs;
  if (doc["inputs"].get(inputs) != simdjson::SUCCESS) bad_request("the body has no \"inputs\" list");
  std::vector<Tensor> tensors;
  std::size_t binary_offset = 0;
  for (element input : inputs) tensors.push_back(read_tensor(input, binary, binary_offset, max_rows));
  if (tensors.empty()) bad_request("\"inputs\" is empty");
  return tensors;
}

HttpResponse infer(OrchardService& service, const HttpRequest& http, const Path& path) {
  const std::string_view content_type = http.header("content-type");
  std::string_view json_part, binary;
  if (!split_infer_body(http.body, content_type, http.header("inference-header-content-length"), json_part, binary)) {
    return json_error(415, "content type " + std::string(content_type) +
                               " is not supported; send application/json, or binary tensors with Inference-Header-Content-Length");
  }
  thread_local simdjson::dom::parser parser;
  const element doc = parse_infer_json(parser, json_part);
  const std::vector<Tensor> tensors = read_inputs(doc, binary, service.options().max_rows);

  bool raw = false;
  bool binary_output = false;
  std::string sticky;
  // A default element points at no document: it may be read only once `has_parameters` says so.
  element parameters;
  const bool has_parameters = doc["parameters"].get(parameters) == simdjson::SUCCESS && parameters.is_object();
  if (has_parameters) {
    bool flag = false;
    if (parameters["raw"].get(flag) == simdjson::SUCCESS) raw = flag;
    if (parameters["binary_data_output"].get(flag) == simdjson::SUCCESS && flag) binary_output = true;
  }
  simdjson::dom::array requested_outputs;
  if (doc["outputs"].get(requested_outputs) == simdjson::SUCCESS) {
    for (element output : requested_outputs) {
      bool flag = false;
      if (output["parameters"]["binary_data"].get(flag) == simdjson::SUCCESS && flag) binary_output = true;
    }
  }
  // Routing picks the version first: its features decide how the tensors are read.
  std::string_view sticky_value;
  if (!path.version) {
    const auto snapshot = service.catalog().current();
    if (const ServedEndpoint* endpoint = service.find_endpoint(*snapshot, path.model)) {
      if (!endpoint->sticky_header.empty()) sticky_value = http.header(endpoint->sticky_header);
      if (!endpoint->sticky_field.empty() && has_parameters) {
        element key;
        if (parameters[endpoint->sticky_field].get(key) == simdjson::SUCCESS) sticky = sticky_key_text(key);
        if (!sticky.empty()) sticky_value = sticky;
      }
    }
  }
  const OrchardService::Routed routed = service.route(path.model, path.version, sticky_value);
  const auto& chosen = routed.version;
  InferRequest request = build_rows(chosen->predictor->model(), tensors, service.options().max_rows);
  request.raw = raw;
  request.request_id = std::string(http.header("x-request-id"));
  request.traceparent = std::string(http.header("traceparent"));
  request.caller = http.caller.empty() ? http.remote_address : http.caller;
  const InferResult result = service.execute(routed, request);

  std::string_view id;
  const bool has_id = doc["id"].get(id) == simdjson::SUCCESS;
  std::string body;
  body.reserve(96 + result.values.size() * 20);
  body += "{\"model_name\":\"";
  append_json_string(body, path.model);
  body += "\",\"model_version\":\"" + std::to_string(chosen->number) + "\"";
  if (has_id) {
    body += ",\"id\":\"";
    append_json_string(body, id);
    body += "\"";
  }
  if (!result.prediction_ids.empty()) {
    body += ",\"parameters\":{\"prediction_ids\":[";
    for (std::size_t i = 0; i < result.prediction_ids.size(); ++i) {
      body += i ? ",\"" : "\"";
      result.prediction_ids[i].append_text(body);
      body += '"';
    }
    body += "]}";
  }
  const auto names = chosen->predictor->value_names(raw);
  body += ",\"outputs\":[{\"name\":\"";
  append_json_string(body, result.width == 1 ? names[0] : std::string(raw ? "margins" : "predictions"));
  body += "\",\"datatype\":\"FP64\",\"shape\":[" + std::to_string(request.count);
  if (result.width != 1) body += "," + std::to_string(result.width);
  if (binary_output) {
    // The numbers follow the JSON as little-endian FP64.
    const std::size_t bytes = result.values.size() * sizeof(double);
    body += "],\"parameters\":{\"binary_data_size\":" + std::to_string(bytes) + "}}]}";
    const std::size_t json_length = body.size();
    body.append(reinterpret_cast<const char*>(result.values.data()), bytes);
    HttpResponse response;
    response.body = std::move(body);
    response.content_type = "application/octet-stream";
    response.headers.emplace_back("inference-header-content-length", std::to_string(json_length));
    response.headers.emplace_back(kVersionHeader, chosen->label());
    add_prediction_id_header(response, result);
    return response;
  }
  body += "],\"data\":[";
  for (std::size_t i = 0; i < result.values.size(); ++i) {
    if (i) body += ',';
    append_json_number(body, result.values[i]);
  }
  body += "]}]}";
  HttpResponse response = ok_json(std::move(body));
  response.headers.emplace_back(kVersionHeader, chosen->label());
  add_prediction_id_header(response, result);
  return response;
}

std::string stats_entry(const LoadedVersion& v) {
  return "{\"name\":\"" + v.model + "\",\"version\":\"" + std::to_string(v.number) + "\",\"inference_count\":" + std::to_string(v.rows.load()) +
         ",\"execution_count\":" + std::to_string(v.requests.load()) + ",\"inference_stats\":{\"success\":{\"count\":" +
         std::to_string(v.requests.load()) + ",\"ns\":" + std::to_string(v.nanoseconds.load()) + "},\"fail\":{\"count\":" +
         std::to_string(v.failures.load()) + ",\"ns\":0}},\"shadow_count\":" + std::to_string(v.shadow_requests.load()) + "}";
}

// Triton's model repository extension: index, load, unload (of endpoints).
HttpResponse repository(OrchardService& service, std::string_view path) {
  const auto snapshot = service.catalog().current();
  if (path == "/v2/repository/index") {
    std::string body = "[";
    bool first = true;
    std::set<std::string> listed;
    for (const auto& [name, endpoint] : snapshot->endpoints) {
      body += std::string(first ? "" : ",") + "{\"name\":\"" + name + "\",\"version\":\"" + std::to_string(endpoint.arms.front().version->number) +
              "\",\"state\":\"READY\",\"reason\":\"\"}";
      first = false;
      listed.insert(name);
    }
    for (const ModelRecord& model : service.registry().store().list_models()) {
      if (listed.count(model.name)) continue;
      const std::string reason = service.catalog().is_unloaded(model.name) ? "unloaded" : "no version to serve";
      body += std::string(first ? "" : ",") + "{\"name\":\"" + model.name + "\",\"version\":\"\",\"state\":\"UNAVAILABLE\",\"reason\":\"" + reason + "\"}";
      first = false;
    }
    return ok_json(body + "]");
  }
  constexpr std::string_view prefix = "/v2/repository/models/";
  if (path.rfind(prefix, 0) == 0) {
    std::string_view rest = path.substr(prefix.size());
    const std::size_t slash = rest.find('/');
    if (slash != std::string_view::npos) {
      const std::string name(rest.substr(0, slash));
      const std::string_view action = rest.substr(slash + 1);
      if (name.empty()) return json_error(400, "no model named in " + std::string(path) + ": expected /v2/repository/models/NAME/load (or /unload)");
      if (action == "load") {
        service.catalog().set_unloaded(name, false);
        if (!service.find_endpoint(*service.catalog().current(), name)) return json_error(400, "failed to load \"" + name + "\": no such model or endpoint with a version to serve");
        return ok_json("{}");
      }
      if (action == "unload") {
        if (!service.find_endpoint(*snapshot, name)) return json_error(400, "failed to unload \"" + name + "\": it is not loaded");
        service.catalog().set_unloaded(name, true);
        return ok_json("{}");
      }
    }
  }
  return json_error(404, "no route for " + std::string(path));
}

}  // namespace

InferRequest decode_v2_infer(const Model& model, std::string_view body, std::string_view content_type,
                             std::string_view header_length, std::size_t max_rows) {
  std::string_view json_part, binary;
  if (!split_infer_body(body, content_type, header_length, json_part, binary)) {
    bad_request("content type " + std::string(content_type) + " is not supported");
  }
  simdjson::dom::parser parser;
  const element doc = parse_infer_json(parser, json_part);
  return build_rows(model, read_inputs(doc, binary, max_rows), max_rows);
}

HttpResponse handle_kserve_v2(OrchardService& service, const HttpRequest& request) {
  const std::string_view path = request.path();
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/v2" || path == "/v2/") {
    if (!get) return json_error(405, "use GET for " + std::string(path));
    return ok_json(R"({"name":"orchard","version":"0.1.0","extensions":["binary_tensor_data","model_repository","statistics","orchard_routing"]})");
  }
  if (path == "/v2/health/live") {
    if (!get) return json_error(405, "use GET for " + std::string(path));
    return ok_json(R"({"live":true})");
  }
  if (path == "/v2/health/ready") {
    if (!get) return json_error(405, "use GET for " + std::string(path));
    if (!service.ready()) return json_error(503, "not ready: models are still loading");
    const auto snapshot = service.catalog().current();
    std::string body = "{\"ready\":true,\"endpoints\":" + std::to_string(snapshot->endpoints.size()) + ",\"problems\":[";
    for (std::size_t i = 0; i < snapshot->problems.size(); ++i) {
      body += i ? ",\"" : "\"";
      append_json_string(body, snapshot->problems[i]);
      body += "\"";
    }
    return ok_json(body + "]}");
  }
  if (path == "/v2/models/stats" || path == "/v2/models/stats/") {
    const auto snapshot = service.catalog().current();
    std::string body = "{\"model_stats\":[";
    bool first = true;
    for (const auto& [key, version] : snapshot->versions) {
      body += (first ? "" : ",") + stats_entry(*version);
      first = false;
    }
    return ok_json(body + "]}");
  }
  if (path.rfind("/v2/repository/", 0) == 0) {
    if (request.method != "POST") return json_error(405, "use POST for " + std::string(path));
    return repository(service, path);
  }
  auto parsed = parse_model_path(path);
  if (!parsed) return json_error(404, "no route for " + std::string(path));
  if (parsed->action == "infer") {
    if (request.method != "POST") return json_error(405, "use POST for " + std::string(path));
    return infer(service, request, *parsed);
  }
  if (!get) return json_error(405, "use GET for " + std::string(path));
  if (parsed->action == "ready") {
    try {
      const auto version = service.describe(parsed->model, parsed->version);
      return ok_json("{\"name\":\"" + parsed->model + "\",\"ready\":true,\"version\":\"" + std::to_string(version->number) + "\"}");
    } catch (const Error& e) {
      return json_error(e.kind() == ErrorKind::kNotFound ? 404 : 503, e.what());
    }
  }
  if (parsed->action == "stats") {
    const auto snapshot = service.catalog().current();
    std::string body = "{\"model_stats\":[";
    bool first = true;
    for (const auto& [key, version] : snapshot->versions) {
      if (key.first != parsed->model || (parsed->version && key.second != *parsed->version)) continue;
      body += (first ? "" : ",") + stats_entry(*version);
      first = false;
    }
    return ok_json(body + "]}");
  }
  if (!parsed->action.empty()) return json_error(404, "no route for " + std::string(path));
  const auto version = service.describe(parsed->model, parsed->version);
  std::vector<std::int64_t> versions;
  const auto snapshot = service.catalog().current();
  if (auto it = snapshot->endpoints.find(parsed->model); it != snapshot->endpoints.end() && !parsed->version) {
    for (const auto& arm : it->second.arms) versions.push_back(arm.version->number);
  } else {
    versions.push_back(version->number);
  }
  return ok_json(metadata(*version, parsed->model, versions));
}

}  // namespace orchard
