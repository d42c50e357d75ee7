// API keys over HTTP (admin keys only, when authentication is on):
//
//   GET    /api/v1/keys          the keys, without secrets
//   POST   /api/v1/keys          {"role", "name", "endpoints": [...], "expires": "30d", "rate_limit": 100}
//                                -> the key and its token (shown this once)
//   DELETE /api/v1/keys/{id}     revoke
#include <ctime>
#include <nlohmann/json.hpp>

#include "auth/api_key.h"
#include "auth/authenticator.h"
#include "common/duration.h"
#include "common/error.h"
#include "registry/names.h"
#include "registry/record_json.h"
#include "registry/registry.h"
#include "server/service.h"

namespace orchard {
namespace {

using json = nlohmann::json;


}  // namespace

ApiKeyRecord create_api_key_from_json(Registry& registry, const json& body, std::string& token) {
  auto bad = [](const std::string& what) {
    return Error(ErrorKind::kInvalidArgument, what, "the new key",
                 R"({"role": "predictor", "name": "web-shop", "endpoints": ["churn"], "expires": "90d", "rate_limit": 100})");
  };
  if (!body.is_object()) throw bad("the body is not a JSON object");
  if (!body.contains("role") || !body["role"].is_string() || !parse_role(body["role"].get<std::string>())) {
    throw bad("\"role\" must be one of admin, deployer, predictor, viewer");
  }
  const std::string role = body["role"].get<std::string>();
  std::string name = body.value("name", std::string());
  if (name.empty()) name = role;
  if (name.size() > 100) throw bad("\"name\" is longer than 100 characters");
  std::vector<std::string> endpoints;
  if (body.contains("endpoints")) {
    if (!body["endpoints"].is_array()) throw bad("\"endpoints\" is not a list");
    for (const auto& e : body["endpoints"]) {
      if (!e.is_string()) throw bad("an endpoint is not a string");
      check_name(e.get<std::string>(), "endpoint name");
      endpoints.push_back(e.get<std::string>());
    }
    if (!endpoints.empty() && role != "predictor") throw bad("only predictor keys are limited to endpoints");
  }
  std::int64_t expires_at = 0;
  if (body.contains("expires") && !body["expires"].is_null()) {
    if (!body["expires"].is_string()) throw bad("\"expires\" is not a duration such as \"30d\"");
    expires_at = static_cast<std::int64_t>(std::time(nullptr)) + parse_duration(body["expires"].get<std::string>(), "expires").count();
  }
  double rate_limit = 0;
  if (body.contains("rate_limit") && !body["rate_limit"].is_null()) {
    if (!body["rate_limit"].is_number() || body["rate_limit"].get<double>() < 0) throw bad("\"rate_limit\" is not a non-negative number");
    rate_limit = body["rate_limit"].get<double>();
  }
  NewApiKey key = generate_api_key(name, role, endpoints, expires_at, rate_limit, registry.actor());
  registry.store().create_key(key.record, registry.actor());
  token = key.token;
  return key.record;
}

HttpResponse handle_keys(OrchardService& service, const HttpRequest& request, const std::vector<std::string>& parts) {
  Registry& registry = service.registry();
  const std::string& method = request.method;
  auto reload = [&] {
    if (service.authenticator()) service.authenticator()->reload();
  };
  if (parts.size() == 3) {
    if (method == "GET") {
      json out = json::array();
      for (const auto& key : registry.store().list_keys()) out.push_back(to_json(key));
      return json_reply(out);
    }
    if (method == "POST") {
      json body;
      try {
        body = json::parse(request.body);
      } catch (const json::exception& e) {
        throw Error(ErrorKind::kInvalidArgument, std::string("the body is not valid JSON: ") + e.what());
      }
      std::string token;
      json out = to_json(create_api_key_from_json(registry, body, token));
      out["token"] = token;
      reload();
      return json_reply(out, 201);
    }
    return json_error(405, "use GET or POST for /api/v1/keys");
  }
  if (parts.size() == 4) {
    if (method != "DELETE") return json_error(405, "use DELETE to revoke a key");
    const ApiKeyRecord key = registry.store().revoke_key(parts[3], registry.actor());
    reload();
    return json_reply(to_json(key));
  }
  return json_error(404, "no route for " + std::string(request.path()));
}

}  // namespace orchard
