// Ingest of pre-embedded vectors (issue 12): semdb against the peer a user
// would write instead, FAISS add + writing the same floats to a file.
//
//   ingest_bench [--rows 100000] [--dim 128] [--batch 1000] [--repeat 3]
//                [--kinds flat,hnsw] [--work DIR]
//
// The driver writes the vectors (clustered unit vectors, tests/vector_data.h)
// to a file once, then runs each side as a child process of this binary,
// interleaved (semdb, peer, semdb, peer...), best of --repeat. Both children
// stream the file in batches of --batch rows and finish with their data on
// disk (fsynced):
//   semdb  a new database, collection "v" ("vectors dim=DIM", index KIND),
//          InsertBatch of documents with ids "0".."N-1" and metadata
//          {"i": row}, then the database is closed (which saves the index);
//   peer   faiss IndexFlatIP / IndexHNSWFlat (same M and efConstruction)
//          add per batch, the batch's floats appended to a file, then
//          write_index; both files fsynced.
//   store  the floor of semdb's storage format, for reference (not a goal):
//          semdb's Store alone (storage/store.h, as the database opens it)
//          given per batch the records an InsertBatch of these documents
//          writes (document, metadata, id and vector reference per
//          document; the values appended to the vector file), then the
//          flush the close does; no collection, no FAISS, no JSON objects
//          (the metadata text is formatted directly). Only with --store.
// Time is the child's wall-clock time from before the first batch to the
// end (data on disk), CPU its user+system time and peak RSS its
// ru_maxrss (both from wait4), disk the bytes left in its folder. After
// each semdb run a third child reopens its database (Database::Open and the
// collection: a flat index is rebuilt from the stored vectors), timed. Printed
// with the core count, the load average and the OpenBLAS kernel. Issue
// 12's goals: rate >= 0.8x the peer's, disk <= 1.3x, peak RSS <= 1.5x.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "CLI/CLI.hpp"
#include "child_process.h"
#include "faiss/IndexFlat.h"
#include "faiss/IndexHNSW.h"
#include "faiss/index_io.h"
#include "fmt/format.h"
#include "semdb/database.h"
#include "storage/store.h"
#include "vector_data.h"  // tests/: the clustered-vector generator

extern "C" char* openblas_get_corename();

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The HNSW parameters of issue 12's measurements, on both sides.
constexpr int kHnswM = 16;
constexpr int kHnswEfConstruction = 200;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "ingest_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) Die(fmt::format("{}: {}", what, std::string(s.message())));
}

void FsyncFile(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) Die("cannot fsync " + path.string());
  ::close(fd);
}

uint64_t DiskBytes(const fs::path& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

// Reads the vector file batch by batch and hands each to `fn(first_row, rows, floats)`.
template <typename Fn>
void StreamBatches(const std::string& path, int dim, int64_t rows, int64_t batch, Fn fn) {
  std::ifstream in(path, std::ios::binary);
  std::vector<float> buf(static_cast<size_t>(batch) * dim);
  for (int64_t first = 0; first < rows; first += batch) {
    const int64_t n = std::min(batch, rows - first);
    in.read(reinterpret_cast<char*>(buf.data()),
            static_cast<std::streamsize>(n * dim * sizeof(float)));
    if (!in) Die("short read of " + path);
    fn(first, n, buf.data());
  }
}

// --- children: each prints its timed seconds on standard output

int RunSemdb(const std::string& data, const std::string& kind, int dim, int64_t rows,
             int64_t batch, const fs::path& out) {
  const Clock::time_point start = Clock::now();
  {
    auto db = semdb::Database::Open(out.string());
    Check(db.status(), "open");
    const std::string index = kind == "hnsw" ? fmt::format("hnsw m={} ef_construction={}",
                                                           kHnswM, kHnswEfConstruction)
                                             : kind;
    auto col = (*db)->CreateCollection(
        "v", {.embedder = fmt::format("vectors dim={}", dim), .index = index});
    Check(col.status(), "create");
    StreamBatches(data, dim, rows, batch, [&](int64_t first, int64_t n, const float* v) {
      std::vector<semdb::Document> docs(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        docs[i].id = std::to_string(first + i);
        docs[i].metadata = {{"i", first + i}};
        docs[i].vector.assign(v + i * dim, v + (i + 1) * dim);
      }
      Check((*col)->InsertBatch(std::move(docs)).status(), "insert");
    });
  }  // closing the database saves the index
  std::printf("%.6f\n", std::chrono::duration<double>(Clock::now() - start).count());
  return 0;
}

int RunStore(const std::string& data, int dim, int64_t rows, int64_t batch,
             const fs::path& out) {
  const Clock::time_point start = Clock::now();
  {
    auto store = semdb::Store::Open(out.string(), {});
    Check(store.status(), "open the store");
    constexpr uint32_t kCid = 1, kGen = 1;
    semdb::Counters counters;
    StreamBatches(data, dim, rows, batch, [&](int64_t first, int64_t n, const float* v) {
      semdb::StoreBatch b(**store);
      for (int64_t i = 0; i < n; ++i) {
        const uint64_t label = counters.next_label++;
        b.PutDocument(kCid, label, {.id = std::to_string(first + i)},
                      fmt::format("{{\"i\":{}}}", first + i));
        b.PutVector(kCid, kGen, semdb::VectorStorage::kFloat32, label, 0, 0,
                    absl::MakeConstSpan(v + i * dim, dim));
      }
      counters.live_docs += n;
      b.PutCounters(kCid, counters);
      Check((*store)->Write(b, /*sync=*/false), "write");
    });
    Check((*store)->Flush(), "flush");
  }
  std::printf("%.6f\n", std::chrono::duration<double>(Clock::now() - start).count());
  return 0;
}

int RunReopen(const fs::path& out) {
  const Clock::time_point start = Clock::now();
  {
    auto db = semdb::Database::Open(out.string());
    Check(db.status(), "reopen");
    Check((*db)->GetCollection("v").status(), "reopen the collection");
  }
  std::printf("%.6f\n", std::chrono::duration<double>(Clock::now() - start).count());
  return 0;
}

int RunPeer(const std::string& data, const std::string& kind, int dim, int64_t rows,
            int64_t batch, const fs::path& out) {
  const Clock::time_point start = Clock::now();
  std::unique_ptr<faiss::Index> index;
  if (kind == "hnsw") {
    auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(dim, kHnswM, faiss::METRIC_INNER_PRODUCT);
    hnsw->hnsw.efConstruction = kHnswEfConstruction;
    index = std::move(hnsw);
  } else {
    index = std::make_unique<faiss::IndexFlatIP>(dim);
  }
  const fs::path floats = out / "vectors.f32";
  std::FILE* f = std::fopen(floats.c_str(), "wb");
  if (f == nullptr) Die("cannot write " + floats.string());
  StreamBatches(data, dim, rows, batch, [&](int64_t, int64_t n, const float* v) {
    index->add(n, v);
    if (std::fwrite(v, sizeof(float) * dim, n, f) != static_cast<size_t>(n)) Die("write failed");
  });
  if (std::fclose(f) != 0) Die("write failed");
  const fs::path index_path = out / "index.faiss";
  faiss::write_index(index.get(), index_path.c_str());
  FsyncFile(floats);
  FsyncFile(index_path);
  std::printf("%.6f\n", std::chrono::duration<double>(Clock::now() - start).count());
  return 0;
}

// --- the driver

struct Run {
  double seconds = 1e30, cpu = 1e30;
  double rss_mib = 1e30, disk_mb = 1e30;
};

Run RunChild(const std::string& self, const std::vector<std::string>& args, const fs::path& out,
             bool fresh = true) {
  if (fresh) {
    fs::remove_all(out);
    fs::create_directories(out);
  }
  const semdb::bench::ChildRun child = semdb::bench::RunChildProcess(self, args);
  if (!child.ok) Die("a child failed: " + args[0]);
  Run r;
  r.seconds = std::atof(child.out.c_str());
  r.cpu = child.cpu;
  r.rss_mib = child.rss_mib;
  r.disk_mb = DiskBytes(out) / 1e6;
  return r;
}

void KeepBest(Run& best, const Run& r) {
  best.seconds = std::min(best.seconds, r.seconds);
  best.cpu = std::min(best.cpu, r.cpu);
  best.rss_mib = std::min(best.rss_mib, r.rss_mib);
  best.disk_mb = std::min(best.disk_mb, r.disk_mb);
}

std::string LoadAverage() {
  double load[3];
  if (::getloadavg(load, 3) != 3) return "unknown";
  return fmt::format("{:.2f} {:.2f} {:.2f}", load[0], load[1], load[2]);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if ((mode == "semdb" || mode == "peer" || mode == "store") && argc == 8) {
    // ingest_bench semdb|peer|store DATA KIND DIM ROWS BATCH OUT
    const int dim = std::stoi(argv[4]);
    const int64_t rows = std::stoll(argv[5]), batch = std::stoll(argv[6]);
    if (mode == "store") return RunStore(argv[2], dim, rows, batch, argv[7]);
    return (mode == "semdb" ? RunSemdb : RunPeer)(argv[2], argv[3], dim, rows, batch, argv[7]);
  }
  if (mode == "reopen" && argc == 3) return RunReopen(argv[2]);  // ingest_bench reopen OUT

  CLI::App app("semdb ingest benchmark: pre-embedded vectors against FAISS add + a file");
  int64_t rows = 100000, batch = 1000;
  int dim = 128, repeat = 3;
  std::vector<std::string> kinds{"flat", "hnsw"};
  std::string work = "ingest_bench_work";
  bool store_floor = false;
  app.add_option("--rows", rows, "vectors");
  app.add_option("--dim", dim, "dimensions");
  app.add_option("--batch", batch, "rows per insert / add");
  app.add_option("--repeat", repeat, "interleaved runs per side; the best is kept");
  app.add_option("--kinds", kinds, "index kinds (flat, hnsw)")->delimiter(',');
  app.add_option("--work", work, "scratch folder (replaced, removed at the end)");
  app.add_flag("--store", store_floor,
               "also run semdb's Store alone with flat (the storage format's floor)");
  CLI11_PARSE(app, argc, argv);
  for (const std::string& k : kinds) {
    if (k != "flat" && k != "hnsw") Die("unknown kind " + k);
  }

  const std::string self = fs::canonical("/proc/self/exe").string();
  fs::remove_all(work);
  fs::create_directories(work);
  const fs::path data = fs::path(work) / "vectors.f32";
  {
    const std::vector<float> v = semdb::testing::ClusteredVectors(rows, dim, 200, 1);
    std::ofstream f(data, std::ios::binary);
    f.write(reinterpret_cast<const char*>(v.data()),
            static_cast<std::streamsize>(v.size() * sizeof(float)));
  }
  const double raw_mb = rows * dim * sizeof(float) / 1e6;

  std::printf("cores: %u, load average at start: %s, OpenBLAS kernel: %s, "
              "OPENBLAS_CORETYPE=%s\n",
              std::thread::hardware_concurrency(), LoadAverage().c_str(),
              openblas_get_corename(),
              std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE") : "(unset)");
  std::printf("%lld x %d float32 vectors (%.1f MB raw), batches of %lld, best of %d, "
              "interleaved\n\n",
              static_cast<long long>(rows), dim, raw_mb, static_cast<long long>(batch), repeat);
  std::printf("| index | side | wall s | vectors/s | CPU s | peak RSS MiB | disk MB |\n"
              "|---|---|---:|---:|---:|---:|---:|\n");
  std::map<std::string, std::pair<Run, Run>> results;
  std::map<std::string, Run> reopens;
  std::optional<Run> store_run;
  for (const std::string& kind : kinds) {
    Run semdb, peer, reopen, store;
    std::vector<const char*> sides{"semdb", "peer"};
    if (store_floor && kind == "flat") sides.push_back("store");
    const std::vector<std::string> common{data.string(), kind, std::to_string(dim),
                                          std::to_string(rows), std::to_string(batch)};
    for (int r = 0; r < repeat; ++r) {
      for (const std::string side : sides) {
        std::vector<std::string> args{side};
        args.insert(args.end(), common.begin(), common.end());
        const fs::path out = fs::path(work) / side;
        args.push_back(out.string());
        KeepBest(side == "semdb" ? semdb : side == "peer" ? peer : store,
                 RunChild(self, args, out));
        if (side == "semdb") {
          KeepBest(reopen, RunChild(self, {"reopen", out.string()}, out, /*fresh=*/false));
        }
      }
    }
    for (const auto& [name, run] : {std::pair{"semdb", semdb}, std::pair{"peer", peer}}) {
      std::printf("| %s | %s | %.2f | %.0f | %.2f | %.1f | %.1f |\n", kind.c_str(), name,
                  run.seconds, rows / run.seconds, run.cpu, run.rss_mib, run.disk_mb);
    }
    if (sides.size() > 2) {
      std::printf("| %s | store alone | %.2f | %.0f | %.2f | %.1f | %.1f |\n", kind.c_str(),
                  store.seconds, rows / store.seconds, store.cpu, store.rss_mib, store.disk_mb);
      store_run = store;
    }
    results[kind] = {semdb, peer};
    reopens[kind] = reopen;
  }
  std::printf("\n| index | rate semdb/peer (goal >= 0.8) | CPU | peak RSS (goal <= 1.5) | "
              "disk (goal <= 1.3) |\n|---|---:|---:|---:|---:|\n");
  for (const auto& [kind, sp] : results) {
    const auto& [s, p] = sp;
    std::printf("| %s | %.2fx | %.2fx | %.2fx | %.2fx |\n", kind.c_str(), p.seconds / s.seconds,
                s.cpu / p.cpu, s.rss_mib / p.rss_mib, s.disk_mb / p.disk_mb);
  }
  if (store_run) {
    std::printf("\nsemdb's Store alone (the records of the flat ingest, no collection, no "
                "index): rate %.2fx the peer's, CPU %.2fx\n",
                results["flat"].second.seconds / store_run->seconds,
                store_run->cpu / results["flat"].second.cpu);
  }
  std::printf("\n| index | semdb reopen s (open + collection) | CPU s | peak RSS MiB |\n"
              "|---|---:|---:|---:|\n");
  for (const auto& [kind, r] : reopens) {
    std::printf("| %s | %.3f | %.2f | %.1f |\n", kind.c_str(), r.seconds, r.cpu, r.rss_mib);
  }
  std::printf("load average at the end: %s\n", LoadAverage().c_str());
  fs::remove_all(work);
  return 0;
}
