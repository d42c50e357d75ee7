// The batch thread pool: every task runs exactly once, the caller takes part, errors come back.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "engine/thread_pool.h"

namespace orchard {
namespace {

TEST(ThreadPool, RunsEveryTaskOnce) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (std::size_t count : {0u, 1u, 3u, 1000u}) {
      std::vector<std::atomic<int>> runs(count);
      pool.parallel_for(count, [&](std::size_t i) { runs[i].fetch_add(1); });
      for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(runs[i].load(), 1) << "task " << i << " with " << threads << " threads";
    }
  }
}

TEST(ThreadPool, RethrowsATaskErrorOnTheCaller) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(10, [](std::size_t i) { if (i == 7) throw std::runtime_error("task 7"); }), std::runtime_error);
  // The pool stays usable afterwards.
  std::atomic<int> total{0};
  pool.parallel_for(10, [&](std::size_t) { total.fetch_add(1); });
  EXPECT_EQ(total.load(), 10);
}

TEST(ThreadPool, ZeroMeansOnePerHardwareThread) {
  ThreadPool pool(0);
  EXPECT_GE(pool.size(), 1);
}

}  // namespace
}  // namespace orchard
