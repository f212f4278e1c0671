// Reopen of an HNSW collection (issue 12): what a user waits for after a
// restart, against FAISS reading the identical index bytes.
//
//   reopen_bench [--rows 1000000] [--dim 128] [--m 16] [--ef-construction 100]
//                [--repeat 3] [--db-dir DIR] [--out FILE]
//
// The collection "v" ("vectors dim=DIM", index "hnsw m=M ef_construction=E")
// holds --rows clustered unit vectors (tests/vector_data.h). It is built
// once by a child process (InsertBatch of 10,000-row batches, then the
// database is closed, which saves the index), or reused when --db-dir
// already holds it. The FAISS part of the saved semdb index file (after
// semdb's header, label table and tombstones; before the checksum) is
// copied to DIR/../reopen.faiss: the identical bytes FAISS reads.
// Then interleaved rounds, best of --repeat, each side a child process of
// this binary with the page cache warm for both (both files are read once
// before the rounds):
//   semdb  Database::Open + GetCollection + the collection's first search
//          (k=10), counting the index-log operations the open replayed
//          (Options::progress, "log replay");
//   faiss  faiss::read_index of the extracted file.
// Wall time is measured inside the child around that work; CPU (user+system)
// and peak RSS (ru_maxrss) come from wait4, so they include process start.
// Printed with the core count, the load average and the OpenBLAS kernel;
// the table is also written to --out. Issue 12's goal: semdb <= 1.1x
// read_index, and 0 operations replayed on the first reopen after the build.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "CLI/CLI.hpp"
#include "child_process.h"
#include "saved_index_file.h"
#include "faiss/Index.h"
#include "faiss/index_io.h"
#include "fmt/format.h"
#include "semdb/database.h"
#include "vector_data.h"  // tests/: the clustered-vector generator

extern "C" char* openblas_get_corename();

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int64_t kBatch = 10000;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "reopen_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) Die(fmt::format("{}: {}", what, std::string(s.message())));
}

// --- children: each prints its results on standard output

int RunBuild(const std::string& dir, int dim, int64_t rows, int m, int ef_construction) {
  auto db = semdb::Database::Open(dir);
  Check(db.status(), "open");
  auto col = (*db)->CreateCollection(
      "v", {.embedder = fmt::format("vectors dim={}", dim),
            .index = fmt::format("hnsw m={} ef_construction={}", m, ef_construction)});
  Check(col.status(), "create");
  const std::vector<float> v = semdb::testing::ClusteredVectors(rows, dim, 1000, 1);
  for (int64_t first = 0; first < rows; first += kBatch) {
    const int64_t n = std::min(kBatch, rows - first);
    std::vector<semdb::Document> docs(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      docs[i].id = std::to_string(first + i);
      docs[i].vector.assign(v.begin() + (first + i) * dim, v.begin() + (first + i + 1) * dim);
    }
    Check((*col)->InsertBatch(std::move(docs)).status(), "insert");
  }
  std::printf("0 %lld\n", static_cast<long long>(rows));
  return 0;  // the database closes here and saves the index
}

int RunSemdb(const std::string& dir, int dim) {
  const std::vector<float> query = semdb::testing::ClusteredVectors(1, dim, 1000, 2);
  int64_t replayed = 0;
  semdb::Options options;
  options.create_if_missing = false;
  options.progress = [&](const semdb::OperationProgress& p) {
    if (p.operation == "log replay") replayed = std::max(replayed, p.done);
  };
  const Clock::time_point start = Clock::now();
  auto db = semdb::Database::Open(dir, options);
  Check(db.status(), "open");
  auto col = (*db)->GetCollection("v");
  Check(col.status(), "get");
  auto hits = (*col)->SearchVector(query, {.k = 10});
  Check(hits.status(), "search");
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (hits->size() != 10) Die("the first search found fewer than 10 hits");
  std::printf("%.6f %lld\n", seconds, static_cast<long long>(replayed));
  std::fflush(stdout);
  std::_Exit(0);  // the close is not part of what is measured
}

int RunFaiss(const std::string& path) {
  const Clock::time_point start = Clock::now();
  std::unique_ptr<faiss::Index> index(faiss::read_index(path.c_str()));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%.6f %lld\n", seconds, static_cast<long long>(index->ntotal));
  std::fflush(stdout);
  std::_Exit(0);
}

// --- the driver

struct Run {
  double seconds = 1e30, cpu = 1e30, rss_mib = 1e30;
  int64_t count = 0;  // semdb: operations replayed; faiss: ntotal
};

Run RunChild(const std::string& self, const std::vector<std::string>& args) {
  const semdb::bench::ChildRun child = semdb::bench::RunChildProcess(self, args);
  if (!child.ok) Die("a child failed: " + args[0]);
  Run r;
  long long count = 0;
  if (std::sscanf(child.out.c_str(), "%lf %lld", &r.seconds, &count) != 2) {
    Die("unexpected child output: " + child.out);
  }
  r.count = count;
  r.cpu = child.cpu;
  r.rss_mib = child.rss_mib;
  return r;
}

std::string LoadAverage() {
  double load[3];
  if (::getloadavg(load, 3) != 3) return "unknown";
  return fmt::format("{:.2f} {:.2f} {:.2f}", load[0], load[1], load[2]);
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "build" && argc == 7) {
    return RunBuild(argv[2], std::stoi(argv[3]), std::stoll(argv[4]), std::stoi(argv[5]),
                    std::stoi(argv[6]));
  }
  if (mode == "semdb" && argc == 4) return RunSemdb(argv[2], std::stoi(argv[3]));
  if (mode == "faiss" && argc == 3) return RunFaiss(argv[2]);

  CLI::App app("semdb reopen benchmark: Open + first search against FAISS read_index");
  int64_t rows = 1000000;
  int dim = 128, m = 16, ef_construction = 100, repeat = 3;
  std::string db_dir = "reopen_bench_db", out = "bench/results/reopen_bench.md";
  app.add_option("--rows", rows, "vectors");
  app.add_option("--dim", dim, "dimensions");
  app.add_option("--m", m, "HNSW M");
  app.add_option("--ef-construction", ef_construction, "HNSW efConstruction");
  app.add_option("--repeat", repeat, "interleaved rounds; the best is kept");
  app.add_option("--db-dir", db_dir, "the database (built when it has no collection v)");
  app.add_option("--out", out, "the markdown table written");
  CLI11_PARSE(app, argc, argv);

  const std::string self = fs::canonical("/proc/self/exe").string();
  std::string text = fmt::format(
      "cores: {}, load average at start: {}, OpenBLAS kernel: {}, OPENBLAS_CORETYPE={}\n",
      std::thread::hardware_concurrency(), LoadAverage(), openblas_get_corename(),
      std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE") : "(unset)");
  bool built = false;
  double build_seconds = 0;
  if (!fs::exists(fs::path(db_dir) / "store")) {
    const Clock::time_point start = Clock::now();
    RunChild(self, {"build", db_dir, std::to_string(dim), std::to_string(rows),
                    std::to_string(m), std::to_string(ef_construction)});
    build_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    built = true;
  }
  std::string index_file;
  for (const auto& f : fs::directory_iterator(fs::path(db_dir) / "indexes")) {
    if (f.path().extension() == ".index") index_file = f.path().string();
  }
  if (index_file.empty()) Die("no saved index in " + db_dir + "/indexes");
  const fs::path faiss_file = fs::absolute(db_dir).parent_path() / "reopen.faiss";
  {
    const std::string semdb_bytes = ReadAll(index_file);  // also warms the page cache
    const std::optional<std::string> faiss_bytes =
        semdb::bench::FaissBytesOfIndexFile(semdb_bytes);
    if (!faiss_bytes) Die("truncated semdb index file");
    std::ofstream f(faiss_file, std::ios::binary);
    f.write(faiss_bytes->data(), static_cast<std::streamsize>(faiss_bytes->size()));
    if (!f) Die("cannot write " + faiss_file.string());
    text += fmt::format(
        "{} ({}): semdb index file {:.1f} MB, its FAISS part {:.1f} MB; {}\n", db_dir,
        built ? fmt::format("built in {:.0f} s", build_seconds) : "reused", semdb_bytes.size() / 1e6,
        faiss_bytes->size() / 1e6, "page cache warm for both (each file read before the rounds)");
  }
  ReadAll(faiss_file);

  Run semdb, faiss;
  int64_t first_replayed = -1;
  for (int r = 0; r < repeat; ++r) {
    // Alternate which side goes first.
    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == (r % 2 == 0)) {
        const Run s = RunChild(self, {"semdb", db_dir, std::to_string(dim)});
        if (first_replayed < 0) first_replayed = s.count;
        semdb.seconds = std::min(semdb.seconds, s.seconds);
        semdb.cpu = std::min(semdb.cpu, s.cpu);
        semdb.rss_mib = std::min(semdb.rss_mib, s.rss_mib);
      } else {
        const Run f = RunChild(self, {"faiss", faiss_file.string()});
        faiss.seconds = std::min(faiss.seconds, f.seconds);
        faiss.cpu = std::min(faiss.cpu, f.cpu);
        faiss.rss_mib = std::min(faiss.rss_mib, f.rss_mib);
        faiss.count = f.count;
      }
    }
  }
  text += fmt::format(
      "{} x {} float32 vectors, hnsw m={} ef_construction={}; best of {}, interleaved\n\n",
      faiss.count, dim, m, ef_construction, repeat);
  text += "| side | wall s | CPU s | peak RSS MiB |\n|---|---:|---:|---:|\n";
  text += fmt::format("| semdb Open + first search | {:.3f} | {:.2f} | {:.1f} |\n",
                      semdb.seconds, semdb.cpu, semdb.rss_mib);
  text += fmt::format("| FAISS read_index | {:.3f} | {:.2f} | {:.1f} |\n", faiss.seconds,
                      faiss.cpu, faiss.rss_mib);
  text += fmt::format(
      "\nsemdb / FAISS: wall {:.2f}x (goal <= 1.1), CPU {:.2f}x, peak RSS {:.2f}x\n",
      semdb.seconds / faiss.seconds, semdb.cpu / faiss.cpu, semdb.rss_mib / faiss.rss_mib);
  text += fmt::format("index-log operations replayed by the first reopen{}: {}\n",
                      built ? " after the bulk ingest" : " (database reused)", first_replayed);
  text += fmt::format("load average at the end: {}\n", LoadAverage());
  std::fputs(text.c_str(), stdout);
  std::ofstream(out) << text;
  return 0;
}
