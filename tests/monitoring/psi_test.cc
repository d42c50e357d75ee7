#include "monitoring/psi.h"

#include <gtest/gtest.h>

namespace orchard {
namespace {

TEST(Psi, IdenticalDistributionsAreZero) {
  EXPECT_DOUBLE_EQ(psi({10, 20, 30, 0}, {10, 20, 30, 0}), 0.0);
  EXPECT_DOUBLE_EQ(psi({10, 20, 30}, {1, 2, 3}), 0.0);  // the same fractions at another scale
}

TEST(Psi, MatchesHandComputedValues) {
  // (0.75 − 0.5)·ln(1.5) + (0.25 − 0.5)·ln(0.5) = 0.25·ln 3
  EXPECT_NEAR(psi({50, 50}, {75, 25}), 0.27465307216702745, 1e-15);
  // (0.1 − 0.2)·ln(0.5) + 0 + (0.6 − 0.5)·ln(1.2)
  EXPECT_NEAR(psi({20, 30, 50}, {10, 30, 60}), 0.087546873735389982, 1e-15);
  EXPECT_NEAR(psi({50, 50}, {25, 75}), psi({25, 75}, {50, 50}), 1e-15);  // symmetric
}

TEST(Psi, EmptyBinsAreFlooredAtEpsilon) {
  // Reference (1, 0) → (1, 1e-4); live (0.9, 0.1): (0.9 − 1)·ln(0.9) + (0.1 − 1e-4)·ln(1000)
  EXPECT_NEAR(psi({100, 0}, {90, 10}), 0.70062080393609816, 1e-12);
  EXPECT_DOUBLE_EQ(kPsiEpsilon, 1e-4);
}

TEST(Psi, NoRowsOnEitherSideIsZero) {
  EXPECT_DOUBLE_EQ(psi({0, 0}, {5, 5}), 0.0);
  EXPECT_DOUBLE_EQ(psi({5, 5}, {0, 0}), 0.0);
  EXPECT_DOUBLE_EQ(psi(std::vector<std::uint64_t>{}, std::vector<std::uint64_t>{}), 0.0);
}

TEST(Psi, FractionsOfTheTotal) {
  const std::uint64_t counts[] = {1, 3, 0, 4};
  EXPECT_EQ(fractions(counts, 4), (std::vector<double>{0.125, 0.375, 0.0, 0.5}));
  const std::uint64_t none[] = {0, 0};
  EXPECT_EQ(fractions(none, 2), (std::vector<double>{0.0, 0.0}));
}

TEST(Psi, StatusThresholdsAreInclusiveAtTheLowerBound) {
  const DriftThresholds defaults;
  EXPECT_EQ(drift_status(0.0, defaults), DriftStatus::kOk);
  EXPECT_EQ(drift_status(0.0999, defaults), DriftStatus::kOk);
  EXPECT_EQ(drift_status(0.1, defaults), DriftStatus::kWatch);
  EXPECT_EQ(drift_status(0.2499, defaults), DriftStatus::kWatch);
  EXPECT_EQ(drift_status(0.25, defaults), DriftStatus::kAlert);
  const DriftThresholds strict{0.02, 0.05};
  EXPECT_EQ(drift_status(0.03, strict), DriftStatus::kWatch);
  EXPECT_EQ(drift_status(0.06, strict), DriftStatus::kAlert);
  EXPECT_STREQ(drift_status_name(DriftStatus::kOk), "ok");
  EXPECT_STREQ(drift_status_name(DriftStatus::kWatch), "watch");
  EXPECT_STREQ(drift_status_name(DriftStatus::kAlert), "alert");
}

}  // namespace
}  // namespace orchard
