// JSON forms of the registry's records: the audit log's before/after, and `--json` output.
#pragma once

#include <nlohmann/json.hpp>

#include "registry/records.h"

namespace orchard {

nlohmann::json to_json(const ModelRecord& model);
nlohmann::json to_json(const VersionRecord& version);  // without the (large) reference profile
nlohmann::json to_json(const AliasRecord& alias);
nlohmann::json to_json(const AliasChange& change);
nlohmann::json to_json(const AuditEvent& event);
nlohmann::json to_json(const EndpointRoute& route);
// Without the secret's digest (never shown).
nlohmann::json to_json(const ApiKeyRecord& key);
// Parses a route's JSON form ({"model", "arms": [{"target", "weight"}], "sticky", "shadows"}).
// Throws Error(kInvalidArgument) naming the field at fault.
EndpointRoute route_from_json(const std::string& endpoint, const nlohmann::json& json);

std::string tags_to_text(const Tags& tags);
Tags tags_from_text(const std::string& text);
std::string metrics_to_text(const std::map<std::string, double>& metrics);
std::map<std::string, double> metrics_from_text(const std::string& text);

// The current time, ISO-8601 UTC with milliseconds ("2026-11-26T19:45:00.123Z").
std::string utc_now();

}  // namespace orchard
