#include "registry/sql_store.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/error.h"
#include "registry/record_json.h"

#include <nlohmann/json.hpp>

namespace orchard {
namespace {

// 1: models, versions, aliases, history, audit. 2: endpoints (routes). 3: API keys. Each version's
// tables are created with IF NOT EXISTS, so upgrading is running the schema again.
constexpr std::int64_t kSchemaVersion = 3;

// The schema, with the two dialects' differences in integer and identity columns substituted.
std::string schema(const std::string& dialect) {
  const bool pg = dialect == "postgresql";
  const std::string integer = pg ? "BIGINT" : "INTEGER";
  const std::string identity = pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
  return R"(
CREATE TABLE IF NOT EXISTS schema_version (version )" + integer + R"( NOT NULL);
CREATE TABLE IF NOT EXISTS models (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  latest_version )" + integer + R"( NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS versions (
  model TEXT NOT NULL REFERENCES models(name),
  number )" + integer + R"( NOT NULL,
  artifact_sha256 TEXT NOT NULL,
  format TEXT NOT NULL,
  artifact_size )" + integer + R"( NOT NULL,
  schema_json TEXT NOT NULL,
  load_check TEXT NOT NULL,
  source_path TEXT NOT NULL,
  git_commit TEXT NOT NULL,
  description TEXT NOT NULL,
  metrics TEXT NOT NULL,
  params TEXT NOT NULL,
  tags TEXT NOT NULL,
  dataset_sha256 TEXT,
  dataset_rows )" + integer + R"(,
  dataset_columns )" + integer + R"(,
  dataset_path TEXT,
  profile_json TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  archived )" + integer + R"( NOT NULL DEFAULT 0,
  evaluation_json TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (model, number)
);
CREATE TABLE IF NOT EXISTS aliases (
  model TEXT NOT NULL REFERENCES models(name),
  alias TEXT NOT NULL,
  version )" + integer + R"( NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (model, alias)
);
CREATE TABLE IF NOT EXISTS alias_history (
  id )" + identity + R"(,
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  from_version )" + integer + R"( NOT NULL,
  to_version )" + integer + R"( NOT NULL,
  kind TEXT NOT NULL,
  at TEXT NOT NULL,
  by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  id )" + identity + R"(,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  before_json TEXT NOT NULL,
  after_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_target ON audit(target);
CREATE TABLE IF NOT EXISTS endpoints (
  name TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  config_json TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  endpoints TEXT NOT NULL,
  secret_sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  expires_at )" + integer + R"( NOT NULL,
  revoked_at TEXT NOT NULL,
  rate_limit TEXT NOT NULL
);
)";
}

std::int64_t to_int(const std::optional<std::string>& value) { return value ? std::stoll(*value) : 0; }
std::string to_text(const std::optional<std::string>& value) { return value.value_or(""); }

[[noreturn]] void no_model(const std::string& name) {
  throw Error(ErrorKind::kNotFound, "no model named \"" + name + "\"", "", "a registered model (see `orchard models`)");
}
[[noreturn]] void no_version(const std::string& model, std::int64_t number) {
  throw Error(ErrorKind::kNotFound, "model \"" + model + "\" has no version " + std::to_string(number), "",
              "an existing version (see `orchard versions " + model + "`)");
}
void apply_tags(Tags& tags, const Tags& set, const std::vector<std::string>& remove) {
  for (const auto& [key, value] : set) tags[key] = value;
  for (const auto& key : remove) tags.erase(key);
}

ModelRecord model_from(const SqlRow& row) {
  return {to_text(row[0]), to_text(row[1]), tags_from_text(to_text(row[2])), to_text(row[3]), to_text(row[4]), to_int(row[5])};
}
AliasRecord alias_from(const SqlRow& row) { return {to_text(row[0]), to_text(row[1]), to_int(row[2]), to_text(row[3]), to_text(row[4])}; }

const char* kModelColumns = "name, description, tags, created_at, created_by, latest_version";
const char* kAliasColumns = "model, alias, version, updated_at, updated_by";
const char* kVersionColumns =
    "model, number, artifact_sha256, format, artifact_size, schema_json, load_check, source_path, git_commit, description, "
    "metrics, params, tags, dataset_sha256, dataset_rows, dataset_columns, dataset_path, profile_json, created_at, created_by, "
    "archived, evaluation_json";

}  // namespace

// A write transaction, rolled back unless committed.
class SqlStore::Transaction {
 public:
  explicit Transaction(SqlDatabase& db) : db_(db) { db_.begin_write(); }
  ~Transaction() {
    if (!committed_) db_.rollback();
  }
  void commit() {
    db_.commit();
    committed_ = true;
  }

 private:
  SqlDatabase& db_;
  bool committed_ = false;
};

SqlStore::SqlStore(std::unique_ptr<SqlDatabase> database) : db_(std::move(database)) { migrate(); }

void SqlStore::migrate() {
  // Up to date already (the common case): no write lock, so readers are never blocked by a writer.
  try {
    const auto current = db_->query("SELECT max(version) FROM schema_version");
    if (!current.empty() && to_int(current[0][0]) == kSchemaVersion) return;
  } catch (const Error&) {
    // no schema yet
  }
  Transaction transaction(*db_);
  db_->exec_script(schema(db_->dialect()));
  const auto rows = db_->query("SELECT max(version) FROM schema_version");
  const std::int64_t version = rows.empty() ? 0 : to_int(rows[0][0]);
  if (version > kSchemaVersion) {
    throw Error(ErrorKind::kIo, "the registry was written by a newer Orchard (schema " + std::to_string(version) + ")", db_->location(),
                "schema " + std::to_string(kSchemaVersion) + " or older; upgrade orchard");
  }
  if (version < kSchemaVersion) db_->query("INSERT INTO schema_version (version) VALUES (?1)", {kSchemaVersion});
  transaction.commit();
}

void SqlStore::audit(const std::string& actor, const std::string& action, const std::string& target, const std::string& before,
                     const std::string& after) {
  db_->query("INSERT INTO audit (at, actor, action, target, before_json, after_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
             {utc_now(), actor, action, target, before, after});
}

std::vector<VersionRecord> SqlStore::query_versions(const std::string& model, std::int64_t number) {
  const std::string sql = std::string("SELECT ") + kVersionColumns + " FROM versions WHERE model = ?1" +
                          (number > 0 ? " AND number = ?2" : "") + " ORDER BY number";
  std::vector<SqlParam> params{model};
  if (number > 0) params.emplace_back(number);
  std::vector<VersionRecord> out;
  for (const SqlRow& row : db_->query(sql, params)) {
    VersionRecord v;
    v.model = to_text(row[0]);
    v.number = to_int(row[1]);
    v.artifact_sha256 = to_text(row[2]);
    v.format = to_text(row[3]);
    v.artifact_size = to_int(row[4]);
    v.schema_json = to_text(row[5]);
    v.load_check = to_text(row[6]);
    v.source_path = to_text(row[7]);
    v.git_commit = to_text(row[8]);
    v.description = to_text(row[9]);
    v.metrics = metrics_from_text(to_text(row[10]));
    v.params = tags_from_text(to_text(row[11]));
    v.tags = tags_from_text(to_text(row[12]));
    if (row[13]) v.dataset = DatasetFingerprint{*row[13], to_int(row[14]), to_int(row[15]), to_text(row[16])};
    v.profile_json = to_text(row[17]);
    v.created_at = to_text(row[18]);
    v.created_by = to_text(row[19]);
    v.archived = to_int(row[20]) != 0;
    v.evaluation_json = to_text(row[21]);
    out.push_back(std::move(v));
  }
  return out;
}

VersionRecord SqlStore::create_version(const VersionDraft& draft, const std::string& actor, const std::string& alias) {
  std::lock_guard lock(mutex_);
  for (const auto& [key, value] : draft.metrics) {
    if (!std::isfinite(value)) throw Error(ErrorKind::kInvalidArgument, "metric \"" + key + "\" is not a finite number", "", "a finite number");
  }
  Transaction transaction(*db_);
  const std::string now = utc_now();
  std::int64_t latest = 0;
  const auto existing = db_->query("SELECT latest_version FROM models WHERE name = ?1", {draft.model});
  if (!existing.empty()) {
    latest = to_int(existing[0][0]);
  } else {
    db_->query("INSERT INTO models (name, created_at, created_by) VALUES (?1, ?2, ?3)", {draft.model, now, actor});
    audit(actor, "model.create", draft.model, "", to_json(ModelRecord{draft.model, "", {}, now, actor, 0}).dump());
  }
  VersionRecord record;
  static_cast<VersionDraft&>(record) = draft;
  record.number = latest + 1;
  record.created_at = now;
  record.created_by = actor;
  std::vector<SqlParam> params{draft.model, record.number, draft.artifact_sha256, draft.format, draft.artifact_size, draft.schema_json,
                               draft.load_check, draft.source_path, draft.git_commit, draft.description, metrics_to_text(draft.metrics),
                               tags_to_text(draft.params), tags_to_text(draft.tags)};
  if (draft.dataset) {
    params.insert(params.end(), {draft.dataset->sha256, draft.dataset->rows, draft.dataset->columns, draft.dataset->path});
  } else {
    params.insert(params.end(), {nullptr, nullptr, nullptr, nullptr});
  }
  params.insert(params.end(), {draft.profile_json, now, actor});
  db_->query("INSERT INTO versions (model, number, artifact_sha256, format, artifact_size, schema_json, load_check, source_path, "
             "git_commit, description, metrics, params, tags, dataset_sha256, dataset_rows, dataset_columns, dataset_path, profile_json, "
             "created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
             params);
  db_->query("UPDATE models SET latest_version = ?1 WHERE name = ?2", {record.number, draft.model});
  audit(actor, "version.create", draft.model + ":" + std::to_string(record.number), "", to_json(record).dump());
  if (!alias.empty()) write_alias(draft.model, alias, record.number, "set", actor, std::nullopt);
  transaction.commit();
  return record;
}

std::optional<ModelRecord> SqlStore::find_model(const std::string& name) {
  std::lock_guard lock(mutex_);
  const auto rows = db_->query(std::string("SELECT ") + kModelColumns + " FROM models WHERE name = ?1", {name});
  if (rows.empty()) return std::nullopt;
  return model_from(rows[0]);
}

std::vector<ModelRecord> SqlStore::list_models() {
  std::lock_guard lock(mutex_);
  std::vector<ModelRecord> out;
  for (const SqlRow& row : db_->query(std::string("SELECT ") + kModelColumns + " FROM models ORDER BY name")) out.push_back(model_from(row));
  return out;
}

std::optional<VersionRecord> SqlStore::find_version(const std::string& model, std::int64_t number) {
  std::lock_guard lock(mutex_);
  if (number < 1) return std::nullopt;
  auto versions = query_versions(model, number);
  if (versions.empty()) return std::nullopt;
  return std::move(versions.front());
}

std::vector<VersionRecord> SqlStore::list_versions(const std::string& model) {
  std::lock_guard lock(mutex_); return query_versions(model, 0); }

void SqlStore::update_model(const std::string& name, const ModelUpdate& update, const std::string& actor) {
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  auto before = find_model(name);
  if (!before) no_model(name);
  ModelRecord after = *before;
  if (update.description) after.description = *update.description;
  apply_tags(after.tags, update.set_tags, update.remove_tags);
  db_->query("UPDATE models SET description = ?1, tags = ?2 WHERE name = ?3", {after.description, tags_to_text(after.tags), name});
  audit(actor, "model.update", name, to_json(*before).dump(), to_json(after).dump());
  transaction.commit();
}

VersionRecord SqlStore::update_version(const std::string& model, std::int64_t number, const VersionUpdate& update,
                                       const std::string& actor) {
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  auto before = find_version(model, number);
  if (!before) {
    if (!find_model(model)) no_model(model);
    no_version(model, number);
  }
  VersionRecord after = *before;
  if (update.description) after.description = *update.description;
  apply_tags(after.tags, update.set_tags, update.remove_tags);
  if (update.archived) after.archived = *update.archived;
  if (update.evaluation_json) after.evaluation_json = *update.evaluation_json;
  db_->query("UPDATE versions SET description = ?1, tags = ?2, archived = ?3, evaluation_json = ?4 WHERE model = ?5 AND number = ?6",
             {after.description, tags_to_text(after.tags), std::int64_t{after.archived ? 1 : 0}, after.evaluation_json, model, number});
  const char* action = update.archived ? (*update.archived ? "version.archive" : "version.unarchive")
                       : update.evaluation_json ? "version.evaluate" : "version.update";
  audit(actor, action, model + ":" + std::to_string(number), to_json(*before).dump(), to_json(after).dump());
  transaction.commit();
  return after;
}

AliasChange SqlStore::set_alias(const std::string& model, const std::string& alias, std::int64_t version, const std::string& kind,
                                const std::string& actor, std::optional<std::int64_t> if_at) {
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  const AliasChange change = write_alias(model, alias, version, kind, actor, if_at);
  transaction.commit();
  return change;
}

AliasChange SqlStore::write_alias(const std::string& model, const std::string& alias, std::int64_t version, const std::string& kind,
                                  const std::string& actor, std::optional<std::int64_t> if_at) {
  if (!find_model(model)) no_model(model);
  if (!find_version(model, version)) no_version(model, version);
  auto before = find_alias(model, alias);
  const std::string now = utc_now();
  AliasChange change{alias, before ? before->version : 0, version, kind, now, actor};
  if (if_at && change.from_version != *if_at) {
    throw Error(ErrorKind::kIo,
                "alias \"" + alias + "\" of \"" + model + "\" moved to version " + std::to_string(change.from_version) + " meanwhile; nothing was changed",
                db_->location(), "the command run again, now that the other change is done");
  }
  // Promoting the version the alias already has: a history entry would make the next rollback
  // "roll back" to the same version.
  if (before && before->version == version && kind == "set") return change;
  db_->query("INSERT INTO aliases (model, alias, version, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4, ?5) "
             "ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, "
             "updated_by = excluded.updated_by",
             {model, alias, version, now, actor});
  db_->query("INSERT INTO alias_history (model, alias, from_version, to_version, kind, at, by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
             {model, alias, change.from_version, version, kind, now, actor});
  audit(actor, kind == "rollback" ? "alias.rollback" : "alias.set", model + "@" + alias, before ? to_json(*before).dump() : "",
        to_json(AliasRecord{model, alias, version, now, actor}).dump());
  return change;
}

std::optional<AliasRecord> SqlStore::find_alias(const std::string& model, const std::string& alias) {
  std::lock_guard lock(mutex_);
  const auto rows = db_->query(std::string("SELECT ") + kAliasColumns + " FROM aliases WHERE model = ?1 AND alias = ?2", {model, alias});
  if (rows.empty()) return std::nullopt;
  return alias_from(rows[0]);
}

std::vector<AliasRecord> SqlStore::list_aliases(const std::string& model) {
  std::lock_guard lock(mutex_);
  std::vector<AliasRecord> out;
  for (const SqlRow& row : db_->query(std::string("SELECT ") + kAliasColumns + " FROM aliases WHERE model = ?1 ORDER BY alias", {model})) {
    out.push_back(alias_from(row));
  }
  return out;
}

std::vector<AliasChange> SqlStore::alias_history(const std::string& model, const std::string& alias) {
  std::lock_guard lock(mutex_);
  std::vector<AliasChange> out;
  for (const SqlRow& row : db_->query("SELECT alias, from_version, to_version, kind, at, by FROM alias_history "
                                      "WHERE model = ?1 AND alias = ?2 ORDER BY id",
                                      {model, alias})) {
    out.push_back({to_text(row[0]), to_int(row[1]), to_int(row[2]), to_text(row[3]), to_text(row[4]), to_text(row[5])});
  }
  return out;
}

namespace {

ApiKeyRecord key_from(const SqlRow& row) {
  ApiKeyRecord key;
  key.id = to_text(row[0]);
  key.name = to_text(row[1]);
  key.role = to_text(row[2]);
  for (const auto& e : nlohmann::json::parse(to_text(row[3]).empty() ? "[]" : to_text(row[3]))) key.endpoints.push_back(e.get<std::string>());
  key.secret_sha256 = to_text(row[4]);
  key.created_at = to_text(row[5]);
  key.created_by = to_text(row[6]);
  key.expires_at = to_int(row[7]);
  key.revoked_at = to_text(row[8]);
  key.rate_limit = std::strtod(to_text(row[9]).c_str(), nullptr);
  return key;
}

const char* kKeyColumns = "id, name, role, endpoints, secret_sha256, created_at, created_by, expires_at, revoked_at, rate_limit";

}  // namespace

void SqlStore::create_key(const ApiKeyRecord& key, const std::string& actor) {
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  if (!db_->query("SELECT id FROM api_keys WHERE id = ?1", {key.id}).empty()) {
    throw Error(ErrorKind::kInvalidArgument, "an API key with id " + key.id + " exists already");
  }
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.17g", key.rate_limit);
  db_->query(std::string("INSERT INTO api_keys (") + kKeyColumns + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
             {key.id, key.name, key.role, nlohmann::json(key.endpoints).dump(), key.secret_sha256, key.created_at, key.created_by,
              key.expires_at, key.revoked_at, std::string(rate)});
  audit(actor, "create_key", "key:" + key.id, "", to_json(key).dump());
  transaction.commit();
}

std::vector<ApiKeyRecord> SqlStore::list_keys() {
  std::lock_guard lock(mutex_);
  std::vector<ApiKeyRecord> keys;
  for (const SqlRow& row : db_->query(std::string("SELECT ") + kKeyColumns + " FROM api_keys ORDER BY created_at, id")) keys.push_back(key_from(row));
  return keys;
}

ApiKeyRecord SqlStore::revoke_key(const std::string& id, const std::string& actor) {
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  const auto rows = db_->query(std::string("SELECT ") + kKeyColumns + " FROM api_keys WHERE id = ?1", {id});
  if (rows.empty()) throw Error(ErrorKind::kNotFound, "no API key with id " + id, "", "an id from `orchard keys list`");
  ApiKeyRecord key = key_from(rows[0]);
  if (key.revoked_at.empty()) {
    const ApiKeyRecord before = key;
    key.revoked_at = utc_now();
    db_->query("UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2", {key.revoked_at, id});
    audit(actor, "revoke_key", "key:" + id, to_json(before).dump(), to_json(key).dump());
  }
  transaction.commit();
  return key;
}

std::vector<AuditEvent> SqlStore::audit_log(const std::string& target_prefix, std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<AuditEvent> out;
  for (const SqlRow& row : db_->query("SELECT id, at, actor, action, target, before_json, after_json FROM audit "
                                      "WHERE CAST(?1 AS TEXT) = '' OR target = CAST(?1 AS TEXT) OR substr(target, 1, length(CAST(?1 AS TEXT)) + 1) IN "
                                      "(CAST(?1 AS TEXT) || ':', CAST(?1 AS TEXT) || '@') OR (substr(CAST(?1 AS TEXT), length(CAST(?1 AS TEXT)), 1) "
                                      "IN (':', '@') AND substr(target, 1, length(CAST(?1 AS TEXT))) = CAST(?1 AS TEXT)) ORDER BY id DESC LIMIT ?2",
                                      {target_prefix, static_cast<std::int64_t>(limit)})) {
    out.push_back({to_int(row[0]), to_text(row[1]), to_text(row[2]), to_text(row[3]), to_text(row[4]), to_text(row[5]), to_text(row[6])});
  }
  return out;
}

void SqlStore::set_route(const EndpointRoute& route, const std::string& actor) {
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  if (!find_model(route.model)) no_model(route.model);
  const auto before = db_->query("SELECT config_json FROM endpoints WHERE name = ?1", {route.endpoint});
  EndpointRoute stored = route;
  stored.updated_at = utc_now();
  stored.updated_by = actor;
  const std::string config = to_json(stored).dump();
  db_->query("INSERT INTO endpoints (name, model, config_json, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4, ?5) "
             "ON CONFLICT (name) DO UPDATE SET model = excluded.model, config_json = excluded.config_json, "
             "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
             {route.endpoint, route.model, config, stored.updated_at, actor});
  audit(actor, "endpoint.route", "endpoint:" + route.endpoint, before.empty() ? "" : to_text(before[0][0]), config);
  transaction.commit();
}

void SqlStore::delete_route(const std::string& endpoint, const std::string& actor) {
  std::lock_guard lock(mutex_);
  Transaction transaction(*db_);
  const auto before = db_->query("SELECT config_json FROM endpoints WHERE name = ?1", {endpoint});
  if (before.empty()) {
    throw Error(ErrorKind::kNotFound, "endpoint \"" + endpoint + "\" has no route", "", "an endpoint set with PUT /api/v1/endpoints/NAME");
  }
  db_->query("DELETE FROM endpoints WHERE name = ?1", {endpoint});
  audit(actor, "endpoint.delete", "endpoint:" + endpoint, to_text(before[0][0]), "");
  transaction.commit();
}

std::vector<EndpointRoute> SqlStore::list_routes() {
  std::lock_guard lock(mutex_);
  std::vector<EndpointRoute> out;
  for (const SqlRow& row : db_->query("SELECT name, config_json FROM endpoints ORDER BY name")) {
    // An unreadable row (damaged, or from a newer Orchard) is skipped, not allowed to stop the others.
    try {
      const auto json = nlohmann::json::parse(to_text(row[1]));
      EndpointRoute route = route_from_json(to_text(row[0]), json);
      route.updated_at = json.value("updated_at", "");
      route.updated_by = json.value("updated_by", "");
      out.push_back(std::move(route));
    } catch (const std::exception&) {
      continue;
    }
  }
  return out;
}

std::set<std::string> SqlStore::referenced_artifacts() {
  std::lock_guard lock(mutex_);
  std::set<std::string> out;
  for (const SqlRow& row : db_->query("SELECT DISTINCT artifact_sha256 FROM versions")) out.insert(to_text(row[0]));
  return out;
}

}  // namespace orchard
