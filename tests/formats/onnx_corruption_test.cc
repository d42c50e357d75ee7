// Broken ONNX files: truncated at many offsets, bytes flipped, nesting past the recursion limit.
//
// Guards: the loader answers Error(kInvalidModel) and nothing else (no crash, no other exception, no
// hang); a truncated file that still parses (cut at a field boundary) either is refused or predicts
// exactly what the whole file predicts; a file with flipped bytes that still loads runs safely.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "common/file_bytes.h"
#include "engine/predictor.h"
#include "formats/model_loader.h"
#include "formats/onnx_builder.h"
#include "support/test_support.h"

namespace orchard {
namespace {

const char* const kFixtures[] = {"decision_tree_iris", "logistic_iris", "pipeline_scaler_logistic_wine", "linear_regression_diabetes",
                                 "rf_zipmap_breast_cancer", "xgb_binary_breast_cancer", "gbr_regressor_diabetes"};

// The fixture's model bytes and a few input rows, or nullopt without fixtures.
struct Sample {
  std::string bytes;
  std::vector<std::vector<double>> rows;
};

std::optional<Sample> sample(const std::string& name) {
  const auto fixtures = testing::fixtures_dir();
  if (!fixtures) return std::nullopt;
  Sample s;
  s.bytes = read_file_bytes(*fixtures + "/models/onnx/" + name + ".onnx");
  auto rows = testing::read_numeric_csv(*fixtures + "/models/onnx/" + name + ".input.csv", true);
  rows.resize(std::min<std::size_t>(rows.size(), 8));
  s.rows = rows;
  return s;
}

// Loads, and if it loads, predicts the rows (padded or cut to the model's width). Returns the
// predictions, or nullopt if refused with kInvalidModel; any other failure fails the test.
std::optional<std::vector<double>> try_predict(const std::string& bytes, const std::vector<std::vector<double>>& rows, const std::string& what) {
  try {
    const Predictor predictor(load_model_bytes(bytes, "broken.onnx"), "broken.onnx");
    std::vector<double> out;
    for (auto row : rows) {
      row.resize(static_cast<std::size_t>(predictor.num_features()), 0.5);
      std::vector<double> values(static_cast<std::size_t>(predictor.num_values(false)));
      predictor.predict_row(row.data(), values.data(), false);
      out.insert(out.end(), values.begin(), values.end());
    }
    return out;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidModel) << what << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find("broken.onnx"), std::string::npos) << what << ": the message names the file: " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": threw " << typeid(e).name() << ": " << e.what();
  }
  return std::nullopt;
}

TEST(OnnxCorruption, TruncatedFilesAreRefusedOrPredictLikeTheWholeFile) {
  if (!testing::fixtures_dir()) GTEST_SKIP() << "fixtures not found";
  for (const char* name : kFixtures) {
    const Sample s = *sample(name);
    const auto whole = try_predict(s.bytes, s.rows, name);
    ASSERT_TRUE(whole) << name;
    // Every offset of small files, about 400 spread over larger ones, and the last 64 bytes.
    const std::size_t step = std::max<std::size_t>(1, s.bytes.size() / 400);
    std::size_t refused = 0, tried = 0;
    for (std::size_t cut = 0; cut < s.bytes.size(); cut += (cut + 64 >= s.bytes.size() ? 1 : step)) {
      const auto result = try_predict(s.bytes.substr(0, cut), s.rows, std::string(name) + " cut at " + std::to_string(cut));
      ++tried;
      if (!result) {
        ++refused;
      } else {
        EXPECT_EQ(*result, *whole) << name << " cut at " << cut << " loads but predicts differently";
      }
    }
    EXPECT_GT(refused, tried * 9 / 10) << name;
  }
}

TEST(OnnxCorruption, TheMessageSaysWhereTheFileIsCut) {
  if (!testing::fixtures_dir()) GTEST_SKIP() << "fixtures not found";
  const Sample s = *sample("logistic_iris");
  try {
    load_model_bytes(s.bytes.substr(0, s.bytes.size() / 2), "half.onnx");
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("half.onnx"), std::string::npos) << message;
    EXPECT_NE(message.find("graph.node[0]"), std::string::npos) << message;
    EXPECT_NE(message.find("bytes but only"), std::string::npos) << message;
  }
}

TEST(OnnxCorruption, FlippedBytesNeverCrash) {
  if (!testing::fixtures_dir()) GTEST_SKIP() << "fixtures not found";
  std::mt19937 random(20261126);
  for (const char* name : kFixtures) {
    const Sample s = *sample(name);
    for (int trial = 0; trial < 300; ++trial) {
      std::string bytes = s.bytes;
      const int flips = 1 + trial % 4;
      for (int k = 0; k < flips; ++k) {
        const std::size_t at = random() % bytes.size();
        bytes[at] = static_cast<char>(bytes[at] ^ static_cast<char>(1 + random() % 255));
      }
      try_predict(bytes, s.rows, std::string(name) + " trial " + std::to_string(trial));
    }
  }
}

TEST(OnnxCorruption, NestingPastTheRecursionLimitIsRefused) {
  // Graph attributes nested 40 deep: a ModelProto that protobuf itself would parse by recursion.
  testing::OnnxBuilder builder(1);
  onnx::NodeProto& top = builder.node("If", "", {"X"}, {"Y"});
  onnx::GraphProto* graph = nullptr;
  onnx::NodeProto* node = &top;
  for (int depth = 0; depth < 40; ++depth) {
    onnx::AttributeProto* attribute = node->add_attribute();
    attribute->set_name("then_branch");
    attribute->set_type(onnx::AttributeProto::GRAPH);
    graph = attribute->mutable_g();
    node = graph->add_node();
    node->set_op_type("If");
  }
  builder.output("Y");
  try {
    load_model_bytes(builder.bytes(), "deep.onnx");
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidModel);
    EXPECT_NE(std::string(e.what()).find("32 levels"), std::string::npos) << e.what();
  }
}

TEST(OnnxCorruption, SmallFilesCannotAskForHugeModels) {
  {  // 100 leaves with 2 million targets each.
    testing::OnnxBuilder builder(1);
    testing::EnsembleSpec spec;
    for (std::int64_t tree = 0; tree < 50; ++tree) {
      spec.branch(tree, 0, "BRANCH_LEQ", 0, 0.5f, 1, 2);
      spec.leaf(tree, 1, {{0, 1.0f}});
      spec.leaf(tree, 2, {{0, 2.0f}});
    }
    auto& node = builder.ml_node("TreeEnsembleRegressor", {"X"}, {"Y"});
    spec.write(node, false);
    testing::set_int(node, "n_targets", 2000000);
    builder.output("Y");
    try {
      load_model_bytes(builder.bytes(), "wide.onnx");
      ADD_FAILURE() << "loaded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("leaf values"), std::string::npos) << e.what();
    }
  }
  {  // A linear model over 100 000 declared columns with 1000 outputs.
    testing::OnnxBuilder builder(100000);
    builder.int64_initializer("first", {0});
    testing::set_int(builder.node("Gather", "", {"X", "first"}, {"x0"}), "axis", 1);
    auto& node = builder.ml_node("LinearRegressor", {"x0"}, {"Y"});
    testing::set_int(node, "targets", 1000);
    testing::set_floats(node, "coefficients", std::vector<float>(1000, 1.0f));
    builder.output("Y");
    EXPECT_ERROR_KIND(load_model_bytes(builder.bytes(), "wide.onnx"), ErrorKind::kInvalidModel);
  }
}

TEST(OnnxCorruption, HugeDeclaredLengthsAreRefusedWithoutAllocating) {
  // ir_version, then a graph field (7) that declares 2^31 bytes and holds 3.
  std::string bytes("\x08\x08\x3a\x80\x80\x80\x80\x08" "abc", 11);
  EXPECT_ERROR_KIND(load_model_bytes(bytes, "huge.onnx"), ErrorKind::kInvalidModel);
}

}  // namespace
}  // namespace orchard
