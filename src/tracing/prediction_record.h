// What the prediction log keeps of one predicted row.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace orchard {

struct PredictionRecord {
  std::string id;            // UUIDv7
  std::string time;          // ISO-8601 UTC
  std::string endpoint;
  std::string model;
  std::int64_t version = 0;
  std::string artifact_sha256;
  std::string arm;           // the route target that answered ("@production", "3"), or "shadow:..."
  std::string inputs_json;   // [value, ...] in the version's feature order, as the model saw them (null = missing)
  std::string outputs_json;  // [value, ...]
  double latency_us = 0;     // model time for the request this row came in
  std::string request_id;    // the client's X-Request-Id, if sent
  std::string traceparent;   // the client's W3C traceparent, if sent
};

// Where prediction records go. Implementations write batches (group commits) and are called from
// the prediction log's writer thread only.
class PredictionSink {
 public:
  virtual ~PredictionSink() = default;
  // Stores the batch atomically. Throws Error(kIo) if it cannot.
  virtual void write(const std::vector<PredictionRecord>& batch) = 0;
  virtual std::vector<PredictionRecord> find(const std::string& id) = 0;  // 0 or 1 record
};

}  // namespace orchard
