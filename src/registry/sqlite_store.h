// The embedded registry store: one SQLite database (WAL mode) in the data folder.
//
// Writers take the database's write lock up front (BEGIN IMMEDIATE), so concurrent pushes from
// several processes are serialized and get distinct version numbers; a writer waits up to
// `busy_timeout_ms` for the lock, then fails with Error(kIo) saying the registry is busy.
#pragma once

#include <memory>
#include <string>

#include "registry/store.h"

struct sqlite3;

namespace orchard {

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) the database at `path` and brings its schema up to date.
  explicit SqliteStore(const std::string& path, int busy_timeout_ms = 10000);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  VersionRecord create_version(const VersionDraft& draft, const std::string& actor) override;
  std::optional<ModelRecord> find_model(const std::string& name) override;
  std::vector<ModelRecord> list_models() override;
  std::optional<VersionRecord> find_version(const std::string& model, std::int64_t number) override;
  std::vector<VersionRecord> list_versions(const std::string& model) override;
  void update_model(const std::string& name, const ModelUpdate& update, const std::string& actor) override;
  VersionRecord update_version(const std::string& model, std::int64_t number, const VersionUpdate& update,
                               const std::string& actor) override;
  AliasChange set_alias(const std::string& model, const std::string& alias, std::int64_t version, const std::string& kind,
                        const std::string& actor) override;
  std::optional<AliasRecord> find_alias(const std::string& model, const std::string& alias) override;
  std::vector<AliasRecord> list_aliases(const std::string& model) override;
  std::vector<AliasChange> alias_history(const std::string& model, const std::string& alias) override;
  std::vector<AuditEvent> audit_log(const std::string& target_prefix, std::size_t limit) override;
  std::set<std::string> referenced_artifacts() override;

  // PRAGMA integrity_check: "ok" or the problems found.
  std::string integrity_check();

 private:
  class Statement;
  class Transaction;
  [[noreturn]] void fail(const char* doing) const;
  void exec(const char* sql);
  void migrate();
  void audit(const std::string& actor, const std::string& action, const std::string& target, const std::string& before,
             const std::string& after);
  std::vector<VersionRecord> query_versions(const std::string& model, std::int64_t number);

  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace orchard
