#include "monitoring/drift_alert.h"

#include <cstdio>
#include <ctime>

namespace orchard {

std::string iso8601_utc(std::chrono::system_clock::time_point time) {
  const auto millis_total = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  std::int64_t seconds = millis_total / 1000, millis = millis_total % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  const auto t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis));
  return buffer;
}

nlohmann::json to_json(const DriftAlert& alert) {
  return {{"endpoint", alert.endpoint},
          {"model", alert.model},
          {"version", alert.version},
          {"subject", alert.subject},
          {"feature", alert.feature},
          {"psi", alert.psi},
          {"threshold", alert.threshold},
          {"window_seconds", alert.window.count()},
          {"rows", alert.rows},
          {"time", iso8601_utc(alert.time)}};
}

}  // namespace orchard
