#include "monitoring/bucketed_counts.h"

#include <gtest/gtest.h>

namespace orchard {
namespace {

void add(BucketedCounts& counts, std::int64_t epoch, std::size_t bin, std::uint32_t n = 1, bool shadow = false) {
  BucketedCounts::Bucket& bucket = counts.at(epoch);
  bucket.counts[bin] += n;
  bucket.rows += n;
  if (shadow) bucket.shadow_rows += n;
}

TEST(BucketedCounts, SumsTheBucketsOfARange) {
  BucketedCounts counts(4, 3);
  add(counts, 100, 0, 2);
  add(counts, 101, 1, 3, true);
  add(counts, 103, 2, 5);
  const auto all = counts.sum(100, 103);
  EXPECT_EQ(all.rows, 10u);
  EXPECT_EQ(all.shadow_rows, 3u);
  EXPECT_EQ(all.counts, (std::vector<std::uint64_t>{2, 3, 5}));
  EXPECT_EQ(counts.sum(101, 102).counts, (std::vector<std::uint64_t>{0, 3, 0}));
  EXPECT_EQ(counts.sum(104, 200).rows, 0u);
  EXPECT_EQ(counts.sum(104, 200).counts.size(), 3u);
}

TEST(BucketedCounts, TheRingForgetsEpochsItCameRoundFrom) {
  BucketedCounts counts(4, 2);
  add(counts, 10, 0, 7);
  add(counts, 14, 1, 1);  // same slot as 10: 10's counts are gone
  EXPECT_EQ(counts.sum(0, 100).counts, (std::vector<std::uint64_t>{0, 1}));
  add(counts, 14, 1, 1);  // same epoch: adds up
  EXPECT_EQ(counts.sum(14, 14).rows, 2u);
  // Negative epochs map into the ring too.
  add(counts, -3, 0, 4);
  EXPECT_EQ(counts.sum(-3, -3).counts, (std::vector<std::uint64_t>{4, 0}));
}

TEST(BucketedCounts, SumsPerStepForCharts) {
  BucketedCounts counts(10, 3);
  for (std::int64_t e = 0; e < 6; ++e) add(counts, e, static_cast<std::size_t>(e % 3), static_cast<std::uint32_t>(e + 1));
  // Steps of 2 epochs from 0: {0,1}, {2,3}, {4,5}; bins 1..2 only.
  EXPECT_EQ(counts.sum_steps(0, 2, 3, 1, 2), (std::vector<std::uint64_t>{2, 0, 0, 3, 5, 6}));
  // One point beyond the data is empty.
  EXPECT_EQ(counts.sum_steps(6, 2, 1, 0, 3), (std::vector<std::uint64_t>{0, 0, 0}));
  // Out-of-range bins give zeros, not a read past the end.
  EXPECT_EQ(counts.sum_steps(0, 2, 1, 2, 5), (std::vector<std::uint64_t>(5, 0)));
}

TEST(BucketedCounts, BucketsAreAllocatedWhenFirstWritten) {
  BucketedCounts counts(1000, 100);
  const std::size_t empty = counts.bytes();
  EXPECT_LT(empty, 1000u * 64);
  add(counts, 1, 0);
  add(counts, 2, 0);
  EXPECT_GE(counts.bytes(), empty + 2 * 100 * sizeof(std::uint32_t));
  EXPECT_LT(counts.bytes(), empty + 3 * 100 * sizeof(std::uint32_t));
}

}  // namespace
}  // namespace orchard
