// ThreadPool: a fixed set of threads that run the ranges of ParallelFor
// (parallel_for.h), so that a loop costs no thread creation and a Database
// bounds its CPU use by Options::threads.
//
// Which pool a ParallelFor uses: the one a ThreadPool::Scope installed on
// the calling thread (a Database installs its own around the work it
// hands to embedders), the pool of the worker it runs on (nested loops),
// else a default pool of hardware_concurrency() threads.
#ifndef SEMDB_EMBEDDERS_THREAD_POOL_H_
#define SEMDB_EMBEDDERS_THREAD_POOL_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace semdb {

class ThreadPool {
 public:
  // `threads` in all, the caller of Run included (threads - 1 are started);
  // 0: std::thread::hardware_concurrency().
  explicit ThreadPool(int threads);
  ~ThreadPool();  // waits for its threads; no Run may be in progress
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // The most threads one Run uses.
  int size() const { return size_; }

  // Calls fn(worker, begin, end) over disjoint ranges covering [0, n), on
  // up to min(max_threads, size()) threads (max_threads 0: size()), each
  // range at least min_per_thread long. `worker` numbers the ranges from 0,
  // below that thread count, so that fn can index per-range scratch space.
  // The calling thread runs ranges too; returns when all are done. Safe to
  // call from inside fn (a nested loop) and from several threads at once.
  void Run(int64_t n, int64_t min_per_thread, int max_threads,
           const std::function<void(int, int64_t, int64_t)>& fn);

  // Run calls so far (tests check which pool a loop went to).
  int64_t runs() const { return runs_.load(); }

  // The pool ParallelFor uses on this thread (see above).
  static ThreadPool& Current();

  // Makes `pool` this thread's pool until destroyed (then the previous one
  // again). Null changes nothing.
  class Scope {
   public:
    explicit Scope(ThreadPool* pool);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    ThreadPool* previous_;
  };

 private:
  struct Job;

  void Work();
  bool HasWorkOrStops() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !jobs_.empty();
  }

  const int size_;
  std::atomic<int64_t> runs_{0};
  mutable absl::Mutex mu_;
  // Jobs with ranges not yet taken, oldest first.
  std::deque<std::shared_ptr<Job>> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_THREAD_POOL_H_
