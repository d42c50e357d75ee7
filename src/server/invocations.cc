// MLflow's scoring protocol, so that clients of `mlflow models serve` work unchanged:
//   POST /endpoints/{name}/invocations   (and /invocations when one model is served)
// JSON bodies: {"dataframe_split": {"columns": [...], "data": [[...]]}}, {"dataframe_records": [{...}]},
// {"instances": [[...]] or [{...}]}, {"inputs": [[...]], {"col": [...]} or [{...}]}; or text/csv with a
// header row. Named columns are matched to the model's features (extra columns are ignored, a missing
// feature is an error); unnamed rows are in the model's feature order. Answer: {"predictions": [...]}.
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <sstream>

#include "common/error.h"
#include "server/invocations.h"
#include "server/service.h"
#include "server/sticky_key.h"
#include "tabular/column_mapping.h"
#include "tabular/csv_reader.h"

namespace orchard {
namespace {

using simdjson::dom::element;

[[noreturn]] void bad_request(const std::string& message) { throw Error(ErrorKind::kInvalidArgument, message); }

double scalar(const element& value, const std::string& where) {
  switch (value.type()) {
    case simdjson::dom::element_type::DOUBLE: return value.get_double().value_unsafe();
    case simdjson::dom::element_type::INT64: return static_cast<double>(value.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64: return static_cast<double>(value.get_uint64().value_unsafe());
    case simdjson::dom::element_type::BOOL: return value.get_bool().value_unsafe() ? 1.0 : 0.0;
    case simdjson::dom::element_type::NULL_VALUE: return std::nan("");
    case simdjson::dom::element_type::STRING: {
      double v = 0;
      if (parse_cell(value.get_string().value_unsafe(), v)) return v;
      bad_request(where + ": \"" + std::string(value.get_string().value_unsafe()) + "\" is not a number");
    }
    default: bad_request(where + ": expected a number or null");
  }
}

// A value for feature `feature`: a string naming one of its categories is that category's code, any
// other string on such a feature an unknown category (model.h, category_code); otherwise scalar().
double feature_value(const element& value, const Feature& feature, const std::string& where) {
  if (value.type() == simdjson::dom::element_type::STRING && !feature.categories.empty()) {
    const std::string_view text = value.get_string().value_unsafe();
    const double code = category_code(feature, text);
    if (code != kUnknownCategory || !numbers_are_category_codes(feature)) return code;
    double number = 0;
    return parse_cell(text, number) ? number : kUnknownCategory;
  }
  return scalar(value, where);
}

// Rows being assembled in the model's feature order.
class RowTable {
 public:
  RowTable(const Model& model, std::size_t max_rows = SIZE_MAX)
      : model_(model), nf_(static_cast<std::size_t>(model.num_features())), max_rows_(max_rows) {}

  std::int64_t feature(std::string_view name) const {
    for (std::size_t f = 0; f < nf_; ++f) if (model_.features[f].name == name) return static_cast<std::int64_t>(f);
    return -1;
  }
  std::size_t width() const { return nf_; }
  const Feature& feature_at(std::size_t f) const { return model_.features[f]; }
  // Refuses the row past the limit before allocating it, so a body of empty rows cannot exhaust memory.
  void add_row() {
    if (count_ >= max_rows_) throw TooManyRows(count_ + 1, max_rows_);
    rows_.resize(rows_.size() + nf_, std::nan(""));
    seen_.resize(seen_.size() + nf_, 0);
    ++count_;
  }
  void set(std::size_t f, double v) {
    rows_[(count_ - 1) * nf_ + f] = v;
    seen_[(count_ - 1) * nf_ + f] = 1;
  }
  // Every feature of every row must have been given (null counts as given).
  void check_complete() const {
    for (std::size_t r = 0; r < count_; ++r) {
      for (std::size_t f = 0; f < nf_; ++f) {
        if (!seen_[r * nf_ + f]) bad_request("row " + std::to_string(r) + " has no value for feature \"" + model_.features[f].name + "\" (null for missing)");
      }
    }
  }
  InferRequest take() {
    InferRequest request;
    request.rows = std::move(rows_);
    request.count = count_;
    return request;
  }

 private:
  const Model& model_;
  std::size_t nf_;
  std::vector<double> rows_;
  std::vector<std::uint8_t> seen_;
  std::size_t count_ = 0;
  std::size_t max_rows_;
};

void add_positional_row(RowTable& table, const simdjson::dom::array& row, std::size_t index) {
  if (row.size() != table.width()) {
    bad_request("row " + std::to_string(index) + " has " + std::to_string(row.size()) + " values; the model has " + std::to_string(table.width()) + " features");
  }
  table.add_row();
  std::size_t f = 0;
  for (element value : row) {
    table.set(f, feature_value(value, table.feature_at(f), "row " + std::to_string(index) + ", value " + std::to_string(f)));
    ++f;
  }
}

void add_record(RowTable& table, const simdjson::dom::object& record, std::size_t index) {
  table.add_row();
  for (auto field : record) {
    const std::int64_t f = table.feature(field.key);
    if (f < 0) continue;  // extra columns (ids, labels) are ignored
    table.set(static_cast<std::size_t>(f), feature_value(field.value, table.feature_at(static_cast<std::size_t>(f)),
                                                         "row " + std::to_string(index) + ", \"" + std::string(field.key) + "\""));
  }
}

InferRequest rows_from_list(const Model& model, const simdjson::dom::array& list, const char* form, std::size_t max_rows) {
  RowTable table(model, max_rows);
  std::size_t index = 0;
  for (element item : list) {
    simdjson::dom::array values;
    simdjson::dom::object record;
    if (item.get(values) == simdjson::SUCCESS) add_positional_row(table, values, index);
    else if (item.get(record) == simdjson::SUCCESS) add_record(table, record, index);
    else bad_request(std::string(form) + ": each row must be a list of values or an object of named values");
    ++index;
  }
  table.check_complete();
  return table.take();
}

InferRequest rows_from_json(const Model& model, const element& doc, std::size_t max_rows) {
  element part;
  if (doc["dataframe_split"].get(part) == simdjson::SUCCESS) {
    simdjson::dom::array columns, data;
    if (part["columns"].get(columns) != simdjson::SUCCESS || part["data"].get(data) != simdjson::SUCCESS) {
      bad_request("dataframe_split needs \"columns\" and \"data\"");
    }
    std::vector<std::int64_t> feature_of;
    for (element column : columns) {
      std::string_view name;
      if (column.get(name) != simdjson::SUCCESS) bad_request("dataframe_split: column names must be strings");
      feature_of.push_back(RowTable(model).feature(name));
    }
    RowTable table(model, max_rows);
    std::size_t index = 0;
    for (element row : data) {
      simdjson::dom::array values;
      if (row.get(values) != simdjson::SUCCESS || values.size() != feature_of.size()) {
        bad_request("dataframe_split: row " + std::to_string(index) + " does not have one value per column");
      }
      table.add_row();
      std::size_t c = 0;
      for (element value : values) {
        if (feature_of[c] >= 0) {
          const auto f = static_cast<std::size_t>(feature_of[c]);
          table.set(f, feature_value(value, table.feature_at(f), "row " + std::to_string(index)));
        }
        ++c;
      }
      ++index;
    }
    table.check_complete();
    return table.take();
  }
  simdjson::dom::array list;
  if (doc["dataframe_records"].get(list) == simdjson::SUCCESS) return rows_from_list(model, list, "dataframe_records", max_rows);
  if (doc["instances"].get(list) == simdjson::SUCCESS) return rows_from_list(model, list, "instances", max_rows);
  if (doc["inputs"].get(part) == simdjson::SUCCESS) {
    simdjson::dom::array rows_list;
    simdjson::dom::object column_map;
    if (part.get(rows_list) == simdjson::SUCCESS) return rows_from_list(model, rows_list, "inputs", max_rows);
    if (part.get(column_map) == simdjson::SUCCESS) {
      // Columnar: {"feature": [values...], ...}
      RowTable table(model, max_rows);
      std::vector<std::pair<std::size_t, simdjson::dom::array>> columns;
      std::size_t rows = 0;
      bool first = true;
      for (auto field : column_map) {
        const std::int64_t f = table.feature(field.key);
        if (f < 0) continue;
        simdjson::dom::array values;
        if (field.value.get(values) != simdjson::SUCCESS) bad_request("inputs: column \"" + std::string(field.key) + "\" is not a list");
        if (!first && values.size() != rows) bad_request("inputs: columns have different lengths");
        rows = values.size();
        first = false;
        columns.emplace_back(static_cast<std::size_t>(f), values);
      }
      for (std::size_t r = 0; r < rows; ++r) table.add_row();
      InferRequest request = table.take();
      std::vector<std::uint8_t> given(table.width(), 0);
      for (auto& [f, values] : columns) {
        std::size_t r = 0;
        for (element value : values) request.rows[r++ * table.width() + f] = feature_value(value, model.features[f], "column \"" + model.features[f].name + "\"");
        given[f] = 1;
      }
      for (std::size_t f = 0; f < table.width(); ++f) {
        if (!given[f]) bad_request("inputs: no column for feature \"" + model.features[f].name + "\"");
      }
      return request;
    }
    bad_request("\"inputs\" must be a list of rows or an object of columns");
  }
  bad_request("the body has none of dataframe_split, dataframe_records, instances or inputs");
}

InferRequest rows_from_csv(const Model& model, const std::string& body, std::size_t max_rows) {
  std::istringstream in(body);
  CsvReader reader(in, "request body");
  const ColumnMapping mapping(model, reader.header(), "request body");
  InferRequest request;
  std::vector<std::string_view> cells;
  const std::size_t nf = static_cast<std::size_t>(model.num_features());
  while (reader.next_row(cells)) {
    if (request.count >= max_rows) throw TooManyRows(request.count + 1, max_rows);
    request.rows.resize((request.count + 1) * nf);
    mapping.fill(cells, reader.line_number(), request.rows.data() + request.count * nf);
    ++request.count;
  }
  return request;
}

}  // namespace

InferRequest decode_invocations(const Model& model, std::string_view content_type, const std::string& body, std::size_t max_rows) {
  if (content_type.find("text/csv") != std::string_view::npos) return rows_from_csv(model, body, max_rows);
  if (!json_content_type(content_type)) bad_request("content type " + std::string(content_type) + " is not supported");
  simdjson::dom::parser parser;
  element doc;
  if (auto error = parser.parse(body).get(doc); error) bad_request(std::string("the body is not valid JSON: ") + simdjson::error_message(error));
  if (!doc.is_object()) bad_request("the body must be a JSON object");
  return rows_from_json(model, doc, max_rows);
}

HttpResponse handle_invocations(OrchardService& service, const HttpRequest& http, const std::string& endpoint) {
  if (http.method != "POST") return json_error(405, "use POST for " + std::string(http.path()));
  const std::string_view content_type = http.header("content-type");
  const bool csv = content_type.find("text/csv") != std::string_view::npos;
  if (!csv && !json_content_type(content_type)) {
    return json_error(415, "content type " + std::string(content_type) + " is not supported; send application/json or text/csv");
  }
  thread_local simdjson::dom::parser parser;
  element doc;
  std::string sticky;
  std::string_view sticky_value;
  if (!csv) {
    if (auto error = parser.parse(http.body).get(doc); error) bad_request(std::string("the body is not valid JSON: ") + simdjson::error_message(error));
    if (!doc.is_object()) bad_request("the body must be a JSON object");
  }
  {
    const auto snapshot = service.catalog().current();
    if (const ServedEndpoint* served = service.find_endpoint(*snapshot, endpoint)) {
      if (!served->sticky_header.empty()) sticky_value = http.header(served->sticky_header);
      element params, value;
      if (!csv && !served->sticky_field.empty() && doc["params"].get(params) == simdjson::SUCCESS && params.is_object() &&
          params[served->sticky_field].get(value) == simdjson::SUCCESS) {
        sticky = sticky_key_text(value);
        if (!sticky.empty()) sticky_value = sticky;
      }
    }
  }
  const OrchardService::Routed routed = service.route(endpoint, std::nullopt, sticky_value);
  const Model& model = routed.version->predictor->model();
  InferRequest request = csv ? rows_from_csv(model, http.body, service.options().max_rows)
                             : rows_from_json(model, doc, service.options().max_rows);
  if (request.count == 0) bad_request("the request has no rows");
  if (request.count > service.options().max_rows) throw TooManyRows(request.count, service.options().max_rows);
  request.request_id = std::string(http.header("x-request-id"));
  request.traceparent = std::string(http.header("traceparent"));
  request.caller = http.caller.empty() ? http.remote_address : http.caller;
  const InferResult result = service.execute(routed, request);
  std::string body = "{\"predictions\":[";
  for (std::size_t r = 0; r < request.count; ++r) {
    if (r) body += ',';
    if (result.width == 1) {
      append_json_number(body, result.values[r]);
      continue;
    }
    body += '[';
    for (int k = 0; k < result.width; ++k) {
      if (k) body += ',';
      append_json_number(body, result.values[r * static_cast<std::size_t>(result.width) + static_cast<std::size_t>(k)]);
    }
    body += ']';
  }
  body += "],\"model_version\":\"" + routed.version->label() + "\"";
  if (!result.prediction_ids.empty()) {
    body += ",\"prediction_ids\":[";
    for (std::size_t i = 0; i < result.prediction_ids.size(); ++i) {
      body += i ? ",\"" : "\"";
      result.prediction_ids[i].append_text(body);
      body += '"';
    }
    body += "]";
  }
  body += "}";
  HttpResponse response;
  response.body = std::move(body);
  response.headers.emplace_back(kVersionHeader, routed.version->label());
  add_prediction_id_header(response, result);
  return response;
}

}  // namespace orchard
