#include "embedders/thread_pool.h"

#include <pthread.h>

#include <algorithm>

namespace semdb {

namespace {

thread_local ThreadPool* current_pool = nullptr;

}  // namespace

// One Run: `ranges` ranges of `chunk` iterations, taken by index.
struct ThreadPool::Job {
  const std::function<void(int, int64_t, int64_t)>* fn;
  int64_t n;
  int64_t chunk;
  int ranges;
  std::atomic<int> next{0};  // the next range to take
  absl::Mutex mu;
  int done ABSL_GUARDED_BY(mu) = 0;

  // Runs one range not yet taken; false when none is left.
  bool RunOne() {
    const int r = next.fetch_add(1);
    if (r >= ranges) return false;
    const int64_t begin = r * chunk;
    (*fn)(r, begin, std::min(n, begin + chunk));
    absl::MutexLock lock(&mu);
    ++done;
    return true;
  }

  bool Finished() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return done == ranges; }
};

ThreadPool::ThreadPool(int threads)
    : size_(threads > 0 ? threads
                        : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))) {
  for (int i = 1; i < size_; ++i) {
    threads_.emplace_back([this] { Work(); });
    // A name to find the pool's threads by (top -H, gdb, /proc/PID/task),
    // set before the constructor returns.
    pthread_setname_np(threads_.back().native_handle(), "semdb-pool");
  }
}

ThreadPool::~ThreadPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::Work() {
  current_pool = this;  // loops nested in a range use this pool too
  while (true) {
    std::shared_ptr<Job> job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &ThreadPool::HasWorkOrStops));
      if (jobs_.empty()) return;  // stopping
      job = jobs_.front();
    }
    if (!job->RunOne()) {
      absl::MutexLock lock(&mu_);
      if (!jobs_.empty() && jobs_.front() == job) jobs_.pop_front();
    }
  }
}

void ThreadPool::Run(int64_t n, int64_t min_per_thread, int max_threads,
                     const std::function<void(int, int64_t, int64_t)>& fn) {
  runs_.fetch_add(1);
  int64_t threads = max_threads > 0 ? std::min(max_threads, size_) : size_;
  threads = std::min(threads, std::max<int64_t>(1, n / std::max<int64_t>(1, min_per_thread)));
  if (threads <= 1) {
    if (n > 0) fn(0, 0, n);
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->n = n;
  job->chunk = (n + threads - 1) / threads;
  job->ranges = static_cast<int>((n + job->chunk - 1) / job->chunk);
  {
    absl::MutexLock lock(&mu_);
    jobs_.push_back(job);
  }
  while (job->RunOne()) {
  }
  {
    // Every range is taken: no thread need look at the job again.
    absl::MutexLock lock(&mu_);
    if (auto it = std::find(jobs_.begin(), jobs_.end(), job); it != jobs_.end()) jobs_.erase(it);
  }
  // Wait for the ranges other threads are running.
  absl::MutexLock lock(&job->mu);
  job->mu.Await(absl::Condition(job.get(), &Job::Finished));
}

ThreadPool& ThreadPool::Current() {
  if (current_pool != nullptr) return *current_pool;
  static ThreadPool* const default_pool = new ThreadPool(0);  // never destroyed
  return *default_pool;
}

ThreadPool::Scope::Scope(ThreadPool* pool) : previous_(current_pool) {
  if (pool != nullptr) current_pool = pool;
}

ThreadPool::Scope::~Scope() { current_pool = previous_; }

}  // namespace semdb
