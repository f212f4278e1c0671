// Batch queries against one-by-one queries (issue 18): Q queries through
// Collection::SearchVectorBatch (one FAISS call), asking for ids and scores
// only and with the documents' texts and metadata (the default), and
// through Q calls of Collection::SearchVector, on flat, IVF and HNSW
// collections of clustered unit vectors, with raw FAISS answering the same
// batch on an index of the same vectors as the peer (HNSW: FAISS's graph
// over the same vectors, searched on the same threads). Rounds interleave
// the four, best of --rounds; QPS and ratios are printed with the core
// count and the load average.
//
//   batch_search_bench [--rows 100000] [--dim 128] [--queries 1000] [--rounds 3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "CLI/CLI.hpp"
#include "faiss/IndexFlat.h"
#include "faiss/IndexHNSW.h"
#include "faiss/IndexIVFFlat.h"
#include "fmt/format.h"
#include "semdb/database.h"
#include "vector_data.h"  // tests/: the clustered-vector generator

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kK = 10;

double Seconds(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, std::string(s.message()).c_str());
    std::exit(1);
  }
}

struct Times {
  double one_by_one = 1e30, ids_batch = 1e30, batch = 1e30, faiss_batch = 1e30;
};

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return fmt::format("{} {} {}", one, five, fifteen);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("semdb batch search benchmark");
  int64_t rows = 100000;
  int dim = 128, queries = 1000, rounds = 3, nlist = 256, nprobe = 16, m = 16, ef = 64;
  std::string db_dir = "batch_bench_db";
  app.add_option("--rows", rows, "vectors per collection");
  app.add_option("--dim", dim, "dimensions");
  app.add_option("--queries", queries, "queries per batch");
  app.add_option("--rounds", rounds, "interleaved rounds; the best is kept");
  app.add_option("--nlist", nlist, "IVF lists");
  app.add_option("--nprobe", nprobe, "IVF lists probed");
  app.add_option("--m", m, "HNSW M");
  app.add_option("--ef", ef, "HNSW ef_search");
  app.add_option("--db-dir", db_dir, "database folder (replaced)");
  CLI11_PARSE(app, argc, argv);

  std::printf("cores: %u (hardware_concurrency), load average: %s\n",
              std::thread::hardware_concurrency(), LoadAverage().c_str());
  // Queries from the same clusters as the data (drawn together, kept apart).
  std::vector<float> data = semdb::testing::ClusteredVectors(rows + queries, dim, 200, 1);
  const std::vector<float> query(data.begin() + rows * dim, data.end());
  data.resize(static_cast<size_t>(rows) * dim);
  std::filesystem::remove_all(db_dir);
  auto db = semdb::Database::Open(db_dir);
  Check(db.status(), "open");

  const std::string ivf_spec = fmt::format("ivf nlist={} nprobe={}", nlist, nprobe);
  const std::string hnsw_spec = fmt::format("hnsw m={} ef_construction=200 ef_search={}", m, ef);
  std::printf("%lld x %d clustered unit vectors, %d queries, k = %d, best of %d rounds\n",
              static_cast<long long>(rows), dim, queries, kK, rounds);
  std::printf("| index | one by one (QPS) | semdb batch, ids + scores (QPS) | semdb batch, "
              "+ text + metadata (QPS) | raw FAISS batch (QPS) | batch / one by one | "
              "ids batch / FAISS batch | full batch / FAISS batch |\n"
              "|---|---|---|---|---|---|---|---|\n");
  for (const std::string& spec : {std::string("flat"), ivf_spec, hnsw_spec}) {
    auto c = (*db)->CreateCollection(spec.substr(0, spec.find(' ')),
                                     {.embedder = fmt::format("vectors dim={}", dim),
                                      .index = spec});
    Check(c.status(), "create");
    for (int64_t begin = 0; begin < rows; begin += 5000) {
      std::vector<semdb::Document> docs;
      for (int64_t i = begin; i < std::min(rows, begin + 5000); ++i) {
        docs.push_back({.id = std::to_string(i),
                        .text = fmt::format("Passage {} of the benchmark corpus, about a hundred "
                                            "bytes of text as a short passage holds.",
                                            i),
                        .metadata = {{"n", i}, {"group", fmt::format("g{}", i % 50)}},
                        .vector = {data.begin() + i * dim, data.begin() + (i + 1) * dim}});
      }
      Check((*c)->InsertBatch(std::move(docs)).status(), "insert");
    }
    // The peer: FAISS on the same vectors, the same kind of index (its IVF
    // trained by FAISS on all of them).
    std::unique_ptr<faiss::Index> peer;
    faiss::IndexFlatIP quantizer(dim);
    if (spec == "flat") {
      peer = std::make_unique<faiss::IndexFlatIP>(dim);
    } else if (spec == hnsw_spec) {
      auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(dim, m, faiss::METRIC_INNER_PRODUCT);
      hnsw->hnsw.efConstruction = 200;
      hnsw->hnsw.efSearch = ef;
      peer = std::move(hnsw);
    } else {
      auto ivf = std::make_unique<faiss::IndexIVFFlat>(&quantizer, dim, nlist,
                                                       faiss::METRIC_INNER_PRODUCT);
      ivf->train(rows, data.data());
      ivf->nprobe = nprobe;
      peer = std::move(ivf);
    }
    peer->add(rows, data.data());
    std::vector<float> scores(static_cast<size_t>(queries) * kK);
    std::vector<faiss::Index::idx_t> labels(scores.size());

    Times best;
    for (int round = 0; round < rounds; ++round) {
      Clock::time_point t = Clock::now();
      for (int q = 0; q < queries; ++q) {
        Check((*c)->SearchVector(absl::MakeConstSpan(query).subspan(q * dim, dim), {.k = kK})
                  .status(),
              "search");
      }
      best.one_by_one = std::min(best.one_by_one, Seconds(t));
      t = Clock::now();
      Check((*c)->SearchVectorBatch(query, {.k = kK, .include = {.text = false, .metadata = false}})
                .status(),
            "batch search, ids only");
      best.ids_batch = std::min(best.ids_batch, Seconds(t));
      t = Clock::now();
      Check((*c)->SearchVectorBatch(query, {.k = kK}).status(), "batch search");
      best.batch = std::min(best.batch, Seconds(t));
      t = Clock::now();
      peer->search(queries, query.data(), kK, scores.data(), labels.data());
      best.faiss_batch = std::min(best.faiss_batch, Seconds(t));
    }
    std::printf("| %s | %.0f | %.0f | %.0f | %.0f | %.2fx | %.2fx | %.2fx |\n", spec.c_str(),
                queries / best.one_by_one, queries / best.ids_batch, queries / best.batch,
                queries / best.faiss_batch, best.one_by_one / best.batch,
                best.faiss_batch / best.ids_batch, best.faiss_batch / best.batch);
  }
  std::printf("load average after: %s\n", LoadAverage().c_str());
  return 0;
}
