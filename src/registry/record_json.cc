#include "registry/record_json.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <cmath>
#include <limits>

#include "common/error.h"

namespace orchard {

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis));
  return buffer;
}

std::string tags_to_text(const Tags& tags) { return nlohmann::json(tags).dump(); }

Tags tags_from_text(const std::string& text) {
  if (text.empty()) return {};
  return nlohmann::json::parse(text).get<Tags>();
}

std::string metrics_to_text(const std::map<std::string, double>& metrics) { return nlohmann::json(metrics).dump(); }

std::map<std::string, double> metrics_from_text(const std::string& text) {
  std::map<std::string, double> out;
  if (text.empty()) return out;
  // JSON has no NaN: a non-finite value (refused on input, but tolerated if present) reads back as NaN.
  const nlohmann::json parsed = nlohmann::json::parse(text);  // kept alive: items() only refers to it
  for (const auto& [key, value] : parsed.items()) {
    out[key] = value.is_number() ? value.get<double>() : std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

nlohmann::json to_json(const ModelRecord& model) {
  return {{"name", model.name}, {"description", model.description}, {"tags", model.tags},
          {"created_at", model.created_at}, {"created_by", model.created_by}, {"latest_version", model.latest_version}};
}

nlohmann::json to_json(const VersionRecord& v) {
  nlohmann::json out = {{"model", v.model},
                        {"version", v.number},
                        {"artifact", {{"sha256", v.artifact_sha256}, {"format", v.format}, {"size", v.artifact_size}}},
                        {"load_check", v.load_check},
                        {"created_at", v.created_at},
                        {"created_by", v.created_by},
                        {"source", {{"path", v.source_path}, {"git_commit", v.git_commit}}},
                        {"description", v.description},
                        {"metrics", v.metrics},
                        {"params", v.params},
                        {"tags", v.tags},
                        {"archived", v.archived}};
  out["schema"] = v.schema_json.empty() ? nlohmann::json() : nlohmann::json::parse(v.schema_json);
  if (v.dataset) {
    out["dataset"] = {{"sha256", v.dataset->sha256}, {"rows", v.dataset->rows}, {"columns", v.dataset->columns}, {"path", v.dataset->path}};
  } else {
    out["dataset"] = nullptr;
  }
  out["has_reference_profile"] = !v.profile_json.empty();
  out["evaluation"] = v.evaluation_json.empty() ? nlohmann::json() : nlohmann::json::parse(v.evaluation_json);
  return out;
}

nlohmann::json to_json(const AliasRecord& alias) {
  return {{"model", alias.model}, {"alias", alias.alias}, {"version", alias.version},
          {"updated_at", alias.updated_at}, {"updated_by", alias.updated_by}};
}

nlohmann::json to_json(const AliasChange& change) {
  return {{"alias", change.alias}, {"from_version", change.from_version}, {"to_version", change.to_version},
          {"kind", change.kind}, {"at", change.at}, {"by", change.by}};
}

nlohmann::json to_json(const AuditEvent& event) {
  auto parse = [](const std::string& text) { return text.empty() ? nlohmann::json() : nlohmann::json::parse(text); };
  return {{"id", event.id}, {"at", event.at}, {"actor", event.actor}, {"action", event.action},
          {"target", event.target}, {"before", parse(event.before_json)}, {"after", parse(event.after_json)}};
}

nlohmann::json to_json(const ApiKeyRecord& key) {
  return {{"id", key.id}, {"name", key.name}, {"role", key.role}, {"endpoints", key.endpoints}, {"created_at", key.created_at},
          {"created_by", key.created_by}, {"expires_at", key.expires_at}, {"revoked_at", key.revoked_at}, {"rate_limit", key.rate_limit}};
}

nlohmann::json to_json(const EndpointRoute& route) {
  nlohmann::json arms = nlohmann::json::array();
  for (const RouteArm& arm : route.arms) arms.push_back({{"target", arm.target}, {"weight", arm.weight}});
  return {{"endpoint", route.endpoint}, {"model", route.model}, {"arms", arms}, {"sticky", route.sticky},
          {"shadows", route.shadows}, {"trace", route.trace}, {"updated_at", route.updated_at}, {"updated_by", route.updated_by}};
}

EndpointRoute route_from_json(const std::string& endpoint, const nlohmann::json& json) {
  auto bad = [&](const std::string& what) -> Error {
    return Error(ErrorKind::kInvalidArgument, what, "route of endpoint \"" + endpoint + "\"",
                 R"({"model": "churn", "arms": [{"target": "3", "weight": 0.9}, {"target": "@staging", "weight": 0.1}], )"
                 R"("sticky": "header:x-user-id", "shadows": ["@challenger"], "trace": "async"})");
  };
  auto check_target = [&](const std::string& target) {
    if (target.empty()) throw bad("a target is empty");
    if (target[0] == '@') return;
    for (char c : target) if (c < '0' || c > '9') throw bad("target \"" + target + "\" is neither a version number nor @alias");
  };
  if (!json.is_object()) throw bad("is not a JSON object");
  EndpointRoute route;
  route.endpoint = endpoint;
  if (!json.contains("model") || !json["model"].is_string()) throw bad("has no \"model\" string");
  route.model = json["model"].get<std::string>();
  if (!json.contains("arms") || !json["arms"].is_array() || json["arms"].empty()) throw bad("has no \"arms\" list");
  for (const auto& arm : json["arms"]) {
    if (!arm.is_object() || !arm.contains("target") || !arm["target"].is_string()) throw bad("an arm has no \"target\" string");
    RouteArm parsed{arm["target"].get<std::string>(), 1.0};
    if (arm.contains("weight")) {
      if (!arm["weight"].is_number()) throw bad("an arm's weight is not a number");
      parsed.weight = arm["weight"].get<double>();
    }
    if (!(parsed.weight >= 0) || !std::isfinite(parsed.weight)) throw bad("an arm's weight is negative or not finite");
    check_target(parsed.target);
    route.arms.push_back(parsed);
  }
  double total = 0;
  for (const RouteArm& arm : route.arms) total += arm.weight;
  if (!(total > 0)) throw bad("the arms' weights sum to zero");
  if (json.contains("sticky") && !json["sticky"].is_null()) {
    if (!json["sticky"].is_string()) throw bad("\"sticky\" is not a string");
    route.sticky = json["sticky"].get<std::string>();
    if (!route.sticky.empty() && route.sticky.rfind("header:", 0) != 0 && route.sticky.rfind("field:", 0) != 0) {
      throw bad("\"sticky\" is neither header:NAME nor field:NAME");
    }
  }
  if (json.contains("trace") && !json["trace"].is_null()) {
    if (!json["trace"].is_string() || (json["trace"] != "async" && json["trace"] != "durable")) {
      throw bad("\"trace\" is neither \"async\" nor \"durable\"");
    }
    route.trace = json["trace"].get<std::string>();
  }
  if (json.contains("shadows")) {
    if (!json["shadows"].is_array()) throw bad("\"shadows\" is not a list");
    for (const auto& shadow : json["shadows"]) {
      if (!shadow.is_string()) throw bad("a shadow is not a string");
      check_target(shadow.get<std::string>());
      route.shadows.push_back(shadow.get<std::string>());
    }
  }
  return route;
}

}  // namespace orchard
