// The registry store on PostgreSQL (--store postgresql://...), shared by several Orchard servers.
#pragma once

#include <string>

#include "registry/sql_store.h"

namespace orchard {

class PostgresStore final : public SqlStore {
 public:
  explicit PostgresStore(const std::string& url, int lock_timeout_ms = 10000);
};

}  // namespace orchard
