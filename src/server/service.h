// The server's request handler: routes a request to the protocol adapters (Open Inference Protocol
// v2, MLflow invocations, management API) over one ServingCatalog. HTTP lives in http_server; this
// class sees only HttpRequest / HttpResponse.
#pragma once

#include <atomic>
#include <memory>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "server/http_message.h"
#include "server/inference.h"
#include "server/serving_catalog.h"
#include "tracing/prediction_log.h"
#include "auth/authenticator.h"
#include "monitoring/live_quality.h"

namespace orchard {

class Registry;
class DriftMonitor;

struct ServiceOptions {
  std::size_t max_rows = 100000;  // rows per request; more get 413 (TooManyRows)
  // The prediction log's mode for endpoints without an explicit route and for requests naming a
  // version (a route's own "trace" setting wins).
  bool durable_by_default = false;
};

class OrchardService {
 public:
  // `log`: where every predicted row is recorded (null: no prediction log).
  OrchardService(Registry& registry, ServingCatalog& catalog, ServiceOptions options = {}, PredictionLog* log = nullptr);
  PredictionLog* prediction_log() { return log_; }
  // API keys (null: no authentication). Set before serving.
  void set_authenticator(Authenticator* auth) { auth_ = auth; }
  Authenticator* authenticator() { return auth_; }
  // Drift of live inputs and predictions (null: not measured). Set before serving.
  void set_drift_monitor(DriftMonitor* drift) { drift_ = drift; }
  DriftMonitor* drift_monitor() { return drift_; }
  // The task of a version, for scoring its labelled predictions (nullopt when it is gone).
  std::optional<TaskKind> task_of(const std::string& model, std::int64_t version);
  // Labelled quality per version over the last `window` (all endpoints), cached for a few seconds so
  // that /metrics scrapes stay cheap.
  std::vector<QualityGroup> recent_quality(std::chrono::seconds window);

  HttpResponse handle(HttpRequest&& request);

  // Where a request goes: the version that answers (picked by the endpoint's route, or fixed) and the
  // shadows to call. The adapter then builds rows for the chosen version's features and calls
  // execute(). Holding the Routed keeps its snapshot, so a swap meanwhile changes nothing for it.
  struct Routed {
    std::shared_ptr<const CatalogSnapshot> snapshot;
    std::shared_ptr<const LoadedVersion> version;
    const ServedEndpoint* endpoint = nullptr;  // null for a fixed version
    std::string endpoint_name;                 // as requested
    std::string arm;                           // the route target that answered ("@production", "3")
    std::shared_ptr<const PredictionContext> trace;  // what the prediction log records for the rows
    bool durable = false;                            // the response waits until the rows are committed
    std::shared_ptr<const EndpointStats> stats;      // the endpoint's counters for this version
  };
  Routed route(const std::string& endpoint, std::optional<std::int64_t> version, std::string_view sticky_value);
  // The endpoint (if any) of a request before routing, to read its sticky key settings.
  const ServedEndpoint* find_endpoint(const CatalogSnapshot& snapshot, const std::string& name) const;
  // Runs the request on the routed version and sends it to the shadows (off the request's path).
  InferResult execute(const Routed& routed, const InferRequest& request);
  // The version that would answer (for metadata): an endpoint's first arm, or a fixed version.
  std::shared_ptr<const LoadedVersion> describe(const std::string& endpoint, std::optional<std::int64_t> version);

  ServingCatalog& catalog() { return catalog_; }
  Registry& registry() { return registry_; }
  ShadowRunner& shadows() { return shadows_; }
  const ServiceOptions& options() const { return options_; }
  void set_ready(bool ready) { ready_ = ready; }
  // GET /metrics: the Prometheus text exposition format.
  std::string metrics_text();
  bool ready() const { return ready_; }

 private:
  HttpResponse dispatch(HttpRequest&& request);

  // Gives the rows ids and queues them in the prediction log (waiting for the commit if durable).
  void record(const std::shared_ptr<const PredictionContext>& trace, bool durable, const InferRequest& request, InferResult& result);

  Registry& registry_;
  ServingCatalog& catalog_;
  ServiceOptions options_;
  PredictionLog* log_;
  DriftMonitor* drift_ = nullptr;
  Authenticator* auth_ = nullptr;
  ShadowRunner shadows_;
  std::mutex quality_mutex_;
  std::chrono::steady_clock::time_point quality_at_{};
  std::vector<QualityGroup> quality_cache_;
  std::atomic<bool> ready_{false};
  std::atomic<std::uint64_t> responses_by_status_[600] = {};
  LatencyHistogram request_latency_;  // every HTTP request the service answers, end to end in the service
};

// A logged prediction with its version's lineage (GET /api/v1/predictions/ID, `orchard trace`).
nlohmann::json prediction_lineage(Registry& registry, const PredictionRecord& record);
// A logged prediction as JSON; inputs by feature name when `feature_names` is given.
nlohmann::json prediction_json(const PredictionRecord& record, const std::vector<std::string>* feature_names);

// A JSON body with `status`.
HttpResponse json_reply(const nlohmann::json& body, int status = 200);

// Adapters (one file each).
HttpResponse handle_kserve_v2(OrchardService& service, const HttpRequest& request);
HttpResponse handle_invocations(OrchardService& service, const HttpRequest& request, const std::string& endpoint);
HttpResponse handle_management(OrchardService& service, const HttpRequest& request);
// /api/v1/keys (keys_api.cc).
HttpResponse handle_keys(OrchardService& service, const HttpRequest& request, const std::vector<std::string>& parts);
// A new API key from its JSON description ({"role", "name", "endpoints", "expires", "rate_limit"}),
// stored in the registry; `token` receives the secret token. Throws Error(kInvalidArgument).
ApiKeyRecord create_api_key_from_json(Registry& registry, const nlohmann::json& body, std::string& token);
// /api/v1/predictions, /api/v1/feedback, /api/v1/endpoints/{name}/{quality,report,drift}: `parts` is
// the split path ("api", "v1", ...).
HttpResponse handle_monitoring(OrchardService& service, const HttpRequest& request, const std::vector<std::string>& parts);

// The prediction log is full, or a durable record could not be committed: answered 503 (the request
// is not acknowledged, nothing is lost).
struct PredictionLogFull : Error {
  PredictionLogFull() : Error(ErrorKind::kIo, "the prediction log is full; retry in a moment") {}
  explicit PredictionLogFull(const std::string& message) : Error(ErrorKind::kIo, message) {}
};

// A request with more rows than ServiceOptions::max_rows: answered 413.
struct TooManyRows : Error {
  TooManyRows(std::size_t rows, std::size_t limit)
      : Error(ErrorKind::kInvalidArgument, "the request has " + std::to_string(rows) + " rows; the limit is " + std::to_string(limit),
              "", "at most " + std::to_string(limit) + " rows per request (orchard serve --max-rows)") {}
};

// "orchard-model-version: churn:3": every prediction response says which version answered.
inline constexpr const char* kVersionHeader = "orchard-model-version";

// "orchard-prediction-id": the ids of the rows (comma-separated, up to 16; the body has them all).
inline void add_prediction_id_header(HttpResponse& response, const InferResult& result) {
  if (result.prediction_ids.empty()) return;
  std::string ids;
  for (std::size_t i = 0; i < result.prediction_ids.size() && i < 16; ++i) {
    if (i) ids += ',';
    result.prediction_ids[i].append_text(ids);
  }
  response.headers.emplace_back("orchard-prediction-id", std::move(ids));
}

}  // namespace orchard
