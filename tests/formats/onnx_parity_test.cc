// ONNX-ML parity, driven by ../shared/fixtures/models/MANIFEST-onnx.tsv: every line (model, input,
// expected, raw, tolerance) is one test, so a new fixture is a new line. Each model is checked through
// the Predictor (batch, single row and the reference evaluator) and through `orchard predict`, whose
// columns must be the class probabilities (classifiers) or the prediction (regressors).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "engine/predictor.h"
#include "engine/output_transform.h"
#include "engine/reference_evaluator.h"
#include "engine/thread_pool.h"
#include "formats/model_loader.h"
#include "support/test_support.h"
#include "tabular/column_mapping.h"
#include "tabular/csv_reader.h"

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
  std::ifstream in(models + "MANIFEST-onnx.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
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

std::vector<double> read_inputs(const Model& model, const std::string& path, std::size_t& rows) {
  CsvReader reader(path);
  ColumnMapping mapping(model, reader.header(), path);
  std::vector<double> values;
  std::vector<std::string_view> cells;
  rows = 0;
  while (reader.next_row(cells)) {
    values.resize((rows + 1) * static_cast<std::size_t>(model.num_features()));
    mapping.fill(cells, reader.line_number(), values.data() + rows * static_cast<std::size_t>(model.num_features()));
    ++rows;
  }
  return values;
}

// Compares with the manifest's tolerance (absolute + relative); returns the largest absolute error.
double expect_matches(const std::vector<double>& actual, const std::vector<std::vector<double>>& expected, std::size_t width,
                      double tolerance, const std::string& what) {
  EXPECT_EQ(actual.size(), expected.size() * width) << what;
  double worst = 0.0;
  std::size_t failures = 0;
  for (std::size_t r = 0; r < expected.size() && (r + 1) * width <= actual.size(); ++r) {
    EXPECT_EQ(expected[r].size(), width) << what << ": expected file row " << r;
    for (std::size_t k = 0; k < width && k < expected[r].size(); ++k) {
      const double a = actual[r * width + k];
      const double e = expected[r][k];
      const double error = std::abs(a - e);
      worst = std::max(worst, std::isnan(error) ? INFINITY : error);
      if (!(error <= tolerance + tolerance * std::abs(e)) && failures++ < 5) {
        ADD_FAILURE() << what << ": row " << r << " output " << k << ": got " << a << ", expected " << e << " (diff " << error << ")";
      }
    }
  }
  EXPECT_EQ(failures, 0u) << what << ": values outside tolerance";
  return worst;
}

class OnnxParity : public ::testing::TestWithParam<OnnxEntry> {};

TEST_P(OnnxParity, PredictorMatchesTheLibrary) {
  const OnnxEntry& entry = GetParam();
  const Predictor predictor(load_model_file(entry.model), entry.model);
  EXPECT_EQ(predictor.model().source_format, "onnx");
  std::size_t rows = 0;
  const std::vector<double> inputs = read_inputs(predictor.model(), entry.input, rows);
  ASSERT_GT(rows, 0u);
  const auto expected = testing::read_numeric_csv(entry.expected);
  ASSERT_EQ(expected.size(), rows);
  const std::size_t width = static_cast<std::size_t>(predictor.num_values(false));
  ASSERT_EQ(width, expected[0].size()) << "one column per class (classifiers) or the prediction (regressors)";

  ThreadPool pool(2);
  std::vector<double> batch(rows * width);
  predictor.predict_rows(inputs.data(), rows, batch.data(), false, &pool);
  const double worst = expect_matches(batch, expected, width, entry.tolerance, "batch");
  RecordProperty("max_abs_error", std::to_string(worst));
  std::cout << "[ parity   ] " << test_name({entry, 0}) << ": max abs error " << worst << "\n";

  std::vector<double> single(rows * width);
  const std::size_t nf = static_cast<std::size_t>(predictor.num_features());
  for (std::size_t r = 0; r < rows; ++r) predictor.predict_row(inputs.data() + r * nf, single.data() + r * width, false);
  EXPECT_EQ(batch, single) << "the batch and single-row paths agree bit for bit";

  // The reference evaluator (the compiled engine's oracle) gives the same predictions.
  const Model& model = predictor.model();
  std::vector<double> margins(static_cast<std::size_t>(model.num_outputs));
  std::vector<double> reference(rows * width);
  for (std::size_t r = 0; r < rows; ++r) {
    reference_margins(model, inputs.data() + r * nf, margins.data());
    for (double& m : margins) m /= model.average_divisor;
    apply_output_transform(model.transform, margins.data(), model.num_outputs, reference.data() + r * width);
  }
  expect_matches(reference, expected, width, entry.tolerance, "reference evaluator");
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
  expect_matches(flat, expected, expected[0].size(), entry.tolerance, "orchard predict");
}

INSTANTIATE_TEST_SUITE_P(Manifest, OnnxParity, ::testing::ValuesIn(read_onnx_manifest()), test_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OnnxParity);

TEST(OnnxParityFixtures, Present) {
  if (!testing::fixtures_dir()) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES): ONNX parity tests did not run";
  EXPECT_GE(read_onnx_manifest().size(), 10u);
}

}  // namespace
}  // namespace orchard
