#include "registry/postgres_database.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>

#include "common/error.h"

namespace orchard {
namespace {

// Every session's settings: notices stay out of the server's log, and blobs come back in the hex
// form decode_blob reads, whatever the server's default bytea_output is.
constexpr const char* kSessionSettings = "SET client_min_messages = warning; SET bytea_output = hex";

// The registry's write lock: an arbitrary 64-bit key for pg_advisory_xact_lock.
constexpr long long kWriteLockKey = 0x4f72636861726400LL;  // "Orchard\0"

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// "?1" -> "$1": the shared SQL uses SQLite's numbered placeholders.
std::string to_dollar_placeholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size());
  bool quoted = false;
  for (char c : sql) {
    if (c == '\'') quoted = !quoted;
    out.push_back(!quoted && c == '?' ? '$' : c);
  }
  return out;
}

}  // namespace

std::string redact_password(const std::string& url) {
  std::string out = url;
  // USER:PASSWORD@ in a URL.
  const std::size_t scheme = out.find("://");
  const std::size_t at = out.find('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
    const std::size_t colon = out.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) out = out.substr(0, colon + 1) + "***" + out.substr(at);
  }
  // password=... as a URL parameter (?password=, &password=) or in the key=value form libpq also
  // accepts ("host=db password=..."), in any case.
  std::string lower(out.size(), '\0');
  std::transform(out.begin(), out.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::size_t key = lower.find("password="); key != std::string::npos; key = lower.find("password=", key + 1)) {
    const bool starts_key = key == 0 || out[key - 1] == '?' || out[key - 1] == '&' || std::isspace(static_cast<unsigned char>(out[key - 1]));
    if (!starts_key) continue;
    const std::size_t value = key + 9;
    std::size_t end = value;
    if (end < out.size() && out[end] == '\'') {  // key='quoted value'
      end = out.find('\'', end + 1);
      end = end == std::string::npos ? out.size() : end + 1;
    } else {
      while (end < out.size() && out[end] != '&' && !std::isspace(static_cast<unsigned char>(out[end]))) ++end;
    }
    out.replace(value, end - value, "***");
    lower.replace(value, end - value, "***");
  }
  return out;
}

PostgresDatabase::PostgresDatabase(const std::string& url, int lock_timeout_ms)
    : location_(redact_password(url)), lock_timeout_ms_(lock_timeout_ms) {
  connection_ = PQconnectdb(url.c_str());
  if (connection_ == nullptr || PQstatus(connection_) != CONNECTION_OK) {
    std::string message = connection_ ? PQerrorMessage(connection_) : "out of memory";
    while (!message.empty() && message.back() == '\n') message.pop_back();
    PQfinish(connection_);
    connection_ = nullptr;
    throw Error(ErrorKind::kIo, "cannot connect to the PostgreSQL registry: " + message, location_,
                "a reachable server and valid credentials in --store postgresql://USER:PASSWORD@HOST:PORT/DB");
  }
  exec_script(kSessionSettings);
}

PostgresDatabase::~PostgresDatabase() { PQfinish(connection_); }

namespace {
[[noreturn]] void fail(pg_conn* connection, const PGresult* result, const std::string& location) {
  std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(connection);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string code = state ? state : "";
  if (PQstatus(connection) != CONNECTION_OK) {
    throw Error(ErrorKind::kIo, "lost the connection to the PostgreSQL registry: " + message, location, "a reachable server; retry");
  }
  if (code == "55P03" || code == "40P01" || code == "57014") {
    throw Error(ErrorKind::kIo, "the registry is locked by another writer (" + message + ")", location,
                "the lock to be released; retry");
  }
  throw Error(ErrorKind::kIo, "PostgreSQL error: " + message, location);
}
}  // namespace

void PostgresDatabase::reconnect_if_lost() {
  if (in_transaction_ || PQstatus(connection_) == CONNECTION_OK) return;
  PQreset(connection_);
  if (PQstatus(connection_) != CONNECTION_OK) {
    std::string message = PQerrorMessage(connection_);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw Error(ErrorKind::kIo, "cannot reconnect to the PostgreSQL registry: " + message, location_, "a reachable server; retry");
  }
  Result settings(PQexec(connection_, kSessionSettings));
}

void PostgresDatabase::exec_script(const std::string& sql) {
  reconnect_if_lost();
  Result result(PQexec(connection_, sql.c_str()));
  note_transaction();
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(connection_, result.get(), location_);
}

void PostgresDatabase::note_transaction() {
  // libpq knows while the session lives; once it is lost (PQTRANS_UNKNOWN), what it was stays.
  const PGTransactionStatusType status = PQtransactionStatus(connection_);
  if (status != PQTRANS_UNKNOWN) in_transaction_ = status != PQTRANS_IDLE;
}

void PostgresDatabase::begin_write() {
  exec_script("BEGIN");
  try {
    exec_script("SET LOCAL lock_timeout = " + std::to_string(lock_timeout_ms_));
    exec_script("SELECT pg_advisory_xact_lock(" + std::to_string(kWriteLockKey) + ")");
  } catch (...) {
    rollback();
    throw;
  }
}

void PostgresDatabase::commit() { exec_script("COMMIT"); }  // if it fails, callers roll back

void PostgresDatabase::rollback() noexcept {
  Result result(PQexec(connection_, "ROLLBACK"));
  in_transaction_ = false;
}

std::vector<SqlRow> PostgresDatabase::query(const std::string& sql, const std::vector<SqlParam>& params) {
  std::vector<std::string> texts(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  std::vector<int> lengths(params.size(), 0), formats(params.size(), 0);  // blobs travel in binary
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (const auto* blob = std::get_if<SqlBlob>(&params[i])) {
      values[i] = blob->bytes.data();
      lengths[i] = static_cast<int>(blob->bytes.size());
      formats[i] = 1;
    } else if (const auto* view = std::get_if<SqlBlobView>(&params[i])) {
      values[i] = static_cast<const char*>(view->data);
      lengths[i] = static_cast<int>(view->size);
      formats[i] = 1;
    } else if (const auto* real = std::get_if<double>(&params[i])) {
      char text[32];
      std::snprintf(text, sizeof text, "%.17g", *real);  // exact: 17 significant digits round-trip
      texts[i] = text;
      values[i] = texts[i].c_str();
    } else if (const auto* text = std::get_if<std::string>(&params[i])) {
      texts[i] = *text;
      values[i] = texts[i].c_str();
    } else if (const auto* number = std::get_if<std::int64_t>(&params[i])) {
      texts[i] = std::to_string(*number);
      values[i] = texts[i].c_str();
    }
  }
  const std::string statement = to_dollar_placeholders(sql);
  reconnect_if_lost();
  Result result(PQexecParams(connection_, statement.c_str(), static_cast<int>(params.size()), nullptr, values.data(), lengths.data(),
                             formats.data(), 0));
  note_transaction();
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(connection_, result.get(), location_);
  std::vector<SqlRow> rows;
  const int count = PQntuples(result.get());
  const int columns = PQnfields(result.get());
  rows.reserve(static_cast<std::size_t>(count));
  for (int r = 0; r < count; ++r) {
    SqlRow row(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (!PQgetisnull(result.get(), r, c)) {
        row[static_cast<std::size_t>(c)] = std::string(PQgetvalue(result.get(), r, c), static_cast<std::size_t>(PQgetlength(result.get(), r, c)));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace orchard
