// The JSON form of an evaluation (`orchard evaluate --json`, the management API, --record): one
// object per version with lower-case metric keys, then p50_us, rows_per_s, size_bytes, rows.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "evaluation/evaluator.h"

namespace orchard {

nlohmann::ordered_json evaluation_report(std::int64_t version, std::int64_t size_bytes, const Evaluation& evaluation, bool with_speed);

// Whether a larger value of this report key is better (metrics, p50_us, rows_per_s, size_bytes).
bool report_higher_is_better(const std::string& key);

}  // namespace orchard
