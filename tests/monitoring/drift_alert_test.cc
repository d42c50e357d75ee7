#include "monitoring/drift_alert.h"

#include <gtest/gtest.h>

namespace orchard {
namespace {

TEST(DriftAlert, TimesAreIso8601UtcWithMilliseconds) {
  using namespace std::chrono;
  EXPECT_EQ(iso8601_utc(system_clock::time_point(milliseconds(0))), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_utc(system_clock::time_point(milliseconds(1795722300123))), "2026-11-26T19:45:00.123Z");
  EXPECT_EQ(iso8601_utc(system_clock::time_point(milliseconds(-1))), "1969-12-31T23:59:59.999Z");
}

TEST(DriftAlert, JsonCarriesEveryField) {
  DriftAlert alert;
  alert.endpoint = "churn";
  alert.model = "churn-model";
  alert.version = 3;
  alert.feature = "tenure";
  alert.psi = 1.5;
  alert.threshold = 0.25;
  alert.window = std::chrono::seconds(900);
  alert.rows = 600;
  alert.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795722300123));
  const nlohmann::json json = to_json(alert);
  EXPECT_EQ(json, nlohmann::json::parse(R"({"endpoint": "churn", "model": "churn-model", "version": 3, "subject": "feature",
      "feature": "tenure", "psi": 1.5, "threshold": 0.25, "window_seconds": 900, "rows": 600,
      "time": "2026-11-26T19:45:00.123Z"})"));
}

}  // namespace
}  // namespace orchard
