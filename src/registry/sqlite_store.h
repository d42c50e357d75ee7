// The embedded registry store: one SQLite database (WAL mode) in the data folder.
//
// Writers take the database's write lock up front (BEGIN IMMEDIATE), so concurrent pushes from
// several processes are serialized and get distinct version numbers; a writer waits up to
// `busy_timeout_ms` for the lock, then fails with Error(kIo) saying the registry is busy.
#pragma once

#include <string>

#include "registry/sql_store.h"

namespace orchard {

class SqliteStore final : public SqlStore {
 public:
  explicit SqliteStore(const std::string& path, int busy_timeout_ms = 10000);
  // PRAGMA integrity_check: "ok" or the problems found.
  std::string integrity_check();
};

}  // namespace orchard
