// ThreadPool and ParallelFor: the ranges cover the loop once, a pool of one
// thread runs everything on the caller, nested loops finish, and embedders
// created with a pool run their loops on it.
#include "embedders/thread_pool.h"

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "embedders/embedder_factory.h"
#include "embedders/parallel_for.h"

namespace semdb {
namespace {

// What one Run did: the threads that ran ranges, and how often each
// iteration was visited.
struct Trace {
  absl::Mutex mu;
  std::set<std::thread::id> threads;
  std::set<int> workers;
  std::vector<std::atomic<int>> visits;
  explicit Trace(int64_t n) : visits(n) {}

  void Record(int worker, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) visits[i]++;
    absl::MutexLock lock(&mu);
    threads.insert(std::this_thread::get_id());
    workers.insert(worker);
  }
  bool EachOnce() const {
    for (const std::atomic<int>& v : visits) {
      if (v != 1) return false;
    }
    return true;
  }
};

TEST_CASE("ThreadPool splits a loop into ranges that cover it once", "[thread_pool]") {
  struct Row {
    int pool_threads;
    int64_t n;
    int64_t min_per_thread;
    int max_threads;
    size_t most_threads;  // at most this many threads and ranges
  };
  const Row rows[] = {
      {1, 10000, 1, 0, 1},   // one thread: all on the caller
      {3, 10000, 1, 0, 3},
      {3, 10000, 1, 2, 2},   // max_threads below the pool's size
      {3, 10000, 1, 8, 3},   // and above it
      {3, 5, 10, 0, 1},      // too little work to share
      {4, 7, 1, 0, 4},       // ranges of uneven length
      {4, 0, 1, 0, 0},       // nothing to do
  };
  for (const Row& row : rows) {
    ThreadPool pool(row.pool_threads);
    CHECK(pool.size() == row.pool_threads);
    Trace trace(row.n);
    pool.Run(row.n, row.min_per_thread, row.max_threads,
             [&](int worker, int64_t b, int64_t e) { trace.Record(worker, b, e); });
    INFO("pool " << row.pool_threads << ", n " << row.n << ", max " << row.max_threads);
    CHECK(trace.EachOnce());
    CHECK(trace.threads.size() <= row.most_threads);
    CHECK(trace.workers.size() <= row.most_threads);
    for (int w : trace.workers) CHECK(w < static_cast<int>(std::max<size_t>(1, row.most_threads)));
    if (row.most_threads == 1) {
      CHECK(trace.threads == std::set<std::thread::id>{std::this_thread::get_id()});
    }
  }
}

TEST_CASE("ParallelFor runs on the pool of the scope, nested loops included", "[thread_pool]") {
  ThreadPool one(1);
  ThreadPool three(3);
  const ThreadPool* outside = &ThreadPool::Current();
  {
    ThreadPool::Scope on(&one);
    CHECK(&ThreadPool::Current() == &one);
    Trace trace(5000);
    ParallelForWorkers(5000, 1, 0, [&](int w, int64_t b, int64_t e) { trace.Record(w, b, e); });
    CHECK(trace.EachOnce());
    CHECK(trace.threads == std::set<std::thread::id>{std::this_thread::get_id()});
    {
      ThreadPool::Scope nested(nullptr);  // null keeps the pool
      CHECK(&ThreadPool::Current() == &one);
    }
  }
  CHECK(&ThreadPool::Current() == outside);

  // Loops inside loops, from several callers at once: every iteration of
  // every inner loop runs once and nothing waits forever.
  ThreadPool::Scope on(&three);
  constexpr int kOuter = 12, kInner = 3000;
  std::vector<std::unique_ptr<Trace>> inner;
  for (int i = 0; i < 2 * kOuter; ++i) inner.push_back(std::make_unique<Trace>(kInner));
  std::atomic<bool> other_pool{false};  // (Catch2 asserts on one thread only)
  auto outer_loop = [&](int first) {
    ThreadPool::Scope mine(&three);
    ParallelFor(kOuter, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        if (&ThreadPool::Current() != &three) other_pool = true;
        Trace& t = *inner[first + i];
        ParallelForWorkers(kInner, 100, 0,
                           [&](int w, int64_t ib, int64_t ie) { t.Record(w, ib, ie); });
      }
    });
  };
  std::thread other(outer_loop, kOuter);
  outer_loop(0);
  other.join();
  CHECK_FALSE(other_pool);
  for (const auto& t : inner) {
    CHECK(t->EachOnce());
    CHECK(t->threads.size() <= 3);
  }
}

TEST_CASE("An embedder created with a pool runs its loops on it", "[thread_pool]") {
  ThreadPool one(1);
  EmbedderContext context;
  context.pool = &one;
  absl::StatusOr<Spec> spec = Spec::Parse("tfidf dim=16");
  REQUIRE(spec.ok());
  absl::StatusOr<std::unique_ptr<Embedder>> e = CreateEmbedder(*spec, context);
  REQUIRE(e.ok());
  std::vector<std::string> texts;
  for (int i = 0; i < 2000; ++i) {
    texts.push_back("document " + std::to_string(i) + " about fires floods and word " +
                    std::to_string(i % 37) + " near word " + std::to_string(i % 11));
  }
  const int64_t before = one.runs();
  REQUIRE((*e)->Fit(CorpusOf(texts)).ok());
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<float> out(views.size() * (*e)->dimension());
  REQUIRE((*e)->Embed(views, absl::MakeSpan(out), nullptr).ok());
  // The fit's and the embedding's parallel loops went to the pool of one
  // thread, which runs every range on its caller.
  CHECK(one.runs() > before);
  CHECK(one.size() == 1);
}

}  // namespace
}  // namespace semdb
