// Filtered search benchmark: for each recall target (0.9, 0.95, 0.99) and
// filter selectivity (0.1%, 1%, 10%, 50%, 90%), every strategy forced and
// the planner's own choice, on an HNSW (M=16) and an IVF collection.
//
//   semdb_filtered_bench --out bench/results/filtered_bench.md [--rows N ...]
//   semdb_filtered_bench --render bench/results/filtered_bench.json --out ...
//
// Data (tests/vector_data.h): N unit vectors around 1000 cluster centres
// with noise 1.3 per dimension (a hard set: HNSW at its default ef reaches
// recall 0.8-0.9 on it), or with --spread 0 overlapping clusters in a
// 16-dimensional latent space; held-out queries of the same distribution. Each row has an indexed field `bucket`, uniform in
// [0, 1000); the filter `bucket < T` passes T/1000 of the rows. Truth: the
// exact top 10 among the passing rows (FAISS IndexFlatIP with an
// IDSelectorBatch), never semdb's own search.
//
// Queries run one at a time on one thread. Per cell, the strategies run in
// turn, twice (interleaved), and the better mean latency of the two is
// kept; recall is over every query of both passes. A strategy "meets" the
// target when its recall is >= the target; the planner "is fastest" when
// it chose the fastest strategy that meets it, or ran within 15% of it
// (noise between two runs of one plan is about that much on a shared
// machine, more below a millisecond). `--render JSON` rewrites the
// Markdown from a run's JSON.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "CLI/CLI.hpp"
#include "faiss/IndexFlat.h"
#include "faiss/impl/IDSelector.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "semdb/database.h"
#include "vector_data.h"  // tests/: the latent-cluster generator

extern "C" char* openblas_get_corename();

namespace {

using Clock = std::chrono::steady_clock;
using semdb::Collection;
using semdb::Database;
using semdb::SearchOptions;
using semdb::SearchStrategy;
using json = nlohmann::json;
using FaissId = faiss::Index::idx_t;

constexpr int kK = 10;
constexpr int kThresholds[] = {1, 10, 100, 500, 900};  // of 1000: 0.1% .. 90%
constexpr double kTargets[] = {0.9, 0.95, 0.99};
constexpr SearchStrategy kStrategies[] = {SearchStrategy::kAuto, SearchStrategy::kExactScan,
                                          SearchStrategy::kFilteredScan, SearchStrategy::kAnn,
                                          SearchStrategy::kAnnPostFilter};
constexpr const char* kNames[] = {"planner", "exact_scan", "filtered_scan", "ann",
                                  "ann_post_filter"};

double Seconds(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

template <typename T>
T Must(absl::StatusOr<T> v) {
  if (!v.ok()) {
    fmt::print(stderr, "{}\n", std::string(v.status().message()));
    std::exit(1);
  }
  return *std::move(v);
}

void Must(const absl::Status& s) {
  if (!s.ok()) {
    fmt::print(stderr, "{}\n", std::string(s.message()));
    std::exit(1);
  }
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return fmt::format("{} {} {}", one, five, fifteen);
}

struct Data {
  int64_t rows;
  int dim;
  int queries;
  std::vector<float> base, query;
  std::vector<int> bucket;
  std::vector<std::vector<int64_t>> truth;  // per threshold: queries x k
};

Data MakeData(int64_t rows, int dim, int queries, int clusters, float spread) {
  Data d{rows, dim, queries};
  // spread 0: the latent-space clusters; otherwise isotropic clusters.
  std::vector<float> all =
      spread > 0 ? semdb::testing::ClusteredVectors(rows + queries, dim, clusters, 11, spread)
                 : semdb::testing::LatentVectors(rows + queries, dim, 16, clusters, 11);
  d.base.assign(all.begin(), all.begin() + rows * dim);
  d.query.assign(all.begin() + rows * dim, all.end());
  std::mt19937_64 rng(12);
  std::uniform_int_distribution<int> pick(0, 999);
  d.bucket.resize(rows);
  for (int& b : d.bucket) b = pick(rng);
  faiss::IndexFlatIP flat(dim);
  flat.add(rows, d.base.data());
  for (int threshold : kThresholds) {
    std::vector<FaissId> ids;
    for (int64_t i = 0; i < rows; ++i) {
      if (d.bucket[i] < threshold) ids.push_back(i);
    }
    faiss::IDSelectorBatch sel(ids.size(), ids.data());
    faiss::SearchParameters params;
    params.sel = &sel;
    std::vector<float> dist(static_cast<size_t>(queries) * kK);
    std::vector<int64_t> truth(static_cast<size_t>(queries) * kK);
    flat.search(queries, d.query.data(), kK, dist.data(), truth.data(), &params);
    d.truth.push_back(std::move(truth));
  }
  return d;
}

double Recall(const std::vector<semdb::Hit>& hits, const int64_t* truth) {
  int valid = 0, found = 0;
  for (int i = 0; i < kK; ++i) {
    if (truth[i] < 0) continue;
    ++valid;
    for (const semdb::Hit& h : hits) found += std::stoll(h.id) == truth[i];
  }
  return valid == 0 ? 1.0 : double(found) / valid;
}

struct Cell {
  double recall = 0;
  double ms = 1e300;  // the better pass's mean latency
  int queries = 0;
};

// Every strategy at one target and threshold, interleaved over two passes.
json RunCell(const Data& d, Collection& c, double target, size_t t, double budget) {
  const int threshold = kThresholds[t];
  SearchOptions base{.k = kK,
                     .filter = Must(semdb::Filter::Parse(fmt::format("bucket < {}", threshold))),
                     .recall_target = target};
  json plan = Must(c.ExplainVector({d.query.data(), static_cast<size_t>(d.dim)}, base)).ToJson();
  Cell cells[std::size(kStrategies)];
  double recall_sum[std::size(kStrategies)] = {};
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t s = 0; s < std::size(kStrategies); ++s) {
      SearchOptions o = base;
      o.strategy = kStrategies[s];
      const Clock::time_point start = Clock::now();
      int q = 0;
      // Every query of the pass for the approximate strategies (their
      // recall is the point); the exact ones may stop after the budget.
      const bool exact = kStrategies[s] == SearchStrategy::kExactScan ||
                         kStrategies[s] == SearchStrategy::kFilteredScan;
      for (; q < d.queries; ++q) {
        if (exact && q >= 5 && Seconds(start) > budget) break;
        std::vector<semdb::Hit> hits = Must(c.SearchVector(
            {d.query.data() + static_cast<size_t>(q) * d.dim, static_cast<size_t>(d.dim)}, o));
        recall_sum[s] += Recall(hits, d.truth[t].data() + static_cast<size_t>(q) * kK);
      }
      cells[s].ms = std::min(cells[s].ms, 1000 * Seconds(start) / q);
      cells[s].queries += q;
    }
  }
  json row = {{"target", target},
              {"selectivity", threshold / 1000.0},
              {"planner_choice", plan["plan"]["strategy"]},
              {"planner_knobs", plan["plan"]["knobs"]},
              {"planner_fetch_k", plan["plan"]["fetch_k"]},
              {"recall_calibration", plan["estimates"].value("recall_calibration", json())}};
  for (size_t s = 0; s < std::size(kStrategies); ++s) {
    cells[s].recall = recall_sum[s] / cells[s].queries;
    row[kNames[s]] = {{"recall", cells[s].recall}, {"ms", cells[s].ms},
                      {"queries", cells[s].queries}};
  }
  fmt::print(stderr, "target {:.2f} sel {:5.1f}%: planner {} recall {:.3f} {:.2f} ms", target,
             threshold / 10.0, row["planner_choice"].get<std::string>(), cells[0].recall,
             cells[0].ms);
  for (size_t s = 1; s < std::size(kStrategies); ++s) {
    fmt::print(stderr, " | {} {:.3f} {:.2f}", kNames[s], cells[s].recall, cells[s].ms);
  }
  fmt::print(stderr, "\n");
  return row;
}

std::string Markdown(const json& out) {
  std::string md = fmt::format(
      "# Filtered search: the planner against every strategy\n\n"
      "`{}`\n\n"
      "{} x {} unit vectors ({}), "
      "{} held-out queries, k = {}, filter `bucket < T` on an indexed field; recall@10 "
      "against the exact filtered top 10 (FAISS IndexFlatIP with an IDSelectorBatch). "
      "Cores: {}; load average at start {}, at end {}; OpenBLAS core {}. One query at a "
      "time on one thread; latency: mean ms per query, the better of two interleaved "
      "passes. Each cell: recall / ms; **bold**: the fastest strategy meeting the target. "
      "`met`: the planner's recall >= the target; `fastest`: it chose the fastest strategy "
      "meeting the target, or ran within 15% of it.\n",
      out["command"].get<std::string>(), out["rows"].get<int64_t>(), out["dim"].get<int>(),
      out["data"].get<std::string>(), out["queries"].get<int>(), kK, out["cores"].get<int>(), out["load_start"].get<std::string>(),
      out["load_end"].get<std::string>(), out["openblas_core"].get<std::string>());
  for (const json& index : out["indexes"]) {
    md += fmt::format("\n## `{}`\n\nBuild (SetIndex from the stored vectors): {:.1f} s.",
                      index["spec"].get<std::string>(), index["build_seconds"].get<double>());
    const json& calibration = index["cells"][0]["recall_calibration"];
    if (calibration.is_object()) {
      md += fmt::format(" Recall calibration (when SetIndex saved the index, included in the "
                        "build time; never on a search): {} queries, {} samples, {} ms.",
                        calibration["queries"].get<int>(), calibration["samples"].get<int>(),
                        calibration["ms"].get<double>());
    }
    if (index.contains("first_search_ms")) {
      md += fmt::format(" First filtered search after the build: {:.2f} ms.",
                        index["first_search_ms"].get<double>());
    }
    md += "\n\n";
    md += "| target | selectivity | planner's choice (knobs) | planner | met | fastest |";
    for (size_t s = 1; s < std::size(kStrategies); ++s) md += fmt::format(" {} |", kNames[s]);
    md += "\n|---|---|---|---|---|---|";
    for (size_t s = 1; s < std::size(kStrategies); ++s) md += "---|";
    md += "\n";
    for (const json& row : index["cells"]) {
      // The fastest strategy meeting the target; the planner "is fastest"
      // when it chose it, or ran within 15% of it.
      const double target = row["target"].get<double>();
      std::string fastest;
      double fastest_ms = 1e300;
      for (size_t s = 1; s < std::size(kStrategies); ++s) {
        const json& c = row[kNames[s]];
        if (c["recall"].get<double>() >= target && c["ms"].get<double>() < fastest_ms) {
          fastest_ms = c["ms"].get<double>();
          fastest = kNames[s];
        }
      }
      const bool meets = row["planner"]["recall"].get<double>() >= target;
      const bool is_fastest = row["planner_choice"] == fastest ||
                              row["planner"]["ms"].get<double>() <= 1.15 * fastest_ms;
      std::string knobs;
      for (const auto& [name, value] : row["planner_knobs"].items()) {
        knobs += fmt::format("{}{} {}", knobs.empty() ? "" : ", ", name, value.dump());
      }
      if (row["planner_choice"] == "ann_post_filter") {
        knobs += fmt::format("{}fetch {}", knobs.empty() ? "" : ", ",
                             row["planner_fetch_k"].get<int>());
      }
      md += fmt::format("| {} | {}% | {}{} | {:.3f} / {:.2f} | {} | {} |",
                        row["target"].get<double>(), row["selectivity"].get<double>() * 100,
                        row["planner_choice"].get<std::string>(),
                        knobs.empty() ? "" : " (" + knobs + ")",
                        row["planner"]["recall"].get<double>(), row["planner"]["ms"].get<double>(),
                        meets ? "yes" : "**no**", is_fastest ? "yes" : "**no**");
      for (size_t s = 1; s < std::size(kStrategies); ++s) {
        const json& c = row[kNames[s]];
        const bool best = fastest == kNames[s];
        md += fmt::format(" {}{:.3f} / {:.2f}{} |", best ? "**" : "", c["recall"].get<double>(),
                          c["ms"].get<double>(), best ? "**" : "");
      }
      md += "\n";
    }
  }
  return md;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"semdb filtered search benchmark"};
  std::string out_path = "filtered_bench.md", db_dir = "filtered_bench_db";
  int64_t rows = 100000;
  int dim = 128, queries = 50, clusters = 1000;
  float spread = 1.3f;
  double budget = 0.3;
  std::string hnsw = "hnsw m=16 ef_construction=64", ivf = "ivf nlist=256 nprobe=8";
  app.add_option("--out", out_path, "results (Markdown; JSON beside it)");
  app.add_option("--db-dir", db_dir, "scratch database folder (removed at the end)");
  app.add_option("--rows", rows, "vectors");
  app.add_option("--dim", dim, "their dimension");
  app.add_option("--queries", queries, "queries per cell");
  app.add_option("--clusters", clusters, "clusters");
  app.add_option("--spread", spread,
                 "per-dimension noise around the cluster centres (larger: harder for ANN); "
                 "0: overlapping clusters in a 16-dimensional latent space instead");
  app.add_option("--budget", budget, "seconds per pass of an exact strategy (at least 5 queries)");
  app.add_option("--hnsw", hnsw, "the HNSW index spec (empty: skip)");
  app.add_option("--ivf", ivf, "the IVF index spec (empty: skip)");
  std::string render;
  app.add_option("--render", render, "only write --out's Markdown from this run's JSON");
  CLI11_PARSE(app, argc, argv);
  if (!render.empty()) {
    std::ofstream(out_path) << Markdown(json::parse(std::ifstream(render)));
    return 0;
  }

  std::string command = "semdb_filtered_bench";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  json out = {{"command", command},
              {"rows", rows},
              {"dim", dim},
              {"queries", queries},
              {"data", spread > 0 ? fmt::format("{} clusters, spread {}", clusters, spread)
                                  : fmt::format("{} clusters in a 16-dimensional latent space",
                                                clusters)},
              {"cores", std::thread::hardware_concurrency()},
              {"load_start", LoadAverage()},
              {"openblas_core", openblas_get_corename()},
              {"indexes", json::array()}};
  fmt::print(stderr, "{} cores, load {}, OpenBLAS core {}\n", out["cores"].get<int>(),
             out["load_start"].get<std::string>(), out["openblas_core"].get<std::string>());
  const Clock::time_point start = Clock::now();
  const Data d = MakeData(rows, dim, queries, clusters, spread);
  fmt::print(stderr, "{} x {} with filtered truth in {:.1f} s\n", rows, dim, Seconds(start));

  std::filesystem::remove_all(db_dir);
  auto db = Must(Database::Open(db_dir));
  auto c = Must(db->CreateCollection(
      "bench", {.embedder = fmt::format("vectors dim={}", dim), .index = "flat",
                .indexed_fields = {"bucket"}, .keyword_index = false}));
  constexpr int64_t kBatch = 10000;
  for (int64_t b = 0; b < rows; b += kBatch) {
    std::vector<semdb::Document> docs;
    for (int64_t i = b; i < std::min(rows, b + kBatch); ++i) {
      docs.push_back({.id = std::to_string(i),
                      .metadata = {{"bucket", d.bucket[i]}},
                      .vector = {d.base.begin() + i * dim, d.base.begin() + (i + 1) * dim}});
    }
    Must(c->InsertBatch(std::move(docs)).status());
  }
  for (const std::string& spec : {hnsw, ivf}) {
    if (spec.empty()) continue;
    const Clock::time_point build_start = Clock::now();
    Must(c->SetIndex(spec));
    json index = {{"spec", spec}, {"build_seconds", Seconds(build_start)}, {"cells", json::array()}};
    fmt::print(stderr, "{}: built in {:.1f} s\n", spec, index["build_seconds"].get<double>());
    {
      // The first filtered search pays for no recall calibration.
      const Clock::time_point first = Clock::now();
      Must(c->SearchVector({d.query.data(), static_cast<size_t>(d.dim)},
                           {.k = kK, .filter = Must(semdb::Filter::Parse("bucket < 500"))}));
      index["first_search_ms"] = 1000 * Seconds(first);
    }
    for (double target : kTargets) {
      for (size_t t = 0; t < std::size(kThresholds); ++t) {
        index["cells"].push_back(RunCell(d, *c, target, t, budget));
      }
    }
    out["indexes"].push_back(index);
  }
  out["load_end"] = LoadAverage();
  c.reset();
  db.reset();
  std::filesystem::remove_all(db_dir);
  std::ofstream(out_path) << Markdown(out);
  std::ofstream(std::filesystem::path(out_path).replace_extension(".json")) << out.dump(1) << "\n";
  fmt::print(stderr, "wrote {}\n", out_path);
  return 0;
}
