// Where prediction records go and how they are read back. Implementations: SqlPredictionSink over
// SQLite (DATA/predictions.db) and PostgreSQL (the registry's database). The log's writer thread is
// the only writer; readers (lookups, searches, reports) may call from any thread, and implementations
// serialize internally.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "tracing/prediction_record.h"

namespace orchard {

// A search, newest first. Empty strings and nullopt match everything.
struct PredictionQuery {
  std::string endpoint;
  std::string model;
  std::optional<std::int64_t> version;
  std::string arm;
  std::int64_t since_ms = 0;                                      // inclusive
  std::int64_t until_ms = std::numeric_limits<std::int64_t>::max();  // exclusive
  std::optional<PredictionId> before;  // paging cursor: only ids older than this one
  std::size_t limit = 100;
  bool labelled_only = false;  // only rows with feedback
  bool include_shadows = true;
  // false: labelled rows come without their inputs, latency and texts (live quality reads many
  // thousands and needs only outputs and labels).
  bool with_inputs = true;
};

struct Feedback {
  PredictionId id;
  double label = 0;
};

// Traffic of one route arm over a window (the A/B report).
struct ArmTraffic {
  std::string endpoint, model, arm;
  std::int64_t version = 0;
  std::uint64_t rows = 0;
  double mean_latency_us = 0;
  std::vector<double> recent_latencies_us;  // the most recent rows' latencies (at most a few thousand), for percentiles
};

struct RetentionPolicy {
  std::optional<std::int64_t> max_age_ms;
  std::optional<std::int64_t> max_bytes;
};

class PredictionSink {
 public:
  virtual ~PredictionSink() = default;
  // Stores the entries atomically (one transaction). `sync`: commit durably (fsync) before returning.
  // Throws Error(kIo) if it cannot. The views are valid only during the call.
  virtual void write(const std::vector<PredictionView>& batch, bool sync) = 0;

  virtual std::optional<PredictionRecord> find(const PredictionId& id) = 0;
  // Several at once (a batch of feedback): one result per id, in order.
  virtual std::vector<std::optional<PredictionRecord>> find_many(const std::vector<PredictionId>& ids) {
    std::vector<std::optional<PredictionRecord>> out;
    out.reserve(ids.size());
    for (const PredictionId& id : ids) out.push_back(find(id));
    return out;
  }
  virtual std::vector<PredictionRecord> search(const PredictionQuery& query) = 0;

  // Attaches labels; returns, per item, whether its prediction exists (unknown ids are not stored).
  // A second label for the same prediction replaces the first.
  virtual std::vector<bool> add_feedback(const std::vector<Feedback>& items) = 0;

  // Per (endpoint, model, version, arm) with rows in [since_ms, until_ms), shadows included.
  virtual std::vector<ArmTraffic> traffic(const std::string& endpoint, std::int64_t since_ms, std::int64_t until_ms) = 0;

  // Deletes the oldest records (and their feedback) beyond the policy; returns how many.
  virtual std::uint64_t apply_retention(const RetentionPolicy& policy) = 0;
  // Bytes the log takes (approximately: the database's used pages or the tables' size).
  virtual std::int64_t size_bytes() = 0;
};

}  // namespace orchard
