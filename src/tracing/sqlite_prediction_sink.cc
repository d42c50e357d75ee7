#include "tracing/sqlite_prediction_sink.h"

#include "registry/sqlite_database.h"

namespace orchard {

SqlitePredictionSink::SqlitePredictionSink(const std::string& path) : db_(std::make_unique<SqliteDatabase>(path)) {
  // Batches are committed as one transaction each (group commit); NORMAL sync in WAL mode keeps the
  // database consistent on a crash, losing at most the last commits (the async mode's window).
  db_->exec_script("PRAGMA synchronous=NORMAL;");
  db_->exec_script(R"sql(
CREATE TABLE IF NOT EXISTS predictions (
  id TEXT PRIMARY KEY,
  time TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  artifact_sha256 TEXT NOT NULL,
  arm TEXT NOT NULL,
  inputs_json TEXT NOT NULL,
  outputs_json TEXT NOT NULL,
  latency_us REAL NOT NULL,
  request_id TEXT NOT NULL,
  traceparent TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS predictions_endpoint_time ON predictions(endpoint, time);
)sql");
}

SqlitePredictionSink::~SqlitePredictionSink() = default;

void SqlitePredictionSink::write(const std::vector<PredictionRecord>& batch) {
  if (batch.empty()) return;
  db_->begin_write();
  try {
    std::vector<std::vector<SqlParam>> rows;
    rows.reserve(batch.size());
    for (const PredictionRecord& r : batch) {
      rows.push_back({r.id, r.time, r.endpoint, r.model, r.version, r.artifact_sha256, r.arm, r.inputs_json, r.outputs_json,
                      std::to_string(r.latency_us), r.request_id, r.traceparent});
    }
    db_->execute_many("INSERT OR REPLACE INTO predictions (id, time, endpoint, model, version, artifact_sha256, arm, inputs_json, "
                      "outputs_json, latency_us, request_id, traceparent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                      rows);
    db_->commit();
  } catch (...) {
    db_->rollback();
    throw;
  }
}

std::vector<PredictionRecord> SqlitePredictionSink::find(const std::string& id) {
  std::vector<PredictionRecord> out;
  for (const SqlRow& row : db_->query("SELECT id, time, endpoint, model, version, artifact_sha256, arm, inputs_json, outputs_json, "
                                      "latency_us, request_id, traceparent FROM predictions WHERE id = ?1",
                                      {id})) {
    PredictionRecord r;
    r.id = row[0].value_or("");
    r.time = row[1].value_or("");
    r.endpoint = row[2].value_or("");
    r.model = row[3].value_or("");
    r.version = std::stoll(row[4].value_or("0"));
    r.artifact_sha256 = row[5].value_or("");
    r.arm = row[6].value_or("");
    r.inputs_json = row[7].value_or("");
    r.outputs_json = row[8].value_or("");
    r.latency_us = std::stod(row[9].value_or("0"));
    r.request_id = row[10].value_or("");
    r.traceparent = row[11].value_or("");
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace orchard
