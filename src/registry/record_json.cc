#include "registry/record_json.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>

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

}  // namespace orchard
