#include "server/service.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "evaluation/evaluator.h"
#include "monitoring/drift_monitor.h"
#include "registry/record_json.h"
#include "registry/registry.h"
#include "tracing/prediction_id.h"
#include "server/route_access.h"
#include "server/web_ui.h"

namespace orchard {

namespace {

int status_for(const Error& e) {
  switch (e.kind()) {
    case ErrorKind::kInvalidArgument: return 400;
    case ErrorKind::kInvalidModel: return 422;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kIo: return 503;
    case ErrorKind::kInternal: return 500;
  }
  return 500;
}

double uniform_draw() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace

OrchardService::OrchardService(Registry& registry, ServingCatalog& catalog, ServiceOptions options, PredictionLog* log)
    : registry_(registry), catalog_(catalog), options_(options), log_(log) {
  if (log_) {
    shadows_.set_observer([this](const std::shared_ptr<const PredictionContext>& trace, const InferRequest& request, const InferResult& result) {
      InferResult copy = result;
      record(trace, false, request, copy);
    });
  }
}

void OrchardService::record(const std::shared_ptr<const PredictionContext>& trace, bool durable, const InferRequest& request,
                            InferResult& result) {
  if (!log_) return;
  // The ids go back in the response; the rest is copied into the log's ring (no allocation).
  result.prediction_ids.resize(request.count);
  new_prediction_ids(result.prediction_ids.data(), request.count);
  PredictionView entry;
  entry.context = trace.get();
  entry.ids = result.prediction_ids.data();
  entry.rows = request.rows.data();
  entry.outputs = result.values.data();
  entry.origins = request.origins.size() == request.count && request.count ? request.origins.data() : nullptr;
  entry.rows_count = request.count;
  entry.num_features_count = trace->predictor->num_features();
  entry.width = result.width;
  entry.raw = request.raw;
  entry.durable = durable;
  entry.latency_us = result.latency_us;
  entry.request_id = request.request_id;
  entry.traceparent = request.traceparent;
  entry.caller = request.caller;
  const auto ticket = log_->enqueue(entry, trace);
  if (!ticket) throw PredictionLogFull();
  if (durable && !log_->wait_written(*ticket)) {
    throw PredictionLogFull("the prediction could not be recorded durably within 10 s (see the server log); it was not acknowledged");
  }
}

HttpResponse json_reply(const nlohmann::json& body, int status) {
  HttpResponse response;
  response.status = status;
  response.body = body.dump();
  return response;
}

std::optional<TaskKind> OrchardService::task_of(const std::string& model, std::int64_t version) {
  try {
    return task_for(catalog_.version(model, version)->predictor->model(), false);
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::vector<QualityGroup> OrchardService::recent_quality(std::chrono::seconds window) {
  if (!log_) return {};
  std::lock_guard lock(quality_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now - quality_at_ < std::chrono::seconds(15) && quality_at_ != std::chrono::steady_clock::time_point{}) return quality_cache_;
  PredictionQuery query;
  query.since_ms = unix_ms_now() - std::chrono::duration_cast<std::chrono::milliseconds>(window).count();
  query.labelled_only = true;  // shadows included: they are labelled through the live rows they shadowed
  query.with_inputs = false;
  query.limit = 100000;
  quality_cache_ = live_quality(log_->search(query), [this](const std::string& m, std::int64_t v) { return task_of(m, v); }, false);
  quality_at_ = now;
  return quality_cache_;
}

std::shared_ptr<const LoadedVersion> OrchardService::describe(const std::string& endpoint, std::optional<std::int64_t> version) {
  if (version) return catalog_.version(endpoint, *version);
  const auto snapshot = catalog_.current();
  auto it = snapshot->endpoints.find(endpoint);
  if (it == snapshot->endpoints.end()) {
    throw Error(ErrorKind::kNotFound, "no model or endpoint named \"" + endpoint + "\" is being served", "",
                "a model with a version (GET /v2/models lists them via /api/v1/models)");
  }
  return it->second.arms.front().version;
}

const ServedEndpoint* OrchardService::find_endpoint(const CatalogSnapshot& snapshot, const std::string& name) const {
  auto it = snapshot.endpoints.find(name);
  return it == snapshot.endpoints.end() ? nullptr : &it->second;
}

OrchardService::Routed OrchardService::route(const std::string& endpoint, std::optional<std::int64_t> version,
                                             std::string_view sticky_value) {
  Routed routed;
  routed.endpoint_name = endpoint;
  if (version) {
    routed.version = catalog_.version(endpoint, *version);
    routed.arm = std::to_string(*version);
    if (log_) routed.trace = make_trace_context(endpoint, routed.arm, *routed.version);
    routed.stats = catalog_.stats(endpoint, routed.version->model, routed.version->number);
    routed.durable = options_.durable_by_default;
    return routed;
  }
  routed.snapshot = catalog_.current();
  routed.endpoint = find_endpoint(*routed.snapshot, endpoint);
  if (!routed.endpoint) {
    throw Error(ErrorKind::kNotFound, "no model or endpoint named \"" + endpoint + "\" is being served", "",
                "a registered model with a version, or an endpoint with a route");
  }
  const auto& arm = routed.endpoint->pick(sticky_value, uniform_draw());
  routed.version = arm.version;
  routed.arm = arm.target;
  routed.trace = arm.trace;
  routed.stats = arm.stats;
  routed.durable = routed.endpoint->explicit_route ? routed.endpoint->durable : options_.durable_by_default;
  return routed;
}

InferResult OrchardService::execute(const Routed& routed, const InferRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  InferResult result;
  try {
    result = run_inference(routed.version, request);
    record(routed.trace, routed.durable, request, result);
  } catch (...) {
    if (routed.stats) ++routed.stats->failed;
    throw;
  }
  if (routed.stats) {
    ++routed.stats->answered;
    routed.stats->latency.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count()));
  }
  if (routed.endpoint && !routed.endpoint->shadows.empty() && shadows_.has_room(request.rows.size() * sizeof(double) * routed.endpoint->shadows.size())) {
    const Model& primary = routed.version->predictor->model();
    auto copy = std::make_shared<InferRequest>(request);
    copy->origins = result.prediction_ids;  // feedback on a live row labels its shadows' rows too
    std::shared_ptr<const InferRequest> shared = std::move(copy);
    for (std::size_t s = 0; s < routed.endpoint->shadows.size(); ++s) {
      const auto& shadow = routed.endpoint->shadows[s];
      const auto& trace = routed.endpoint->shadow_traces[s];
      const Model& other = shadow->predictor->model();
      bool same_features = other.num_features() == primary.num_features();
      for (int f = 0; same_features && f < primary.num_features(); ++f) {
        const Feature& mine = primary.features[static_cast<std::size_t>(f)];
        const Feature& theirs = other.features[static_cast<std::size_t>(f)];
        same_features = theirs.name == mine.name && theirs.categories == mine.categories;
      }
      if (same_features) {
        shadows_.submit(shadow, trace, shared);
        continue;
      }
      // A shadow with other features gets the same values by feature name (missing where it has a
      // feature the primary lacks). Category codes are positions in each model's own list of
      // categories: a code is carried over by its category's name ("red" stays "red" when the
      // shadow's list has another order or more categories; one it lacks is unknown to it).
      auto remapped = std::make_shared<InferRequest>();
      remapped->count = request.count;
      remapped->raw = request.raw;
      remapped->origins = result.prediction_ids;
      remapped->request_id = request.request_id;
      remapped->traceparent = request.traceparent;
      remapped->caller = request.caller;
      const std::size_t pf = static_cast<std::size_t>(primary.num_features()), of = static_cast<std::size_t>(other.num_features());
      remapped->rows.assign(request.count * of, std::nan(""));
      for (std::size_t f = 0; f < of; ++f) {
        for (std::size_t p = 0; p < pf; ++p) {
          if (primary.features[p].name != other.features[f].name) continue;
          const auto& from = primary.features[p].categories;
          const bool translate = !from.empty() && !other.features[f].categories.empty() && from != other.features[f].categories;
          for (std::size_t r = 0; r < request.count; ++r) {
            double value = request.rows[r * pf + p];
            if (translate && value >= 0 && value < static_cast<double>(from.size()) && value == std::floor(value)) {
              value = category_code(other.features[f], from[static_cast<std::size_t>(value)]);
            }
            remapped->rows[r * of + f] = value;
          }
        }
      }
      shadows_.submit(shadow, trace, std::move(remapped));
    }
  }
  return result;
}

HttpResponse OrchardService::handle(HttpRequest&& request) {
  const auto started = std::chrono::steady_clock::now();
  HttpResponse response;
  if (auth_) {
    RouteAccess needed = route_access(request.method, request.path());
    if (needed.access == Access::kPredict && needed.endpoint.empty()) {
      const auto snapshot = catalog_.current();  // /invocations: the only served model
      if (snapshot->endpoints.size() == 1) needed.endpoint = snapshot->endpoints.begin()->first;
    }
    const AuthDecision decision = auth_->check(request.header("authorization"), needed.access, needed.endpoint);
    if (decision.status != 200) {
      response = json_error(decision.status, decision.message);
      if (decision.status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"orchard\"");
      if (decision.status == 429) {
        // Capped at a day: a key limited to a tiny rate would otherwise overflow the conversion.
        response.headers.emplace_back("Retry-After", std::to_string(static_cast<long>(std::ceil(std::min(decision.retry_after_seconds, 86400.0)))));
      }
    } else {
      // The caller, as the prediction log and the audit log name it.
      if (!decision.key_name.empty()) request.caller = "key:" + decision.key_name + " (" + request.remote_address + ")";
      request.endpoint_scope = decision.endpoints;
      Registry::ActingAs acting(request.caller.empty() ? registry_.actor() : request.caller);
      response = dispatch(std::move(request));
    }
  } else {
    response = dispatch(std::move(request));
  }
  if (response.status >= 100 && response.status < 600) responses_by_status_[response.status].fetch_add(1, std::memory_order_relaxed);
  request_latency_.record(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count()));
  return response;
}

HttpResponse OrchardService::dispatch(HttpRequest&& request) {
  try {
    const std::string_view path = request.path();
    if (path == "/v2" || path.rfind("/v2/", 0) == 0) return handle_kserve_v2(*this, request);
    if (path.rfind("/api/v1/", 0) == 0 || path == "/api/v1") return handle_management(*this, request);
    if (path.rfind("/endpoints/", 0) == 0) {
      const std::string_view rest = path.substr(11);
      const std::size_t slash = rest.find('/');
      if (slash != std::string_view::npos && rest.substr(slash) == "/invocations") {
        return handle_invocations(*this, request, std::string(rest.substr(0, slash)));
      }
    }
    if (path == "/invocations") {
      // mlflow models serve's own path: the only model being served, if there is exactly one.
      const auto snapshot = catalog_.current();
      if (snapshot->endpoints.size() != 1) {
        return json_error(404, "/invocations needs exactly one served model; use /endpoints/NAME/invocations");
      }
      return handle_invocations(*this, request, snapshot->endpoints.begin()->first);
    }
    if (path == "/metrics") {
      if (request.method != "GET") return json_error(405, "use GET for /metrics");
      HttpResponse response;
      response.content_type = "text/plain; version=0.0.4";
      response.body = metrics_text();
      return response;
    }
    if (is_web_ui_path(path)) return handle_web_ui(request);
    if (path == "/ping" || path == "/health") {
      HttpResponse response;
      response.body = "{\"status\":\"ok\"}";
      return response;
    }
    return json_error(404, "no route for " + std::string(path) + " (see /api/v1/openapi.json, /v2, /endpoints/NAME/invocations)");
  } catch (const TooManyRows& e) {
    return json_error(413, e.what());
  } catch (const PredictionLogFull& e) {
    return json_error(503, e.what());
  } catch (const Error& e) {
    return json_error(status_for(e), e.what());
  }
}

namespace {

void append_histogram(std::string& out, const char* name, const std::string& labels, const LatencyHistogram& histogram) {
  std::uint64_t cumulative = 0;
  const std::string prefix = labels.empty() ? "{" : "{" + labels + ",";
  for (std::size_t b = 0; b < kLatencyBuckets; ++b) {
    cumulative += histogram.buckets[b].load(std::memory_order_relaxed);
    char le[32];
    if (b + 1 < kLatencyBuckets) std::snprintf(le, sizeof le, "%g", kLatencyBounds[b]);
    else std::snprintf(le, sizeof le, "+Inf");
    out += std::string(name) + "_bucket" + prefix + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  char sum[64];
  std::snprintf(sum, sizeof sum, "%.9f", static_cast<double>(histogram.nanoseconds.load(std::memory_order_relaxed)) * 1e-9);
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += std::string(name) + "_sum" + braces + " " + sum + "\n";
  out += std::string(name) + "_count" + braces + " " + std::to_string(cumulative) + "\n";
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

std::string OrchardService::metrics_text() {
  const auto snapshot = catalog_.current();
  std::string out;
  header(out, "orchard_http_responses_total", "counter", "HTTP responses by status code.");
  for (int code = 100; code < 600; ++code) {
    const auto n = responses_by_status_[code].load(std::memory_order_relaxed);
    if (n) out += "orchard_http_responses_total{code=\"" + std::to_string(code) + "\"} " + std::to_string(n) + "\n";
  }
  header(out, "orchard_http_request_duration_seconds", "histogram", "Time to answer a request, from parsed request to response.");
  append_histogram(out, "orchard_http_request_duration_seconds", "", request_latency_);

  auto label = [](const LoadedVersion& v) { return "model=\"" + v.model + "\",version=\"" + std::to_string(v.number) + "\""; };
  header(out, "orchard_predictions_total", "counter", "Prediction requests answered by each loaded model version.");
  for (const auto& [key, v] : snapshot->versions) out += "orchard_predictions_total{" + label(*v) + "} " + std::to_string(v->requests.load()) + "\n";
  header(out, "orchard_predicted_rows_total", "counter", "Rows predicted by each loaded model version.");
  for (const auto& [key, v] : snapshot->versions) out += "orchard_predicted_rows_total{" + label(*v) + "} " + std::to_string(v->rows.load()) + "\n";
  header(out, "orchard_endpoint_requests_total", "counter", "Prediction requests by endpoint and the version that answered, by outcome.");
  const auto endpoint_stats = catalog_.all_stats();
  auto endpoint_label = [](const EndpointStats& s) {
    return "endpoint=\"" + s.endpoint + "\",model=\"" + s.model + "\",version=\"" + std::to_string(s.version) + "\"";
  };
  for (const auto& s : endpoint_stats) {
    out += "orchard_endpoint_requests_total{" + endpoint_label(*s) + ",outcome=\"ok\"} " + std::to_string(s->answered.load()) + "\n";
    out += "orchard_endpoint_requests_total{" + endpoint_label(*s) + ",outcome=\"error\"} " + std::to_string(s->failed.load()) + "\n";
  }
  header(out, "orchard_endpoint_request_duration_seconds", "histogram", "Time to route, predict and log a request, by endpoint and version.");
  for (const auto& s : endpoint_stats) append_histogram(out, "orchard_endpoint_request_duration_seconds", endpoint_label(*s), s->latency);
  header(out, "orchard_shadow_predictions_total", "counter", "Shadow calls answered by each version (answers never returned).");
  for (const auto& [key, v] : snapshot->versions) out += "orchard_shadow_predictions_total{" + label(*v) + "} " + std::to_string(v->shadow_requests.load()) + "\n";
  header(out, "orchard_prediction_latency_seconds", "histogram", "Model time per prediction request, by version.");
  for (const auto& [key, v] : snapshot->versions) append_histogram(out, "orchard_prediction_latency_seconds", label(*v), v->latency);
  header(out, "orchard_model_load_seconds", "gauge", "Time to read, verify, compile and warm each loaded version.");
  for (const auto& [key, v] : snapshot->versions) {
    char value[32];
    std::snprintf(value, sizeof value, "%.6f", v->load_seconds);
    out += "orchard_model_load_seconds{" + label(*v) + "} " + value + "\n";
  }
  header(out, "orchard_model_artifact_bytes", "gauge", "Size of each loaded version's model file.");
  for (const auto& [key, v] : snapshot->versions) out += "orchard_model_artifact_bytes{" + label(*v) + "} " + std::to_string(v->artifact_bytes) + "\n";
  header(out, "orchard_model_memory_bytes", "gauge", "Bytes each loaded version's predictor holds in memory (model IR, input steps, compiled trees).");
  for (const auto& [key, v] : snapshot->versions) out += "orchard_model_memory_bytes{" + label(*v) + "} " + std::to_string(v->memory_bytes) + "\n";
  header(out, "orchard_loaded_versions", "gauge", "Model versions loaded and warmed.");
  out += "orchard_loaded_versions " + std::to_string(snapshot->versions.size()) + "\n";
  header(out, "orchard_endpoints", "gauge", "Endpoints being served.");
  out += "orchard_endpoints " + std::to_string(snapshot->endpoints.size()) + "\n";
  header(out, "orchard_endpoint_problems", "gauge", "Routes that could not be applied at the last refresh.");
  out += "orchard_endpoint_problems " + std::to_string(snapshot->problems.size()) + "\n";
  header(out, "orchard_shadow_dropped_total", "counter", "Shadow calls dropped because the shadow queue was full.");
  out += "orchard_shadow_dropped_total " + std::to_string(shadows_.dropped()) + "\n";
  header(out, "orchard_catalog_generation", "gauge", "Generation of the serving catalog (it grows by one per swap).");
  out += "orchard_catalog_generation " + std::to_string(snapshot->generation) + "\n";
  if (log_) {
    header(out, "orchard_prediction_log_queued_rows", "gauge", "Rows waiting in the prediction log's queue.");
    out += "orchard_prediction_log_queued_rows " + std::to_string(log_->queued_rows()) + "\n";
    header(out, "orchard_prediction_log_written_rows_total", "counter", "Rows committed to the prediction log.");
    out += "orchard_prediction_log_written_rows_total " + std::to_string(log_->written_rows()) + "\n";
    header(out, "orchard_prediction_log_refused_rows_total", "counter", "Rows refused because the queue was full (answered 503).");
    out += "orchard_prediction_log_refused_rows_total " + std::to_string(log_->refused_rows()) + "\n";
    header(out, "orchard_prediction_log_failed_rows_total", "counter", "Rows whose write to the sink failed.");
    out += "orchard_prediction_log_failed_rows_total " + std::to_string(log_->failed_rows()) + "\n";
    header(out, "orchard_prediction_log_retention_removed_rows_total", "counter", "Rows deleted by the retention policy.");
    out += "orchard_prediction_log_retention_removed_rows_total " + std::to_string(log_->retained_away_rows()) + "\n";
    char seconds[64];
    header(out, "orchard_prediction_log_flush_seconds", "summary", "Time to write one batch (group commit) to the sink.");
    std::snprintf(seconds, sizeof seconds, "%.9f", log_->flush_seconds_total());
    out += std::string("orchard_prediction_log_flush_seconds_sum ") + seconds + "\n";
    out += "orchard_prediction_log_flush_seconds_count " + std::to_string(log_->flushes()) + "\n";
    header(out, "orchard_prediction_log_last_flush_seconds", "gauge", "Time the last batch took to write.");
    std::snprintf(seconds, sizeof seconds, "%.9f", log_->last_flush_seconds());
    out += std::string("orchard_prediction_log_last_flush_seconds ") + seconds + "\n";
    const auto quality = recent_quality(std::chrono::hours(1));
    header(out, "orchard_live_labelled_predictions", "gauge", "Predictions with feedback labels in the last hour, by version.");
    for (const QualityGroup& q : quality) {
      out += "orchard_live_labelled_predictions{model=\"" + q.model + "\",version=\"" + std::to_string(q.version) + "\"} " + std::to_string(q.labelled) + "\n";
    }
    header(out, "orchard_live_quality", "gauge", "Quality metrics of labelled predictions in the last hour, by version (scikit-learn's definitions).");
    for (const QualityGroup& q : quality) {
      for (const MetricValue& m : q.metrics) {
        if (!std::isfinite(m.value)) continue;
        char value[40];
        std::snprintf(value, sizeof value, "%.9g", m.value);
        out += "orchard_live_quality{model=\"" + q.model + "\",version=\"" + std::to_string(q.version) + "\",metric=\"" + m.name + "\"} " + value + "\n";
      }
    }
  }
  if (drift_) drift_->append_metrics(out);
  return out;
}

}  // namespace orchard
