// ONNX-ML parity, driven by ../shared/fixtures/models/MANIFEST-onnx.tsv: every line (model, input,
// expected, raw, tolerance) is one test, so a new fixture is a new line. Each model is checked through
// the Predictor (batch, single row and the reference evaluator) and through `orchard predict`, whose
// columns must be the class probabilities (classifiers) or the prediction (regressors).
#include <gtest/gtest.h>

#include <cctype>
#include <iostream>
#include <string>
#include <vector>

#include "engine/predictor.h"
#include "formats/model_loader.h"
#include "support/predictions.h"
#include "support/test_support.h"

namespace orchard {
namespace {

struct OnnxEntry {
  std::string model, input, expected;
  double tolerance = 0.0;
};

void PrintTo(const OnnxEntry& entry, std::ostream* os) { *os << entry.model; }

std::vector<OnnxEntry> read_onnx_manifest() {
  std::vector<OnnxEntry> entries;
  const auto fixtures = testing::fixtures_dir();
  if (!fixtures) return entries;
  const std::string models = *fixtures + "/models/";
  for (const auto& fields : testing::read_tsv_lines(models + "MANIFEST-onnx.tsv")) {
    if (fields.size() < 5) continue;
    entries.push_back({models + fields[0], models + fields[1], models + fields[2], std::stod(fields[4])});
  }
  return entries;
}

std::string test_name(const ::testing::TestParamInfo<OnnxEntry>& info) {
  std::string name = info.param.model.substr(info.param.model.rfind('/') + 1);
  name = name.substr(0, name.rfind('.'));
  for (char& c : name) if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

class OnnxParity : public ::testing::TestWithParam<OnnxEntry> {};

TEST_P(OnnxParity, PredictorMatchesTheLibrary) {
  const OnnxEntry& entry = GetParam();
  const Predictor predictor(load_model_file(entry.model), entry.model);
  EXPECT_EQ(predictor.model().source_format, "onnx");
  std::size_t rows = 0;
  const std::vector<double> inputs = testing::read_feature_rows(predictor.model(), entry.input, rows);
  ASSERT_GT(rows, 0u);
  const auto expected = testing::read_numeric_csv(entry.expected);
  ASSERT_EQ(expected.size(), rows);
  const std::size_t width = static_cast<std::size_t>(predictor.num_values(false));
  ASSERT_EQ(width, expected[0].size()) << "one column per class (classifiers) or the prediction (regressors)";

  // Batch and single row (bit for bit the same), then the reference evaluator (the compiled engine's oracle).
  const double worst = testing::expect_engine_paths_match(predictor, inputs, rows, expected, /*raw=*/false, entry.tolerance,
                                                          "(transformed)");
  RecordProperty("max_abs_error", std::to_string(worst));
  std::cout << "[ parity   ] " << test_name({entry, 0}) << ": max abs error " << worst << "\n";
  testing::expect_rows_within(testing::reference_predictions(predictor.model(), inputs, rows, /*raw=*/false), expected, width,
                              entry.tolerance, "reference evaluator");
}

TEST_P(OnnxParity, OrchardPredictPrintsTheSameColumns) {
  const OnnxEntry& entry = GetParam();
  const std::string out = testing::temp_dir() + "/" + test_name({entry, 0}) + ".csv";
  const testing::CommandResult result = testing::run_orchard("predict '" + entry.model + "' '" + entry.input + "' -o '" + out + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto expected = testing::read_numeric_csv(entry.expected);
  const auto printed = testing::read_numeric_csv(out, /*skip_header=*/true);
  ASSERT_EQ(printed.size(), expected.size());
  std::vector<double> flat;
  for (const auto& row : printed) flat.insert(flat.end(), row.begin(), row.end());
  testing::expect_rows_within(flat, expected, expected[0].size(), entry.tolerance, "orchard predict");
}

INSTANTIATE_TEST_SUITE_P(Manifest, OnnxParity, ::testing::ValuesIn(read_onnx_manifest()), test_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OnnxParity);

TEST(OnnxParityFixtures, Present) {
  if (!testing::fixtures_dir()) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES): ONNX parity tests did not run";
  EXPECT_GE(read_onnx_manifest().size(), 10u);
}

}  // namespace
}  // namespace orchard
