// Splits [0, n) into contiguous ranges run on up to hardware_concurrency()
// threads. For CPU-bound loops whose iterations are independent.
#ifndef SEMDB_EMBEDDERS_PARALLEL_FOR_H_
#define SEMDB_EMBEDDERS_PARALLEL_FOR_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace semdb {

// Calls fn(worker, begin, end) over disjoint ranges covering [0, n), on up
// to max_threads threads (0: hardware_concurrency()), each thread getting at
// least min_per_thread iterations. `worker` numbers the ranges from 0, below
// the thread count, so that fn can index per-thread scratch space. Blocks
// until all ranges are done.
inline void ParallelForWorkers(int64_t n, int64_t min_per_thread, int max_threads,
                               const std::function<void(int, int64_t, int64_t)>& fn) {
  int64_t threads = max_threads > 0 ? max_threads
                                    : std::max<int64_t>(1, std::thread::hardware_concurrency());
  threads = std::min(threads, std::max<int64_t>(1, n / std::max<int64_t>(1, min_per_thread)));
  if (threads <= 1) {
    if (n > 0) fn(0, 0, n);
    return;
  }
  std::vector<std::thread> pool;
  int64_t chunk = (n + threads - 1) / threads;
  int worker = 1;
  for (int64_t begin = chunk; begin < n; begin += chunk) {
    pool.emplace_back(fn, worker++, begin, std::min(n, begin + chunk));
  }
  fn(0, 0, std::min(n, chunk));
  for (std::thread& t : pool) t.join();
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
