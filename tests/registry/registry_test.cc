// Tests of registry/registry: push (with lineage and reference profile), resolve, load, promote and
// rollback, gc, on the embedded store (Registry::open_local) and the repository's example models.
#include "registry/registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_bytes.h"
#include "common/sha256.h"
#include "formats/model_loader.h"
#include "monitoring/reference_profile.h"
#include "support/test_support.h"
#include "tabular/column_mapping.h"
#include "tabular/csv_reader.h"

namespace orchard {
namespace {
using testing::kind_name;
namespace fs = std::filesystem;
using nlohmann::json;

std::string example(const std::string& relative) { return testing::source_dir() + "/examples/" + relative; }
const std::string kChurnXgb = "churn/churn_xgboost.ubj";
const std::string kChurnLgb = "churn/churn_lightgbm.txt";
const std::string kChurnCsv = "churn/customers.csv";
const std::string kIrisXgb = "iris/iris_xgboost.json";
const std::string kIrisCsv = "iris/flowers.csv";

// The CSV as a header and cells (the examples have no quoted fields).
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::size_t column(const std::string& name) const {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    throw std::runtime_error("no column " + name);
  }
};

Table read_table(const std::string& path) {
  std::ifstream in(path);
  Table table;
  std::string line;
  std::getline(in, line);
  table.header = testing::split_commas(line);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) table.rows.push_back(testing::split_commas(line));
  }
  return table;
}

bool is_missing(const std::string& cell) { return cell.empty() || cell == "NaN" || cell == "nan"; }

// Rows of `csv` in the model's feature order, the way `orchard predict` reads them.
std::vector<double> feature_rows(const Predictor& predictor, const std::string& csv, std::size_t& n) {
  CsvReader reader(csv);
  const ColumnMapping mapping(predictor.model(), reader.header(), csv);
  const std::size_t nf = static_cast<std::size_t>(predictor.num_features());
  std::vector<double> rows;
  std::vector<std::string_view> cells;
  n = 0;
  while (reader.next_row(cells)) {
    rows.resize(rows.size() + nf);
    mapping.fill(cells, reader.line_number(), rows.data() + n * nf);
    ++n;
  }
  return rows;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    data_ = testing::temp_dir() + "/registry-" + std::to_string(counter++);
    fs::remove_all(data_);
    registry_ = Registry::open_local(data_, "tester");
  }
  void TearDown() override {
    registry_.reset();
    std::error_code ec;
    fs::remove_all(data_, ec);
  }
  Registry& registry() { return *registry_; }

  VersionRecord push(const std::string& name, const std::string& file, const PushOptions& options = {}) {
    return registry().push(name, example(file), options);
  }
  // Nothing at all in the registry: no model, version, artifact, audit event or temporary file.
  void expect_nothing_written() {
    EXPECT_TRUE(registry().store().list_models().empty());
    EXPECT_TRUE(registry().store().audit_log("", 100).empty());
    EXPECT_TRUE(registry().artifacts().list().empty());
    EXPECT_TRUE(fs::is_empty(data_ + "/artifacts/tmp"));
  }

  std::string data_;
  std::unique_ptr<Registry> registry_;
};

// --- push ----------------------------------------------------------------------------------------

TEST_F(RegistryTest, PushRecordsTheVersionAndStoresTheArtifact) {
  PushOptions options;
  options.metrics = {{"auc", 0.93}, {"logloss", 0.21}};
  options.params = {{"max_depth", "6"}, {"eta", "0.1"}};
  options.tags = {{"team", "risk"}};
  options.alias = "staging";
  options.git_commit = "abc123";
  options.description = "first churn model";
  const VersionRecord v = push("churn", kChurnXgb, options);
  const std::string bytes = read_file_bytes(example(kChurnXgb));

  EXPECT_EQ(v.model, "churn");
  EXPECT_EQ(v.number, 1);
  EXPECT_EQ(v.format, "xgboost-ubjson");
  EXPECT_EQ(v.artifact_size, static_cast<std::int64_t>(bytes.size()));
  EXPECT_EQ(v.artifact_sha256, sha256_hex(bytes));
  EXPECT_EQ(registry().artifacts().read(v.artifact_sha256), bytes);
  EXPECT_EQ(v.source_path, fs::absolute(example(kChurnXgb)).string());
  EXPECT_EQ(v.load_check.rfind("ok: ", 0), 0u) << v.load_check;
  EXPECT_EQ(v.created_by, "tester");
  EXPECT_EQ(v.metrics, options.metrics);
  EXPECT_EQ(v.params, options.params);
  EXPECT_EQ(v.tags, options.tags);
  EXPECT_EQ(v.git_commit, "abc123");
  EXPECT_EQ(v.description, "first churn model");
  EXPECT_FALSE(v.dataset.has_value());
  EXPECT_EQ(v.profile_json, "");

  const json schema = json::parse(v.schema_json);
  std::vector<std::string> names;
  for (const auto& f : schema["features"]) names.push_back(f["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"age", "tenure", "monthly_charges", "plan", "region", "support_calls"}));
  EXPECT_EQ(schema["outputs"], json({"prediction"}));

  const auto alias = registry().store().find_alias("churn", "staging");
  ASSERT_TRUE(alias);
  EXPECT_EQ(alias->version, 1);

  // What the store holds is what push returned.
  const auto stored = registry().store().find_version("churn", 1);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->artifact_sha256, v.artifact_sha256);
  EXPECT_EQ(stored->schema_json, v.schema_json);
  EXPECT_EQ(stored->metrics, v.metrics);

  // The same file again: a new version, the same single artifact.
  EXPECT_EQ(push("churn", kChurnXgb).number, 2);
  EXPECT_EQ(registry().artifacts().list().size(), 1u);
  EXPECT_EQ(push("churn", kChurnLgb).number, 3);
  EXPECT_EQ(registry().artifacts().list().size(), 2u);
  EXPECT_EQ(registry().store().find_version("churn", 3)->format, "lightgbm-text");
}

TEST_F(RegistryTest, PushWithDatasetRecordsFingerprintAndProfile) {
  PushOptions options;
  options.dataset_path = example(kChurnCsv);
  options.label_column = "target";
  const VersionRecord v = push("churn", kChurnXgb, options);
  const Table table = read_table(example(kChurnCsv));
  const std::int64_t rows = static_cast<std::int64_t>(table.rows.size());
  ASSERT_EQ(rows, 100);

  ASSERT_TRUE(v.dataset.has_value());
  EXPECT_EQ(v.dataset->rows, rows);
  EXPECT_EQ(v.dataset->columns, 7);
  EXPECT_EQ(v.dataset->sha256, sha256_hex(read_file_bytes(example(kChurnCsv))));
  EXPECT_EQ(v.dataset->path, fs::absolute(example(kChurnCsv)).string());

  ASSERT_FALSE(v.profile_json.empty());
  const json profile = json::parse(v.profile_json);
  EXPECT_EQ(profile["format"], 1);
  EXPECT_EQ(profile["rows"], rows);
  const json schema = json::parse(v.schema_json);
  ASSERT_EQ(profile["features"].size(), schema["features"].size());  // one entry per feature, in model order
  ASSERT_EQ(profile["features"].size(), 6u);
  std::int64_t total_missing = 0;
  for (std::size_t f = 0; f < profile["features"].size(); ++f) {
    const json& entry = profile["features"][f];
    const std::string name = entry["name"];
    SCOPED_TRACE(name);
    EXPECT_EQ(name, schema["features"][f]["name"]);
    EXPECT_NE(name, "target");
    const std::size_t column = table.column(name);
    std::int64_t missing = 0;
    std::vector<double> values;
    for (const auto& row : table.rows) {
      if (is_missing(row[column])) ++missing;
      else values.push_back(std::stod(row[column]));
    }
    total_missing += missing;
    EXPECT_EQ(entry["missing"], missing);
    EXPECT_DOUBLE_EQ(entry["missing_rate"].get<double>(), static_cast<double>(missing) / static_cast<double>(rows));
    ASSERT_EQ(entry["kind"], "numeric");
    const std::vector<double> edges = entry["edges"];
    const std::vector<std::int64_t> counts = entry["counts"];
    ASSERT_FALSE(edges.empty());
    EXPECT_LE(edges.size(), 9u);
    EXPECT_EQ(counts.size(), edges.size() + 1);
    for (std::size_t i = 1; i < edges.size(); ++i) EXPECT_LT(edges[i - 1], edges[i]);
    std::int64_t sum = 0;
    for (auto c : counts) sum += c;
    EXPECT_EQ(sum, rows - missing);  // deciles count every non-missing value once
    // Bin i holds edges[i-1] < x <= edges[i].
    std::vector<std::int64_t> recount(edges.size() + 1, 0);
    for (double x : values) {
      std::size_t bin = 0;
      while (bin < edges.size() && x > edges[bin]) ++bin;
      ++recount[bin];
    }
    EXPECT_EQ(recount, counts);
  }
  EXPECT_GT(total_missing, 0);  // the example has gaps; the test means something

  ASSERT_EQ(profile["predictions"].size(), 1u);
  EXPECT_EQ(profile["predictions"][0]["name"], "prediction");
  std::int64_t predicted = 0;
  for (auto c : profile["predictions"][0]["counts"]) predicted += c.get<std::int64_t>();
  EXPECT_EQ(predicted, rows);
  for (double edge : profile["predictions"][0]["edges"]) {
    EXPECT_GE(edge, 0.0);  // probabilities
    EXPECT_LE(edge, 1.0);
  }

  const auto stored = registry().store().find_version("churn", 1);
  EXPECT_EQ(stored->profile_json, v.profile_json);
  ASSERT_TRUE(stored->dataset);
  EXPECT_EQ(stored->dataset->sha256, v.dataset->sha256);
}

// Infinite training values are counted (in the first or last bin) but never become a cut point:
// JSON has no infinity, and an edge written as null made the whole profile unreadable.
TEST_F(RegistryTest, InfiniteTrainingValuesLeaveTheProfileReadable) {
  std::string csv;
  int row = 0;
  for (const std::string& line : testing::lines_of(testing::read_text(example(kChurnCsv)))) {
    auto cells = testing::split_commas(line);
    if (row > 0 && row <= 30) cells[1] = row % 2 ? "-inf" : "inf";  // tenure
    for (std::size_t i = 0; i < cells.size(); ++i) csv += (i ? "," : "") + cells[i];
    csv += "\n";
    ++row;
  }
  PushOptions options;
  options.dataset_path = testing::write_file("churn-with-infinities.csv", csv);
  options.label_column = "target";
  const VersionRecord v = push("churn", kChurnXgb, options);
  const json profile = json::parse(v.profile_json);
  const json& tenure = profile["features"][1];
  ASSERT_EQ(tenure["name"], "tenure");
  for (const auto& edge : tenure["edges"]) EXPECT_TRUE(edge.is_number()) << tenure.dump();
  std::int64_t counted = 0;
  for (const auto& c : tenure["counts"]) counted += c.get<std::int64_t>();
  EXPECT_EQ(counted, 100 - tenure["missing"].get<std::int64_t>()) << "the infinite values are counted too";
  EXPECT_NO_THROW(parse_reference_profile(v.profile_json));
}

TEST_F(RegistryTest, ProfileOfCategoricalFeaturesCountsCategories) {
  PushOptions options;
  options.dataset_path = example(kChurnCsv);
  options.label_column = "target";
  const VersionRecord v = push("churn-lgb", kChurnLgb, options);
  const Table table = read_table(example(kChurnCsv));
  const json profile = json::parse(v.profile_json);
  ASSERT_EQ(profile["features"].size(), 6u);
  int categorical = 0;
  for (const json& entry : profile["features"]) {
    const std::string name = entry["name"];
    SCOPED_TRACE(name);
    const std::size_t column = table.column(name);
    std::int64_t missing = 0;
    for (const auto& row : table.rows) missing += is_missing(row[column]) ? 1 : 0;
    EXPECT_EQ(entry["missing"], missing);
    std::int64_t sum = 0;
    if (entry["kind"] == "categorical") {
      ++categorical;
      for (const auto& [code, count] : entry["frequencies"].items()) sum += count.get<std::int64_t>();
    } else {
      for (const auto& count : entry["counts"]) sum += count.get<std::int64_t>();
    }
    EXPECT_EQ(sum + missing, 100);
  }
  EXPECT_EQ(categorical, 2);  // plan and region
}

TEST_F(RegistryTest, ProfileHasOneDecileEntryPerOutput) {
  PushOptions options;
  options.dataset_path = example(kIrisCsv);
  options.label_column = "target";
  const VersionRecord v = push("iris", kIrisXgb, options);
  EXPECT_EQ(v.dataset->rows, 45);
  EXPECT_EQ(v.dataset->columns, 5);
  const json profile = json::parse(v.profile_json);
  EXPECT_EQ(profile["features"].size(), 4u);
  ASSERT_EQ(profile["predictions"].size(), 3u);
  for (const json& output : profile["predictions"]) {
    std::int64_t sum = 0;
    for (const auto& c : output["counts"]) sum += c.get<std::int64_t>();
    EXPECT_EQ(sum, 45) << output["name"];
  }
}

TEST_F(RegistryTest, PushOfANonModelFileIsRefusedWithTheEnginesErrorAndWritesNothing) {
  const std::string not_a_model = example(kChurnCsv);
  std::string engine_message;
  ErrorKind engine_kind = ErrorKind::kInternal;
  try {
    load_model_file(not_a_model);
    FAIL() << "the engine loaded a CSV file";
  } catch (const Error& e) {
    engine_message = e.what();
    engine_kind = e.kind();
  }
  try {
    registry().push("churn", not_a_model, {});
    FAIL() << "pushed a CSV file";
  } catch (const Error& e) {
    EXPECT_STREQ(kind_name(e.kind()), kind_name(engine_kind));
    EXPECT_STREQ(kind_name(e.kind()), "kInvalidModel");
    EXPECT_EQ(std::string(e.what()), engine_message);
  }
  expect_nothing_written();

  // A truncated model is refused the same way.
  const std::string bytes = read_file_bytes(example(kChurnXgb));
  const std::string truncated = testing::write_file("truncated-" + std::to_string(::getpid()) + ".ubj", bytes.substr(0, bytes.size() / 2));
  EXPECT_ERROR_KIND(registry().push("churn", truncated, {}), ErrorKind::kInvalidModel);
  expect_nothing_written();
  fs::remove(truncated);
}

TEST_F(RegistryTest, PushOfAMissingFileIsNotFoundAndWritesNothing) {
  EXPECT_ERROR_KIND(registry().push("churn", data_ + "/no-such-model.json", {}), ErrorKind::kNotFound);
  expect_nothing_written();
}

TEST_F(RegistryTest, PushWithABadNameAliasOrTagIsRefusedAndWritesNothing) {
  for (const std::string& name : std::vector<std::string>{"", "..", "a/b", "-x", "a b", "caf\xc3\xa9", std::string(129, 'a')}) {
    EXPECT_ERROR_KIND(push(name, kChurnXgb), ErrorKind::kInvalidArgument);
  }
  PushOptions bad_alias;
  bad_alias.alias = "../prod";
  EXPECT_ERROR_KIND(push("churn", kChurnXgb, bad_alias), ErrorKind::kInvalidArgument);
  PushOptions bad_tag;
  bad_tag.tags = {{"bad key", "v"}};
  EXPECT_ERROR_KIND(push("churn", kChurnXgb, bad_tag), ErrorKind::kInvalidArgument);
  PushOptions long_tag;
  long_tag.tags = {{"k", std::string(1025, 'v')}};
  EXPECT_ERROR_KIND(push("churn", kChurnXgb, long_tag), ErrorKind::kInvalidArgument);
  PushOptions bad_param;
  bad_param.params = {{"-p", "v"}};
  EXPECT_ERROR_KIND(push("churn", kChurnXgb, bad_param), ErrorKind::kInvalidArgument);
  expect_nothing_written();
}

TEST_F(RegistryTest, PushWithAnUnusableDatasetIsRefusedAndWritesNothing) {
  PushOptions bad_label;
  bad_label.dataset_path = example(kChurnCsv);
  bad_label.label_column = "no_such_column";
  EXPECT_ERROR_KIND(push("churn", kChurnXgb, bad_label), ErrorKind::kInvalidArgument);

  PushOptions wrong_data;  // iris measurements for the churn model: its features are missing
  wrong_data.dataset_path = example(kIrisCsv);
  EXPECT_ERROR_KIND(push("churn", kChurnXgb, wrong_data), ErrorKind::kInvalidArgument);

  PushOptions missing;
  missing.dataset_path = data_ + "/no-such.csv";
  EXPECT_ERROR_KIND(push("churn", kChurnXgb, missing), ErrorKind::kNotFound);
  expect_nothing_written();
}

// dataset_profile.h: the label column "is left out of the shape's feature count check", so a model
// without feature names (matched by position) can be pushed with its training file, label included.
// BUG (reported, not fixed): summarize_dataset passes the whole header, label included, to
// ColumnMapping, which then refuses 5 columns for 4 positional features. Enable when fixed.
TEST_F(RegistryTest, LabelColumnIsLeftOutForAModelWithoutFeatureNames) {
  json model = json::parse(read_file_bytes(example(kIrisXgb)));
  model["learner"]["feature_names"] = json::array();
  model["learner"]["feature_types"] = json::array();
  const std::string unnamed = data_ + "-iris-unnamed.json";
  std::ofstream(unnamed) << model.dump();
  ASSERT_FALSE(load_model_file(unnamed).has_feature_names);
  PushOptions options;
  options.dataset_path = example(kIrisCsv);  // 4 features, then "target"
  options.label_column = "target";
  try {
    const VersionRecord v = registry().push("iris", unnamed, options);
    EXPECT_EQ(v.dataset->rows, 45);
    EXPECT_EQ(json::parse(v.profile_json)["features"].size(), 4u);
  } catch (const Error& e) {
    ADD_FAILURE() << e.what();
  }
  fs::remove(unnamed);
}

// A version is only created for bytes the registry holds intact: pushing a file whose artifact is
// already stored but damaged on disk must not create a version that cannot be loaded.
// BUG (reported, not fixed): ArtifactStore::put returns early when a file with the digest's name
// exists, without checking it, so the new version points at the damaged bytes. Enable when fixed.
TEST_F(RegistryTest, PushOverADamagedArtifactStillGivesALoadableVersion) {
  const VersionRecord first = push("churn", kChurnXgb);
  const std::string path = registry().artifacts().path_of(first.artifact_sha256);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "damaged";
  VersionRecord second;
  try {
    second = push("churn", kChurnXgb);
  } catch (const Error&) {
    return;  // refusing is acceptable too
  }
  EXPECT_NO_THROW(registry().load(second));
}

// --- resolve -------------------------------------------------------------------------------------

TEST_F(RegistryTest, ResolveNameVersionAliasAndTheDefault) {
  push("churn", kChurnXgb);
  push("churn", kChurnLgb);
  push("churn", kChurnXgb);
  push("iris", kIrisXgb);

  // NAME: the latest version when there is no production alias.
  EXPECT_EQ(registry().resolve("churn").number, 3);
  EXPECT_EQ(registry().resolve("iris").number, 1);
  // ... the latest that is not archived.
  VersionUpdate archive;
  archive.archived = true;
  registry().store().update_version("churn", 3, archive, "tester");
  EXPECT_EQ(registry().resolve("churn").number, 2);
  // NAME:VERSION and NAME@ALIAS, archived or not.
  EXPECT_EQ(registry().resolve("churn:3").number, 3);
  EXPECT_EQ(registry().resolve("churn:1").number, 1);
  EXPECT_EQ(registry().resolve("churn:1").model, "churn");
  registry().promote("churn", 3, "staging");
  EXPECT_EQ(registry().resolve("churn@staging").number, 3);
  EXPECT_EQ(registry().resolve("churn").number, 2);  // staging is not the default
  // The production alias wins over "latest".
  registry().promote("churn", 1, "production");
  EXPECT_EQ(registry().resolve("churn").number, 1);
  EXPECT_EQ(registry().resolve("churn@production").number, 1);
  EXPECT_EQ(registry().resolve(ModelRef{"churn", std::nullopt, std::nullopt}).number, 1);
  EXPECT_EQ(registry().resolve(ModelRef{"churn", 2, std::nullopt}).number, 2);
  EXPECT_EQ(registry().resolve("iris").number, 1);

  EXPECT_ERROR_KIND(registry().resolve("churn:4"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(registry().resolve("churn@canary"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(registry().resolve("nope"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(registry().resolve("nope:1"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(registry().resolve("nope@production"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(registry().resolve("a/b"), ErrorKind::kInvalidArgument);
  EXPECT_ERROR_KIND(registry().resolve("churn:0"), ErrorKind::kInvalidArgument);

  // Every version archived and no production alias: nothing to resolve NAME to.
  registry().store().update_version("iris", 1, archive, "tester");
  EXPECT_ERROR_KIND(registry().resolve("iris"), ErrorKind::kNotFound);
  EXPECT_EQ(registry().resolve("iris:1").number, 1);
}

// --- load ----------------------------------------------------------------------------------------

TEST_F(RegistryTest, LoadedPredictorPredictsExactlyLikeTheOriginalFile) {
  struct Case {
    std::string model, data;
  };
  for (const Case& c : {Case{kChurnXgb, kChurnCsv}, Case{kChurnLgb, kChurnCsv}, Case{kIrisXgb, kIrisCsv}}) {
    SCOPED_TRACE(c.model);
    const VersionRecord v = push("m", c.model);
    const auto loaded = registry().load(v);
    ASSERT_TRUE(loaded);
    const Predictor original(load_model_file(example(c.model)), c.model);
    ASSERT_EQ(loaded->num_features(), original.num_features());
    ASSERT_EQ(loaded->num_values(false), original.num_values(false));

    std::size_t n = 0;
    std::vector<double> rows = feature_rows(original, example(c.data), n);
    // Plus random rows, with missing values.
    const std::size_t nf = static_cast<std::size_t>(original.num_features());
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> value(-10.0, 120.0);
    for (int r = 0; r < 200; ++r, ++n) {
      for (std::size_t f = 0; f < nf; ++f) {
        rows.push_back(rng() % 10 == 0 ? std::numeric_limits<double>::quiet_NaN() : std::floor(value(rng) * 8) / 8);
      }
    }
    for (bool raw : {false, true}) {
      const std::size_t nv = static_cast<std::size_t>(original.num_values(raw));
      std::vector<double> expected(n * nv), actual(n * nv), single(nv);
      original.predict_rows(rows.data(), n, expected.data(), raw);
      loaded->predict_rows(rows.data(), n, actual.data(), raw);
      for (std::size_t i = 0; i < expected.size(); ++i) ASSERT_EQ(actual[i], expected[i]) << "value " << i << " raw " << raw;
      for (std::size_t r = 0; r < n; r += 17) {
        loaded->predict_row(rows.data() + r * nf, single.data(), raw);
        for (std::size_t k = 0; k < nv; ++k) ASSERT_EQ(single[k], expected[r * nv + k]) << "row " << r;
      }
    }
    // Loading by reference gives the same model.
    EXPECT_EQ(registry().load(registry().resolve("m:" + std::to_string(v.number)))->describe(), original.describe());
  }
}

TEST_F(RegistryTest, LoadOfACorruptedArtifactIsAnIoError) {
  const VersionRecord v = push("churn", kChurnXgb);
  const std::string path = registry().artifacts().path_of(v.artifact_sha256);
  ASSERT_TRUE(fs::exists(path)) << path;
  ASSERT_TRUE(fs::path(path).string().find(data_ + "/artifacts/") == 0) << path;
  // Replace the artifact with another valid model: it must not be loaded silently in its place.
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << read_file_bytes(example(kChurnLgb));
  }
  try {
    registry().load(v);
    ADD_FAILURE() << "loaded a corrupted artifact";
  } catch (const Error& e) {
    EXPECT_STREQ(kind_name(e.kind()), "kIo") << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  // One flipped byte.
  {
    std::string bytes = read_file_bytes(example(kChurnXgb));
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 1);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  EXPECT_ERROR_KIND(registry().load(v), ErrorKind::kIo);
  // The record itself is still there.
  EXPECT_EQ(registry().resolve("churn").artifact_sha256, v.artifact_sha256);
  // Gone altogether.
  fs::remove(path);
  EXPECT_ERROR_KIND(registry().load(v), ErrorKind::kNotFound);
}

// --- promote and rollback --------------------------------------------------------------------------

TEST_F(RegistryTest, RollbackWalksBackThroughThePromotions) {
  for (int i = 0; i < 3; ++i) push("churn", kChurnXgb);
  EXPECT_EQ(registry().promote("churn", 1, "production").to_version, 1);
  EXPECT_EQ(registry().promote("churn", 2, "production").from_version, 1);
  const AliasChange third = registry().promote("churn", 3, "production");
  EXPECT_EQ(third.from_version, 2);
  EXPECT_EQ(third.to_version, 3);
  EXPECT_EQ(third.kind, "set");
  EXPECT_EQ(third.by, "tester");

  const AliasChange back1 = registry().rollback("churn", "production");
  EXPECT_EQ(back1.from_version, 3);
  EXPECT_EQ(back1.to_version, 2);
  EXPECT_EQ(back1.kind, "rollback");
  EXPECT_EQ(registry().store().find_alias("churn", "production")->version, 2);
  EXPECT_EQ(registry().resolve("churn").number, 2);

  const AliasChange back2 = registry().rollback("churn", "production");
  EXPECT_EQ(back2.from_version, 2);
  EXPECT_EQ(back2.to_version, 1);
  EXPECT_EQ(registry().resolve("churn@production").number, 1);

  EXPECT_ERROR_KIND(registry().rollback("churn", "production"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(registry().store().find_alias("churn", "production")->version, 1);

  const auto history = registry().store().alias_history("churn", "production");
  ASSERT_EQ(history.size(), 5u);
  EXPECT_EQ(history[3].kind, "rollback");
  EXPECT_EQ(history[4].kind, "rollback");
  EXPECT_EQ(registry().store().audit_log("churn@production", 100).size(), 5u);
}

TEST_F(RegistryTest, RollbackAfterANewPromotionReturnsToTheVersionBeforeIt) {
  for (int i = 0; i < 3; ++i) push("churn", kChurnXgb);
  registry().promote("churn", 1, "production");
  registry().promote("churn", 2, "production");
  EXPECT_EQ(registry().rollback("churn", "production").to_version, 1);
  registry().promote("churn", 3, "production");
  EXPECT_EQ(registry().rollback("churn", "production").to_version, 1);
  EXPECT_ERROR_KIND(registry().rollback("churn", "production"), ErrorKind::kInvalidArgument);
  // Aliases are independent.
  registry().promote("churn", 2, "staging");
  EXPECT_ERROR_KIND(registry().rollback("churn", "staging"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(registry().store().find_alias("churn", "production")->version, 1);
}

TEST_F(RegistryTest, PromoteAndRollbackRefuseWhatDoesNotExist) {
  push("churn", kChurnXgb);
  EXPECT_ERROR_KIND(registry().promote("churn", 2, "production"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(registry().promote("nope", 1, "production"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(registry().promote("churn", 1, "bad alias"), ErrorKind::kInvalidArgument);
  EXPECT_ERROR_KIND(registry().promote("churn", 1, "-x"), ErrorKind::kInvalidArgument);
  EXPECT_ERROR_KIND(registry().rollback("churn", "never-set"), ErrorKind::kNotFound);
  EXPECT_ERROR_KIND(registry().rollback("churn", "a/b"), ErrorKind::kInvalidArgument);
  EXPECT_FALSE(registry().store().find_alias("churn", "production"));
}

// Promoting the version an alias already has (a retried CI job) is not a step to roll back over.
TEST_F(RegistryTest, PromotingTheCurrentVersionAgainChangesNothing) {
  for (int i = 0; i < 2; ++i) push("churn", kChurnXgb);
  registry().promote("churn", 1, "production");
  registry().promote("churn", 2, "production");
  const AliasChange again = registry().promote("churn", 2, "production");
  EXPECT_EQ(again.from_version, 2);
  EXPECT_EQ(again.to_version, 2);
  EXPECT_EQ(registry().store().alias_history("churn", "production").size(), 2u);
  EXPECT_EQ(registry().store().audit_log("churn@production", 100).size(), 2u);
  EXPECT_EQ(registry().rollback("churn", "production").to_version, 1);
}

// A rollback computed from a history that another change has since moved past is refused, and
// changes nothing: two rollbacks at once, or a rollback racing a promotion, do not both apply.
TEST_F(RegistryTest, AnAliasChangeOnAStaleViewIsRefused) {
  for (int i = 0; i < 3; ++i) push("churn", kChurnXgb);
  registry().promote("churn", 1, "production");
  registry().promote("churn", 2, "production");
  // As a rollback that read the alias at 2 would write it, after a promotion to 3 committed.
  registry().promote("churn", 3, "production");
  EXPECT_ERROR_KIND(registry().store().set_alias("churn", "production", 1, "rollback", "tester", 2), ErrorKind::kIo);
  EXPECT_EQ(registry().store().find_alias("churn", "production")->version, 3);
  EXPECT_EQ(registry().store().alias_history("churn", "production").size(), 3u);
  EXPECT_EQ(registry().store().set_alias("churn", "production", 2, "rollback", "tester", 3).to_version, 2);
}

// The Store's rule: an unknown model is kNotFound (exit 5), whatever the operation.
TEST_F(RegistryTest, RollbackOfAnUnknownModelIsNotFound) {
  EXPECT_ERROR_KIND(registry().rollback("nope", "production"), ErrorKind::kNotFound);
}

// --- gc ------------------------------------------------------------------------------------------

TEST_F(RegistryTest, GcRemovesOrphanArtifactsAndKeepsReferencedOnes) {
  const VersionRecord kept = push("churn", kChurnXgb);
  const VersionRecord archived = push("iris", kIrisXgb);
  VersionUpdate archive;
  archive.archived = true;
  registry().store().update_version("iris", 1, archive, "tester");
  const std::string orphan = registry().artifacts().put("bytes no version refers to");  // as a killed push leaves
  ASSERT_EQ(registry().artifacts().list().size(), 3u);

  EXPECT_EQ(registry().gc(), 0u);  // the default protects recent files
  EXPECT_EQ(registry().gc(3600), 0u);
  EXPECT_TRUE(registry().artifacts().contains(orphan));

  EXPECT_EQ(registry().gc(0), 1u);
  EXPECT_FALSE(registry().artifacts().contains(orphan));
  EXPECT_TRUE(registry().artifacts().contains(kept.artifact_sha256));
  EXPECT_TRUE(registry().artifacts().contains(archived.artifact_sha256));
  EXPECT_NO_THROW(registry().load(kept));
  EXPECT_NO_THROW(registry().load(archived));
  EXPECT_EQ(registry().gc(0), 0u);
}

TEST(RegistryOpenLocal, CreatesTheDataFolderAndReopens) {
  const std::string data = testing::temp_dir() + "/open-local-" + std::to_string(::getpid()) + "/nested/data";
  {
    auto registry = Registry::open_local(data, "alice");
    EXPECT_EQ(registry->actor(), "alice");
    registry->push("churn", example(kChurnXgb), {});
  }
  EXPECT_TRUE(fs::exists(data + "/registry.db"));
  EXPECT_TRUE(fs::is_directory(data + "/artifacts"));
  auto again = Registry::open_local(data, "bob");
  EXPECT_EQ(again->push("churn", example(kChurnXgb), {}).number, 2);
  EXPECT_EQ(again->store().find_version("churn", 1)->created_by, "alice");
  EXPECT_EQ(again->store().find_version("churn", 2)->created_by, "bob");
  fs::remove_all(testing::temp_dir() + "/open-local-" + std::to_string(::getpid()));
}

TEST(RegistryOpenLocal, AnUnusableDataFolderIsAnIoError) {
  const std::string file = testing::write_file("not-a-folder-" + std::to_string(::getpid()), "x");
  EXPECT_ERROR_KIND(Registry::open_local(file + "/data", "alice"), ErrorKind::kIo);
  fs::remove(file);
}

}  // namespace
}  // namespace orchard
