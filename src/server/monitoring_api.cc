// The prediction log and what is computed from it, under /api/v1:
//
//   GET  /api/v1/predictions?endpoint=&model=&version=&arm=&since=&until=&window=&before=&limit=&labelled=&shadows=
//                                                  a search, newest first; `next` is the cursor for the next page
//   GET  /api/v1/predictions/{id}                  one prediction with its full lineage
//   POST /api/v1/predictions/{id}/feedback         {"label": 1} (a number, true/false, or a class name)
//   POST /api/v1/feedback                          {"items": [{"id": "...", "label": 0}, ...]} (up to 10,000)
//   GET  /api/v1/endpoints/{name}/quality?window=1h   labelled quality per version and per route arm
//   GET  /api/v1/endpoints/{name}/report?window=24h   the A/B report: traffic, latency, errors, quality, verdict
//   GET  /api/v1/endpoints/{name}/drift?window=1h     PSI per feature and for the predictions
// Times (since, until) are ISO-8601 or Unix milliseconds; windows are durations (15m, 1h, 7d).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "common/duration.h"
#include "common/timestamp.h"
#include "common/error.h"
#include "common/number_text.h"
#include "evaluation/class_labels.h"
#include "evaluation/evaluator.h"
#include "registry/record_json.h"
#include "registry/registry.h"
#include "server/service.h"
#include "monitoring/ab_report.h"
#include "monitoring/drift_monitor.h"
#include "monitoring/live_quality.h"
#include "tracing/prediction_log.h"

namespace orchard {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxSearchLimit = 1000;
constexpr std::size_t kMaxFeedbackItems = 10000;


PredictionLog& require_log(OrchardService& service) {
  if (!service.prediction_log()) {
    throw Error(ErrorKind::kNotFound, "the prediction log is off", "orchard serve --no-trace", "a server started without --no-trace");
  }
  return *service.prediction_log();
}

PredictionId parse_id(const std::string& text) {
  const auto id = PredictionId::parse(text);
  if (!id) throw Error(ErrorKind::kInvalidArgument, "\"" + text + "\" is not a prediction id", "", "a UUID such as 0192f1e4-7c3a-7d2e-8b1f-...");
  return *id;
}

std::size_t parse_count(const std::string& text, const char* what, std::size_t fallback, std::size_t limit) {
  if (text.empty()) return fallback;
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n == 0 || n > limit) {
    throw Error(ErrorKind::kInvalidArgument, "\"" + text + "\" is not a valid count", what, "an integer from 1 to " + std::to_string(limit));
  }
  return n;
}

// The feature names of a version (from its registered schema), cached for one request.
class FeatureNames {
 public:
  explicit FeatureNames(Registry& registry) : registry_(registry) {}
  const std::vector<std::string>* get(const std::string& model, std::int64_t version) {
    auto [it, inserted] = cache_.try_emplace({model, version});
    if (inserted) {
      try {
        const json schema = json::parse(registry_.resolve(ModelRef{model, version, std::nullopt}).schema_json);
        for (const auto& feature : schema.at("features")) it->second.push_back(feature.at("name").get<std::string>());
      } catch (const std::exception&) {
        it->second.clear();  // the version is gone or has no schema: values stay unnamed
      }
    }
    return it->second.empty() ? nullptr : &it->second;
  }

 private:
  Registry& registry_;
  std::map<std::pair<std::string, std::int64_t>, std::vector<std::string>> cache_;
};

// A label as the prediction log keeps it: a regression target as it is; for a classifier, the
// index of the class the label names (evaluation/class_labels.h): its value (1, 2, 3 as in the
// training data), its name ("setosa"), or true/false for a binary model's positive and negative class.
double label_value(OrchardService& service, const json& label, const PredictionRecord& record) {
  const std::string where = "prediction " + record.id.text();
  const std::string of_version = record.model + ":" + std::to_string(record.version);
  std::shared_ptr<const LoadedVersion> version;
  try {
    version = service.catalog().version(record.model, record.version);
  } catch (const Error&) {
    // The version is no longer served: the label is kept as given (scored as an index, if at all).
  }
  const Model* model = version ? &version->predictor->model() : nullptr;
  const TaskKind task = model ? task_for(*model, false) : TaskKind::kRegression;
  const bool classifier = task == TaskKind::kBinary || task == TaskKind::kMulticlass;
  if (label.is_boolean()) {
    if (model && task != TaskKind::kBinary) {
      throw Error(ErrorKind::kInvalidArgument, "a true/false label is for binary classifiers; " + of_version + " is not one", where,
                  "the label as in its training data");
    }
    return label.get<bool>() ? 1.0 : 0.0;
  }
  if (!label.is_number() && !label.is_string()) {
    throw Error(ErrorKind::kInvalidArgument, "the label is missing or not a number, boolean or class name", where, R"({"label": 1})");
  }
  const std::string text = label.is_string() ? label.get<std::string>() : label.dump();
  if (label.is_number() && !std::isfinite(label.get<double>())) {
    throw Error(ErrorKind::kInvalidArgument, "label " + text + " is not a finite number", where, "a label as in the training data");
  }
  if (classifier) {
    const ClassLabels classes(*model);
    const auto index = label.is_string() ? classes.index_of(text) : classes.index_of(label.get<double>());
    if (!index) {
      throw Error(ErrorKind::kInvalidArgument, "label " + label.dump() + " is not a class of " + of_version, where,
                  "one of its classes: " + classes.describe() + (task == TaskKind::kBinary ? ", or true/false" : ""));
    }
    return *index;
  }
  if (label.is_number()) return label.get<double>();
  if (const auto value = number_in(text); value && std::isfinite(*value)) return *value;
  throw Error(ErrorKind::kInvalidArgument, "label \"" + text + "\" is not a number", where,
              model ? "the regression target of " + of_version + " as a number" : "a number");
}

HttpResponse search(OrchardService& service, const HttpRequest& request) {
  PredictionLog& log = require_log(service);
  PredictionQuery query;
  query.endpoint = query_param(request, "endpoint");
  query.model = query_param(request, "model");
  query.arm = query_param(request, "arm");
  if (const std::string v = query_param(request, "version"); !v.empty()) {
    query.version = static_cast<std::int64_t>(parse_count(v, "version", 1, std::size_t{1} << 40));
  }
  if (const std::string w = query_param(request, "window"); !w.empty()) {
    query.since_ms = unix_ms_now() - parse_duration(w, "window").count() * 1000;
  }
  if (const std::string t = query_param(request, "since"); !t.empty()) query.since_ms = parse_timestamp(t, "since");
  if (const std::string t = query_param(request, "until"); !t.empty()) query.until_ms = parse_timestamp(t, "until");
  if (const std::string b = query_param(request, "before"); !b.empty()) query.before = parse_id(b);
  query.limit = parse_count(query_param(request, "limit"), "limit", 50, kMaxSearchLimit);
  query.labelled_only = query_param(request, "labelled") == "1" || query_param(request, "labelled") == "true";
  query.include_shadows = query_param(request, "shadows") != "0" && query_param(request, "shadows") != "false";
  const auto records = log.search(query);
  FeatureNames names(service.registry());
  json items = json::array();
  for (const PredictionRecord& record : records) items.push_back(prediction_json(record, names.get(record.model, record.version)));
  json out = {{"predictions", items}, {"count", items.size()}};
  // A full page may have more behind it: the cursor is the oldest id of this page.
  out["next"] = records.size() == query.limit ? json(records.back().id.text()) : json(nullptr);
  return json_reply(out);
}

// Labels for predictions. A key limited to some endpoints labels only their predictions: others are
// answered as unknown, as if they did not exist (their ids say nothing to this key).
HttpResponse feedback(OrchardService& service, const HttpRequest& request, const std::vector<std::pair<PredictionId, json>>& items) {
  PredictionLog& log = require_log(service);
  std::vector<Feedback> parsed;
  parsed.reserve(items.size());
  std::vector<std::size_t> positions;
  json unknown = json::array();
  std::vector<PredictionId> ids;
  ids.reserve(items.size());
  for (const auto& item : items) ids.push_back(item.first);
  const auto records = log.find_many(ids);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& record = records[i];
    const auto& scope = request.endpoint_scope;
    if (!record || (!scope.empty() && std::find(scope.begin(), scope.end(), record->endpoint) == scope.end())) {
      unknown.push_back(items[i].first.text());
      continue;
    }
    parsed.push_back({items[i].first, label_value(service, items[i].second, *record)});
  }
  const auto found = log.add_feedback(parsed);
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < found.size(); ++i) {
    if (found[i]) ++accepted;
    else unknown.push_back(parsed[i].id.text());
  }
  return json_reply({{"accepted", accepted}, {"unknown", unknown}});
}

std::chrono::seconds window_of(const HttpRequest& request, std::chrono::seconds fallback) {
  const std::string text = query_param(request, "window");
  return text.empty() ? fallback : parse_duration(text, "window");
}

// Labelled predictions of an endpoint in a window: live arms', and shadows' (labelled through the live
// prediction they shadowed).
std::vector<PredictionRecord> labelled_rows(PredictionLog& log, const std::string& endpoint, std::chrono::seconds window) {
  PredictionQuery query;
  query.endpoint = endpoint;
  query.since_ms = unix_ms_now() - window.count() * 1000;
  query.labelled_only = true;
  query.with_inputs = false;
  query.limit = 200000;
  return log.search(query);
}

HttpResponse quality(OrchardService& service, const HttpRequest& request, const std::string& endpoint) {
  PredictionLog& log = require_log(service);
  const auto window = window_of(request, std::chrono::hours(1));
  const auto rows = labelled_rows(log, endpoint, window);
  const TaskLookup task_of = [&](const std::string& m, std::int64_t v) { return service.task_of(m, v); };
  json versions = json::array(), arms = json::array();
  for (const QualityGroup& q : live_quality(rows, task_of, false)) versions.push_back(to_json(q));
  for (const QualityGroup& q : live_quality(rows, task_of, true)) arms.push_back(to_json(q));
  return json_reply({{"endpoint", endpoint}, {"window_seconds", window.count()}, {"labelled", rows.size()}, {"versions", versions}, {"arms", arms}});
}

HttpResponse report(OrchardService& service, const HttpRequest& request, const std::string& endpoint) {
  PredictionLog& log = require_log(service);
  const auto window = window_of(request, std::chrono::hours(24));
  const auto snapshot = service.catalog().current();
  const auto it = snapshot->endpoints.find(endpoint);
  if (it == snapshot->endpoints.end()) return json_error(404, "no endpoint named \"" + endpoint + "\" is being served");
  std::vector<RouteArmInfo> arms;
  double previous = 0;
  for (const auto& arm : it->second.arms) {
    arms.push_back({arm.target, arm.version->model, arm.version->number, (arm.upper - previous) / it->second.total_weight,
                    arm.version->requests.load(), arm.version->failures.load()});
    previous = arm.upper;
  }
  AbReportOptions options;
  if (const std::string m = query_param(request, "min_labelled"); !m.empty()) {
    options.min_labelled = static_cast<std::int64_t>(parse_count(m, "min_labelled", 30, 1000000));
  }
  const std::int64_t now = unix_ms_now();
  const auto traffic = log.traffic(endpoint, now - window.count() * 1000, now + 1);
  const auto labelled = labelled_rows(log, endpoint, window);
  const TaskLookup task_of = [&](const std::string& m, std::int64_t v) { return service.task_of(m, v); };
  const auto by_arm = live_quality(labelled, task_of, true);
  const auto shadow_pairs = arms.empty() ? std::vector<ShadowPairs>{} : pair_shadows_with(arms.front().target, labelled, task_of);
  return json_reply(ab_report(endpoint, window, arms, traffic, by_arm, shadow_pairs, options));
}

HttpResponse drift(OrchardService& service, const HttpRequest& request, const std::string& endpoint) {
  DriftMonitor* monitor = service.drift_monitor();
  if (!monitor) return json_error(404, "drift is not measured: the prediction log is off (orchard serve --no-trace)");
  const auto window = window_of(request, std::chrono::hours(1));
  if (service.prediction_log()) service.prediction_log()->flush();  // what was just predicted is counted
  const std::string feature = query_param(request, "feature");
  const std::string output = query_param(request, "output");
  if (feature.empty() && output.empty()) return json_reply(monitor->report(endpoint, window));
  // One distribution's PSI over time (a chart): ?feature=NAME or ?output=NAME, &model=&version=&step=
  std::string model = query_param(request, "model");
  if (model.empty()) {
    const auto snapshot = service.catalog().current();
    const auto it = snapshot->endpoints.find(endpoint);
    model = it == snapshot->endpoints.end() ? endpoint : it->second.model;  // the endpoint's model by default
  }
  const std::string version_text = query_param(request, "version");
  if (version_text.empty()) throw Error(ErrorKind::kInvalidArgument, "a PSI series needs ?version=N", "", "?feature=NAME&version=N[&step=5m]");
  const auto version = static_cast<std::int64_t>(parse_count(version_text, "version", 1, std::size_t{1} << 40));
  const std::string step_text = query_param(request, "step");
  const auto step = step_text.empty() ? std::chrono::seconds(300) : parse_duration(step_text, "step");
  return json_reply(monitor->psi_series(endpoint, model, version, feature.empty() ? DriftSubject::kPrediction : DriftSubject::kFeature,
                                   feature.empty() ? output : feature, window, step));
}

}  // namespace

json prediction_json(const PredictionRecord& record, const std::vector<std::string>* feature_names) {
  json inputs;
  if (feature_names && feature_names->size() == record.inputs.size()) {
    inputs = json::object();
    for (std::size_t f = 0; f < record.inputs.size(); ++f) {
      inputs[(*feature_names)[f]] = std::isnan(record.inputs[f]) ? json(nullptr) : json(record.inputs[f]);
    }
  } else {
    inputs = json::array();
    for (double v : record.inputs) inputs.push_back(std::isnan(v) ? json(nullptr) : json(v));
  }
  json outputs = json::array();
  for (double v : record.outputs) outputs.push_back(std::isfinite(v) ? json(v) : json(nullptr));
  json out = {{"id", record.id.text()}, {"time", iso_time_ms(record.time_ms)}, {"endpoint", record.endpoint},
              {"model", record.model}, {"version", record.version}, {"arm", record.arm}, {"artifact_sha256", record.artifact_sha256},
              {"raw", record.raw}, {"inputs", inputs}, {"outputs", outputs}, {"latency_us", record.latency_us},
              {"request_id", record.request_id}, {"traceparent", record.traceparent}, {"caller", record.caller}};
  if (record.shadow_of) out["shadow_of"] = record.shadow_of->text();
  if (record.label) out["feedback"] = {{"label", *record.label}, {"received", iso_time_ms(record.label_time_ms)}};
  return out;
}

// A prediction with its lineage: the version's artifact, source, git commit and training data.
json prediction_lineage(Registry& registry, const PredictionRecord& record) {
  FeatureNames names(registry);
  json out = prediction_json(record, names.get(record.model, record.version));
  try {
    const VersionRecord version = registry.resolve(ModelRef{record.model, record.version, std::nullopt});
    json lineage = to_json(version);
    out["lineage"] = {{"source", lineage["source"]}, {"dataset", lineage["dataset"]}, {"artifact", lineage["artifact"]},
                      {"created_at", lineage["created_at"]}, {"created_by", lineage["created_by"]}, {"metrics", lineage["metrics"]}};
  } catch (const Error& e) {
    out["lineage"] = {{"error", e.what()}};
  }
  return out;
}

HttpResponse handle_monitoring(OrchardService& service, const HttpRequest& request, const std::vector<std::string>& parts) {
  const std::string& method = request.method;
  const std::string& area = parts[2];
  auto method_not_allowed = [&](const char* allowed) { return json_error(405, "use " + std::string(allowed) + " for " + std::string(request.path())); };
  auto body = [&] {
    try {
      return json::parse(request.body);
    } catch (const json::exception& e) {
      throw Error(ErrorKind::kInvalidArgument, std::string("the body is not valid JSON: ") + e.what(),
                  request.method + " " + std::string(request.path()), R"({"label": 1}, or {"items": [{"id": "...", "label": 1}]} for /api/v1/feedback)");
    }
  };

  if (area == "predictions") {
    if (parts.size() == 3) return method == "GET" ? search(service, request) : method_not_allowed("GET");
    const PredictionId id = parse_id(parts[3]);
    if (parts.size() == 4) {
      if (method != "GET") return method_not_allowed("GET");
      const auto record = require_log(service).find(id);
      if (!record) return json_error(404, "no prediction with id " + parts[3]);
      return json_reply(prediction_lineage(service.registry(), *record));
    }
    if (parts.size() == 5 && parts[4] == "feedback") {
      if (method != "POST") return method_not_allowed("POST");
      const json doc = body();
      if (!doc.is_object() || !doc.contains("label")) {
        throw Error(ErrorKind::kInvalidArgument, "the body has no \"label\"", "", R"({"label": 1})");
      }
      HttpResponse response = feedback(service, request, {{id, doc["label"]}});
      if (json::parse(response.body)["accepted"] == 0) return json_error(404, "no prediction with id " + parts[3]);
      return response;
    }
    return json_error(404, "no route for " + std::string(request.path()));
  }
  if (area == "feedback") {
    if (parts.size() != 3) return json_error(404, "no route for " + std::string(request.path()));
    if (method != "POST") return method_not_allowed("POST");
    const json doc = body();
    const json& list = doc.is_object() && doc.contains("items") ? doc["items"] : doc;
    if (!list.is_array()) throw Error(ErrorKind::kInvalidArgument, "the body has no \"items\" list", "", R"({"items": [{"id": "...", "label": 1}]})");
    if (list.size() > kMaxFeedbackItems) {
      throw Error(ErrorKind::kInvalidArgument, "too many feedback items (" + std::to_string(list.size()) + ")", "",
                  "at most " + std::to_string(kMaxFeedbackItems) + " per request");
    }
    std::vector<std::pair<PredictionId, json>> items;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const json& item = list[i];
      if (!item.is_object() || !item.contains("id") || !item["id"].is_string() || !item.contains("label")) {
        throw Error(ErrorKind::kInvalidArgument, "item " + std::to_string(i) + " has no \"id\" string and \"label\"", "",
                    R"({"id": "...", "label": 1})");
      }
      items.emplace_back(parse_id(item["id"].get<std::string>()), item["label"]);
    }
    return feedback(service, request, items);
  }
  // /api/v1/endpoints/{name}/{quality,report,drift}
  const std::string& endpoint = parts[3];
  const std::string& view = parts[4];
  if (method != "GET") return method_not_allowed("GET");
  if (view == "quality") return quality(service, request, endpoint);
  if (view == "report") return report(service, request, endpoint);
  if (view == "drift") return drift(service, request, endpoint);
  return json_error(404, "no route for " + std::string(request.path()) + " (an endpoint has /quality, /report and /drift)");
}

}  // namespace orchard
