#include "server/service.h"

#include <cmath>

#include "common/error.h"
#include "registry/registry.h"

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

OrchardService::OrchardService(Registry& registry, ServingCatalog& catalog, ServiceLimits limits)
    : registry_(registry), catalog_(catalog), limits_(limits) {}

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
  if (version) {
    routed.version = catalog_.version(endpoint, *version);
    return routed;
  }
  routed.snapshot = catalog_.current();
  routed.endpoint = find_endpoint(*routed.snapshot, endpoint);
  if (!routed.endpoint) {
    throw Error(ErrorKind::kNotFound, "no model or endpoint named \"" + endpoint + "\" is being served", "",
                "a registered model with a version, or an endpoint with a route");
  }
  routed.version = routed.endpoint->pick(sticky_value, uniform_draw()).version;
  return routed;
}

InferResult OrchardService::execute(const Routed& routed, const InferRequest& request) {
  InferResult result = run_inference(routed.version, request);
  if (routed.endpoint && !routed.endpoint->shadows.empty() && shadows_.has_room(request.count * routed.endpoint->shadows.size())) {
    const Model& primary = routed.version->predictor->model();
    auto shared = std::make_shared<const InferRequest>(request);
    for (const auto& shadow : routed.endpoint->shadows) {
      const Model& other = shadow->predictor->model();
      bool same_features = other.num_features() == primary.num_features();
      for (int f = 0; same_features && f < primary.num_features(); ++f) {
        same_features = other.features[static_cast<std::size_t>(f)].name == primary.features[static_cast<std::size_t>(f)].name;
      }
      if (same_features) {
        shadows_.submit(shadow, shared);
        continue;
      }
      // A shadow with other features gets the same values by feature name (missing where it has a
      // feature the primary lacks).
      auto remapped = std::make_shared<InferRequest>();
      remapped->count = request.count;
      remapped->raw = request.raw;
      const std::size_t pf = static_cast<std::size_t>(primary.num_features()), of = static_cast<std::size_t>(other.num_features());
      remapped->rows.assign(request.count * of, std::nan(""));
      for (std::size_t f = 0; f < of; ++f) {
        for (std::size_t p = 0; p < pf; ++p) {
          if (primary.features[p].name != other.features[f].name) continue;
          for (std::size_t r = 0; r < request.count; ++r) remapped->rows[r * of + f] = request.rows[r * pf + p];
        }
      }
      shadows_.submit(shadow, std::move(remapped));
    }
  }
  return result;
}

HttpResponse OrchardService::handle(HttpRequest&& request) {
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
    if (path == "/ping" || path == "/health") {
      HttpResponse response;
      response.body = "{\"status\":\"ok\"}";
      return response;
    }
    return json_error(404, "no route for " + std::string(path) + " (see /api/v1/openapi.json, /v2, /endpoints/NAME/invocations)");
  } catch (const TooManyRows& e) {
    return json_error(413, e.what());
  } catch (const Error& e) {
    return json_error(status_for(e), e.what());
  }
}

}  // namespace orchard
