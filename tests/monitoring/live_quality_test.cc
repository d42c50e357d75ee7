// Live quality from labelled predictions: grouping by version and arm, the task's metrics as defined
// by hand here, raw margins skipped, one-class binary labels still scored, significance inputs.
#include <gtest/gtest.h>

#include <cmath>

#include "monitoring/live_quality.h"

namespace orchard {
namespace {

PredictionRecord labelled(std::int64_t version, const std::string& arm, std::vector<double> outputs, double label, bool raw = false) {
  PredictionRecord r;
  r.endpoint = "churn";
  r.model = "churn";
  r.version = version;
  r.arm = arm;
  r.outputs = std::move(outputs);
  r.label = label;
  r.raw = raw;
  return r;
}

PredictionId id_number(std::uint8_t n) {
  PredictionId id;
  id.bytes[15] = n;
  return id;
}

const TaskLookup kBinary = [](const std::string&, std::int64_t) { return std::optional<TaskKind>(TaskKind::kBinary); };

double metric(const QualityGroup& g, const std::string& name) {
  for (const auto& m : g.metrics) {
    if (m.name == name) return m.value;
  }
  ADD_FAILURE() << "no metric " << name;
  return std::nan("");
}

TEST(LiveQuality, BinaryMetricsPerVersionMatchTheirDefinitions) {
  const std::vector<PredictionRecord> rows = {
      labelled(1, "@production", {0.9}, 1), labelled(1, "@production", {0.2}, 0), labelled(1, "@production", {0.6}, 0),
      labelled(1, "@production", {0.4}, 1), labelled(2, "@staging", {0.7}, 1),   labelled(2, "@staging", {0.1}, 0),
      labelled(1, "@production", {3.2}, 1, /*raw=*/true)};
  const auto groups = live_quality(rows, kBinary, false);
  ASSERT_EQ(groups.size(), 2u);
  const QualityGroup& v1 = groups[0];
  EXPECT_EQ(v1.version, 1);
  EXPECT_EQ(v1.labelled, 4u);
  EXPECT_EQ(v1.skipped, 1u) << "raw margins are not probabilities";
  EXPECT_EQ(v1.correct, 2);
  EXPECT_DOUBLE_EQ(metric(v1, "accuracy"), 0.5);
  const double logloss = -(std::log(0.9) + std::log(0.8) + std::log(0.4) + std::log(0.4)) / 4;
  EXPECT_NEAR(metric(v1, "logloss"), logloss, 1e-12);
  // Positives 0.9, 0.4 against negatives 0.2, 0.6: 3 of 4 pairs ordered right.
  EXPECT_DOUBLE_EQ(metric(v1, "auc"), 0.75);
  EXPECT_DOUBLE_EQ(metric(groups[1], "accuracy"), 1.0);
  EXPECT_EQ(to_json(v1)["task"], "binary");
}

TEST(LiveQuality, GroupsByArmWhenAsked) {
  const std::vector<PredictionRecord> rows = {labelled(1, "a", {0.9}, 1), labelled(1, "b", {0.9}, 0), labelled(1, "b", {0.1}, 1)};
  const auto groups = live_quality(rows, kBinary, true);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].arm, "a");
  EXPECT_EQ(groups[0].labelled, 1u);
  EXPECT_EQ(groups[1].arm, "b");
  EXPECT_EQ(groups[1].correct, 0);
}

// A version that is both a live arm and a shadow of one endpoint answers each request twice: per
// version that is one labelled prediction, per arm one in each arm.
TEST(LiveQuality, AVersionShadowingItselfIsCountedOncePerVersion) {
  PredictionRecord live = labelled(2, "b", {0.9}, 1);
  live.id = id_number(1);
  PredictionRecord shadow = labelled(2, "shadow", {0.9}, 1);
  shadow.id = id_number(2);
  shadow.shadow_of = live.id;
  PredictionRecord other_live = labelled(1, "a", {0.2}, 1);
  other_live.id = id_number(3);
  PredictionRecord shadow_of_other = labelled(2, "shadow", {0.3}, 1);
  shadow_of_other.id = id_number(4);
  shadow_of_other.shadow_of = other_live.id;
  const std::vector<PredictionRecord> rows = {live, shadow, other_live, shadow_of_other};

  const auto per_version = live_quality(rows, kBinary, false);
  ASSERT_EQ(per_version.size(), 2u);
  EXPECT_EQ(per_version[0].labelled, 1u);
  EXPECT_EQ(per_version[1].version, 2);
  EXPECT_EQ(per_version[1].labelled, 2u) << "its live row and its shadow of version 1's row, not its own shadow";
  EXPECT_EQ(per_version[1].correct, 1);

  const auto per_arm = live_quality(rows, kBinary, true);
  ASSERT_EQ(per_arm.size(), 3u);
  EXPECT_EQ(per_arm[2].arm, "shadow");
  EXPECT_EQ(per_arm[2].labelled, 2u);
}

// scikit-learn binary classifiers (through ONNX) answer [P(0), P(1)]: scored on P(1), not skipped.
TEST(LiveQuality, BinaryModelsWithBothProbabilitiesAreScoredOnThePositiveOne) {
  const auto groups = live_quality({labelled(1, "a", {0.2, 0.8}, 1), labelled(1, "a", {0.7, 0.3}, 1), labelled(1, "a", {0.9, 0.1}, 0)},
                                   kBinary, false);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].labelled, 3u);
  EXPECT_EQ(groups[0].skipped, 0u);
  EXPECT_EQ(groups[0].correct, 2);
  EXPECT_DOUBLE_EQ(metric(groups[0], "auc"), 1.0) << "positives 0.8 and 0.3 both above the negative 0.1";
}

// Pairs: a shadow's labelled rows with the control's rows they shadowed; rows of other arms, and
// shadow rows whose live row is not in the window, make none.
TEST(LiveQuality, ShadowsArePairedWithTheControlRowsTheyShadowed) {
  std::vector<PredictionRecord> rows;
  auto live = [&](std::uint8_t n, const std::string& arm, double p, double label) {
    rows.push_back(labelled(arm == "@production" ? 1 : 2, arm, {p}, label));
    rows.back().id = id_number(n);
  };
  auto shadow = [&](std::uint8_t n, std::uint8_t of, double p, double label) {
    rows.push_back(labelled(3, "shadow:3", {p}, label));
    rows.back().id = id_number(n);
    rows.back().shadow_of = id_number(of);
  };
  live(1, "@production", 0.9, 1);  // both right
  shadow(11, 1, 0.8, 1);
  live(2, "@production", 0.9, 0);  // only the shadow right
  shadow(12, 2, 0.2, 0);
  live(3, "@production", 0.1, 0);  // only the control right
  shadow(13, 3, 0.7, 0);
  live(4, "@production", 0.2, 1);  // only the shadow right
  shadow(14, 4, 0.6, 1);
  live(5, "@staging", 0.9, 1);     // another arm's row
  shadow(15, 5, 0.9, 1);
  shadow(16, 99, 0.9, 1);          // its live row is not in the window

  const auto pairs = pair_shadows_with("@production", rows, kBinary);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].arm, "shadow:3");
  EXPECT_EQ(pairs[0].version, 3);
  EXPECT_EQ(pairs[0].outcomes.pairs, 4);
  EXPECT_EQ(pairs[0].outcomes.control_only, 1);
  EXPECT_EQ(pairs[0].outcomes.candidate_only, 2);
  EXPECT_DOUBLE_EQ(pairs[0].outcomes.control_value, 0.5);
  EXPECT_DOUBLE_EQ(pairs[0].outcomes.candidate_value, 0.75);
}

TEST(LiveQuality, RegressionShadowsArePairedOnSquaredErrors) {
  const TaskLookup regression = [](const std::string&, std::int64_t) { return std::optional<TaskKind>(TaskKind::kRegression); };
  std::vector<PredictionRecord> rows = {labelled(1, "1", {3.0}, 2.0), labelled(3, "shadow:3", {2.5}, 2.0),
                                        labelled(1, "1", {0.0}, 2.0), labelled(3, "shadow:3", {1.0}, 2.0)};
  rows[0].id = id_number(1);
  rows[1].id = id_number(2);
  rows[1].shadow_of = rows[0].id;
  rows[2].id = id_number(3);
  rows[3].id = id_number(4);
  rows[3].shadow_of = rows[2].id;
  const auto pairs = pair_shadows_with("1", rows, regression);
  ASSERT_EQ(pairs.size(), 1u);
  const PairedOutcomes& o = pairs[0].outcomes;
  EXPECT_EQ(o.difference.count, 2);
  // Squared errors: control 1 and 4, shadow 0.25 and 1; differences -0.75 and -3.
  EXPECT_DOUBLE_EQ(o.control_value, 2.5);
  EXPECT_DOUBLE_EQ(o.candidate_value, 0.625);
  EXPECT_DOUBLE_EQ(o.difference.mean, -1.875);
  EXPECT_DOUBLE_EQ(o.difference.variance, 2 * 1.125 * 1.125);
}

TEST(LiveQuality, OneClassOfLabelsStillGivesAccuracyAndSaysWhyAucIsMissing) {
  const auto groups = live_quality({labelled(1, "a", {0.9}, 1), labelled(1, "a", {0.3}, 1)}, kBinary, false);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_DOUBLE_EQ(metric(groups[0], "accuracy"), 0.5);
  EXPECT_FALSE(groups[0].note.empty());
}

TEST(LiveQuality, MulticlassAndRegression) {
  const TaskLookup multiclass = [](const std::string&, std::int64_t) { return std::optional<TaskKind>(TaskKind::kMulticlass); };
  const auto classes = live_quality({labelled(1, "a", {0.1, 0.7, 0.2}, 1), labelled(1, "a", {0.5, 0.3, 0.2}, 2)}, multiclass, false);
  EXPECT_EQ(classes[0].correct, 1);
  EXPECT_DOUBLE_EQ(metric(classes[0], "accuracy"), 0.5);

  const TaskLookup regression = [](const std::string&, std::int64_t) { return std::optional<TaskKind>(TaskKind::kRegression); };
  const auto reg = live_quality({labelled(1, "a", {3.0}, 1.0), labelled(1, "a", {2.0}, 3.0), labelled(1, "a", {5.0}, 5.0)}, regression, false);
  ASSERT_EQ(reg.size(), 1u);
  EXPECT_DOUBLE_EQ(metric(reg[0], "mae"), 1.0);
  EXPECT_DOUBLE_EQ(metric(reg[0], "rmse"), std::sqrt(5.0 / 3));
  // Squared errors 4, 1, 0: mean 5/3, sample variance ((4-5/3)^2 + (1-5/3)^2 + (5/3)^2) / 2 = 13/3.
  EXPECT_EQ(reg[0].squared_error.count, 3);
  EXPECT_DOUBLE_EQ(reg[0].squared_error.mean, 5.0 / 3);
  EXPECT_NEAR(reg[0].squared_error.variance, 13.0 / 3, 1e-12);
}

TEST(LiveQuality, AVersionThatIsGoneIsReportedNotScored) {
  const TaskLookup gone = [](const std::string&, std::int64_t) { return std::optional<TaskKind>(); };
  const auto groups = live_quality({labelled(9, "a", {0.5}, 1)}, gone, false);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].labelled, 0u);
  EXPECT_FALSE(groups[0].note.empty());
  EXPECT_TRUE(to_json(groups[0])["task"].is_null());
}

}  // namespace
}  // namespace orchard
