#include "registry/sqlite_store.h"

#include <sqlite3.h>

#include "common/error.h"
#include "registry/record_json.h"

namespace orchard {

namespace {

constexpr int kSchemaVersion = 1;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS models (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  latest_version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS versions (
  model TEXT NOT NULL REFERENCES models(name),
  number INTEGER NOT NULL,
  artifact_sha256 TEXT NOT NULL,
  format TEXT NOT NULL,
  artifact_size INTEGER NOT NULL,
  schema_json TEXT NOT NULL,
  load_check TEXT NOT NULL,
  source_path TEXT NOT NULL,
  git_commit TEXT NOT NULL,
  description TEXT NOT NULL,
  metrics TEXT NOT NULL,
  params TEXT NOT NULL,
  tags TEXT NOT NULL,
  dataset_sha256 TEXT,
  dataset_rows INTEGER,
  dataset_columns INTEGER,
  dataset_path TEXT,
  profile_json TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  archived INTEGER NOT NULL DEFAULT 0,
  evaluation_json TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (model, number)
);
CREATE TABLE IF NOT EXISTS aliases (
  model TEXT NOT NULL REFERENCES models(name),
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (model, alias)
);
CREATE TABLE IF NOT EXISTS alias_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  from_version INTEGER NOT NULL,
  to_version INTEGER NOT NULL,
  kind TEXT NOT NULL,
  at TEXT NOT NULL,
  by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  before_json TEXT NOT NULL,
  after_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_target ON audit(target);
)sql";

}  // namespace

// A prepared statement, finalized on destruction.
class SqliteStore::Statement {
 public:
  Statement(SqliteStore& store, const char* sql) : store_(store) {
    if (sqlite3_prepare_v2(store.db_, sql, -1, &statement_, nullptr) != SQLITE_OK) store.fail("prepare");
  }
  ~Statement() { sqlite3_finalize(statement_); }

  Statement& bind(int index, const std::string& value) {
    check(sqlite3_bind_text(statement_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(statement_, index, value));
    return *this;
  }
  Statement& bind_null(int index) {
    check(sqlite3_bind_null(statement_, index));
    return *this;
  }
  // True while there is a row.
  bool step() {
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    store_.fail("step");
  }
  void run() {
    while (step()) {
    }
  }
  std::string text(int column) const {
    const auto* data = sqlite3_column_text(statement_, column);
    return data ? std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))) : std::string();
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
  bool is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) store_.fail("bind");
  }
  SqliteStore& store_;
  sqlite3_stmt* statement_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back if not committed.
class SqliteStore::Transaction {
 public:
  explicit Transaction(SqliteStore& store) : store_(store) { store_.exec("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!committed_) sqlite3_exec(store_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    store_.exec("COMMIT");
    committed_ = true;
  }

 private:
  SqliteStore& store_;
  bool committed_ = false;
};

void SqliteStore::fail(const char* doing) const {
  const int code = sqlite3_extended_errcode(db_);
  const std::string message = sqlite3_errmsg(db_);
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
    throw Error(ErrorKind::kIo, "the registry database is locked by another process (" + message + ")", path_,
                "the lock to be released; retry, or stop the other orchard process");
  }
  if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB) {
    throw Error(ErrorKind::kIo, "the registry database is damaged (" + message + ")", path_, "a valid SQLite database; restore it from a backup");
  }
  throw Error(ErrorKind::kIo, std::string("database ") + doing + " failed: " + message, path_);
}

SqliteStore::SqliteStore(const std::string& path, int busy_timeout_ms) : path_(path) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ErrorKind::kIo, "cannot open the registry database: " + message, path, "a writable data folder");
  }
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  sqlite3_extended_result_codes(db_, 1);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");  // a committed version survives power loss, not just a crash
    exec("PRAGMA foreign_keys=ON");
    migrate();
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteStore::~SqliteStore() { sqlite3_close(db_); }

void SqliteStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    sqlite3_free(message);
    fail("statement");
  }
}

void SqliteStore::migrate() {
  Transaction transaction(*this);
  exec(kSchema);
  exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  Statement current(*this, "SELECT max(version) FROM schema_version");
  std::int64_t version = 0;
  if (current.step() && !current.is_null(0)) version = current.integer(0);
  if (version > kSchemaVersion) {
    throw Error(ErrorKind::kIo, "the registry was written by a newer Orchard (schema " + std::to_string(version) + ")", path_,
                "schema " + std::to_string(kSchemaVersion) + " or older; upgrade orchard");
  }
  if (version < kSchemaVersion) Statement(*this, "INSERT INTO schema_version (version) VALUES (?)").bind(1, std::int64_t{kSchemaVersion}).run();
  transaction.commit();
}

void SqliteStore::audit(const std::string& actor, const std::string& action, const std::string& target,
                        const std::string& before, const std::string& after) {
  Statement(*this, "INSERT INTO audit (at, actor, action, target, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?)")
      .bind(1, utc_now()).bind(2, actor).bind(3, action).bind(4, target).bind(5, before).bind(6, after).run();
}

namespace {
const char* kVersionColumns =
    "model, number, artifact_sha256, format, artifact_size, schema_json, load_check, source_path, git_commit, description, "
    "metrics, params, tags, dataset_sha256, dataset_rows, dataset_columns, dataset_path, profile_json, created_at, created_by, "
    "archived, evaluation_json";
}  // namespace

std::vector<VersionRecord> SqliteStore::query_versions(const std::string& model, std::int64_t number) {
  const std::string sql = std::string("SELECT ") + kVersionColumns + " FROM versions WHERE model = ?" +
                          (number > 0 ? " AND number = ?" : "") + " ORDER BY number";
  Statement query(*this, sql.c_str());
  query.bind(1, model);
  if (number > 0) query.bind(2, number);
  std::vector<VersionRecord> out;
  while (query.step()) {
    VersionRecord v;
    v.model = query.text(0);
    v.number = query.integer(1);
    v.artifact_sha256 = query.text(2);
    v.format = query.text(3);
    v.artifact_size = query.integer(4);
    v.schema_json = query.text(5);
    v.load_check = query.text(6);
    v.source_path = query.text(7);
    v.git_commit = query.text(8);
    v.description = query.text(9);
    v.metrics = metrics_from_text(query.text(10));
    v.params = tags_from_text(query.text(11));
    v.tags = tags_from_text(query.text(12));
    if (!query.is_null(13)) v.dataset = DatasetFingerprint{query.text(13), query.integer(14), query.integer(15), query.text(16)};
    v.profile_json = query.text(17);
    v.created_at = query.text(18);
    v.created_by = query.text(19);
    v.archived = query.integer(20) != 0;
    v.evaluation_json = query.text(21);
    out.push_back(std::move(v));
  }
  return out;
}

VersionRecord SqliteStore::create_version(const VersionDraft& draft, const std::string& actor) {
  Transaction transaction(*this);
  const std::string now = utc_now();
  std::int64_t latest = 0;
  {
    Statement find(*this, "SELECT latest_version FROM models WHERE name = ?");
    find.bind(1, draft.model);
    if (find.step()) {
      latest = find.integer(0);
    } else {
      Statement(*this, "INSERT INTO models (name, created_at, created_by) VALUES (?, ?, ?)").bind(1, draft.model).bind(2, now).bind(3, actor).run();
      ModelRecord created{draft.model, "", {}, now, actor, 0};
      audit(actor, "model.create", draft.model, "", to_json(created).dump());
    }
  }
  VersionRecord record;
  static_cast<VersionDraft&>(record) = draft;
  record.number = latest + 1;
  record.created_at = now;
  record.created_by = actor;
  Statement insert(*this,
                   "INSERT INTO versions (model, number, artifact_sha256, format, artifact_size, schema_json, load_check, "
                   "source_path, git_commit, description, metrics, params, tags, dataset_sha256, dataset_rows, dataset_columns, "
                   "dataset_path, profile_json, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, draft.model).bind(2, record.number).bind(3, draft.artifact_sha256).bind(4, draft.format).bind(5, draft.artifact_size)
      .bind(6, draft.schema_json).bind(7, draft.load_check).bind(8, draft.source_path).bind(9, draft.git_commit)
      .bind(10, draft.description).bind(11, metrics_to_text(draft.metrics)).bind(12, tags_to_text(draft.params))
      .bind(13, tags_to_text(draft.tags));
  if (draft.dataset) {
    insert.bind(14, draft.dataset->sha256).bind(15, draft.dataset->rows).bind(16, draft.dataset->columns).bind(17, draft.dataset->path);
  } else {
    insert.bind_null(14).bind_null(15).bind_null(16).bind_null(17);
  }
  insert.bind(18, draft.profile_json).bind(19, now).bind(20, actor).run();
  Statement(*this, "UPDATE models SET latest_version = ? WHERE name = ?").bind(1, record.number).bind(2, draft.model).run();
  audit(actor, "version.create", draft.model + ":" + std::to_string(record.number), "", to_json(record).dump());
  transaction.commit();
  return record;
}

std::optional<ModelRecord> SqliteStore::find_model(const std::string& name) {
  Statement query(*this, "SELECT name, description, tags, created_at, created_by, latest_version FROM models WHERE name = ?");
  query.bind(1, name);
  if (!query.step()) return std::nullopt;
  return ModelRecord{query.text(0), query.text(1), tags_from_text(query.text(2)), query.text(3), query.text(4), query.integer(5)};
}

std::vector<ModelRecord> SqliteStore::list_models() {
  Statement query(*this, "SELECT name, description, tags, created_at, created_by, latest_version FROM models ORDER BY name");
  std::vector<ModelRecord> out;
  while (query.step()) {
    out.push_back({query.text(0), query.text(1), tags_from_text(query.text(2)), query.text(3), query.text(4), query.integer(5)});
  }
  return out;
}

std::optional<VersionRecord> SqliteStore::find_version(const std::string& model, std::int64_t number) {
  if (number < 1) return std::nullopt;
  auto versions = query_versions(model, number);
  if (versions.empty()) return std::nullopt;
  return std::move(versions.front());
}

std::vector<VersionRecord> SqliteStore::list_versions(const std::string& model) { return query_versions(model, 0); }

namespace {
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
}  // namespace

void SqliteStore::update_model(const std::string& name, const ModelUpdate& update, const std::string& actor) {
  Transaction transaction(*this);
  auto before = find_model(name);
  if (!before) no_model(name);
  ModelRecord after = *before;
  if (update.description) after.description = *update.description;
  apply_tags(after.tags, update.set_tags, update.remove_tags);
  Statement(*this, "UPDATE models SET description = ?, tags = ? WHERE name = ?").bind(1, after.description).bind(2, tags_to_text(after.tags)).bind(3, name).run();
  audit(actor, "model.update", name, to_json(*before).dump(), to_json(after).dump());
  transaction.commit();
}

VersionRecord SqliteStore::update_version(const std::string& model, std::int64_t number, const VersionUpdate& update,
                                          const std::string& actor) {
  Transaction transaction(*this);
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
  Statement(*this, "UPDATE versions SET description = ?, tags = ?, archived = ?, evaluation_json = ? WHERE model = ? AND number = ?")
      .bind(1, after.description).bind(2, tags_to_text(after.tags)).bind(3, std::int64_t{after.archived ? 1 : 0})
      .bind(4, after.evaluation_json).bind(5, model).bind(6, number).run();
  const char* action = update.archived ? (*update.archived ? "version.archive" : "version.unarchive")
                       : update.evaluation_json ? "version.evaluate" : "version.update";
  audit(actor, action, model + ":" + std::to_string(number), to_json(*before).dump(), to_json(after).dump());
  transaction.commit();
  return after;
}

AliasChange SqliteStore::set_alias(const std::string& model, const std::string& alias, std::int64_t version,
                                   const std::string& kind, const std::string& actor) {
  Transaction transaction(*this);
  if (!find_model(model)) no_model(model);
  if (!find_version(model, version)) no_version(model, version);
  auto before = find_alias(model, alias);
  const std::string now = utc_now();
  AliasChange change{alias, before ? before->version : 0, version, kind, now, actor};
  Statement(*this, "INSERT INTO aliases (model, alias, version, updated_at, updated_by) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, "
                   "updated_by = excluded.updated_by")
      .bind(1, model).bind(2, alias).bind(3, version).bind(4, now).bind(5, actor).run();
  Statement(*this, "INSERT INTO alias_history (model, alias, from_version, to_version, kind, at, by) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .bind(1, model).bind(2, alias).bind(3, change.from_version).bind(4, version).bind(5, kind).bind(6, now).bind(7, actor).run();
  AliasRecord after{model, alias, version, now, actor};
  audit(actor, kind == "rollback" ? "alias.rollback" : "alias.set", model + "@" + alias, before ? to_json(*before).dump() : "",
        to_json(after).dump());
  transaction.commit();
  return change;
}

std::optional<AliasRecord> SqliteStore::find_alias(const std::string& model, const std::string& alias) {
  Statement query(*this, "SELECT model, alias, version, updated_at, updated_by FROM aliases WHERE model = ? AND alias = ?");
  query.bind(1, model).bind(2, alias);
  if (!query.step()) return std::nullopt;
  return AliasRecord{query.text(0), query.text(1), query.integer(2), query.text(3), query.text(4)};
}

std::vector<AliasRecord> SqliteStore::list_aliases(const std::string& model) {
  Statement query(*this, "SELECT model, alias, version, updated_at, updated_by FROM aliases WHERE model = ? ORDER BY alias");
  query.bind(1, model);
  std::vector<AliasRecord> out;
  while (query.step()) out.push_back({query.text(0), query.text(1), query.integer(2), query.text(3), query.text(4)});
  return out;
}

std::vector<AliasChange> SqliteStore::alias_history(const std::string& model, const std::string& alias) {
  Statement query(*this, "SELECT alias, from_version, to_version, kind, at, by FROM alias_history WHERE model = ? AND alias = ? ORDER BY id");
  query.bind(1, model).bind(2, alias);
  std::vector<AliasChange> out;
  while (query.step()) out.push_back({query.text(0), query.integer(1), query.integer(2), query.text(3), query.text(4), query.text(5)});
  return out;
}

std::vector<AuditEvent> SqliteStore::audit_log(const std::string& target_prefix, std::size_t limit) {
  Statement query(*this, "SELECT id, at, actor, action, target, before_json, after_json FROM audit "
                         "WHERE substr(target, 1, length(?1)) = ?1 ORDER BY id DESC LIMIT ?2");
  query.bind(1, target_prefix).bind(2, static_cast<std::int64_t>(limit));
  std::vector<AuditEvent> out;
  while (query.step()) {
    out.push_back({query.integer(0), query.text(1), query.text(2), query.text(3), query.text(4), query.text(5), query.text(6)});
  }
  return out;
}

std::set<std::string> SqliteStore::referenced_artifacts() {
  Statement query(*this, "SELECT DISTINCT artifact_sha256 FROM versions");
  std::set<std::string> out;
  while (query.step()) out.insert(query.text(0));
  return out;
}

std::string SqliteStore::integrity_check() {
  Statement query(*this, "PRAGMA integrity_check");
  std::string result;
  while (query.step()) result += (result.empty() ? "" : "; ") + query.text(0);
  return result;
}

}  // namespace orchard
