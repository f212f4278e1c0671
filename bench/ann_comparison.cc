// semdb's vector index core against its peers, side by side in one process
// on the same data (bench/run_ann_comparison.sh runs it on both data sets):
//
// - HNSW: semdb's FaissIndex (a graph in FAISS's arrays built by semdb's
//   parallel builder, index/hnsw_build.h; semdb's search loop, kernels and
//   packed level 0) against hnswlib (Debian's libhnswlib-dev headers
//   compiled here with -O3 -march=native), same M, efConstruction and build
//   threads; queries one per call on one thread, swept over ef; QPS compared
//   at matched recall@10 (linear interpolation between the sweep's points
//   that bracket the target).
// - Flat and IVF: FaissIndex against raw FAISS on identical indexes (the
//   same vectors, FAISS's deterministic training), one query per call and
//   in batches, after checking both return the same ids and scores.
//
// Timings: runs interleave semdb and the peer, best of --rounds; search
// speed in queries per CPU second of the searching thread, builds in
// wall-clock and CPU seconds. Exact
// truth by FAISS brute force. Markdown tables go to --out.
//
//   ann_comparison --data clustered|latent --rows 100000 --out FILE.md
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "CLI/CLI.hpp"
#include "faiss/IndexFlat.h"
#include "faiss/IndexIVFFlat.h"
#include "fmt/format.h"
#include "hnswlib/hnswlib.h"
#include "index/faiss_index.h"
#include "index/inner_product.h"
#include "omp.h"
#include "vector_data.h"  // tests/: the data generators

extern "C" char* openblas_get_corename();

namespace {

using Clock = std::chrono::steady_clock;
using FaissId = faiss::Index::idx_t;
constexpr int kK = 10;

double Seconds(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds used by the calling thread, or by the whole process (all its
// threads). On a shared machine wall-clock time includes waiting for a core;
// CPU time counts the work done.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five;
  in >> one >> five;
  return one + " " + five;
}

struct Data {
  int64_t rows;
  int dim, queries;
  std::vector<float> base, query;
  std::vector<FaissId> truth;  // queries x kK
};

double Recall(const int64_t* found, const FaissId* truth) {
  int hit = 0;
  for (int i = 0; i < kK; ++i) {
    for (int j = 0; j < kK; ++j) hit += found[i] == truth[j];
  }
  return hit / double(kK);
}

struct Point {
  int ef;
  double recall, qps;
};

// Queries per CPU second of `search(q, out_ids)` over all queries, one per
// call on this thread, and its recall.
template <typename Fn>
Point Pass(const Data& d, int ef, Fn search) {
  std::vector<int64_t> ids(static_cast<size_t>(d.queries) * kK, -1);
  const double t = ThreadCpuSeconds();
  for (int q = 0; q < d.queries; ++q) search(q, ids.data() + static_cast<size_t>(q) * kK);
  const double s = ThreadCpuSeconds() - t;
  double recall = 0;
  for (int q = 0; q < d.queries; ++q) {
    recall += Recall(ids.data() + static_cast<size_t>(q) * kK, d.truth.data() + q * kK);
  }
  return {ef, recall / d.queries, d.queries / s};
}

// QPS at `target` recall, interpolated on the sweep; 0 when not reached.
double QpsAt(const std::vector<Point>& sweep, double target) {
  for (size_t i = 0; i < sweep.size(); ++i) {
    if (sweep[i].recall < target) continue;
    if (i == 0) return sweep[i].qps;
    const Point& a = sweep[i - 1];
    const Point& b = sweep[i];
    const double f = (target - a.recall) / std::max(1e-9, b.recall - a.recall);
    return a.qps + f * (b.qps - a.qps);
  }
  return 0;
}

void Check(const absl::Status& s) {
  if (!s.ok()) {
    fmt::print(stderr, "error: {}\n", s.ToString());
    std::exit(1);
  }
}

std::string CompareHnsw(const Data& d, int m, int ef_construction, int threads, int rounds) {
  std::ostringstream md;
  std::vector<uint64_t> labels(d.rows);
  for (int64_t i = 0; i < d.rows; ++i) labels[i] = static_cast<uint64_t>(i);

  // Builds on `threads` threads each, hnswlib first.
  hnswlib::InnerProductSpace space(d.dim);
  hnswlib::HierarchicalNSW<float> peer(&space, d.rows, m, ef_construction, 100);
  Clock::time_point t = Clock::now();
  double cpu = ProcessCpuSeconds();
  peer.addPoint(d.base.data(), 0);
  {
    std::vector<std::thread> pool;
    for (int w = 0; w < threads; ++w) {
      pool.emplace_back([&, w] {
        for (int64_t i = 1 + w; i < d.rows; i += threads) {
          peer.addPoint(d.base.data() + i * d.dim, static_cast<size_t>(i));
        }
      });
    }
    for (std::thread& w : pool) w.join();
  }
  const double peer_build = Seconds(t), peer_build_cpu = ProcessCpuSeconds() - cpu;
  omp_set_num_threads(threads);
  auto index = semdb::FaissIndex::Create(
                   *semdb::Spec::Parse(fmt::format("hnsw m={} ef_construction={}", m,
                                                   ef_construction)),
                   d.dim)
                   .value();
  t = Clock::now();
  cpu = ProcessCpuSeconds();
  Check(index->Add(labels, d.base));
  const double semdb_build = Seconds(t), semdb_build_cpu = ProcessCpuSeconds() - cpu;
  fmt::print(stderr, "HNSW build: semdb {:.1f} s ({:.1f} CPU s), hnswlib {:.1f} s ({:.1f} CPU s)\n",
             semdb_build, semdb_build_cpu, peer_build, peer_build_cpu);

  std::vector<Point> semdb_sweep, peer_sweep;
  for (int ef : {10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512}) {
    Point best_semdb{ef, 0, 0}, best_peer{ef, 0, 0};
    for (int r = 0; r < rounds; ++r) {
      Point s = Pass(d, ef, [&](int q, int64_t* out) {
        semdb::IndexSearchKnobs knobs;
        knobs.ef_search = ef;
        auto hits = index->Search({d.query.data() + static_cast<size_t>(q) * d.dim,
                                   static_cast<size_t>(d.dim)},
                                  kK, knobs, nullptr);
        for (size_t i = 0; i < hits->size(); ++i) out[i] = static_cast<int64_t>((*hits)[i].label);
      });
      peer.setEf(ef);
      Point p = Pass(d, ef, [&](int q, int64_t* out) {
        auto top = peer.searchKnn(d.query.data() + static_cast<size_t>(q) * d.dim, kK);
        for (int i = static_cast<int>(top.size()) - 1; i >= 0; --i) {
          out[i] = static_cast<int64_t>(top.top().second);
          top.pop();
        }
      });
      if (s.qps > best_semdb.qps) best_semdb = s;
      if (p.qps > best_peer.qps) best_peer = p;
    }
    fmt::print(stderr, "ef {:4}: semdb recall {:.4f} {:8.0f} qps | hnswlib recall {:.4f} {:8.0f} qps\n",
               ef, best_semdb.recall, best_semdb.qps, best_peer.recall, best_peer.qps);
    semdb_sweep.push_back(best_semdb);
    peer_sweep.push_back(best_peer);
    if (best_semdb.recall > 0.997 && best_peer.recall > 0.997) break;
  }

  md << fmt::format("HNSW M={}, efConstruction={}; builds on {} threads; search one query per "
                    "call on one thread, best of {} interleaved rounds. QPS is queries per CPU "
                    "second of the searching thread (on a shared machine, wall-clock time also "
                    "counts the waits for a core).\n\n",
                    m, ef_construction, threads, rounds);
  md << "| recall@10 target | semdb QPS | hnswlib QPS | semdb / hnswlib |\n|---|---|---|---|\n";
  for (double target : {0.95, 0.99}) {
    const double s = QpsAt(semdb_sweep, target), p = QpsAt(peer_sweep, target);
    md << fmt::format("| {:.2f} | {:.0f} | {:.0f} | {} |\n", target, s, p,
                      s > 0 && p > 0 ? fmt::format("{:.2f}x", s / p) : "not reached");
  }
  md << fmt::format("\n| build, {} vectors | semdb | hnswlib | semdb / hnswlib |\n"
                    "|---|---|---|---|\n| wall-clock | {:.1f} s | {:.1f} s | {:.2f}x |\n"
                    "| CPU (all threads) | {:.1f} s | {:.1f} s | {:.2f}x |\n\n",
                    d.rows, semdb_build, peer_build, semdb_build / peer_build, semdb_build_cpu,
                    peer_build_cpu, semdb_build_cpu / peer_build_cpu);
  md << "| ef | semdb recall | semdb QPS | hnswlib recall | hnswlib QPS |\n|---|---|---|---|---|\n";
  for (size_t i = 0; i < semdb_sweep.size(); ++i) {
    md << fmt::format("| {} | {:.4f} | {:.0f} | {:.4f} | {:.0f} |\n", semdb_sweep[i].ef,
                      semdb_sweep[i].recall, semdb_sweep[i].qps, peer_sweep[i].recall,
                      peer_sweep[i].qps);
  }
  return md.str();
}

// FaissIndex over `spec` against `raw` (the same FAISS index, built the same
// way): identical results, then single-query and batch throughput.
std::string CompareExactPeer(const Data& d, const std::string& spec, faiss::Index& raw,
                             int nprobe, int rounds, int single_queries) {
  std::vector<uint64_t> labels(d.rows);
  for (int64_t i = 0; i < d.rows; ++i) labels[i] = static_cast<uint64_t>(i);
  auto index = semdb::FaissIndex::Create(*semdb::Spec::Parse(spec), d.dim).value();
  if (!index->is_trained()) {
    Check(index->Train(d.base));
    raw.train(d.rows, d.base.data());
  }
  Check(index->Add(labels, d.base));
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(&raw)) {
    std::vector<FaissId> ids(d.rows);
    for (int64_t i = 0; i < d.rows; ++i) ids[i] = i;
    ivf->add_with_ids(d.rows, d.base.data(), ids.data());
    ivf->nprobe = nprobe;
  } else {
    raw.add(d.rows, d.base.data());
  }
  semdb::IndexSearchKnobs knobs;
  knobs.nprobe = nprobe;
  const size_t dim = static_cast<size_t>(d.dim);
  std::vector<float> raw_scores(static_cast<size_t>(d.queries) * kK);
  std::vector<FaissId> raw_ids(static_cast<size_t>(d.queries) * kK);
  int same = 0;
  for (int q = 0; q < d.queries; ++q) {
    raw.search(1, d.query.data() + q * dim, kK, &raw_scores[q * kK], &raw_ids[q * kK]);
    auto hits = index->Search({d.query.data() + q * dim, dim}, kK, knobs, nullptr).value();
    // FAISS pads with -1 when fewer than k were found; semdb returns fewer.
    size_t found = 0;
    while (found < kK && raw_ids[q * kK + found] >= 0) ++found;
    bool equal = hits.size() == found;
    for (size_t i = 0; equal && i < hits.size(); ++i) {
      equal = static_cast<FaissId>(hits[i].label) == raw_ids[q * kK + i] &&
              std::abs(hits[i].score - raw_scores[q * kK + i]) < 1e-5;
    }
    same += equal;
  }
  const int single = std::min(single_queries, d.queries);
  double single_semdb = 0, single_raw = 0, batch_semdb = 0, batch_raw = 0;
  for (int r = 0; r < rounds; ++r) {
    Clock::time_point t = Clock::now();
    for (int q = 0; q < single; ++q) {
      (void)index->Search({d.query.data() + q * dim, dim}, kK, knobs, nullptr);
    }
    single_semdb = std::max(single_semdb, single / Seconds(t));
    t = Clock::now();
    for (int q = 0; q < single; ++q) {
      raw.search(1, d.query.data() + q * dim, kK, &raw_scores[q * kK], &raw_ids[q * kK]);
    }
    single_raw = std::max(single_raw, single / Seconds(t));
    t = Clock::now();
    (void)index->SearchBatch(d.query, kK, knobs, nullptr);
    batch_semdb = std::max(batch_semdb, d.queries / Seconds(t));
    t = Clock::now();
    raw.search(d.queries, d.query.data(), kK, raw_scores.data(), raw_ids.data());
    batch_raw = std::max(batch_raw, d.queries / Seconds(t));
  }
  return fmt::format("| {}{} | {}/{} | {:.0f} | {:.0f} | {:.3f}x | {:.0f} | {:.0f} | {:.3f}x |\n",
                     spec, nprobe > 0 ? fmt::format(" nprobe={}", nprobe) : "", same, d.queries,
                     single_semdb, single_raw, single_raw / single_semdb, batch_semdb, batch_raw,
                     batch_raw / batch_semdb);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"semdb index core against hnswlib and raw FAISS"};
  std::string data = "clustered", out_path = "ann_comparison.md";
  int64_t rows = 100000;
  int dim = 128, queries = 1000, m = 16, ef_construction = 200, rounds = 3;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  bool skip_exact = false;
  app.add_option("--data", data, "clustered (separated clusters) or latent (overlapping "
                                 "clusters in a 16-dimensional latent space)");
  app.add_option("--rows", rows, "vectors");
  app.add_option("--dim", dim, "dimension");
  app.add_option("--queries", queries, "held-out queries");
  app.add_option("--m", m, "HNSW M");
  app.add_option("--ef-construction", ef_construction, "HNSW efConstruction");
  app.add_option("--threads", threads, "build threads (both libraries)");
  app.add_option("--rounds", rounds, "interleaved timing rounds (best kept)");
  app.add_flag("--skip-exact", skip_exact, "only HNSW (no flat/IVF comparison)");
  app.add_option("--out", out_path, "markdown tables");
  CLI11_PARSE(app, argc, argv);

  const std::string load_before = LoadAverage();
  Data d{rows, dim, queries, {}, {}, {}};
  std::vector<float> all = data == "latent"
                               ? semdb::testing::LatentVectors(rows + queries, dim, 16, 64, 7)
                               : semdb::testing::ClusteredVectors(rows + queries, dim, 1000, 7, 0.9f);
  d.base.assign(all.begin(), all.begin() + rows * dim);
  d.query.assign(all.begin() + rows * dim, all.end());
  {
    faiss::IndexFlatIP flat(dim);
    flat.add(rows, d.base.data());
    std::vector<float> dist(static_cast<size_t>(queries) * kK);
    d.truth.resize(static_cast<size_t>(queries) * kK);
    flat.search(queries, d.query.data(), kK, dist.data(), d.truth.data());
  }

  std::ostringstream md;
  md << fmt::format("## {} data: {} x {}, {} queries, k={}\n\n", data, rows, dim, queries, kK);
  md << fmt::format("Machine: {} hardware threads; OpenBLAS core {}; semdb kernels {}; "
                    "load average (1, 5 min) {} at start",
                    std::thread::hardware_concurrency(), openblas_get_corename(),
                    semdb::SimdLevelName(semdb::BestSimdLevel()), load_before);
  const std::string hnsw = CompareHnsw(d, m, ef_construction, threads, rounds);
  std::string exact;
  if (!skip_exact) {
    exact = "| index | same ids and scores | semdb QPS | FAISS QPS | FAISS / semdb | semdb batch "
            "QPS | FAISS batch QPS | FAISS / semdb |\n|---|---|---|---|---|---|---|---|\n";
    faiss::IndexFlatIP flat(dim);
    // Flat answers tens of queries per second: a fifth of them, one by one.
    exact += CompareExactPeer(d, "flat", flat, 0, rounds, queries / 5);
    for (int nprobe : {1, 8, 32}) {
      faiss::IndexFlatIP quantizer(dim);
      faiss::IndexIVFFlat ivf(&quantizer, dim, 1024, faiss::METRIC_INNER_PRODUCT);
      exact += CompareExactPeer(d, "ivf nlist=1024", ivf, nprobe, rounds, queries);
    }
  }
  md << fmt::format(", {} at end (a loaded machine when above 0.5 per thread).\n\n",
                    LoadAverage());
  md << "### HNSW against hnswlib (-O3 -march=native)\n\n" << hnsw;
  if (!skip_exact) {
    md << "\n### Flat and IVF against raw FAISS on the identical index\n\n"
       << "Single: one query per call, one thread (flat: the first fifth of the queries). "
          "Batch: all queries in one call.\n\n"
       << exact;
  }
  std::ofstream(out_path) << md.str();
  fmt::print("{}", md.str());
  return 0;
}
