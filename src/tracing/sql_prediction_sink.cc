#include "tracing/sql_prediction_sink.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "registry/postgres_database.h"
#include "registry/sqlite_database.h"

namespace orchard {
namespace {

// Rows per INSERT statement on PostgreSQL (one round trip each; 9 parameters per row stays far
// below the protocol's 65535).
constexpr std::size_t kRowsPerStatement = 500;
constexpr int kRowColumns = 9;
constexpr int kSqlitePageSize = 16384;

const char* kSqliteSchema = R"sql(
CREATE TABLE IF NOT EXISTS prediction_contexts (
  id INTEGER PRIMARY KEY,
  endpoint TEXT NOT NULL, model TEXT NOT NULL, version INTEGER NOT NULL, artifact_sha256 TEXT NOT NULL, arm TEXT NOT NULL,
  UNIQUE (endpoint, model, version, artifact_sha256, arm)
);
CREATE TABLE IF NOT EXISTS prediction_rows (
  id BLOB PRIMARY KEY, context INTEGER NOT NULL, raw INTEGER NOT NULL, inputs BLOB NOT NULL, outputs BLOB NOT NULL,
  latency_us REAL NOT NULL, request_id TEXT, traceparent TEXT, caller TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS prediction_feedback (
  id BLOB PRIMARY KEY, label REAL NOT NULL, received_ms INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

const char* kPostgresSchema = R"sql(
CREATE TABLE IF NOT EXISTS prediction_contexts (
  id BIGSERIAL PRIMARY KEY,
  endpoint TEXT NOT NULL, model TEXT NOT NULL, version BIGINT NOT NULL, artifact_sha256 TEXT NOT NULL, arm TEXT NOT NULL,
  UNIQUE (endpoint, model, version, artifact_sha256, arm)
);
CREATE TABLE IF NOT EXISTS prediction_rows (
  id BYTEA PRIMARY KEY, context BIGINT NOT NULL, raw INTEGER NOT NULL, inputs BYTEA NOT NULL, outputs BYTEA NOT NULL,
  latency_us DOUBLE PRECISION NOT NULL, request_id TEXT, traceparent TEXT, caller TEXT
);
CREATE TABLE IF NOT EXISTS prediction_feedback (
  id BYTEA PRIMARY KEY, label DOUBLE PRECISION NOT NULL, received_ms BIGINT NOT NULL
);
)sql";

SqlParam optional_text(std::string_view text) {
  if (text.empty()) return nullptr;
  return std::string(text);
}

// The parameters of row r of `entry`, in prediction_rows' column order. Blobs point into the entry
// (which outlives the statement): no copy of the inputs on the writer.
std::vector<SqlParam> row_params(const PredictionView& entry, std::size_t r, std::int64_t context) {
  const std::size_t nf = static_cast<std::size_t>(entry.num_features()), width = static_cast<std::size_t>(entry.width);
  return {SqlBlobView{entry.ids[r].bytes.data(), 16},
          context,
          std::int64_t{entry.raw},
          SqlBlobView{entry.rows + r * nf, nf * sizeof(double)},
          SqlBlobView{entry.outputs + r * width, width * sizeof(double)},
          entry.latency_us,
          optional_text(entry.request_id),
          optional_text(entry.traceparent),
          optional_text(entry.caller)};
}

std::vector<double> blob_doubles(const std::string& bytes) {
  std::vector<double> values(bytes.size() / sizeof(double));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), values.size() * sizeof(double));
  return values;
}


std::string text_of(const std::optional<std::string>& value) { return value.value_or(""); }

double number_of(const std::optional<std::string>& value) { return value ? std::strtod(value->c_str(), nullptr) : 0.0; }

std::int64_t integer_of(const std::optional<std::string>& value) { return value ? std::strtoll(value->c_str(), nullptr, 10) : 0; }

constexpr const char* kRecordColumns =
    "r.id, c.endpoint, c.model, c.version, c.artifact_sha256, c.arm, r.raw, r.inputs, r.outputs, r.latency_us, "
    "r.request_id, r.traceparent, r.caller, f.label, f.received_ms";

}  // namespace

SqlPredictionSink::SqlPredictionSink(std::unique_ptr<SqlDatabase> db) : db_(std::move(db)) {
  postgres_ = std::strcmp(db_->dialect(), "postgresql") == 0;
  db_->exec_script(postgres_ ? kPostgresSchema : kSqliteSchema);
}

SqlPredictionSink::~SqlPredictionSink() = default;

std::unique_ptr<SqlPredictionSink> SqlPredictionSink::open(const std::string& location) {
  if (location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0) {
    return std::make_unique<SqlPredictionSink>(std::make_unique<PostgresDatabase>(location));
  }
  // Large pages: rows of a few hundred bytes appended in key order fill them well, and fewer, larger
  // pages mean fewer b-tree splits and WAL frames per committed row (measured: bench/prediction_log_bench.cc).
  return std::make_unique<SqlPredictionSink>(std::make_unique<SqliteDatabase>(location, 10000, kSqlitePageSize));
}

void SqlPredictionSink::begin() {
  // A plain transaction: the registry's write lock (begin_write) is not wanted here.
  db_->exec_script(postgres_ ? "BEGIN" : "BEGIN IMMEDIATE");
}

std::int64_t SqlPredictionSink::context_id(const PredictionContext& context) {
  auto key = std::make_tuple(context.endpoint, context.model, context.version, context.artifact_sha256, context.arm);
  if (auto it = contexts_.find(key); it != contexts_.end()) return it->second;
  const std::vector<SqlParam> params{context.endpoint, context.model, context.version, context.artifact_sha256, context.arm};
  db_->query("INSERT INTO prediction_contexts (endpoint, model, version, artifact_sha256, arm) VALUES (?1, ?2, ?3, ?4, ?5) "
             "ON CONFLICT DO NOTHING",
             params);
  const auto rows = db_->query("SELECT id FROM prediction_contexts WHERE endpoint = ?1 AND model = ?2 AND version = ?3 AND "
                               "artifact_sha256 = ?4 AND arm = ?5",
                               params);
  if (rows.empty() || !rows[0][0]) throw Error(ErrorKind::kIo, "the prediction log could not record a context", db_->location());
  const std::int64_t id = integer_of(rows[0][0]);
  contexts_.emplace(std::move(key), id);
  return id;
}

void SqlPredictionSink::write(const std::vector<PredictionView>& batch, bool sync) {
  if (batch.empty()) return;
  std::lock_guard lock(mutex_);
  if (!postgres_) {
    // Async batches commit in NORMAL mode: in WAL, a crash of the process loses nothing committed and a
    // power cut at most the last commits. Durable batches commit with FULL (fsync of the WAL).
    const int wanted = sync ? 2 : 1;
    if (synchronous_ != wanted) {
      db_->exec_script(sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
      synchronous_ = wanted;
    }
  }
  // Contexts are resolved (and inserted on first sight) before the batch's transaction.
  std::map<const PredictionContext*, std::int64_t> context_ids;
  for (const PredictionView& entry : batch) {
    if (!context_ids.count(entry.context)) context_ids.emplace(entry.context, context_id(*entry.context));
  }

  begin();
  try {
    if (!postgres_) {
      // SQLite: one prepared statement, stepped per row.
      std::vector<std::vector<SqlParam>> rows;
      for (const PredictionView& entry : batch) {
        for (std::size_t r = 0; r < entry.count(); ++r) {
          rows.push_back(row_params(entry, r, context_ids[entry.context]));
        }
      }
      db_->execute_many("INSERT OR IGNORE INTO prediction_rows (id, context, raw, inputs, outputs, latency_us, request_id, traceparent, caller) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        rows);
    } else {
      // PostgreSQL: multi-row INSERTs (one round trip per kRowsPerStatement rows); async batches do
      // not wait for the WAL flush, durable ones do.
      if (!sync) db_->query("SET LOCAL synchronous_commit = off");
      std::vector<SqlParam> params;
      std::string sql;
      std::size_t rows_in_statement = 0;
      auto flush = [&] {
        if (!rows_in_statement) return;
        db_->query("INSERT INTO prediction_rows (id, context, raw, inputs, outputs, latency_us, request_id, traceparent, caller) VALUES " + sql +
                       " ON CONFLICT (id) DO NOTHING",
                   params);
        params.clear();
        sql.clear();
        rows_in_statement = 0;
      };
      for (const PredictionView& entry : batch) {
        for (std::size_t r = 0; r < entry.count(); ++r) {
          if (rows_in_statement) sql += ',';
          sql += '(';
          for (int c = 0; c < kRowColumns; ++c) {
            sql += (c ? ",?" : "?") + std::to_string(params.size() + 1 + static_cast<std::size_t>(c));
          }
          sql += ')';
          auto row = row_params(entry, r, context_ids[entry.context]);
          params.insert(params.end(), std::make_move_iterator(row.begin()), std::make_move_iterator(row.end()));
          if (++rows_in_statement == kRowsPerStatement) flush();
        }
      }
      flush();
    }
    db_->commit();
  } catch (...) {
    db_->rollback();
    throw;
  }
}

std::vector<PredictionRecord> SqlPredictionSink::read_records(const std::string& sql, const std::vector<SqlParam>& params) {
  std::vector<PredictionRecord> out;
  for (const SqlRow& row : db_->query(sql, params)) {
    PredictionRecord r;
    const auto id = PredictionId::from_raw(decode_blob(db_->dialect(), text_of(row[0])));
    if (!id) continue;
    r.id = *id;
    r.time_ms = id->unix_ms();
    r.endpoint = text_of(row[1]);
    r.model = text_of(row[2]);
    r.version = integer_of(row[3]);
    r.artifact_sha256 = text_of(row[4]);
    r.arm = text_of(row[5]);
    r.raw = integer_of(row[6]) != 0;
    if (row[7]) r.inputs = blob_doubles(decode_blob(db_->dialect(), *row[7]));
    if (row[8]) r.outputs = blob_doubles(decode_blob(db_->dialect(), *row[8]));
    r.latency_us = number_of(row[9]);
    r.request_id = text_of(row[10]);
    r.traceparent = text_of(row[11]);
    r.caller = text_of(row[12]);
    if (row[13]) {
      r.label = number_of(row[13]);
      r.label_time_ms = integer_of(row[14]);
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<PredictionRecord> SqlPredictionSink::find(const PredictionId& id) {
  std::lock_guard lock(mutex_);
  auto found = read_records(std::string("SELECT ") + kRecordColumns +
                                " FROM prediction_rows r JOIN prediction_contexts c ON c.id = r.context "
                                "LEFT JOIN prediction_feedback f ON f.id = r.id WHERE r.id = ?1",
                            {SqlBlob{std::string(id.raw())}});
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::vector<PredictionRecord> SqlPredictionSink::search(const PredictionQuery& query) {
  std::lock_guard lock(mutex_);
  std::vector<SqlParam> params;
  auto param = [&](SqlParam value) {
    params.push_back(std::move(value));
    return "?" + std::to_string(params.size());
  };
  // Labelled rows are found from the (smaller) feedback table; others scan the id (time) range.
  const char* key = query.labelled_only ? "f.id" : "r.id";
  std::string sql = std::string("SELECT ") + kRecordColumns + " FROM " +
                    (query.labelled_only ? "prediction_feedback f JOIN prediction_rows r ON r.id = f.id"
                                         : "prediction_rows r LEFT JOIN prediction_feedback f ON f.id = r.id") +
                    " JOIN prediction_contexts c ON c.id = r.context WHERE ";
  sql += std::string(key) + " >= " + param(SqlBlob{std::string(PredictionId::first_of(query.since_ms).raw())});
  PredictionId upper = PredictionId::first_of(query.until_ms == std::numeric_limits<std::int64_t>::max() ? (std::int64_t{1} << 48) - 1 : query.until_ms);
  if (query.before && *query.before < upper) upper = *query.before;
  sql += std::string(" AND ") + key + " < " + param(SqlBlob{std::string(upper.raw())});
  if (!query.endpoint.empty()) sql += " AND c.endpoint = " + param(query.endpoint);
  if (!query.model.empty()) sql += " AND c.model = " + param(query.model);
  if (query.version) sql += " AND c.version = " + param(*query.version);
  if (!query.arm.empty()) sql += " AND c.arm = " + param(query.arm);
  if (!query.include_shadows) sql += " AND c.arm NOT LIKE 'shadow:%'";
  sql += std::string(" ORDER BY ") + key + " DESC LIMIT " + param(static_cast<std::int64_t>(query.limit));
  return read_records(sql, params);
}

std::vector<bool> SqlPredictionSink::add_feedback(const std::vector<Feedback>& items) {
  std::lock_guard lock(mutex_);
  std::vector<bool> found(items.size(), false);
  const std::int64_t now = unix_ms_now();
  begin();
  try {
    for (std::size_t i = 0; i < items.size(); ++i) {
      const SqlBlob id{std::string(items[i].id.raw())};
      if (db_->query("SELECT 1 FROM prediction_rows WHERE id = ?1", {id}).empty()) continue;
      char label[40];
      std::snprintf(label, sizeof label, "%.17g", items[i].label);
      db_->query("INSERT INTO prediction_feedback (id, label, received_ms) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT (id) DO UPDATE SET label = excluded.label, received_ms = excluded.received_ms",
                 {id, std::string(label), now});
      found[i] = true;
    }
    db_->commit();
  } catch (...) {
    db_->rollback();
    throw;
  }
  return found;
}

std::vector<ArmTraffic> SqlPredictionSink::traffic(const std::string& endpoint, std::int64_t since_ms, std::int64_t until_ms) {
  std::lock_guard lock(mutex_);
  const SqlBlob low{std::string(PredictionId::first_of(since_ms).raw())}, high{std::string(PredictionId::first_of(until_ms).raw())};
  std::vector<ArmTraffic> out;
  std::vector<std::int64_t> context_ids;
  for (const SqlRow& row : db_->query("SELECT c.id, c.model, c.version, c.arm, COUNT(*), AVG(r.latency_us) FROM prediction_rows r "
                                      "JOIN prediction_contexts c ON c.id = r.context WHERE r.id >= ?1 AND r.id < ?2 AND c.endpoint = ?3 "
                                      "GROUP BY c.id, c.model, c.version, c.arm ORDER BY c.id",
                                      {low, high, endpoint})) {
    ArmTraffic arm;
    arm.endpoint = endpoint;
    arm.model = text_of(row[1]);
    arm.version = integer_of(row[2]);
    arm.arm = text_of(row[3]);
    arm.rows = static_cast<std::uint64_t>(integer_of(row[4]));
    arm.mean_latency_us = number_of(row[5]);
    context_ids.push_back(integer_of(row[0]));
    out.push_back(std::move(arm));
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    for (const SqlRow& row : db_->query("SELECT latency_us FROM prediction_rows WHERE id >= ?1 AND id < ?2 AND context = ?3 "
                                        "ORDER BY id DESC LIMIT 5000",
                                        {low, high, context_ids[i]})) {
      out[i].recent_latencies_us.push_back(number_of(row[0]));
    }
  }
  return out;
}

std::int64_t SqlPredictionSink::size_bytes() {
  std::lock_guard lock(mutex_);
  if (postgres_) {
    const auto rows = db_->query("SELECT pg_total_relation_size('prediction_rows') + pg_total_relation_size('prediction_feedback')");
    return rows.empty() ? 0 : integer_of(rows[0][0]);
  }
  // Used pages only: deleted rows' pages go to the freelist and are reused, so this is what
  // retention can bring down (the file itself does not shrink without VACUUM).
  const auto pages = db_->query("PRAGMA page_count");
  const auto free_pages = db_->query("PRAGMA freelist_count");
  const auto page_size = db_->query("PRAGMA page_size");
  return (integer_of(pages[0][0]) - integer_of(free_pages[0][0])) * integer_of(page_size[0][0]);
}

std::uint64_t SqlPredictionSink::apply_retention(const RetentionPolicy& policy) {
  std::lock_guard lock(mutex_);
  std::uint64_t removed = 0;
  auto delete_before = [&](const std::string& cutoff) {
    begin();
    try {
      const auto counted = db_->query("SELECT COUNT(*) FROM prediction_rows WHERE id < ?1", {SqlBlob{cutoff}});
      db_->query("DELETE FROM prediction_feedback WHERE id < ?1", {SqlBlob{cutoff}});
      db_->query("DELETE FROM prediction_rows WHERE id < ?1", {SqlBlob{cutoff}});
      db_->commit();
      removed += static_cast<std::uint64_t>(integer_of(counted[0][0]));
    } catch (...) {
      db_->rollback();
      throw;
    }
  };
  if (policy.max_age_ms) delete_before(std::string(PredictionId::first_of(unix_ms_now() - *policy.max_age_ms).raw()));
  if (policy.max_bytes) {
    const std::int64_t size = size_bytes();
    if (size > *policy.max_bytes) {
      // Remove the oldest share of rows that brings the size under the limit, plus 5% of headroom so
      // that retention does not run at every check.
      const auto total_rows = integer_of(db_->query("SELECT COUNT(*) FROM prediction_rows")[0][0]);
      const double share = std::min(1.0, static_cast<double>(size - *policy.max_bytes) / static_cast<double>(size) + 0.05);
      const auto to_remove = static_cast<std::int64_t>(static_cast<double>(total_rows) * share);
      if (to_remove > 0) {
        const auto cutoff = db_->query("SELECT id FROM prediction_rows ORDER BY id LIMIT 1 OFFSET ?1", {to_remove});
        if (cutoff.empty()) {
          delete_before(std::string(PredictionId::first_of((std::int64_t{1} << 48) - 1).raw()));
        } else {
          delete_before(decode_blob(db_->dialect(), text_of(cutoff[0][0])));
        }
      }
    }
  }
  return removed;
}

}  // namespace orchard
