#include "registry/sqlite_store.h"

#include "registry/sqlite_database.h"

namespace orchard {

SqliteStore::SqliteStore(const std::string& path, int busy_timeout_ms)
    : SqlStore(std::make_unique<SqliteDatabase>(path, busy_timeout_ms)) {}

std::string SqliteStore::integrity_check() {
  std::string result;
  for (const SqlRow& row : database().query("PRAGMA integrity_check")) result += (result.empty() ? "" : "; ") + row[0].value_or("");
  return result;
}

}  // namespace orchard
