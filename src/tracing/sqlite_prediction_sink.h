// The prediction log in SQLite: DATA_DIR/predictions.db, apart from the registry so that heavy
// logging never contends with registry writes.
#pragma once

#include <memory>
#include <string>

#include "tracing/prediction_record.h"

namespace orchard {

class SqliteDatabase;

class SqlitePredictionSink final : public PredictionSink {
 public:
  explicit SqlitePredictionSink(const std::string& path);
  ~SqlitePredictionSink() override;
  void write(const std::vector<PredictionRecord>& batch) override;
  std::vector<PredictionRecord> find(const std::string& id) override;

 private:
  std::unique_ptr<SqliteDatabase> db_;
};

}  // namespace orchard
