#include "evaluation/report.h"

namespace orchard {

nlohmann::ordered_json evaluation_report(std::int64_t version, std::int64_t size_bytes, const Evaluation& evaluation, bool with_speed) {
  nlohmann::ordered_json out = {{"version", version}};
  for (const MetricValue& m : evaluation.metrics) out[m.name] = m.value;
  if (with_speed) {
    out["p50_us"] = evaluation.p50_us;
    out["rows_per_s"] = evaluation.rows_per_s;
  }
  out["size_bytes"] = size_bytes;
  out["rows"] = evaluation.rows;
  return out;
}

bool report_higher_is_better(const std::string& key) {
  return !(key == "logloss" || key == "rmse" || key == "mae" || key == "p50_us" || key == "size_bytes");
}

}  // namespace orchard
