// The prediction log in SQL: SQLite (DATA/predictions.db, apart from the registry so that heavy
// logging never contends with registry writes) or PostgreSQL (the registry's database, so that every
// replica's predictions are in one place).
//
// Tables (prefixed prediction_ so they sit beside the registry's in PostgreSQL):
//   prediction_contexts  one row per (endpoint, model, version, artifact, arm) that answered
//   prediction_rows      one row per predicted row: the 16-byte UUIDv7 id as the primary key (so a
//                        time range is a key range), the context, inputs and outputs as
//                        little-endian IEEE-754 doubles (exact, and no text formatting on the
//                        writer), the request's model latency, X-Request-Id, traceparent and caller
//   prediction_feedback  the label given later for a prediction id
// Endpoint, model and version filters scan the time range (no secondary index: it would double the
// cost of every insert); searches should give a time range when the log is large.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "registry/sql_database.h"
#include "tracing/prediction_sink.h"

namespace orchard {

class SqlPredictionSink final : public PredictionSink {
 public:
  explicit SqlPredictionSink(std::unique_ptr<SqlDatabase> db);
  ~SqlPredictionSink() override;

  // "postgresql://..." opens PostgreSQL; anything else is the path of a SQLite file.
  static std::unique_ptr<SqlPredictionSink> open(const std::string& location);

  void write(const std::vector<PredictionView>& batch, bool sync) override;
  std::optional<PredictionRecord> find(const PredictionId& id) override;
  std::vector<PredictionRecord> search(const PredictionQuery& query) override;
  std::vector<bool> add_feedback(const std::vector<Feedback>& items) override;
  std::vector<ArmTraffic> traffic(const std::string& endpoint, std::int64_t since_ms, std::int64_t until_ms) override;
  std::uint64_t apply_retention(const RetentionPolicy& policy) override;
  std::int64_t size_bytes() override;

 private:
  std::int64_t context_id(const PredictionContext& context);  // cached; inserted on first use
  void begin();
  std::vector<PredictionRecord> read_records(const std::string& sql, const std::vector<SqlParam>& params);

  std::recursive_mutex mutex_;  // one connection: the writer and readers take turns
  std::unique_ptr<SqlDatabase> db_;
  bool postgres_ = false;
  int synchronous_ = -1;  // SQLite: the PRAGMA synchronous in force (1 NORMAL, 2 FULL)
  std::map<std::tuple<std::string, std::string, std::int64_t, std::string, std::string>, std::int64_t> contexts_;
};

}  // namespace orchard
