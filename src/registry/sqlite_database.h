// SqlDatabase over one SQLite file (WAL mode, synchronous=FULL, foreign keys on).
#pragma once

#include <memory>
#include <string>

#include "registry/sql_database.h"

struct sqlite3;

namespace orchard {

class SqliteDatabase final : public SqlDatabase {
 public:
  // Opens or creates `path`. busy_timeout_ms: how long a writer waits for another's lock.
  // page_size: for a new file, its page size in bytes (0: SQLite's default, 4096); an existing file
  // keeps its own.
  explicit SqliteDatabase(const std::string& path, int busy_timeout_ms = 10000, int page_size = 0);
  ~SqliteDatabase() override;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  void begin_write() override;
  void commit() override;
  void rollback() noexcept override;
  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlParam>& params) override;
  void execute_many(const std::string& sql, const std::vector<std::vector<SqlParam>>& batches) override;
  void exec_script(const std::string& sql) override;
  const char* dialect() const override { return "sqlite"; }
  const std::string& location() const override { return path_; }

 private:
  [[noreturn]] void fail(const char* doing) const;
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace orchard
