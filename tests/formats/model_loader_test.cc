// Format detection and the loading entry points (src/formats/model_loader.h).
//
// Guards: every format is detected from content alone and dispatched to its loader; files that are
// empty, truncated, corrupted or of another kind are refused with Error(kInvalidModel) naming the
// file and what was expected, never crashing or hanging; every model that does load has passed
// Model::validate and can be compiled and run.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/model.h"
#include "engine/predictor.h"
#include "formats/model_loader.h"
#include "support/expectations.h"
#include "support/predictions.h"
#include "support/test_support.h"

namespace orchard {
namespace {

using testing::Contains;

// The smallest documents each format accepts: a single-leaf tree (or stump) with two features.
const char* const kTinyXgboostJson =
    R"({"learner":{"feature_names":["x","y"],"gradient_booster":{"model":{"gbtree_model_param":{"num_trees":"1"},)"
    R"("tree_info":[0],"trees":[{"default_left":[1,0,0],"left_children":[1,-1,-1],"right_children":[2,-1,-1],)"
    R"("split_conditions":[5E-1,1E0,2E0],"split_indices":[1,0,0],"tree_param":{"num_nodes":"3"}}]},"name":"gbtree"},)"
    R"("learner_model_param":{"base_score":"0E0","num_class":"0","num_feature":"2"},)"
    R"("objective":{"name":"reg:squarederror"}},"version":[1,7,4]})";

const char* const kTinyLightgbm =
    "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nmax_feature_idx=1\nobjective=regression\n"
    "feature_names=x y\n\nTree=0\nnum_leaves=2\nnum_cat=0\nsplit_feature=1\nthreshold=0.5\ndecision_type=2\n"
    "left_child=-1\nright_child=-2\nleaf_value=1 2\nshrinkage=1\n\n\nend of trees\n";

void be64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
}
void ubj_key(std::string& out, const std::string& key) {
  out += 'L';
  be64(out, key.size());
  out += key;
}
void ubj_string(std::string& out, const std::string& value) {
  out += 'S';
  ubj_key(out, value);
}
void ubj_int_array(std::string& out, const std::vector<std::int64_t>& values) {
  out += "[#L";
  be64(out, values.size());
  for (auto v : values) {
    out += 'L';
    be64(out, static_cast<std::uint64_t>(v));
  }
}
// A float32 array as XGBoost writes it: [$d#L n, then big-endian floats.
void ubj_float_array(std::string& out, const std::vector<float>& values) {
  out += "[$d#L";
  be64(out, values.size());
  for (float f : values) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((bits >> shift) & 0xFF);
  }
}

// kTinyXgboostJson in UBJSON, written with XGBoost's markers.
std::string tiny_ubjson() {
  std::string o = "{";
  ubj_key(o, "learner");
  o += "{";
  ubj_key(o, "feature_names");
  o += "[#L";
  be64(o, 2);
  ubj_string(o, "x");
  ubj_string(o, "y");
  ubj_key(o, "gradient_booster");
  o += "{";
  ubj_key(o, "model");
  o += "{";
  ubj_key(o, "gbtree_model_param");
  o += "{";
  ubj_key(o, "num_trees");
  ubj_string(o, "1");
  o += "}";
  ubj_key(o, "tree_info");
  ubj_int_array(o, {0});
  ubj_key(o, "trees");
  o += "[{";
  ubj_key(o, "default_left");
  ubj_int_array(o, {1, 0, 0});
  ubj_key(o, "left_children");
  ubj_int_array(o, {1, -1, -1});
  ubj_key(o, "right_children");
  ubj_int_array(o, {2, -1, -1});
  ubj_key(o, "split_conditions");
  ubj_float_array(o, {0.5f, 1.0f, 2.0f});
  ubj_key(o, "split_indices");
  ubj_int_array(o, {1, 0, 0});
  ubj_key(o, "tree_param");
  o += "{";
  ubj_key(o, "num_nodes");
  ubj_string(o, "3");
  o += "}}]}";
  ubj_key(o, "name");
  ubj_string(o, "gbtree");
  o += "}";
  ubj_key(o, "learner_model_param");
  o += "{";
  ubj_key(o, "base_score");
  ubj_string(o, "0E0");
  ubj_key(o, "num_class");
  ubj_string(o, "0");
  ubj_key(o, "num_feature");
  ubj_string(o, "2");
  o += "}";
  ubj_key(o, "objective");
  o += "{";
  ubj_key(o, "name");
  ubj_string(o, "reg:squarederror");
  o += "}}}";
  return o;
}

// load_model_bytes must refuse `bytes` with Error(kInvalidModel) naming `where` and what was
// expected. Returns the message (empty after a failure).
std::string refusal(const std::string& bytes, const std::string& where) {
  const std::optional<Error> e = testing::invalid_model_error([&] { load_model_bytes(bytes, where); });
  if (!e) return {};
  EXPECT_TRUE(Contains(e->what(), where));
  EXPECT_FALSE(e->expected().empty()) << "no expectation in: " << e->what();
  return e->what();
}

// A model that loaded must run: compile it and predict one row.
void expect_runs(const Model& model) {
  const Predictor predictor(model, "loaded");
  testing::predict_row(predictor, std::vector<double>(static_cast<std::size_t>(predictor.num_features()), 0.5));
}

// ---------------------------------------------------------------------------------------------
// Detection and dispatch.

TEST(ModelLoaders, ListsEveryFormatInDetectionOrder) {
  std::vector<std::string> names;
  for (const ModelLoader* loader : model_loaders()) names.emplace_back(loader->format_name());
  EXPECT_EQ(names, (std::vector<std::string>{"orchard-json", "xgboost-json", "xgboost-ubjson", "lightgbm-text", "onnx", "mlflow"}));
}

TEST(ModelLoaders, EachFormatIsRecognizedByExactlyOneLoader) {
  const std::vector<std::pair<std::string, std::string>> samples{
      {"xgboost-json", kTinyXgboostJson},
      {"xgboost-ubjson", tiny_ubjson()},
      {"lightgbm-text", kTinyLightgbm},
  };
  for (const auto& [format, bytes] : samples) {
    SCOPED_TRACE(format);
    std::vector<std::string> recognizing;
    for (const ModelLoader* loader : model_loaders()) {
      if (loader->recognizes(bytes)) recognizing.emplace_back(loader->format_name());
    }
    EXPECT_EQ(recognizing, std::vector<std::string>{format});
  }
}

TEST(LoadModelBytes, DispatchesOnContent) {
  // The name says nothing: detection uses the bytes only.
  const Model json = load_model_bytes(kTinyXgboostJson, "model.txt");
  EXPECT_EQ(json.source_format, "xgboost-json");
  const Model ubj = load_model_bytes(tiny_ubjson(), "model.json");
  EXPECT_EQ(ubj.source_format, "xgboost-ubjson");
  const Model lgb = load_model_bytes(kTinyLightgbm, "model.ubj");
  EXPECT_EQ(lgb.source_format, "lightgbm-text");
  for (const Model* model : {&json, &ubj, &lgb}) {
    SCOPED_TRACE(model->source_format);
    EXPECT_EQ(model->num_features(), 2);
    EXPECT_EQ(model->features[1].name, "y");
    ASSERT_EQ(model->trees.size(), 1u);
    EXPECT_NO_THROW(model->validate("again"));
  }
}

TEST(LoadModelBytes, TinyModelsPredict) {
  // x: unused; y <= 0.5 (LightGBM) or y < 0.5 (XGBoost) goes left to 1, else 2; NaN goes left.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const std::string& bytes : {std::string(kTinyXgboostJson), tiny_ubjson(), std::string(kTinyLightgbm)}) {
    const Predictor predictor(load_model_bytes(bytes, "tiny"), "tiny");
    SCOPED_TRACE(predictor.model().source_format);
    auto value = [&](double y) {
      const double row[2] = {0.0, y};
      double out = 0;
      predictor.predict_row(row, &out, false);
      return out;
    };
    EXPECT_EQ(value(0.25), 1.0);
    EXPECT_EQ(value(0.75), 2.0);
    EXPECT_EQ(value(nan), 1.0);
    EXPECT_EQ(value(0.5), predictor.model().comparison == Comparison::kLessThan ? 2.0 : 1.0);
  }
}

TEST(LoadModelBytes, LeadingWhitespaceJsonIsDetected) {
  EXPECT_EQ(load_model_bytes(std::string("\n  \t") + kTinyXgboostJson, "spaced.json").source_format, "xgboost-json");
}

// ---------------------------------------------------------------------------------------------
// Files that are not models.

TEST(LoadModelBytes, EmptyFileIsRefused) {
  const std::string message = refusal("", "empty.json");
  EXPECT_TRUE(Contains(message, "empty.json: file is empty"));
}

TEST(LoadModelBytes, OtherFormatsAreRefusedListingTheKnownOnes) {
  std::string random_binary;
  std::uint32_t state = 12345;
  for (int i = 0; i < 4096; ++i) {
    state = state * 1664525u + 1013904223u;
    random_binary += static_cast<char>(state >> 24);
  }
  random_binary[0] = '\x9c';  // not '{' or 't'
  const std::vector<std::pair<std::string, std::string>> files{
      {"data.csv", "age,income,target\n31,52000,1\n45,,0\n"},
      {"random.bin", random_binary},
      {"image.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)},
      {"array.json", "[1, 2, 3]"},
      {"text.txt", "hello"},
      {"nul.bin", std::string(64, '\0')},
      {"tree.txt", "tree"},
      {"brace.ubj", "{"},
  };
  for (const auto& [name, bytes] : files) {
    SCOPED_TRACE(name);
    const std::string message = refusal(bytes, name);
    EXPECT_TRUE(Contains(message, "unrecognized model format"));
    EXPECT_TRUE(Contains(message, "xgboost-json, xgboost-ubjson, lightgbm-text"));
  }
}

TEST(LoadModelBytes, RecognizedButWrongContentIsRefused) {
  // Valid JSON, but not an XGBoost model.
  EXPECT_TRUE(Contains(refusal(R"({"name": "not a model"})", "other.json"), "missing \"learner\""));
  EXPECT_TRUE(Contains(refusal("{}", "other.json"), "learner"));
  // A LightGBM header and nothing else.
  EXPECT_TRUE(Contains(refusal("tree\nversion=v4\n", "short.txt"), "short.txt:"));
}

// ---------------------------------------------------------------------------------------------
// load_model_file.

TEST(LoadModelFile, MissingFileIsNotFound) {
  const std::string path = testing::temp_dir() + "/no_such_model.json";
  try {
    load_model_file(path);
    FAIL() << "loaded a file that does not exist";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_TRUE(Contains(e.what(), path));
  }
}

TEST(LoadModelFile, ReadsAndDetects) {
  const std::string json = testing::write_file("tiny_model.bin", kTinyXgboostJson);
  EXPECT_EQ(load_model_file(json).source_format, "xgboost-json");
  const std::string lgb = testing::write_file("tiny_model.json", kTinyLightgbm);
  EXPECT_EQ(load_model_file(lgb).source_format, "lightgbm-text");
}

TEST(LoadModelFile, ErrorsNameThePath) {
  const std::string empty = testing::write_file("empty_model.json", "");
  EXPECT_TRUE(Contains(refusal("", empty), empty));  // the message format of load_model_bytes
  try {
    load_model_file(empty);
    FAIL() << "loaded an empty file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidModel);
    EXPECT_TRUE(Contains(e.what(), empty));
  }
  const std::string bad = testing::write_file("bad_model.json", R"({"learner":{"objective":{"name":"survival:cox"}}})");
  try {
    load_model_file(bad);
    FAIL() << "loaded a bad model";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidModel);
    EXPECT_TRUE(Contains(e.what(), bad));
  }
}

// ---------------------------------------------------------------------------------------------
// Real files, truncated and corrupted. Every cut must be refused; every corruption either loads (a
// valid model that runs) or is refused, always with orchard::Error.

struct FixtureCase {
  std::string path;
  std::size_t keep_from = 0;  // cuts at or after this many bytes are not required to fail
};

std::vector<FixtureCase> fixture_cases(const std::string& fixtures) {
  // LightGBM files carry feature importances and parameters after "end of trees"; a cut in that
  // tail leaves a complete model, so cuts are made before it.
  const std::string lightgbm = testing::read_fixture_model("lightgbm/binary_breast_cancer.txt");
  const std::size_t end_of_trees = lightgbm.find("end of trees");
  return {{fixtures + "/models/xgboost/binary_breast_cancer.json", 0},
          {fixtures + "/models/xgboost/binary_breast_cancer.ubj", 0},
          {fixtures + "/models/lightgbm/binary_breast_cancer.txt", end_of_trees + 1}};
}

std::string read_path(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string file_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

TEST(LoadModelBytes, FixturesLoadWhole) {
  const auto fixtures = testing::fixtures_dir();
  if (!fixtures) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES): truncation tests did not run";
  for (const FixtureCase& c : fixture_cases(*fixtures)) {
    SCOPED_TRACE(c.path);
    const Model model = load_model_file(c.path);
    EXPECT_EQ(model.num_features(), 30);
    EXPECT_EQ(model.trees.size(), 50u);
    expect_runs(model);
  }
}

TEST(LoadModelBytes, TruncatedFixturesAreRefused) {
  const auto fixtures = testing::fixtures_dir();
  if (!fixtures) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES): truncation tests did not run";
  const auto start = std::chrono::steady_clock::now();
  for (const FixtureCase& c : fixture_cases(*fixtures)) {
    const std::string bytes = read_path(c.path);
    const std::string name = file_name(c.path);
    const std::size_t limit = c.keep_from == 0 ? bytes.size() : c.keep_from;
    ASSERT_GT(limit, 1000u);
    // 24 cuts spread over the file, plus the first bytes and the last ones.
    std::vector<std::size_t> cuts{0, 1, 2, 3, 7, limit - 2, limit - 1};
    for (std::size_t k = 1; k <= 24; ++k) cuts.push_back(limit * k / 25 + k * 7 % 13);
    for (std::size_t cut : cuts) {
      SCOPED_TRACE(name + " cut at " + std::to_string(cut) + " of " + std::to_string(bytes.size()));
      refusal(bytes.substr(0, cut), name);
    }
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(LoadModelBytes, CorruptedFixturesLoadOrAreRefused) {
  const auto fixtures = testing::fixtures_dir();
  if (!fixtures) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES): corruption tests did not run";
  std::uint32_t state = 2024;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  for (const FixtureCase& c : fixture_cases(*fixtures)) {
    const std::string original = read_path(c.path);
    const std::string name = file_name(c.path);
    const std::size_t limit = c.keep_from == 0 ? original.size() : c.keep_from;
    int loaded = 0, refused = 0;
    for (int trial = 0; trial < 40; ++trial) {
      std::string bytes = original;
      // One to three bytes changed: flipped, set to a digit, or set to a structural character.
      const int changes = 1 + trial % 3;
      std::string description;
      for (int k = 0; k < changes; ++k) {
        const std::size_t pos = next() % limit;
        const char replacement = trial % 4 == 0   ? static_cast<char>(~bytes[pos])
                                 : trial % 4 == 1 ? static_cast<char>('0' + next() % 10)
                                 : trial % 4 == 2 ? "{}[]\",:-"[next() % 8]
                                                  : static_cast<char>(next() & 0xFF);
        bytes[pos] = replacement;
        description.append(1, ' ').append(std::to_string(pos)).append(1, '=');
        description.append(std::to_string(static_cast<unsigned char>(replacement)));
      }
      SCOPED_TRACE(name + ": bytes changed:" + description);
      try {
        const Model model = load_model_bytes(bytes, name);
        expect_runs(model);
        ++loaded;
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kInvalidModel) << e.what();
        EXPECT_TRUE(Contains(e.what(), name));
        ++refused;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "threw something other than orchard::Error: " << e.what();
      }
    }
    EXPECT_EQ(loaded + refused, 40) << name;
    EXPECT_GT(refused, 0) << name << ": no corruption was noticed at all";
  }
}

}  // namespace
}  // namespace orchard
