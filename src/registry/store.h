// The registry's storage interface. Two backends implement it: SQLite (the embedded default) and,
// later, PostgreSQL for several servers sharing one registry; the same test suite runs on both.
//
// Every change is one transaction that also appends its audit event, so the audit log and the data
// can never disagree. Errors: Error(kNotFound) for an unknown model / version / alias,
// Error(kInvalidArgument) for a request that breaks a rule, Error(kIo) for a database that is
// unreachable, locked beyond the timeout or corrupt.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "registry/records.h"

namespace orchard {

class Store {
 public:
  virtual ~Store() = default;

  // Creates the model if it does not exist, then the version with the next number, atomically:
  // concurrent calls (other threads or processes) get distinct numbers.
  // The next version of draft.model; with `alias`, also points the alias at it, in the same
  // transaction (a version is never registered without the alias its push asked for).
  virtual VersionRecord create_version(const VersionDraft& draft, const std::string& actor, const std::string& alias = "") = 0;

  virtual std::optional<ModelRecord> find_model(const std::string& name) = 0;
  virtual std::vector<ModelRecord> list_models() = 0;
  virtual std::optional<VersionRecord> find_version(const std::string& model, std::int64_t number) = 0;
  virtual std::vector<VersionRecord> list_versions(const std::string& model) = 0;

  virtual void update_model(const std::string& name, const ModelUpdate& update, const std::string& actor) = 0;
  virtual VersionRecord update_version(const std::string& model, std::int64_t number, const VersionUpdate& update,
                                       const std::string& actor) = 0;

  // Points `alias` at `version` (kind "set") or back to an earlier version (kind "rollback"),
  // appending to the alias's history; a "set" to the version the alias already has changes nothing
  // (no history, no audit). With `if_at` (0: the alias does not exist), only if the alias is still
  // at that version when the change is written: otherwise Error(kIo) and nothing changes (a
  // concurrent promotion or rollback came first).
  virtual AliasChange set_alias(const std::string& model, const std::string& alias, std::int64_t version,
                                const std::string& kind, const std::string& actor, std::optional<std::int64_t> if_at = std::nullopt) = 0;
  virtual std::optional<AliasRecord> find_alias(const std::string& model, const std::string& alias) = 0;
  virtual std::vector<AliasRecord> list_aliases(const std::string& model) = 0;
  // Oldest first.
  virtual std::vector<AliasChange> alias_history(const std::string& model, const std::string& alias) = 0;

  // Newest first. `target`: empty for all; NAME for the model's events and its versions' and aliases'
  // (NAME, NAME:V, NAME@A); NAME: or NAME@ for all its versions or aliases; or one exact target.
  virtual std::vector<AuditEvent> audit_log(const std::string& target, std::size_t limit) = 0;

  // Endpoint routes (an endpoint without a route serves its model's production alias).
  virtual void set_route(const EndpointRoute& route, const std::string& actor) = 0;
  virtual void delete_route(const std::string& endpoint, const std::string& actor) = 0;
  virtual std::vector<EndpointRoute> list_routes() = 0;

  // API keys. create_key refuses an existing id (kInvalidArgument); revoke_key throws kNotFound for an
  // unknown id and returns the key as revoked (revoking twice keeps the first time).
  virtual void create_key(const ApiKeyRecord& key, const std::string& actor) = 0;
  virtual std::vector<ApiKeyRecord> list_keys() = 0;
  virtual ApiKeyRecord revoke_key(const std::string& id, const std::string& actor) = 0;

  // Every artifact digest a version refers to (for garbage collection).
  virtual std::set<std::string> referenced_artifacts() = 0;
};

}  // namespace orchard
