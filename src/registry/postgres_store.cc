#include "registry/postgres_store.h"

#include "registry/postgres_database.h"

namespace orchard {

PostgresStore::PostgresStore(const std::string& url, int lock_timeout_ms)
    : SqlStore(std::make_unique<PostgresDatabase>(url, lock_timeout_ms)) {}

}  // namespace orchard
