// Output transforms: the formulas and the precision each library computes them in.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/output_transform.h"

namespace orchard {
namespace {

double apply1(TransformKind kind, Precision precision, double x, double scale = 1.0) {
  OutputTransform transform{kind, scale, precision};
  double out = 0;
  apply_output_transform(transform, &x, 1, &out);
  return out;
}

TEST(OutputTransform, SigmoidInDoubleAndFloat) {
  EXPECT_DOUBLE_EQ(apply1(TransformKind::kSigmoid, Precision::kFloat64, 0.3), 1.0 / (1.0 + std::exp(-0.3)));
  EXPECT_EQ(apply1(TransformKind::kSigmoid, Precision::kFloat32, 0.3),
            static_cast<double>(1.0f / (1.0f + std::exp(-0.3f))));
  EXPECT_DOUBLE_EQ(apply1(TransformKind::kSigmoid, Precision::kFloat64, 0.3, 2.0), 1.0 / (1.0 + std::exp(-0.6)));
}

TEST(OutputTransform, ExpLog1pExpSquareHinge) {
  EXPECT_DOUBLE_EQ(apply1(TransformKind::kExp, Precision::kFloat64, 1.5), std::exp(1.5));
  EXPECT_DOUBLE_EQ(apply1(TransformKind::kLog1pExp, Precision::kFloat64, 0.7), std::log1p(std::exp(0.7)));
  EXPECT_DOUBLE_EQ(apply1(TransformKind::kSquareSigned, Precision::kFloat64, -3.0), -9.0);
  EXPECT_DOUBLE_EQ(apply1(TransformKind::kSquareSigned, Precision::kFloat64, 2.0), 4.0);
  EXPECT_EQ(apply1(TransformKind::kHinge, Precision::kFloat32, 0.0), 0.0);
  EXPECT_EQ(apply1(TransformKind::kHinge, Precision::kFloat32, 1e-3), 1.0);
  EXPECT_EQ(apply1(TransformKind::kIdentity, Precision::kFloat32, 0.1), static_cast<double>(0.1f));
}

TEST(OutputTransform, SoftmaxSumsToOneAndIsShiftInvariant) {
  const OutputTransform softmax{TransformKind::kSoftmax, 1.0, Precision::kFloat64};
  double margins[3] = {1.0, 2.0, 3.0};
  double out[3];
  apply_output_transform(softmax, margins, 3, out);
  EXPECT_NEAR(out[0] + out[1] + out[2], 1.0, 1e-15);
  const double denominator = std::exp(-2.0) + std::exp(-1.0) + 1.0;
  EXPECT_DOUBLE_EQ(out[2], 1.0 / denominator);
  // Large margins do not overflow (the maximum is subtracted first).
  double large[2] = {1000.0, 1000.0};
  apply_output_transform(softmax, large, 2, large);  // in place
  EXPECT_DOUBLE_EQ(large[0], 0.5);
  EXPECT_DOUBLE_EQ(large[1], 0.5);
}

TEST(OutputTransform, ArgMaxTakesTheFirstLargest) {
  const OutputTransform argmax{TransformKind::kArgMax, 1.0, Precision::kFloat32};
  double margins[4] = {0.1, 0.7, 0.7, -1.0};
  double out = -1;
  apply_output_transform(argmax, margins, 4, &out);
  EXPECT_EQ(out, 1.0);
}

}  // namespace
}  // namespace orchard
