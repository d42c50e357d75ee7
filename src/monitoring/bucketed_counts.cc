#include "monitoring/bucketed_counts.h"

#include <algorithm>

namespace orchard {

BucketedCounts::BucketedCounts(std::size_t buckets, std::size_t bins) : bins_(bins), ring_(std::max<std::size_t>(buckets, 1)) {}

BucketedCounts::Bucket& BucketedCounts::at(std::int64_t epoch) {
  const auto n = static_cast<std::int64_t>(ring_.size());
  Bucket& bucket = ring_[static_cast<std::size_t>(((epoch % n) + n) % n)];
  if (bucket.epoch != epoch) {
    bucket.epoch = epoch;
    bucket.rows = bucket.shadow_rows = 0;
    bucket.counts.assign(bins_, 0);
  }
  return bucket;
}

BucketedCounts::Sum BucketedCounts::sum(std::int64_t first, std::int64_t last) const {
  Sum total;
  total.counts.assign(bins_, 0);
  for (const Bucket& bucket : ring_) {
    if (bucket.epoch < first || bucket.epoch > last) continue;
    total.rows += bucket.rows;
    total.shadow_rows += bucket.shadow_rows;
    for (std::size_t i = 0; i < bucket.counts.size(); ++i) total.counts[i] += bucket.counts[i];
  }
  return total;
}

std::vector<std::uint64_t> BucketedCounts::sum_steps(std::int64_t first, std::int64_t step, std::size_t points, std::size_t offset,
                                                     std::size_t n) const {
  std::vector<std::uint64_t> out(points * n, 0);
  if (step < 1 || points == 0 || offset + n > bins_) return out;
  const std::int64_t end = first + step * static_cast<std::int64_t>(points);  // exclusive
  for (const Bucket& bucket : ring_) {
    if (bucket.epoch < first || bucket.epoch >= end) continue;
    const auto p = static_cast<std::size_t>((bucket.epoch - first) / step);
    for (std::size_t b = 0; b < n; ++b) out[p * n + b] += bucket.counts[offset + b];
  }
  return out;
}

std::size_t BucketedCounts::bytes() const {
  std::size_t total = ring_.capacity() * sizeof(Bucket);
  for (const Bucket& bucket : ring_) total += bucket.counts.capacity() * sizeof(std::uint32_t);
  return total;
}

}  // namespace orchard
