// A feature (or a model output's distribution) whose drift crossed into "alert": what the drift
// monitor hands to the webhook and to anyone else who wants to be told.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace orchard {

struct DriftAlert {
  std::string endpoint, model;
  std::int64_t version = 0;
  std::string subject = "feature";  // "feature", or "prediction" for a model output's distribution
  std::string feature;              // the feature's (or output's) name
  double psi = 0;
  double threshold = 0;             // the alert threshold it crossed
  std::chrono::seconds window{0};   // the window the PSI was measured over
  std::uint64_t rows = 0;           // live rows in that window
  std::chrono::system_clock::time_point time;  // when the crossing was seen
};

// {"endpoint", "model", "version", "subject", "feature", "psi", "threshold", "window_seconds", "rows",
//  "time" (ISO-8601 UTC)}: the webhook's body.
nlohmann::json to_json(const DriftAlert& alert);

// ISO-8601 UTC with milliseconds ("2026-11-26T19:45:00.123Z").
std::string iso8601_utc(std::chrono::system_clock::time_point time);

}  // namespace orchard
