// What the prediction log keeps: the entries requests hand to it (write side) and the records that
// lookups and searches return (read side).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/predictor.h"
#include "tracing/prediction_id.h"

namespace orchard {

// Who answered: shared by every row that one route arm of one endpoint answers, so a request carries
// a pointer, not five strings (the server builds one per arm when it loads a route).
struct PredictionContext {
  std::string endpoint;
  std::string model;
  std::int64_t version = 0;
  std::string artifact_sha256;
  std::string arm;  // the route target that answered ("@production", "3"), or "shadow:N"
  std::shared_ptr<const Predictor> predictor;  // feature count and names; kept alive while queued

  bool is_shadow() const { return arm.rfind("shadow:", 0) == 0; }
};

// One request's rows as the log sees them: views into memory someone else owns (the request's
// buffers while it is enqueued, the log's ring buffer while it is written and observed).
struct PredictionView {
  const PredictionContext* context = nullptr;
  const PredictionId* ids = nullptr;  // count(), increasing
  const double* rows = nullptr;       // count() * num_features, in the version's feature order, NaN = missing
  const double* outputs = nullptr;    // count() * width
  const PredictionId* origins = nullptr;  // shadow rows: the live prediction each one shadows (count()); else nullptr
  std::size_t rows_count = 0;
  int num_features_count = 0;
  int width = 0;
  bool raw = false;      // outputs are margins (a --raw request), not predictions
  bool durable = false;  // the caller waits until this entry is committed
  double latency_us = 0;           // model time of the whole request
  std::string_view request_id;     // the client's X-Request-Id, if sent
  std::string_view traceparent;    // the client's W3C traceparent, if sent
  std::string_view caller;         // the API key's name once keys exist, else the client address

  std::size_t count() const { return rows_count; }
  int num_features() const { return num_features_count; }
};

// One request's rows with their own storage (tests, tools); view() lends them to the log.
struct PredictionEntry {
  std::shared_ptr<const PredictionContext> context;
  std::vector<PredictionId> ids;  // one per row, increasing
  std::vector<double> rows;       // ids.size() * num_features, in the version's feature order, NaN = missing
  std::vector<double> outputs;    // ids.size() * width
  std::vector<PredictionId> origins;  // shadow rows: the live prediction each one shadows; else empty
  int width = 0;
  bool raw = false;
  bool durable = false;
  double latency_us = 0;
  std::string request_id;
  std::string traceparent;
  std::string caller;

  std::size_t count() const { return ids.size(); }
  // The version's feature count; without a predictor (tests), what the rows hold per id.
  int num_features() const {
    if (context && context->predictor) return context->predictor->num_features();
    return ids.empty() ? 0 : static_cast<int>(rows.size() / ids.size());
  }
  PredictionView view() const {
    return {context.get(), ids.data(), rows.data(), outputs.data(), origins.size() == ids.size() && !ids.empty() ? origins.data() : nullptr,
            ids.size(), num_features(), width, raw, durable, latency_us, request_id, traceparent, caller};
  }
};

// Views of several entries (the entries must outlive the views).
inline std::vector<PredictionView> views_of(const std::vector<PredictionEntry>& entries) {
  std::vector<PredictionView> out;
  out.reserve(entries.size());
  for (const PredictionEntry& e : entries) out.push_back(e.view());
  return out;
}

// One logged row, as read back.
struct PredictionRecord {
  PredictionId id;
  std::int64_t time_ms = 0;  // from the id
  std::string endpoint, model, artifact_sha256, arm;
  std::int64_t version = 0;
  bool raw = false;
  std::vector<double> inputs;   // in the version's feature order, NaN = missing
  std::vector<double> outputs;
  double latency_us = 0;
  std::string request_id, traceparent, caller;
  std::optional<PredictionId> shadow_of;  // a shadow row: the live prediction it shadows (its label is this one's)
  std::optional<double> label;  // feedback, once given
  std::int64_t label_time_ms = 0;
};

}  // namespace orchard
