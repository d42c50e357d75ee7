// SqlDatabase over a PostgreSQL server (libpq), so that several Orchard servers can share one
// registry. Writers are serialized by a transaction-scoped advisory lock (the registry's write
// lock), waited for at most `lock_timeout_ms`.
#pragma once

#include <string>

#include "registry/sql_database.h"

struct pg_conn;

namespace orchard {

class PostgresDatabase final : public SqlDatabase {
 public:
  // url: "postgresql://user:password@host:port/dbname?..." (any libpq connection string works).
  // Throws Error(kIo) naming the server (without its password) if it cannot connect.
  explicit PostgresDatabase(const std::string& url, int lock_timeout_ms = 10000);
  ~PostgresDatabase() override;
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  void begin_write() override;
  void commit() override;
  void rollback() noexcept override;
  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlParam>& params) override;
  void exec_script(const std::string& sql) override;
  const char* dialect() const override { return "postgresql"; }
  const std::string& location() const override { return location_; }

 private:
  // A connection lost (the server restarted, a failover) fails the statement that finds it lost; the
  // next statement outside a transaction connects again. Never within a transaction: its earlier
  // statements are gone with the old session.
  void reconnect_if_lost();
  void note_transaction();  // after each statement: whether the session is in a transaction

 private:
  std::string location_;
  int lock_timeout_ms_;
  pg_conn* connection_ = nullptr;
  bool in_transaction_ = false;  // as libpq last knew it (PQtransactionStatus)
};

// The connection string with any password replaced by "***": USER:PASSWORD@ in a URL, and
// password=... as a URL parameter or in libpq's key=value form.
std::string redact_password(const std::string& url);

}  // namespace orchard
