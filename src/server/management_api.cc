// The management API under /api/v1: what the registry CLI does, over HTTP, plus endpoint routes.
//
//   GET    /api/v1/models                                   models with their aliases
//   GET    /api/v1/models/{name}                            a model, its versions and aliases
//   POST   /api/v1/models/{name}/versions?alias=&description=&git_commit=   body: the model file
//   GET    /api/v1/models/{name}/versions/{v}
//   PUT    /api/v1/models/{name}/aliases/{alias}            {"version": 3}
//   POST   /api/v1/models/{name}/aliases/{alias}/rollback
//   GET    /api/v1/endpoints                                what is served, arm by arm
//   PUT    /api/v1/endpoints/{name}                         a route (see records.h EndpointRoute)
//   DELETE /api/v1/endpoints/{name}                         back to the model's production alias
//   GET    /api/v1/audit?target=&limit=
//   POST   /api/v1/refresh                                  re-read the registry (changes made by the CLI)
//   POST   /api/v1/models/{name}/evaluate?label=&group=&versions=&record=&speed=   body: labelled CSV
//   PATCH  /api/v1/models/{name}[/versions/{v}]             {"description", "tags", "remove_tags", "archived"}
//   POST   /api/v1/gc?min_age=SECONDS                       remove unreferenced artifacts
//   GET    /api/v1/openapi.json
//   /api/v1/predictions…, /api/v1/feedback, /api/v1/endpoints/{name}/{quality,report,drift}: monitoring_api.cc
// Every change takes effect for new requests before the response is sent.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "common/error.h"
#include "common/sha256.h"
#include "evaluation/evaluator.h"
#include "evaluation/report.h"
#include "registry/record_json.h"
#include "registry/registry.h"
#include "server/service.h"
#include "tracing/prediction_record.h"

namespace orchard {
namespace {

using json = nlohmann::json;


std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const std::size_t slash = path.find('/');
    parts.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return parts;
}

// A version number from the path (not a number: no such resource, 404) or from a body or query
// (the client's mistake, 400).
std::int64_t version_number(const std::string& text, ErrorKind kind = ErrorKind::kNotFound) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1) {
    throw Error(kind, "\"" + text + "\" is not a version number", "", "a positive integer");
  }
  return v;
}

json parse_body(const HttpRequest& request) {
  try {
    return json::parse(request.body);
  } catch (const json::exception& e) {
    throw Error(ErrorKind::kInvalidArgument, std::string("the body is not valid JSON: ") + e.what());
  }
}

json model_json(Registry& registry, const ModelRecord& model) {
  json out = to_json(model);
  json aliases = json::object();
  for (const auto& alias : registry.store().list_aliases(model.name)) aliases[alias.alias] = alias.version;
  out["aliases"] = aliases;
  return out;
}

json served_endpoints(OrchardService& service) {
  const auto snapshot = service.catalog().current();
  json out = json::array();
  for (const auto& [name, endpoint] : snapshot->endpoints) {
    json arms = json::array();
    double previous = 0;
    for (const auto& arm : endpoint.arms) {
      arms.push_back({{"target", arm.target}, {"version", arm.version->number}, {"weight", (arm.upper - previous) / endpoint.total_weight}});
      previous = arm.upper;
    }
    json shadows = json::array();
    for (const auto& shadow : endpoint.shadows) shadows.push_back(shadow->number);
    out.push_back({{"endpoint", name}, {"model", endpoint.model}, {"arms", arms}, {"shadows", shadows},
                   {"trace", endpoint.durable ? "durable" : "async"},
                   {"sticky", endpoint.sticky_header.empty() ? (endpoint.sticky_field.empty() ? "" : "field:" + endpoint.sticky_field)
                                                             : "header:" + endpoint.sticky_header},
                   {"explicit_route", endpoint.explicit_route}});
  }
  return out;
}

// An OpenAPI 3 description; each served endpoint gets a request schema and an example built from
// its model's features, so a user can see how to call it.
json openapi(OrchardService& service) {
  json paths = json::object();
  const auto snapshot = service.catalog().current();
  for (const auto& [name, endpoint] : snapshot->endpoints) {
    const Model& model = endpoint.arms.front().version->predictor->model();
    json properties = json::object();
    json example = json::object();
    for (const Feature& f : model.features) {
      properties[f.name] = {{"type", json::array({"number", "null"})}};
      example[f.name] = 0.0;
    }
    json records_schema = json::object();
    records_schema["type"] = "object";
    records_schema["properties"]["dataframe_records"]["type"] = "array";
    records_schema["properties"]["dataframe_records"]["items"]["type"] = "object";
    records_schema["properties"]["dataframe_records"]["items"]["properties"] = properties;
    json invocation = json::object();
    invocation["summary"] = "Predict with endpoint " + name + " (MLflow scoring format)";
    invocation["requestBody"]["content"]["application/json"]["schema"] = records_schema;
    invocation["requestBody"]["content"]["application/json"]["example"]["dataframe_records"] = json::array({example});
    invocation["requestBody"]["content"]["text/csv"]["schema"]["type"] = "string";
    invocation["responses"]["200"]["description"] = "{\"predictions\": [...], \"model_version\": \"NAME:V\"}";
    paths["/endpoints/" + name + "/invocations"]["post"] = invocation;
    json tensor = json::object();
    tensor["name"] = "input-0";
    tensor["shape"] = json::array({1, model.num_features()});
    tensor["datatype"] = "FP64";
    tensor["data"] = std::vector<double>(static_cast<std::size_t>(model.num_features()), 0.0);
    json v2_example = json::object();
    v2_example["inputs"] = json::array({tensor});
    paths["/v2/models/" + name + "/infer"]["post"] = {
        {"summary", "Predict with endpoint " + name + " (Open Inference Protocol v2)"},
        {"requestBody", {{"content", {{"application/json", {{"example", v2_example}}}}}}},
        {"responses", {{"200", {{"description", "outputs: one FP64 tensor"}}}}}};
  }
  for (const char* path : {"/api/v1/models", "/api/v1/endpoints", "/api/v1/audit"}) paths[path]["get"] = {{"responses", {{"200", {{"description", "JSON"}}}}}};
  paths["/api/v1/models/{name}/versions"]["post"] = {{"summary", "Register the request body (a model file) as the next version"},
                                                    {"responses", {{"201", {{"description", "the new version"}}}}}};
  paths["/api/v1/models/{name}/aliases/{alias}"]["put"] = {{"summary", "Point an alias at a version: {\"version\": N}"},
                                                          {"responses", {{"200", {{"description", "the alias change"}}}}}};
  paths["/api/v1/endpoints/{name}"]["put"] = {{"summary", "Route an endpoint: {\"model\", \"arms\": [{\"target\", \"weight\"}], \"sticky\", \"shadows\", \"trace\": \"async\"|\"durable\"}"},
                                             {"responses", {{"200", {{"description", "the endpoint as served"}}}}}};
  // The prediction log and monitoring (monitoring_api.cc).
  auto get = [&](const char* path, const char* summary) {
    paths[path]["get"] = {{"summary", summary}, {"responses", {{"200", {{"description", "JSON"}}}}}};
  };
  get("/api/v1/predictions", "Search logged predictions, newest first: ?endpoint=&model=&version=&arm=&since=&until=&window=&before=&limit=&labelled=&shadows=");
  get("/api/v1/predictions/{id}", "One prediction with its inputs, outputs, version, arm, artifact and training-data lineage");
  get("/api/v1/endpoints/{name}/quality", "Labelled quality per version and arm over ?window= (default 1h)");
  get("/api/v1/endpoints/{name}/report", "The A/B report over ?window= (default 24h): traffic, latency, errors, quality, significance, verdict");
  get("/api/v1/endpoints/{name}/drift", "PSI per feature and output over ?window= (default 1h); ?feature=NAME&version=N&step=5m for a series");
  paths["/api/v1/predictions/{id}/feedback"]["post"] = {{"summary", "Attach the true label: {\"label\": 1} (number, true/false or class name)"},
                                                       {"responses", {{"200", {{"description", "{\"accepted\": 1}"}}}}}};
  paths["/api/v1/feedback"]["post"] = {{"summary", "Attach labels in bulk: {\"items\": [{\"id\", \"label\"}]} (up to 10,000)"},
                                      {"responses", {{"200", {{"description", "{\"accepted\": N, \"unknown\": [ids]}"}}}}}};
  return {{"openapi", "3.0.3"}, {"info", {{"title", "Orchard"}, {"version", "0.1.0"}}}, {"paths", paths}};
}

// Writes `bytes` to a new private temporary file (mode 0600) and returns its path; Error(kIo) if the
// write fails (disk full), so that nothing truncated is ever pushed or evaluated.
std::string write_private_temp(const std::string& bytes, const char* kind) {
  std::string path = (std::filesystem::temp_directory_path() / (std::string("orchard-") + kind + "-XXXXXX")).string();
  const int fd = ::mkstemp(path.data());
  if (fd < 0) throw Error(ErrorKind::kIo, "cannot create a temporary file for the request", path);
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) {
      ::close(fd);
      std::filesystem::remove(path);
      throw Error(ErrorKind::kIo, "cannot write the request to a temporary file (disk full?)", path);
    }
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return path;
}

HttpResponse push_version(OrchardService& service, const HttpRequest& request, const std::string& name) {
  if (request.body.empty()) throw Error(ErrorKind::kInvalidArgument, "the body is empty", "", "the model file as the request body");
  const std::string path = write_private_temp(request.body, "upload");
  PushOptions options;
  options.source_name = "upload to /api/v1/models/" + name + "/versions";
  options.alias = query_param(request, "alias");
  options.description = query_param(request, "description");
  options.git_commit = query_param(request, "git_commit");
  try {
    if (const std::string text = query_param(request, "metrics"); !text.empty()) options.metrics = json::parse(text).get<std::map<std::string, double>>();
    if (const std::string text = query_param(request, "params"); !text.empty()) options.params = json::parse(text).get<Tags>();
    if (const std::string text = query_param(request, "tags"); !text.empty()) options.tags = json::parse(text).get<Tags>();
  } catch (const json::exception& e) {
    std::filesystem::remove(path);
    throw Error(ErrorKind::kInvalidArgument, std::string("metrics, params and tags must be JSON objects: ") + e.what());
  }
  VersionRecord version;
  try {
    version = service.registry().push(name, path, options);
  } catch (...) {
    std::filesystem::remove(path);
    throw;
  }
  std::filesystem::remove(path);
  service.catalog().refresh();
  return json_reply(to_json(version), 201);
}

}  // namespace

namespace {

// POST /api/v1/models/{name}/evaluate?label=COL[&group=COL][&versions=1,2][&record=1][&speed=0], body: CSV.
HttpResponse evaluate_versions(OrchardService& service, const HttpRequest& request, const std::string& name) {
  Registry& registry = service.registry();
  const std::string label = query_param(request, "label");
  if (label.empty()) throw Error(ErrorKind::kInvalidArgument, "no label column", "", "?label=COLUMN and the labelled CSV as the body");
  std::vector<VersionRecord> versions;
  if (const std::string list = query_param(request, "versions"); !list.empty()) {
    std::size_t start = 0;
    while (start <= list.size()) {
      const std::size_t comma = list.find(',', start);
      versions.push_back(registry.resolve(ModelRef{name, version_number(list.substr(start, comma - start), ErrorKind::kInvalidArgument), std::nullopt}));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else {
    if (!registry.store().find_model(name)) return json_error(404, "no model named \"" + name + "\"");
    for (auto& v : registry.store().list_versions(name)) if (!v.archived) versions.push_back(std::move(v));
  }
  const bool speed = query_param(request, "speed") != "0";
  const bool record = query_param(request, "record") == "1";
  const std::string path = write_private_temp(request.body, "evaluate");
  nlohmann::ordered_json reports = nlohmann::ordered_json::array();
  try {
    for (const VersionRecord& v : versions) {
      const Evaluation evaluation = evaluate(*registry.load(v), LabelledData{path, label, query_param(request, "group")}, speed);
      nlohmann::ordered_json report = evaluation_report(v.number, v.artifact_size, evaluation, speed);
      if (record) {
        nlohmann::ordered_json recorded = report;
        recorded["data"] = {{"path", "upload"}, {"sha256", sha256_hex(request.body)}, {"label", label}};
        recorded["at"] = utc_now();
        VersionUpdate update;
        update.evaluation_json = recorded.dump();
        registry.store().update_version(v.model, v.number, update, registry.actor());
      }
      reports.push_back(report);
    }
  } catch (...) {
    std::filesystem::remove(path);
    throw;
  }
  std::filesystem::remove(path);
  HttpResponse response;
  response.body = reports.dump();
  return response;
}

}  // namespace

HttpResponse handle_management_unchecked(OrchardService& service, const HttpRequest& request);

// A body whose fields have the wrong JSON types is the client's mistake: 400, not 500.
HttpResponse handle_management(OrchardService& service, const HttpRequest& request) {
  try {
    return handle_management_unchecked(service, request);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kInvalidArgument, std::string("a field of the request has the wrong type: ") + e.what());
  }
}

HttpResponse handle_management_unchecked(OrchardService& service, const HttpRequest& request) {
  const auto parts = split_path(request.path());  // "api", "v1", ...
  Registry& registry = service.registry();
  const std::string& method = request.method;
  auto method_not_allowed = [&](const char* allowed) { return json_error(405, "use " + std::string(allowed) + " for " + std::string(request.path())); };
  if (parts.size() < 3) return json_error(404, "see /api/v1/openapi.json for the routes");
  const std::string& area = parts[2];

  if (area == "openapi.json") return method == "GET" ? json_reply(openapi(service)) : method_not_allowed("GET");
  if (area == "refresh") {
    if (method != "POST") return method_not_allowed("POST");
    service.catalog().refresh();
    return json_reply({{"endpoints", served_endpoints(service)}});
  }
  if (area == "keys") return handle_keys(service, request, parts);
  if (area == "predictions" || area == "feedback" || (area == "endpoints" && parts.size() == 5)) {
    return handle_monitoring(service, request, parts);
  }
  if (area == "gc") {
    if (method != "POST") return method_not_allowed("POST");
    long min_age = 3600;
    if (const std::string text = query_param(request, "min_age"); !text.empty()) {
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), min_age);
      if (ec != std::errc() || end != text.data() + text.size() || min_age < 0) {
        throw Error(ErrorKind::kInvalidArgument, "\"" + text + "\" is not a number of seconds", "min_age", "a non-negative integer");
      }
    }
    // Over HTTP, never younger than a minute: a push in progress elsewhere stores its file first.
    min_age = std::max(min_age, 60L);
    return json_reply({{"removed", registry.gc(min_age)}});
  }
  if (area == "audit") {
    if (method != "GET") return method_not_allowed("GET");
    std::size_t limit = 100;
    if (const std::string text = query_param(request, "limit"); !text.empty()) {
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
      if (ec != std::errc() || end != text.data() + text.size() || limit == 0 || limit > 100000) {
        throw Error(ErrorKind::kInvalidArgument, "\"" + text + "\" is not a valid limit", "limit", "an integer from 1 to 100000");
      }
    }
    json out = json::array();
    for (const auto& event : registry.store().audit_log(query_param(request, "target"), limit)) out.push_back(to_json(event));
    return json_reply(out);
  }
  if (area == "endpoints") {
    if (parts.size() == 3) return method == "GET" ? json_reply(served_endpoints(service)) : method_not_allowed("GET");
    const std::string& name = parts[3];
    check_name(name, "endpoint name");
    if (parts.size() != 4) return json_error(404, "no route for " + std::string(request.path()));
    if (method == "PUT") {
      EndpointRoute route = route_from_json(name, parse_body(request));
      check_name(route.model, "model name");
      // Every target must exist now: a route that cannot be served is refused, not stored.
      if (!registry.store().find_model(route.model)) return json_error(404, "no model named \"" + route.model + "\"");
      std::vector<std::string> targets;
      for (const RouteArm& arm : route.arms) targets.push_back(arm.target);
      targets.insert(targets.end(), route.shadows.begin(), route.shadows.end());
      for (const std::string& target : targets) {
        const bool alias = target[0] == '@';
        const bool exists = alias ? registry.store().find_alias(route.model, target.substr(1)).has_value()
                                  : registry.store().find_version(route.model, version_number(target, ErrorKind::kInvalidArgument)).has_value();
        if (!exists) {
          return json_error(409, "route target \"" + target + "\" does not exist for model \"" + route.model + "\"; the route was not changed");
        }
      }
      registry.store().set_route(route, registry.actor());
      service.catalog().refresh();
    } else if (method == "DELETE") {
      registry.store().delete_route(name, registry.actor());
      service.catalog().refresh();
      json out = {{"deleted", name}};
      for (const auto& endpoint : served_endpoints(service)) {
        if (endpoint["endpoint"] == name) out["now_served"] = endpoint;
      }
      return json_reply(out);
    } else if (method != "GET") {
      return method_not_allowed("GET, PUT or DELETE");
    }
    for (const auto& endpoint : served_endpoints(service)) {
      if (endpoint["endpoint"] == name) return json_reply(endpoint);
    }
    const auto snapshot = service.catalog().current();
    for (const std::string& problem : snapshot->problems) {
      if (problem.rfind("endpoint " + name + ":", 0) == 0) return json_error(409, problem);
    }
    return json_error(404, "endpoint \"" + name + "\" is not served");
  }
  if (area != "models") return json_error(404, "no route for " + std::string(request.path()) + " (see /api/v1/openapi.json)");

  if (parts.size() == 3) {
    if (method != "GET") return method_not_allowed("GET");
    json out = json::array();
    for (const auto& model : registry.store().list_models()) out.push_back(model_json(registry, model));
    return json_reply(out);
  }
  const std::string& name = parts[3];
  check_name(name, "model name");
  auto tags_of = [](const json& body, const char* key) {
    Tags tags;
    if (body.contains(key)) {
      if (!body[key].is_object()) throw Error(ErrorKind::kInvalidArgument, std::string("\"") + key + "\" must be an object of strings");
      for (const auto& [k, v] : body[key].items()) {
        if (!v.is_string()) throw Error(ErrorKind::kInvalidArgument, "tag \"" + k + "\" must be a string");
        check_tag(k, v.get<std::string>());
        tags[k] = v.get<std::string>();
      }
    }
    return tags;
  };
  auto removed_of = [](const json& body) {
    std::vector<std::string> keys;
    if (body.contains("remove_tags")) {
      if (!body["remove_tags"].is_array()) throw Error(ErrorKind::kInvalidArgument, "\"remove_tags\" must be a list of keys");
      for (const auto& k : body["remove_tags"]) keys.push_back(k.get<std::string>());
    }
    return keys;
  };
  if (parts.size() == 4 && method == "PATCH") {
    const json body = parse_body(request);
    if (!body.is_object()) throw Error(ErrorKind::kInvalidArgument, "the body is not a JSON object", "", R"({"description": "...", "tags": {"team": "risk"}})");
    for (const auto& [key, value] : body.items()) {
      if (key != "description" && key != "tags" && key != "remove_tags") {
        throw Error(ErrorKind::kInvalidArgument, "a model has no field \"" + key + "\" to change", "",
                    "description, tags or remove_tags (archive versions with PATCH /api/v1/models/NAME/versions/V)");
      }
    }
    ModelUpdate update;
    if (body.contains("description")) update.description = body["description"].get<std::string>();
    update.set_tags = tags_of(body, "tags");
    update.remove_tags = removed_of(body);
    registry.store().update_model(name, update, registry.actor());
    return json_reply(model_json(registry, *registry.store().find_model(name)));
  }
  if (parts.size() == 4) {
    if (method != "GET") return method_not_allowed("GET or PATCH");
    auto model = registry.store().find_model(name);
    if (!model) return json_error(404, "no model named \"" + name + "\"");
    json out = model_json(registry, *model);
    json versions = json::array();
    for (const auto& v : registry.store().list_versions(name)) versions.push_back(to_json(v));
    out["versions"] = versions;
    return json_reply(out);
  }
  if (parts[4] == "versions") {
    if (parts.size() == 5) {
      if (method == "POST") return push_version(service, request, name);
      if (method != "GET") return method_not_allowed("GET or POST");
      json versions = json::array();
      for (const auto& v : registry.store().list_versions(name)) versions.push_back(to_json(v));
      return json_reply(versions);
    }
    if (parts.size() == 6) {
      const std::int64_t number = version_number(parts[5]);
      if (method == "PATCH") {
        const json body = parse_body(request);
        VersionUpdate update;
        if (body.contains("description")) update.description = body["description"].get<std::string>();
        if (body.contains("archived")) update.archived = body["archived"].get<bool>();
        update.set_tags = tags_of(body, "tags");
        update.remove_tags = removed_of(body);
        const VersionRecord version = registry.store().update_version(name, number, update, registry.actor());
        if (update.archived) service.catalog().refresh();
        return json_reply(to_json(version));
      }
      if (method != "GET") return method_not_allowed("GET or PATCH");
      return json_reply(to_json(registry.resolve(ModelRef{name, number, std::nullopt})));
    }
  }
  if (parts[4] == "evaluate" && parts.size() == 5) {
    if (method != "POST") return method_not_allowed("POST");
    return evaluate_versions(service, request, name);
  }
  if (parts[4] == "aliases" && parts.size() >= 6) {
    const std::string& alias = parts[5];
    if (parts.size() == 6) {
      if (method == "GET") {
        auto found = registry.store().find_alias(name, alias);
        if (!found) return json_error(404, "model \"" + name + "\" has no alias \"" + alias + "\"");
        json out = to_json(*found);
        json history = json::array();
        for (const auto& change : registry.store().alias_history(name, alias)) history.push_back(to_json(change));
        out["history"] = history;
        return json_reply(out);
      }
      if (method != "PUT") return method_not_allowed("GET or PUT");
      const json body = parse_body(request);
      if (!body.is_object() || !body.contains("version") || !body["version"].is_number_integer()) {
        throw Error(ErrorKind::kInvalidArgument, "the body needs an integer \"version\"", "", "{\"version\": 3}");
      }
      const AliasChange change = registry.promote(name, body["version"].get<std::int64_t>(), alias);
      service.catalog().refresh();
      return json_reply(to_json(change));
    }
    if (parts.size() == 7 && parts[6] == "rollback") {
      if (method != "POST") return method_not_allowed("POST");
      const AliasChange change = registry.rollback(name, alias);
      service.catalog().refresh();
      return json_reply(to_json(change));
    }
  }
  return json_error(404, "no route for " + std::string(request.path()) + " (see /api/v1/openapi.json)");
}

}  // namespace orchard
