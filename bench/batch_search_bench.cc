// Batch queries against one-by-one queries (issue 18): Q queries through
// Collection::SearchVectorBatch (one FAISS call) and through Q calls of
// Collection::SearchVector, on a flat and an IVF collection of clustered
// unit vectors, with raw FAISS answering the same batch on an index of the
// same vectors as the peer. Rounds interleave the three, best of --rounds;
// QPS and ratios are printed with the core count.
//
//   batch_search_bench [--rows 100000] [--dim 128] [--queries 1000] [--rounds 3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "CLI/CLI.hpp"
#include "faiss/IndexFlat.h"
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
  double one_by_one = 1e30, batch = 1e30, faiss_batch = 1e30;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("semdb batch search benchmark");
  int64_t rows = 100000;
  int dim = 128, queries = 1000, rounds = 3, nlist = 256, nprobe = 16;
  std::string db_dir = "batch_bench_db";
  app.add_option("--rows", rows, "vectors per collection");
  app.add_option("--dim", dim, "dimensions");
  app.add_option("--queries", queries, "queries per batch");
  app.add_option("--rounds", rounds, "interleaved rounds; the best is kept");
  app.add_option("--nlist", nlist, "IVF lists");
  app.add_option("--nprobe", nprobe, "IVF lists probed");
  app.add_option("--db-dir", db_dir, "database folder (replaced)");
  CLI11_PARSE(app, argc, argv);

  std::printf("cores: %u (hardware_concurrency)\n", std::thread::hardware_concurrency());
  const std::vector<float> data = semdb::testing::ClusteredVectors(rows, dim, 200, 1);
  const std::vector<float> query = semdb::testing::ClusteredVectors(queries, dim, 200, 2);
  std::filesystem::remove_all(db_dir);
  auto db = semdb::Database::Open(db_dir);
  Check(db.status(), "open");

  const std::string ivf_spec = fmt::format("ivf nlist={} nprobe={}", nlist, nprobe);
  std::printf("%lld x %d clustered unit vectors, %d queries, k = %d, best of %d rounds\n",
              static_cast<long long>(rows), dim, queries, kK, rounds);
  std::printf("| index | one by one (QPS) | semdb batch (QPS) | raw FAISS batch (QPS) | "
              "batch / one by one | batch / FAISS batch |\n|---|---|---|---|---|---|\n");
  for (const std::string& spec : {std::string("flat"), ivf_spec}) {
    auto c = (*db)->CreateCollection(spec == "flat" ? "flat" : "ivf",
                                     {.embedder = fmt::format("vectors dim={}", dim),
                                      .index = spec});
    Check(c.status(), "create");
    for (int64_t begin = 0; begin < rows; begin += 5000) {
      std::vector<semdb::Document> docs;
      for (int64_t i = begin; i < std::min(rows, begin + 5000); ++i) {
        docs.push_back({.id = std::to_string(i),
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
      Check((*c)->SearchVectorBatch(query, {.k = kK}).status(), "batch search");
      best.batch = std::min(best.batch, Seconds(t));
      t = Clock::now();
      peer->search(queries, query.data(), kK, scores.data(), labels.data());
      best.faiss_batch = std::min(best.faiss_batch, Seconds(t));
    }
    std::printf("| %s | %.0f | %.0f | %.0f | %.2fx | %.2fx |\n", spec.c_str(),
                queries / best.one_by_one, queries / best.batch, queries / best.faiss_batch,
                best.one_by_one / best.batch, best.faiss_batch / best.batch);
  }
  return 0;
}
