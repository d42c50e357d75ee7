// Counters of a fixed set of bins over time: a ring of time buckets, each holding one "epoch" (the
// caller's unit: the drift monitor numbers minutes since 1970). Any span of the last `buckets` epochs
// is a sum of buckets. A bucket's counters are allocated when it is first written and reused, zeroed,
// when the ring comes round to it for a newer epoch; memory is at most buckets × (bins × 4 + 48) bytes.
//
// Not thread-safe: the owner locks.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace orchard {

class BucketedCounts {
 public:
  struct Bucket {
    std::int64_t epoch = std::numeric_limits<std::int64_t>::min();  // never written
    std::uint64_t rows = 0, shadow_rows = 0;
    std::vector<std::uint32_t> counts;  // bins(); 32 bits: 4 billion rows per bin per bucket
  };

  struct Sum {
    std::uint64_t rows = 0, shadow_rows = 0;
    std::vector<std::uint64_t> counts;  // bins()
  };

  // REQUIRES: buckets >= 1.
  BucketedCounts(std::size_t buckets, std::size_t bins);

  // The bucket of `epoch` (any integer, negative too), emptied first if it held another epoch.
  Bucket& at(std::int64_t epoch);

  // Sums over the buckets whose epoch is in [first, last].
  Sum sum(std::int64_t first, std::int64_t last) const;

  // Bins [offset, offset + n) summed per step: `points` consecutive groups of `step` epochs, the first
  // group starting at `first`; returns points × n counts, oldest group first.
  std::vector<std::uint64_t> sum_steps(std::int64_t first, std::int64_t step, std::size_t points, std::size_t offset, std::size_t n) const;

  std::size_t bins() const { return bins_; }
  std::size_t buckets() const { return ring_.size(); }
  std::size_t bytes() const;  // held now

 private:
  std::size_t bins_;
  std::vector<Bucket> ring_;
};

}  // namespace orchard
