// Building the IR from XGBoost's model document, shared by the JSON and UBJSON loaders (which only
// differ in how the document is parsed). Internal to the formats area.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model.h"

namespace orchard {

// XGBoost stores every real number as a 32-bit float. Parsing them straight into float (strtof)
// rather than through double avoids double rounding, so thresholds are bit-for-bit XGBoost's.
using XgboostDocument = nlohmann::basic_json<std::map, std::vector, std::string, bool, std::int64_t, std::uint64_t, float>;

Model build_xgboost_model(const XgboostDocument& root, const std::string& where, const std::string& format);

}  // namespace orchard
