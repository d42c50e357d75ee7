// Parity with the training libraries, driven by ../shared/fixtures/models/MANIFEST-engine.tsv: every
// line (model, input, expected, expected raw) is one test, so a new fixture is a new line.
// Each model is checked through all three paths: the batch engine (threaded), the single-row
// engine and the reference evaluator.
#include <gtest/gtest.h>

#include <cctype>

#include "engine/predictor.h"
#include "formats/model_loader.h"
#include "support/predictions.h"
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
  for (const auto& fields : testing::read_tsv_lines(models + manifest)) {
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

class Parity : public ::testing::TestWithParam<ManifestEntry> {};

TEST_P(Parity, MatchesLibraryOutputs) {
  const ManifestEntry& entry = GetParam();
  const Predictor predictor(load_model_file(entry.model), entry.model);
  std::size_t rows = 0;
  const std::vector<double> inputs = testing::read_feature_rows(predictor.model(), entry.input, rows);
  ASSERT_GT(rows, 0u);
  for (bool raw : {false, true}) {
    const auto expected = testing::read_numeric_csv(raw ? entry.raw : entry.expected);
    ASSERT_EQ(expected.size(), rows);
    testing::expect_engine_paths_match(predictor, inputs, rows, expected, raw, testing::kFixtureTolerance,
                                       raw ? "(raw)" : "(transformed)");
  }
  // The reference evaluator (the oracle of the compiled engine's own tests) matches as well.
  const Model& model = predictor.model();
  testing::expect_rows_within(testing::reference_predictions(model, inputs, rows, /*raw=*/true),
                              testing::read_numeric_csv(entry.raw), static_cast<std::size_t>(model.num_outputs),
                              testing::kFixtureTolerance, "reference evaluator (raw)");
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
