// A minimal SQL connection interface, so that one Store implementation (sql_store.h) runs on both
// SQLite and PostgreSQL. Statements use numbered placeholders ?1, ?2, ... (SQLite's syntax; the
// PostgreSQL connection rewrites them to $1, $2, ...). Values travel as text, integers, doubles or blobs;
// results come back as text (NULL as nullopt; a SQLite blob as its bytes, a PostgreSQL bytea in its
// hex text form "\x..." — see decode_bytea).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace orchard {

// Binary data (a BLOB in SQLite, a bytea in PostgreSQL).
struct SqlBlob {
  std::string bytes;
};
// Binary data the caller keeps alive until the statement has run (no copy: the prediction log binds
// its rows' doubles straight from the request's buffers).
struct SqlBlobView {
  const void* data = nullptr;
  std::size_t size = 0;
};
using SqlParam = std::variant<std::nullptr_t, std::string, std::int64_t, SqlBlob, SqlBlobView, double>;
using SqlRow = std::vector<std::optional<std::string>>;

// A blob column's value as returned by query(): the bytes themselves (SQLite), or PostgreSQL's hex
// form "\x0a1b..." decoded. Throws Error(kIo) for text that is neither.
std::string decode_blob(const char* dialect, const std::string& value);

class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;

  // Starts a transaction that holds the registry's write lock until commit or rollback, so that
  // writers in other processes and on other machines are serialized. Waits up to the connection's
  // timeout, then throws Error(kIo) saying the registry is busy.
  virtual void begin_write() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;

  // Runs one statement; returns its rows (empty for statements without results).
  virtual std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlParam>& params = {}) = 0;
  // Runs one statement once per parameter set (a batch insert), prepared once. Default: query() each.
  virtual void execute_many(const std::string& sql, const std::vector<std::vector<SqlParam>>& batches) {
    for (const auto& params : batches) query(sql, params);
  }
  // Runs a script of several statements without parameters (schema creation).
  virtual void exec_script(const std::string& sql) = 0;

  // "sqlite" or "postgresql": selects the dialect of the schema.
  virtual const char* dialect() const = 0;
  // Where the database is, for error messages (a path, or a URL without its password).
  virtual const std::string& location() const = 0;
};

}  // namespace orchard
