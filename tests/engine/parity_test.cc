// Parity with the training libraries, driven by ../shared/fixtures/models/MANIFEST-engine.tsv: every
// line (model, input, expected, expected raw) is one test, so a new fixture is a new line.
// Each model is checked through all three paths: the batch engine (threaded), the single-row
// engine and the reference evaluator.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "tabular/column_mapping.h"
#include "tabular/csv_reader.h"
#include "engine/predictor.h"
#include "engine/reference_evaluator.h"
#include "engine/thread_pool.h"
#include "formats/model_loader.h"
#include "support/test_support.h"

namespace orchard {
namespace {

struct ManifestEntry {
  std::string model, input, expected, raw;
};

// Readable test parameters in gtest's output.
void PrintTo(const ManifestEntry& entry, std::ostream* os) { *os << entry.model; }

// Reads a manifest (model, input, expected, raw; paths relative to the manifest's directory).
std::vector<ManifestEntry> read_manifest_file(const std::string& models, const std::string& manifest) {
  std::vector<ManifestEntry> entries;
  std::ifstream in(models + manifest);
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
    if (fields.size() < 4) continue;
    entries.push_back({models + fields[0], models + fields[1], models + fields[2], models + fields[3]});
  }
  return entries;
}

// The shared fixtures (when present) and the repository's own demo models (always).
std::vector<ManifestEntry> read_manifest() {
  std::vector<ManifestEntry> entries;
  if (auto dir = testing::fixtures_dir()) entries = read_manifest_file(*dir + "/models/", "MANIFEST-engine.tsv");
  return entries;
}

std::vector<ManifestEntry> read_examples_manifest() {
  return read_manifest_file(testing::source_dir() + "/examples/", "MANIFEST.tsv");
}

std::string test_name(const ::testing::TestParamInfo<ManifestEntry>& info) {
  const std::size_t models = info.param.model.find("/models/");
  std::string name = models != std::string::npos ? info.param.model.substr(models + 8)
                                                 : info.param.model.substr(info.param.model.find("/examples/") + 10);
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

void expect_matches(const std::vector<double>& actual, const std::vector<std::vector<double>>& expected, std::size_t width,
                    const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size() * width) << what;
  std::size_t failures = 0;
  for (std::size_t r = 0; r < expected.size(); ++r) {
    ASSERT_EQ(expected[r].size(), width) << what << ": expected file row " << r;
    for (std::size_t k = 0; k < width; ++k) {
      const double a = actual[r * width + k];
      const double e = expected[r][k];
      if (!testing::within_tolerance(a, e) && failures++ < 5) {
        ADD_FAILURE() << what << ": row " << r << " output " << k << ": got " << a << ", expected " << e
                      << " (diff " << std::abs(a - e) << ")";
      }
    }
  }
  EXPECT_EQ(failures, 0u) << what << ": values outside tolerance";
}

class Parity : public ::testing::TestWithParam<ManifestEntry> {};

TEST_P(Parity, MatchesLibraryOutputs) {
  const ManifestEntry& entry = GetParam();
  const Predictor predictor(load_model_file(entry.model), entry.model);
  std::size_t rows = 0;
  const std::vector<double> inputs = read_inputs(predictor.model(), entry.input, rows);
  ASSERT_GT(rows, 0u);
  ThreadPool pool(2);
  for (bool raw : {false, true}) {
    const auto expected = testing::read_numeric_csv(raw ? entry.raw : entry.expected);
    ASSERT_EQ(expected.size(), rows);
    const std::size_t width = static_cast<std::size_t>(predictor.num_values(raw));
    const std::string mode = raw ? " (raw)" : " (transformed)";

    std::vector<double> batch(rows * width);
    predictor.predict_rows(inputs.data(), rows, batch.data(), raw, &pool);
    expect_matches(batch, expected, width, "batch" + mode);

    std::vector<double> single(rows * width);
    const std::size_t nf = static_cast<std::size_t>(predictor.num_features());
    for (std::size_t r = 0; r < rows; ++r) predictor.predict_row(inputs.data() + r * nf, single.data() + r * width, raw);
    expect_matches(single, expected, width, "single row" + mode);
    // The two engine paths agree bit for bit.
    EXPECT_EQ(batch, single);
  }
  // The reference evaluator (the oracle of the compiled engine's own tests) matches as well.
  const Model& model = predictor.model();
  const auto expected_raw = testing::read_numeric_csv(entry.raw);
  std::vector<double> reference(rows * static_cast<std::size_t>(model.num_outputs));
  const std::size_t nf = static_cast<std::size_t>(model.num_features());
  for (std::size_t r = 0; r < rows; ++r) {
    double* out = reference.data() + r * static_cast<std::size_t>(model.num_outputs);
    reference_margins(model, inputs.data() + r * nf, out);
    if (model.raw_is_averaged) for (int k = 0; k < model.num_outputs; ++k) out[k] /= model.average_divisor;
  }
  expect_matches(reference, expected_raw, static_cast<std::size_t>(model.num_outputs), "reference evaluator (raw)");
}

INSTANTIATE_TEST_SUITE_P(Manifest, Parity, ::testing::ValuesIn(read_manifest()), test_name);
INSTANTIATE_TEST_SUITE_P(Examples, Parity, ::testing::ValuesIn(read_examples_manifest()), test_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Parity);

TEST(ParityExamples, Present) { EXPECT_EQ(read_examples_manifest().size(), 3u); }

TEST(ParityFixtures, Present) {
  if (!testing::fixtures_dir()) {
    GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES or place them at ../shared/fixtures): parity tests did not run";
  }
  EXPECT_GE(read_manifest().size(), 26u);
}

}  // namespace
}  // namespace orchard
