// The server's request handler: routes a request to the protocol adapters (Open Inference Protocol
// v2, MLflow invocations, management API) over one ServingCatalog. HTTP lives in http_server; this
// class sees only HttpRequest / HttpResponse.
#pragma once

#include <atomic>
#include <memory>
#include <random>
#include <string>

#include "common/error.h"
#include "server/http_message.h"
#include "server/inference.h"
#include "server/serving_catalog.h"

namespace orchard {

class Registry;

struct ServiceLimits {
  std::size_t max_rows = 100000;  // rows per request; more get 413 (TooManyRows)
};

class OrchardService {
 public:
  OrchardService(Registry& registry, ServingCatalog& catalog, ServiceLimits limits = {});

  HttpResponse handle(HttpRequest&& request);

  // Where a request goes: the version that answers (picked by the endpoint's route, or fixed) and the
  // shadows to call. The adapter then builds rows for the chosen version's features and calls
  // execute(). Holding the Routed keeps its snapshot, so a swap meanwhile changes nothing for it.
  struct Routed {
    std::shared_ptr<const CatalogSnapshot> snapshot;
    std::shared_ptr<const LoadedVersion> version;
    const ServedEndpoint* endpoint = nullptr;  // null for a fixed version
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
  const ServiceLimits& limits() const { return limits_; }
  void set_ready(bool ready) { ready_ = ready; }
  // GET /metrics: the Prometheus text exposition format.
  std::string metrics_text() const;
  bool ready() const { return ready_; }

 private:
  HttpResponse dispatch(HttpRequest&& request);

  Registry& registry_;
  ServingCatalog& catalog_;
  ServiceLimits limits_;
  ShadowRunner shadows_;
  std::atomic<bool> ready_{false};
  std::atomic<std::uint64_t> responses_by_status_[600] = {};
  LatencyHistogram request_latency_;  // every HTTP request the service answers, end to end in the service
};

// Adapters (one file each).
HttpResponse handle_kserve_v2(OrchardService& service, const HttpRequest& request);
HttpResponse handle_invocations(OrchardService& service, const HttpRequest& request, const std::string& endpoint);
HttpResponse handle_management(OrchardService& service, const HttpRequest& request);

// A request with more rows than ServiceLimits::max_rows: answered 413.
struct TooManyRows : Error {
  TooManyRows(std::size_t rows, std::size_t limit)
      : Error(ErrorKind::kInvalidArgument, "the request has " + std::to_string(rows) + " rows; the limit is " + std::to_string(limit),
              "", "at most " + std::to_string(limit) + " rows per request (orchard serve --max-rows)") {}
};

// "orchard-model-version: churn:3": every prediction response says which version answered.
inline constexpr const char* kVersionHeader = "orchard-model-version";

}  // namespace orchard
