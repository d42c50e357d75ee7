// A fixed set of worker threads for batch prediction. The calling thread works too, so a pool of
// N threads starts N - 1 workers. Single-row prediction never touches the pool.
// Tasks are handed out one at a time, so a worker that wakes late still takes its share. After a
// batch, workers spin for a fraction of a millisecond before sleeping: waking a sleeping thread can
// take longer than a small batch (notably on virtual machines), and batches often come in bursts.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace orchard {

class ThreadPool {
 public:
  // threads <= 0 means one per hardware thread.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs task(0) ... task(count - 1), spread over the pool and the caller, and returns when all are
  // done. If tasks throw, the first exception is rethrown here. Calls are serialized.
  void parallel_for(std::size_t count, const std::function<void(std::size_t)>& task);

 private:
  void worker_loop();
  void run_tasks();

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one parallel_for at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(std::size_t)>* task_ = nullptr;
  std::size_t count_ = 0;
  std::size_t next_ = 0;
  std::size_t finished_ = 0;
  std::atomic<std::size_t> generation_{0};  // bumped per parallel_for; read unlocked while spinning
  std::exception_ptr error_;
  std::atomic<bool> stopping_{false};
};

}  // namespace orchard
