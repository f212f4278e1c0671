// Parallel loops over [0, n), run by the calling thread's pool
// (ThreadPool::Current(), thread_pool.h). For CPU-bound loops whose
// iterations are independent.
#ifndef SEMDB_EMBEDDERS_PARALLEL_FOR_H_
#define SEMDB_EMBEDDERS_PARALLEL_FOR_H_

#include <cstdint>
#include <functional>

#include "embedders/thread_pool.h"

namespace semdb {

// Calls fn(worker, begin, end) over disjoint ranges covering [0, n), on up
// to max_threads threads of the current pool (0: all of them), each thread
// getting at least min_per_thread iterations. `worker` numbers the ranges
// from 0, below the thread count, so that fn can index per-thread scratch
// space. Blocks until all ranges are done.
inline void ParallelForWorkers(int64_t n, int64_t min_per_thread, int max_threads,
                               const std::function<void(int, int64_t, int64_t)>& fn) {
  ThreadPool::Current().Run(n, min_per_thread, max_threads, fn);
}

// Calls fn(begin, end) over disjoint ranges covering [0, n), in parallel when
// n >= min_per_thread * 2. Blocks until all ranges are done.
inline void ParallelFor(int64_t n, int64_t min_per_thread,
                        const std::function<void(int64_t, int64_t)>& fn) {
  ParallelForWorkers(n, min_per_thread, 0,
                     [&fn](int, int64_t begin, int64_t end) { fn(begin, end); });
}

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_PARALLEL_FOR_H_
