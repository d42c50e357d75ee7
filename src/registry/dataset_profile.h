// The training data behind a version: its fingerprint (digest and shape) and its reference profile,
// the distribution that drift is later measured against.
//
// Profile (JSON, "format": 1):
//   rows; per model feature: missing count and rate, and either decile bins (numeric: up to 9 cut
//   points `edges`, `counts` per bin, bin i holding edges[i-1] < x <= edges[i]) or category
//   frequencies (categorical features, the 100 most frequent codes plus "other"); per model output:
//   the same decile bins over the model's predictions on the data.
#pragma once

#include <string>

#include "engine/predictor.h"
#include "registry/records.h"

namespace orchard {

struct DatasetSummary {
  DatasetFingerprint fingerprint;
  std::string profile_json;
};

// Reads `csv_path` (header row; columns matched to the model's features like `orchard predict`;
// `label_column`, if not empty, must exist and is left out of the shape's feature count check).
// Throws Error(kInvalidArgument) for a file the model cannot read, naming line and column.
DatasetSummary summarize_dataset(const std::string& csv_path, const std::string& label_column, const Predictor& predictor);

}  // namespace orchard
