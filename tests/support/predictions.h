// Checking a model's predictions on a fixture's rows against the training library's, shared by the
// manifest-driven parity tests (tests/engine/parity_test.cc, tests/formats/onnx_parity_test.cc).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/predictor.h"

namespace orchard::testing {

// The lines of a tab-separated manifest, split into fields; blank lines and '#' comments are skipped.
// A missing file gives no lines.
std::vector<std::vector<std::string>> read_tsv_lines(const std::string& path);

// The rows of a CSV with a header, mapped onto `model`'s features by column name (as `orchard predict`
// maps them): rows × num_features values, row-major, NaN for missing. Sets `rows`.
std::vector<double> read_feature_rows(const Model& model, const std::string& csv_path, std::size_t& rows);

// Expects `actual` (row-major, `width` values per row) to hold `expected` row for row, each value within
// |actual - expected| <= tolerance + tolerance * |expected|. Reports at most five values in failures,
// each prefixed by `what`. Returns the largest absolute error (infinity for a NaN error).
double expect_rows_within(const std::vector<double>& actual, const std::vector<std::vector<double>>& expected,
                          std::size_t width, double tolerance, const std::string& what);

// One row (model order, NaN = missing) through `predictor`'s single-row path: num_values(raw) values.
std::vector<double> predict_row(const Predictor& predictor, const std::vector<double>& row, bool raw = false);
// The same for `model`, compiled for this one call.
std::vector<double> predict_row(const Model& model, const std::vector<double>& row, bool raw = false);

// The tolerance of the fixtures' README (within_tolerance in test_support.h).
constexpr double kFixtureTolerance = 1e-6;

// Runs `predictor` over `rows` rows of `inputs` (model order) through both engine paths, the batch
// (threaded, on a pool of two) and the single row, with `raw` outputs. Each must match `expected`
// within `tolerance` (expect_rows_within; failures say "batch <mode>" / "single row <mode>"), and the two
// must agree bit for bit. Returns the batch's largest absolute error.
double expect_engine_paths_match(const Predictor& predictor, const std::vector<double>& inputs, std::size_t rows,
                                 const std::vector<std::vector<double>>& expected, bool raw, double tolerance,
                                 const std::string& mode);

// What the reference evaluator (the compiled engine's oracle) predicts for `rows` rows of `inputs`:
// margins averaged as the model says, then (unless `raw`) the output transform. num_values(raw) per row.
std::vector<double> reference_predictions(const Model& model, const std::vector<double>& inputs, std::size_t rows, bool raw);

}  // namespace orchard::testing
