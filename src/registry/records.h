// The registry's records: what a Store keeps. Plain values; times are ISO-8601 UTC strings.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace orchard {

using Tags = std::map<std::string, std::string>;

struct ModelRecord {
  std::string name;
  std::string description;
  Tags tags;
  std::string created_at;
  std::string created_by;
  std::int64_t latest_version = 0;  // highest number ever given; numbers are never reused
};

// Training data behind a version: the file's digest and shape, and the reference profile computed
// from it (JSON, see dataset_profile.h) that drift is measured against.
struct DatasetFingerprint {
  std::string sha256;
  std::int64_t rows = 0;
  std::int64_t columns = 0;
  std::string path;
};

// Everything about a version that is fixed when it is created.
struct VersionDraft {
  std::string model;
  std::string artifact_sha256;
  std::string format;          // the loader's format_name
  std::int64_t artifact_size = 0;
  std::string schema_json;     // features and outputs
  std::string load_check;      // what the engine compiled, e.g. "500 trees (...)"
  std::string source_path;
  std::string git_commit;
  std::string description;
  std::map<std::string, double> metrics;  // training metrics supplied by the user
  Tags params;
  Tags tags;
  std::optional<DatasetFingerprint> dataset;
  std::string profile_json;    // empty without a dataset
};

struct VersionRecord : VersionDraft {
  std::int64_t number = 0;
  std::string created_at;
  std::string created_by;
  bool archived = false;
  std::string evaluation_json;  // the last recorded `orchard evaluate` results, or empty
};

struct AliasRecord {
  std::string model;
  std::string alias;
  std::int64_t version = 0;
  std::string updated_at;
  std::string updated_by;
};

struct AliasChange {
  std::string alias;
  std::int64_t from_version = 0;  // 0: the alias did not exist
  std::int64_t to_version = 0;
  std::string kind;               // "set" or "rollback"
  std::string at;
  std::string by;
};

struct AuditEvent {
  std::int64_t id = 0;
  std::string at;
  std::string actor;
  std::string action;       // "model.create", "version.create", "alias.set", ...
  std::string target;       // "churn", "churn:3", "churn@production"
  std::string before_json;  // "" when nothing existed
  std::string after_json;
};

// How an endpoint routes requests: to versions ("3") or aliases ("@production") of one model, by
// weight; optionally sticky (the same key value always reaches the same arm) and with shadows
// (called off the request's path; their answers are never returned).
struct RouteArm {
  std::string target;  // "3" or "@alias"
  double weight = 1.0;
};

struct EndpointRoute {
  std::string endpoint;
  std::string model;
  std::vector<RouteArm> arms;
  std::string sticky;               // "", "header:NAME" or "field:NAME"
  std::vector<std::string> shadows; // targets like the arms'
  std::string trace = "async";      // the prediction log's mode: "async" or "durable"
  std::string updated_at;
  std::string updated_by;
};

// An API key (auth/): who may call the server, as what. The secret itself is never stored, only its
// SHA-256 (secrets are 256 random bits, so a fast hash is enough and checking a key costs
// microseconds).
struct ApiKeyRecord {
  std::string id;             // public part of the token, e.g. "3f9a1c2e"
  std::string name;           // a label: who or what holds it
  std::string role;           // "admin", "deployer", "predictor" or "viewer"
  std::vector<std::string> endpoints;  // predictor keys: the endpoints it may call (empty: all)
  std::string secret_sha256;  // hex
  std::string created_at;
  std::string created_by;
  std::int64_t expires_at = 0;  // Unix seconds; 0: never
  std::string revoked_at;       // empty while valid
  double rate_limit = 0;        // requests per second (burst: twice that); 0: unlimited
};

// Mutable parts of a version (everything else is immutable).
struct VersionUpdate {
  std::optional<std::string> description;
  Tags set_tags;
  std::vector<std::string> remove_tags;
  std::optional<bool> archived;
  std::optional<std::string> evaluation_json;
};

struct ModelUpdate {
  std::optional<std::string> description;
  Tags set_tags;
  std::vector<std::string> remove_tags;
};

}  // namespace orchard
