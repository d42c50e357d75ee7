// Input steps (InputStep in model.h, InputStepProgram in input_steps.h) and the transforms added for
// scikit-learn (sigmoid pair, one-vs-rest, isolation score).
//
// Each step kind is checked against hand-computed columns, the compiled program against the
// reference, and a Predictor over a model with steps against the reference evaluator on both the
// single-row and the batch path, bit for bit. validate() must refuse every malformed step.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "common/error.h"
#include "engine/input_steps.h"
#include "engine/output_transform.h"
#include "engine/predictor.h"
#include "engine/reference_evaluator.h"
#include "engine/thread_pool.h"
#include "support/test_support.h"

namespace orchard {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

InputStep step(InputStepKind kind, std::int32_t source) {
  InputStep s;
  s.kind = kind;
  s.source = source;
  return s;
}

// Features: age (numeric), plan (categorical with names), score (numeric).
Model model_with_steps() {
  Model model;
  model.source_format = "test";
  model.features = {Feature{"age", FeatureType::kNumeric, {}},
                    Feature{"plan", FeatureType::kCategorical, {"basic", "premium", "gold"}},
                    Feature{"score", FeatureType::kNumeric, {}}};
  model.has_feature_names = true;
  InputStep age = step(InputStepKind::kStandardize, 0);
  age.offset = 40.0;
  age.scale = 12.5;
  age.fill = 38.0;  // SimpleImputer in front
  InputStep plan = step(InputStepKind::kOneHot, 1);
  plan.values = {0.0, 1.0, 2.0};
  InputStep score = step(InputStepKind::kAffine, 2);
  score.scale = 0.5;
  score.shift = -1.0;
  InputStep plan_code = step(InputStepKind::kOrdinal, 1);
  plan_code.values = {2.0, 0.0, kNaN};  // unsorted on purpose, with a NaN entry
  plan_code.unknown = -1.0;
  model.input_steps = {age, plan, score, plan_code, step(InputStepKind::kCopy, 2)};
  model.num_outputs = 1;
  model.base_margin = {0.25};
  model.output_names = {"prediction"};
  // Columns: 0 age, 1..3 plan one-hot, 4 score, 5 plan ordinal, 6 score copy.
  Tree tree;
  auto split = [](std::int32_t column, double threshold, std::int32_t left, std::int32_t right) {
    TreeNode node;
    node.kind = NodeKind::kNumerical;
    node.feature = column;
    node.threshold = threshold;
    node.left = left;
    node.right = right;
    return node;
  };
  auto leaf = [](std::uint32_t index) {
    TreeNode node;
    node.leaf_index = index;
    return node;
  };
  tree.nodes = {split(2, 0.5, 1, 2), split(0, 0.0, 3, 4), split(5, 0.5, 5, 6), leaf(0), leaf(1), leaf(2), leaf(3)};
  tree.leaf_values = {1.0, 2.0, 4.0, 8.0};
  model.trees = {tree};
  model.has_linear = true;
  model.linear.num_features = 7;
  model.linear.num_groups = 1;
  model.linear.weights = {0.5, 1.0, 2.0, 3.0, 0.25, 0.125, 0.0625};
  model.linear.bias = {0.0};
  return model;
}

std::vector<double> reference_columns(const Model& model, const std::vector<double>& row) {
  std::vector<double> columns(static_cast<std::size_t>(model.num_columns()));
  reference_input_steps(model, row.data(), columns.data());
  return columns;
}

void expect_same(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(actual[i])) << "column " << i;
    } else {
      EXPECT_EQ(actual[i], expected[i]) << "column " << i;
    }
  }
}

TEST(InputSteps, EachKindComputesItsColumns) {
  const Model model = model_with_steps();
  model.validate("test");
  ASSERT_EQ(model.num_columns(), 7);
  const InputStepProgram program(model);
  const std::vector<std::vector<double>> rows = {{52.0, 1.0, 3.0}, {kNaN, 2.0, kNaN}, {20.0, kNaN, -4.0}, {30.0, 7.0, 0.0}};
  const std::vector<std::vector<double>> expected = {
      {(52.0 - 40.0) / 12.5, 0, 1, 0, 3.0 * 0.5 - 1.0, -1.0, 3.0},
      {(38.0 - 40.0) / 12.5, 0, 0, 1, kNaN, 0.0, kNaN},          // age imputed; plan 2 is ordinal position 0
      {(20.0 - 40.0) / 12.5, 0, 0, 0, -4.0 * 0.5 - 1.0, 2.0, -4.0},  // missing plan: no one-hot, NaN entry = 2
      {(30.0 - 40.0) / 12.5, 0, 0, 0, -1.0, -1.0, 0.0},          // unknown plan 7: all zeros, ordinal unknown
  };
  for (std::size_t r = 0; r < rows.size(); ++r) {
    SCOPED_TRACE("row " + std::to_string(r));
    std::vector<double> columns(7, 99.0);
    program.apply(rows[r].data(), columns.data());
    expect_same(columns, expected[r]);
    expect_same(reference_columns(model, rows[r]), expected[r]);
  }
}

TEST(InputSteps, ProgramMatchesReferenceOnManyCategories) {
  Model model = model_with_steps();
  InputStep wide = step(InputStepKind::kOneHot, 0);
  std::mt19937 rng(7);
  for (int k = 0; k < 300; ++k) wide.values.push_back(static_cast<double>((k * 7919) % 1000) - 500.0);
  wide.values.push_back(kNaN);
  model.input_steps.push_back(wide);
  InputStep ordinal = step(InputStepKind::kOrdinal, 2);
  ordinal.values = wide.values;
  model.input_steps.push_back(ordinal);
  model.validate("test");
  const InputStepProgram program(model);
  std::uniform_int_distribution<int> value(-520, 520);
  for (int i = 0; i < 2000; ++i) {
    std::vector<double> row = {static_cast<double>(value(rng)), 1.0, static_cast<double>(value(rng)) + (i % 5 == 0 ? 0.5 : 0.0)};
    if (i % 17 == 0) row[0] = kNaN;
    if (i % 19 == 0) row[2] = kNaN;
    std::vector<double> columns(static_cast<std::size_t>(model.num_columns()));
    program.apply(row.data(), columns.data());
    expect_same(columns, reference_columns(model, row));
  }
}

TEST(InputSteps, PredictorRunsStepsOnEveryPath) {
  const Model model = model_with_steps();
  const Predictor predictor(model, "test");
  ASSERT_EQ(predictor.num_features(), 3);
  std::vector<double> rows;
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> age(10, 80), score(-5, 5);
  const std::size_t n = 1500;  // several batch tasks
  for (std::size_t r = 0; r < n; ++r) {
    rows.push_back(r % 11 == 0 ? kNaN : age(rng));
    rows.push_back(r % 13 == 0 ? kNaN : static_cast<double>(r % 5));
    rows.push_back(r % 7 == 0 ? kNaN : score(rng));
  }
  std::vector<double> batch(n);
  ThreadPool pool(2);
  predictor.predict_rows(rows.data(), n, batch.data(), false, &pool);
  for (std::size_t r = 0; r < n; ++r) {
    double expected = 0;
    reference_margins(model, rows.data() + 3 * r, &expected);
    double single = 0;
    predictor.predict_row(rows.data() + 3 * r, &single, false);
    ASSERT_EQ(single, expected) << "row " << r;
    ASSERT_EQ(batch[r], expected) << "row " << r;
  }
  // One hand-checked row: columns {0.96, 0, 1, 0, 0.5, -1 (plan 1 unknown to the ordinal step), 3}.
  // The tree: column 2 = 1 > 0.5 goes right, column 5 = -1 <= 0.5 goes left: leaf 4.
  const double row[3] = {52.0, 1.0, 3.0};
  double out = 0;
  predictor.predict_row(row, &out, false);
  const double linear = 0.5 * 0.96 + 2.0 * 1 + 0.25 * 0.5 + 0.125 * -1.0 + 0.0625 * 3.0;
  EXPECT_DOUBLE_EQ(out, 0.25 + linear + 4.0);
}

TEST(InputSteps, WideOneHotStepsRunInBoundedChunks) {
  // 30 000 one-hot columns: the batch path runs the steps a few rows at a time (a bounded per-thread
  // buffer) and must give the single-row answers on every chunk boundary.
  Model model;
  model.source_format = "test";
  model.features = {Feature{"code", FeatureType::kNumeric, {}}};
  InputStep wide = step(InputStepKind::kOneHot, 0);
  for (int k = 0; k < 30000; ++k) wide.values.push_back(k);
  model.input_steps = {wide};
  model.num_outputs = 1;
  model.base_margin = {0.0};
  model.output_names = {"prediction"};
  model.has_linear = true;
  model.linear.num_features = 30000;
  model.linear.num_groups = 1;
  for (int k = 0; k < 30000; ++k) model.linear.weights.push_back(0.5 * k);
  model.linear.bias = {1.0};
  const Predictor predictor(model, "test");
  std::vector<double> rows;
  for (int r = 0; r < 100; ++r) rows.push_back((r * 7919) % 31000);  // some beyond the categories
  std::vector<double> batch(rows.size());
  predictor.predict_rows(rows.data(), rows.size(), batch.data(), false);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double expected = rows[r] < 30000 ? 1.0 + 0.5 * rows[r] : 1.0;
    EXPECT_EQ(batch[r], expected) << "row " << r;
    double single = 0;
    predictor.predict_row(&rows[r], &single, false);
    EXPECT_EQ(single, expected) << "row " << r;
  }
}

TEST(InputSteps, CategoryCodeIsThePositionOfTheName) {
  const Feature plan{"plan", FeatureType::kCategorical, {"basic", "premium"}};
  EXPECT_EQ(category_code(plan, "premium"), 1.0);
  EXPECT_EQ(category_code(plan, "basic"), 0.0);
  EXPECT_EQ(category_code(plan, "platinum"), kUnknownCategory);
  EXPECT_EQ(category_code(plan, ""), kUnknownCategory);
}

std::string refusal(const Model& model) {
  try {
    model.validate("steps.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidModel);
    return e.what();
  }
  ADD_FAILURE() << "validated";
  return {};
}

TEST(InputSteps, ValidateRefusesBadSteps) {
  {
    Model model = model_with_steps();
    model.input_steps[0].source = 3;
    EXPECT_NE(refusal(model).find("input step 0"), std::string::npos);
  }
  {
    Model model = model_with_steps();
    model.input_steps[0].scale = 0.0;
    EXPECT_NE(refusal(model).find("non-zero"), std::string::npos);
  }
  {
    Model model = model_with_steps();
    model.input_steps[2].offset = std::numeric_limits<double>::infinity();
    EXPECT_NE(refusal(model).find("input step 2"), std::string::npos);
  }
  {
    Model model = model_with_steps();
    model.input_steps[1].values = {0.0, 1.0, 0.0};
    EXPECT_NE(refusal(model).find("repeat"), std::string::npos);
  }
  {
    Model model = model_with_steps();
    model.input_steps[3].values = {kNaN, 1.0, kNaN};
    EXPECT_NE(refusal(model).find("repeat"), std::string::npos);
  }
  {
    Model model = model_with_steps();
    model.input_steps[1].values.clear();
    EXPECT_NE(refusal(model).find("input step 1"), std::string::npos);
  }
  {
    Model model = model_with_steps();
    model.input_steps.pop_back();  // 6 columns: the linear part reads 7
    EXPECT_NE(refusal(model).find("linear"), std::string::npos);
  }
  {
    Model model = model_with_steps();
    model.input_steps.erase(model.input_steps.begin() + 3, model.input_steps.end());  // 5 columns: the tree reads column 5
    EXPECT_NE(refusal(model).find("column 5"), std::string::npos);
  }
  {
    Model model = model_with_steps();
    model.input_steps[1].kind = static_cast<InputStepKind>(42);
    EXPECT_NE(refusal(model).find("kind"), std::string::npos);
  }
}

TEST(InputSteps, NoStepsMeansColumnsAreFeatures) {
  Model model = model_with_steps();
  model.input_steps.clear();
  model.has_linear = false;
  model.trees[0].nodes[2].feature = 1;
  model.trees[0].nodes[0].feature = 2;
  EXPECT_EQ(model.num_columns(), 3);
  EXPECT_NO_THROW(model.validate("test"));
  const InputStepProgram program(model);
  EXPECT_TRUE(program.empty());
}

TEST(ScikitLearnTransforms, SigmoidPairGivesBothClasses) {
  OutputTransform transform;
  transform.kind = TransformKind::kSigmoidPair;
  const double margin = 0.7;
  double out[2];
  apply_output_transform(transform, &margin, 1, out);
  const double p = 1.0 / (1.0 + std::exp(-0.7));
  EXPECT_EQ(out[1], p);
  EXPECT_EQ(out[0], 1.0 - p);
  Model model = model_with_steps();
  model.transform = transform;
  model.output_names = {"p0", "p1"};
  EXPECT_EQ(model.num_predictions(), 2);
  EXPECT_NO_THROW(model.validate("test"));
  const Predictor predictor(model, "test");
  const double row[3] = {52.0, 1.0, 3.0};
  double predicted[2];
  predictor.predict_row(row, predicted, false);
  double margin_of_row = 0;
  reference_margins(model, row, &margin_of_row);
  const double q = 1.0 / (1.0 + std::exp(-margin_of_row));
  EXPECT_EQ(predicted[1], q);
  EXPECT_EQ(predicted[0], 1.0 - q);
  std::vector<double> batch(2 * 3);
  const double rows[9] = {52.0, 1.0, 3.0, 52.0, 1.0, 3.0, 52.0, 1.0, 3.0};
  predictor.predict_rows(rows, 3, batch.data(), false);
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(batch[2 * r], predicted[0]);
    EXPECT_EQ(batch[2 * r + 1], predicted[1]);
  }
}

TEST(ScikitLearnTransforms, OneVersusRestNormalizesSigmoids) {
  OutputTransform transform;
  transform.kind = TransformKind::kSigmoidNormalized;
  double margins[3] = {0.5, -1.0, 2.0};
  double out[3];
  apply_output_transform(transform, margins, 3, out);
  double s[3], sum = 0;
  for (int i = 0; i < 3; ++i) sum += s[i] = 1.0 / (1.0 + std::exp(-margins[i]));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(out[i], s[i] / sum);
  apply_output_transform(transform, margins, 3, margins);  // in place
  for (int i = 0; i < 3; ++i) EXPECT_EQ(margins[i], out[i]);
}

TEST(ScikitLearnTransforms, IsolationScore) {
  OutputTransform transform;
  transform.kind = TransformKind::kIsolationScore;
  transform.offset = -0.5;
  const double x = 0.8;
  double out = 0;
  apply_output_transform(transform, &x, 1, &out);
  EXPECT_EQ(out, -std::pow(2.0, -0.8) + 0.5);
  Model model = model_with_steps();
  model.transform = transform;
  model.transform.offset = std::numeric_limits<double>::infinity();
  EXPECT_NE(refusal(model).find("offset"), std::string::npos);
}

}  // namespace
}  // namespace orchard
