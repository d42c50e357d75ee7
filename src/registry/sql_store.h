// The Store implemented once in SQL, over either SQLite or PostgreSQL (sql_database.h). Every change
// runs in a write transaction (begin_write) with its audit event; version numbers are assigned
// inside it, so concurrent writers get distinct numbers. One SqlStore may be shared by threads: its
// connection is used by one call at a time.
#pragma once

#include <memory>
#include <mutex>

#include "registry/sql_database.h"
#include "registry/store.h"

namespace orchard {

class SqlStore : public Store {
 public:
  // Creates or upgrades the schema. Throws Error(kIo) if the database is newer than this Orchard.
  explicit SqlStore(std::unique_ptr<SqlDatabase> database);

  VersionRecord create_version(const VersionDraft& draft, const std::string& actor, const std::string& alias = "") override;
  std::optional<ModelRecord> find_model(const std::string& name) override;
  std::vector<ModelRecord> list_models() override;
  std::optional<VersionRecord> find_version(const std::string& model, std::int64_t number) override;
  std::vector<VersionRecord> list_versions(const std::string& model) override;
  void update_model(const std::string& name, const ModelUpdate& update, const std::string& actor) override;
  VersionRecord update_version(const std::string& model, std::int64_t number, const VersionUpdate& update,
                               const std::string& actor) override;
  AliasChange set_alias(const std::string& model, const std::string& alias, std::int64_t version, const std::string& kind,
                        const std::string& actor, std::optional<std::int64_t> if_at = std::nullopt) override;
  std::optional<AliasRecord> find_alias(const std::string& model, const std::string& alias) override;
  std::vector<AliasRecord> list_aliases(const std::string& model) override;
  std::vector<AliasChange> alias_history(const std::string& model, const std::string& alias) override;
  std::vector<AuditEvent> audit_log(const std::string& target_prefix, std::size_t limit) override;
  void create_key(const ApiKeyRecord& key, const std::string& actor) override;
  std::vector<ApiKeyRecord> list_keys() override;
  ApiKeyRecord revoke_key(const std::string& id, const std::string& actor) override;
  std::set<std::string> referenced_artifacts() override;
  void set_route(const EndpointRoute& route, const std::string& actor) override;
  void delete_route(const std::string& endpoint, const std::string& actor) override;
  std::vector<EndpointRoute> list_routes() override;

 protected:
  SqlDatabase& database() { return *db_; }

 private:
  class Transaction;
  void migrate();
  // set_alias's writes, inside the caller's transaction.
  AliasChange write_alias(const std::string& model, const std::string& alias, std::int64_t version, const std::string& kind,
                          const std::string& actor, std::optional<std::int64_t> if_at);
  void audit(const std::string& actor, const std::string& action, const std::string& target, const std::string& before,
             const std::string& after);
  std::vector<VersionRecord> query_versions(const std::string& model, std::int64_t number);

  std::unique_ptr<SqlDatabase> db_;
  std::recursive_mutex mutex_;  // one call at a time on the connection (calls nest, e.g. update -> find)
};

}  // namespace orchard
