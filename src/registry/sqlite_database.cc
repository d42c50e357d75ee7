#include "registry/sqlite_database.h"

#include <sqlite3.h>

#include "common/error.h"

namespace orchard {

void SqliteDatabase::fail(const char* doing) const {
  const int code = sqlite3_extended_errcode(db_) & 0xff;
  const std::string message = sqlite3_errmsg(db_);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    throw Error(ErrorKind::kIo, "the database is locked by another process (" + message + ")", path_,
                "the lock to be released; retry, or stop the other orchard process");
  }
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
    throw Error(ErrorKind::kIo, "the database is damaged (" + message + ")", path_, "a valid SQLite database; restore it from a backup");
  }
  if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_IOERR || code == SQLITE_FULL) {
    throw Error(ErrorKind::kIo, "the database cannot be written (" + message + ")", path_, "a writable data folder with free space");
  }
  throw Error(ErrorKind::kIo, std::string("database ") + doing + " failed: " + message, path_);
}

SqliteDatabase::SqliteDatabase(const std::string& path, int busy_timeout_ms, int page_size) : path_(path) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ErrorKind::kIo, "cannot open the database: " + message, path, "a writable data folder");
  }
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  sqlite3_extended_result_codes(db_, 1);
  try {
    // The page size must be chosen before WAL mode is entered (it is fixed from then on).
    if (page_size > 0) exec_script("PRAGMA page_size=" + std::to_string(page_size) + ";");
    exec_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteDatabase::~SqliteDatabase() { sqlite3_close(db_); }

void SqliteDatabase::exec_script(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    sqlite3_free(message);
    fail("statement");
  }
}

// BEGIN IMMEDIATE takes SQLite's write lock at once (waiting up to the busy timeout).
void SqliteDatabase::begin_write() { exec_script("BEGIN IMMEDIATE"); }
void SqliteDatabase::commit() { exec_script("COMMIT"); }
void SqliteDatabase::rollback() noexcept { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

namespace {
int bind_all(sqlite3_stmt* statement, const std::vector<SqlParam>& params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i + 1);
    int rc = SQLITE_OK;
    if (const auto* text = std::get_if<std::string>(&params[i])) {
      rc = sqlite3_bind_text(statement, index, text->data(), static_cast<int>(text->size()), SQLITE_STATIC);
    } else if (const auto* number = std::get_if<std::int64_t>(&params[i])) {
      rc = sqlite3_bind_int64(statement, index, *number);
    } else if (const auto* blob = std::get_if<SqlBlob>(&params[i])) {
      rc = sqlite3_bind_blob(statement, index, blob->bytes.data(), static_cast<int>(blob->bytes.size()), SQLITE_STATIC);
    } else if (const auto* view = std::get_if<SqlBlobView>(&params[i])) {
      rc = sqlite3_bind_blob(statement, index, view->data, static_cast<int>(view->size), SQLITE_STATIC);
    } else if (const auto* real = std::get_if<double>(&params[i])) {
      rc = sqlite3_bind_double(statement, index, *real);
    } else {
      rc = sqlite3_bind_null(statement, index);
    }
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}
}  // namespace

void SqliteDatabase::execute_many(const std::string& sql, const std::vector<std::vector<SqlParam>>& batches) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &statement, nullptr) != SQLITE_OK) fail("prepare");
  struct Finalize {
    sqlite3_stmt* s;
    ~Finalize() { sqlite3_finalize(s); }
  } finalize{statement};
  for (const auto& params : batches) {
    if (bind_all(statement, params) != SQLITE_OK) fail("bind");
    const int rc = sqlite3_step(statement);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) fail("step");
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
  }
}

std::vector<SqlRow> SqliteDatabase::query(const std::string& sql, const std::vector<SqlParam>& params) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &statement, nullptr) != SQLITE_OK) fail("prepare");
  struct Finalize {
    sqlite3_stmt* s;
    ~Finalize() { sqlite3_finalize(s); }
  } finalize{statement};
  if (bind_all(statement, params) != SQLITE_OK) fail("bind");
  std::vector<SqlRow> rows;
  for (;;) {
    const int rc = sqlite3_step(statement);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) fail("step");
    const int columns = sqlite3_column_count(statement);
    SqlRow row(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (sqlite3_column_type(statement, c) == SQLITE_NULL) continue;
      const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(statement, c));
      row[static_cast<std::size_t>(c)] = std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(statement, c)));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace orchard
