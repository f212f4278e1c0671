// ANN and query-planner benchmark: semdb's flat, IVF and HNSW collections
// against raw FAISS with identical parameters, in the same process and on
// the same data, plus filtered search at several selectivities (the
// planner's choice against each fixed strategy).
//
//   semdb_ann_bench --out results.json --data-dir DIR [--rows N --dim D ...]
//
// Data: N synthetic clustered unit vectors (fixed seed) and held-out
// queries of the same distribution; exact top 10 by brute force (FAISS
// IndexFlatIP). semdb gets the vectors once through InsertBatch (flat
// index), then each index type through Collection::SetIndex (a rebuild from
// the stored vectors: the reported build time), and is closed and reopened
// after each (the reported reopen time). Queries run one at a time on one
// thread, for semdb and FAISS alike. The base vectors, queries and truth
// are written to DIR for bench/hnswlib_bench.py.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "CLI/CLI.hpp"
#include "faiss/IndexFlat.h"
#include "faiss/IndexHNSW.h"
#include "faiss/IndexIVFFlat.h"
#include "faiss/impl/IDSelector.h"
#include "faiss/impl/io.h"
#include "faiss/index_io.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "index/index_layout.h"
#include "semdb/database.h"
#include "vector_data.h"  // tests/: the clustered-vector generator

namespace {

using Clock = std::chrono::steady_clock;
using semdb::Collection;
using semdb::Database;
using semdb::SearchOptions;
using semdb::SearchStrategy;
using json = nlohmann::json;
using FaissId = faiss::Index::idx_t;

double Seconds(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int64_t PeakRssBytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return int64_t{u.ru_maxrss} * 1024;
}

int64_t SerializedBytes(const faiss::Index& index) {
  faiss::VectorIOWriter w;
  faiss::write_index(&index, &w);
  return static_cast<int64_t>(w.data.size());
}

double Recall(const std::vector<int64_t>& found, const int64_t* truth, int k) {
  int hit = 0;
  for (int i = 0; i < k; ++i) {
    if (truth[i] < 0) continue;
    if (std::find(found.begin(), found.end(), truth[i]) != found.end()) ++hit;
  }
  int valid = 0;
  for (int i = 0; i < k; ++i) valid += truth[i] >= 0;
  return valid == 0 ? 1.0 : double(hit) / valid;
}

void WriteFile(const std::string& path, const void* data, size_t bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
}

struct Dataset {
  std::string name;
  int64_t rows;
  int dim;
  int queries;
  std::vector<float> base, query;
  std::vector<int64_t> truth;  // queries x 10
  std::vector<int> bucket;     // per row, uniform in [0, 1000): filters
};

constexpr int kK = 10;

Dataset MakeDataset(const std::string& name, int64_t rows, int dim, int queries, int clusters,
                    float spread) {
  Dataset d{name, rows, dim, queries};
  std::vector<float> all =
      semdb::testing::ClusteredVectors(rows + queries, dim, clusters, 7, spread);
  d.base.assign(all.begin(), all.begin() + rows * dim);
  d.query.assign(all.begin() + rows * dim, all.end());
  std::mt19937_64 rng(8);
  std::uniform_int_distribution<int> b(0, 999);
  d.bucket.resize(rows);
  for (int& x : d.bucket) x = b(rng);
  faiss::IndexFlatIP flat(dim);
  flat.add(rows, d.base.data());
  std::vector<float> dist(static_cast<size_t>(queries) * kK);
  d.truth.resize(static_cast<size_t>(queries) * kK);
  flat.search(queries, d.query.data(), kK, dist.data(), d.truth.data());
  return d;
}

// Exact filtered truth: the top 10 among rows with bucket < threshold.
std::vector<int64_t> FilteredTruth(const Dataset& d, int threshold, int queries) {
  std::vector<FaissId> ids;
  for (int64_t i = 0; i < d.rows; ++i) {
    if (d.bucket[i] < threshold) ids.push_back(i);
  }
  faiss::IndexFlatIP flat(d.dim);
  faiss::IDSelectorBatch sel(ids.size(), ids.data());
  faiss::SearchParameters params;
  params.sel = &sel;
  flat.add(d.rows, d.base.data());
  std::vector<float> dist(static_cast<size_t>(queries) * kK);
  std::vector<int64_t> truth(static_cast<size_t>(queries) * kK);
  flat.search(queries, d.query.data(), kK, dist.data(), truth.data(), &params);
  return truth;
}

struct Measure {
  double recall = 0, qps = 0, mean_ms = 0;
  int queries = 0;
};

// Runs `search(q)` (returning row ids) over the queries, one at a time,
// until all ran or `budget` seconds passed (at least `min_queries`).
template <typename Fn>
Measure Run(const Dataset& d, const int64_t* truth, int queries, double budget,
            int min_queries, Fn search) {
  Measure m;
  const Clock::time_point start = Clock::now();
  double recall = 0;
  int q = 0;
  for (; q < queries; ++q) {
    if (q >= min_queries && Seconds(start) > budget) break;
    std::vector<int64_t> found = search(q);
    recall += Recall(found, truth + static_cast<size_t>(q) * kK, kK);
  }
  const double s = Seconds(start);
  m.queries = q;
  m.recall = recall / q;
  m.qps = q / s;
  m.mean_ms = 1000 * s / q;
  return m;
}

json ToJson(const Measure& m) {
  return {{"recall", m.recall}, {"qps", m.qps}, {"mean_ms", m.mean_ms}, {"queries", m.queries}};
}

std::vector<int64_t> Rows(const std::vector<semdb::Hit>& hits) {
  std::vector<int64_t> rows;
  for (const semdb::Hit& h : hits) rows.push_back(std::stoll(h.id));
  return rows;
}

std::shared_ptr<Collection> MustGet(Database& db, const std::string& name) {
  auto c = db.GetCollection(name);
  if (!c.ok()) {
    fmt::print(stderr, "{}\n", std::string(c.status().message()));
    std::exit(1);
  }
  return *c;
}

struct IndexConfig {
  std::string label;  // flat / ivf / hnsw
  std::string spec;   // semdb spec
  std::vector<int> sweep;  // nprobe or ef values
};

constexpr int kThresholds[] = {1, 10, 100, 500, 900};  // of 1000: 0.1% .. 90%

json RunFiltered(const Dataset& d, Collection& c, const std::string& index_label,
                 const std::vector<std::vector<int64_t>>& truths, int queries, double budget) {
  json out = json::array();
  const SearchStrategy strategies[] = {SearchStrategy::kAuto, SearchStrategy::kExactScan,
                                       SearchStrategy::kFilteredScan, SearchStrategy::kAnn,
                                       SearchStrategy::kAnnPostFilter};
  const char* names[] = {"planner", "exact_scan", "filtered_scan", "ann", "ann_post_filter"};
  for (size_t t = 0; t < std::size(kThresholds); ++t) {
    const int threshold = kThresholds[t];
    const std::vector<int64_t>& truth = truths[t];
    SearchOptions base{.k = kK, .filter = semdb::Filter::Parse(fmt::format("bucket < {}", threshold)).value()};
    json row = {{"index", index_label}, {"selectivity", threshold / 1000.0}};
    auto explained = c.ExplainVector({d.query.data(), static_cast<size_t>(d.dim)}, base);
    row["planner_choice"] = explained.ok() ? explained->plan.strategy : "?";
    for (int s = 0; s < 5; ++s) {
      SearchOptions o = base;
      o.strategy = strategies[s];
      Measure m = Run(d, truth.data(), queries, budget, 3, [&](int q) {
        auto hits = c.SearchVector({d.query.data() + q * d.dim, static_cast<size_t>(d.dim)}, o);
        if (!hits.ok()) {
          fmt::print(stderr, "search failed: {}\n", std::string(hits.status().message()));
          std::exit(1);
        }
        return Rows(*hits);
      });
      row[names[s]] = ToJson(m);
      fmt::print(stderr, "  filtered {} sel {:.3f} {:>15}: recall {:.3f} {:8.2f} ms\n", index_label,
                 threshold / 1000.0, names[s], m.recall, m.mean_ms);
    }
    out.push_back(row);
  }
  return out;
}

json RunDataset(const Dataset& d, const std::string& db_dir, const std::vector<IndexConfig>& configs,
                bool filtered, int filtered_queries) {
  json result = {{"name", d.name}, {"rows", d.rows}, {"dim", d.dim}, {"queries", d.queries}};
  std::filesystem::remove_all(db_dir);
  const int dim = d.dim;
  {
    auto db = *Database::Open(db_dir);
    auto made = db->CreateCollection(
        "bench", {.embedder = fmt::format("vectors dim={}", dim), .index = "flat",
                  .indexed_fields = {"bucket"}, .keyword_index = false});
    if (!made.ok()) {
      fmt::print(stderr, "{}\n", std::string(made.status().message()));
      std::exit(1);
    }
    const Clock::time_point start = Clock::now();
    constexpr int64_t kBatch = 10000;
    for (int64_t b = 0; b < d.rows; b += kBatch) {
      std::vector<semdb::Document> docs;
      for (int64_t i = b; i < std::min(d.rows, b + kBatch); ++i) {
        docs.push_back({.id = std::to_string(i),
                        .metadata = {{"bucket", d.bucket[i]}},
                        .vector = {d.base.begin() + i * dim, d.base.begin() + (i + 1) * dim}});
      }
      if (auto s = (*made)->InsertBatch(std::move(docs)); !s.ok()) {
        fmt::print(stderr, "{}\n", std::string(s.status().message()));
        std::exit(1);
      }
    }
    result["insert_seconds"] = Seconds(start);
    fmt::print(stderr, "{}: inserted {} vectors in {:.1f} s\n", d.name, d.rows, Seconds(start));
  }
  std::vector<std::vector<int64_t>> filtered_truths;
  if (filtered) {
    for (int threshold : kThresholds) {
      filtered_truths.push_back(FilteredTruth(d, threshold, filtered_queries));
    }
  }
  json indexes = json::array();
  for (const IndexConfig& cfg : configs) {
    json entry = {{"index", cfg.label}, {"spec", cfg.spec}};
    double build = 0;
    {
      auto db = *Database::Open(db_dir);
      auto c = MustGet(*db, "bench");
      const Clock::time_point start = Clock::now();
      if (c->Info().index != cfg.spec) {
        if (absl::Status s = c->SetIndex(cfg.spec); !s.ok()) {
          fmt::print(stderr, "{}\n", std::string(s.message()));
          std::exit(1);
        }
      }
      build = Seconds(start);
    }  // closed: saved
    entry["semdb_build_seconds"] = build;
    const Clock::time_point reopen_start = Clock::now();
    auto db = *Database::Open(db_dir);
    entry["semdb_reopen_seconds"] = Seconds(reopen_start);
    auto c = MustGet(*db, "bench");
    json stats = c->Stats().ToJson();
    entry["semdb_origin"] = stats["index_origin"];
    entry["semdb_index_bytes"] = stats["index_facts"]["memory_bytes"];
    for (const auto& f : std::filesystem::directory_iterator(db_dir + "/indexes")) {
      entry["semdb_index_file_bytes"] = std::filesystem::file_size(f.path());
    }
    fmt::print(stderr, "{} {}: build {:.1f} s, reopen {:.2f} s ({})\n", d.name, cfg.spec, build,
               entry["semdb_reopen_seconds"].get<double>(), stats["index_origin"].get<std::string>());

    // Raw FAISS with the same parameters.
    const semdb::IndexLayout layout =
        *semdb::IndexLayout::FromSpec(*semdb::Spec::Parse(cfg.spec));
    std::unique_ptr<faiss::Index> raw;
    const Clock::time_point raw_start = Clock::now();
    const bool is_ivf = cfg.label == "ivf";
    const bool is_hnsw = cfg.label == "hnsw";
    if (is_ivf) {
      const int nlist = layout.nlist;
      auto* quantizer = new faiss::IndexFlatIP(dim);
      auto ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer, dim, nlist,
                                                       faiss::METRIC_INNER_PRODUCT);
      ivf->own_fields = true;
      // The same evenly spaced sample size semdb trains on (100 x nlist).
      const int64_t sample = std::min<int64_t>(d.rows, int64_t{100} * nlist);
      std::vector<float> train;
      for (int64_t r = 0; r < d.rows; ++r) {
        if ((r + 1) * sample / d.rows > r * sample / d.rows) {
          train.insert(train.end(), d.base.begin() + r * dim, d.base.begin() + (r + 1) * dim);
        }
      }
      ivf->train(static_cast<FaissId>(train.size() / dim), train.data());
      ivf->add(d.rows, d.base.data());
      raw = std::move(ivf);
    } else if (is_hnsw) {
      auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(dim, layout.m, faiss::METRIC_INNER_PRODUCT);
      hnsw->hnsw.efConstruction = layout.ef_construction;
      hnsw->add(d.rows, d.base.data());
      raw = std::move(hnsw);
    } else {
      raw = std::make_unique<faiss::IndexFlatIP>(dim);
      raw->add(d.rows, d.base.data());
    }
    entry["faiss_build_seconds"] = Seconds(raw_start);
    entry["faiss_index_bytes"] = SerializedBytes(*raw);
    fmt::print(stderr, "  raw FAISS build {:.1f} s\n", entry["faiss_build_seconds"].get<double>());

    json sweep = json::array();
    std::vector<int> settings = cfg.sweep.empty() ? std::vector<int>{0} : cfg.sweep;
    for (int setting : settings) {
      SearchOptions o{.k = kK};
      if (is_ivf) o.knobs.nprobe = setting;
      if (is_hnsw) o.knobs.ef_search = setting;
      o.strategy = cfg.label == "flat" ? SearchStrategy::kExactScan : SearchStrategy::kAnn;
      if (is_ivf) static_cast<faiss::IndexIVF*>(raw.get())->nprobe = setting;
      if (is_hnsw) static_cast<faiss::IndexHNSW*>(raw.get())->hnsw.efSearch = setting;
      // Interleaved, best of 2: timings vary run to run.
      Measure semdb_best, faiss_best;
      for (int rep = 0; rep < 2; ++rep) {
        Measure s = Run(d, d.truth.data(), d.queries, 8, 50, [&](int q) {
          auto hits = c->SearchVector({d.query.data() + q * dim, static_cast<size_t>(dim)}, o);
          if (!hits.ok()) {
            fmt::print(stderr, "{}\n", std::string(hits.status().message()));
            std::exit(1);
          }
          return Rows(*hits);
        });
        Measure f = Run(d, d.truth.data(), d.queries, 8, 50, [&](int q) {
          std::vector<float> dist(kK);
          std::vector<FaissId> ids(kK);
          raw->search(1, d.query.data() + q * dim, kK, dist.data(), ids.data());
          return std::vector<int64_t>(ids.begin(), ids.end());
        });
        if (s.qps > semdb_best.qps) semdb_best = s;
        if (f.qps > faiss_best.qps) faiss_best = f;
      }
      json point = {{"setting", setting}, {"semdb", ToJson(semdb_best)}, {"faiss", ToJson(faiss_best)},
                    {"overhead_ratio", faiss_best.qps / semdb_best.qps}};
      fmt::print(stderr, "  {} {:>4}: semdb recall {:.4f} {:8.0f} qps | faiss recall {:.4f} {:8.0f} qps | x{:.2f}\n",
                 cfg.label, setting, semdb_best.recall, semdb_best.qps, faiss_best.recall,
                 faiss_best.qps, faiss_best.qps / semdb_best.qps);
      sweep.push_back(point);
    }
    entry["sweep"] = sweep;
    if (filtered && cfg.label == "hnsw") {
      entry["filtered"] = RunFiltered(d, *c, cfg.label, filtered_truths, filtered_queries, 5);
    }
    indexes.push_back(entry);
  }
  result["indexes"] = indexes;
  result["peak_rss_bytes"] = PeakRssBytes();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"semdb ANN and planner benchmark"};
  std::string out_path = "ann_bench.json", data_dir = "bench_data", db_root = "bench_db";
  int64_t rows = 1000000;
  int dim = 128, queries = 1000, small_rows = 100000, small_dim = 384, filtered_queries = 30;
  bool skip_small = false;
  float spread = 0.9f;
  std::string kinds = "flat,ivf,hnsw";
  app.add_option("--out", out_path, "results JSON");
  app.add_option("--data-dir", data_dir, "where vectors, queries and truth are written for hnswlib");
  app.add_option("--db-dir", db_root, "scratch database folder");
  app.add_option("--rows", rows, "vectors in the large dataset");
  app.add_option("--dim", dim, "its dimension");
  app.add_option("--queries", queries, "queries per dataset");
  app.add_option("--small-rows", small_rows, "vectors in the second dataset");
  app.add_option("--small-dim", small_dim, "its dimension");
  app.add_option("--filtered-queries", filtered_queries, "queries per filtered cell");
  app.add_flag("--skip-small", skip_small, "only the large dataset");
  app.add_option("--spread", spread,
                 "per-dimension noise around the cluster centres (larger: harder)");
  app.add_option("--kinds", kinds, "index kinds to run, of flat,ivf,hnsw");
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(data_dir);

  json out = {{"cores", std::thread::hardware_concurrency()}, {"datasets", json::array()}};
  struct Plan {
    std::string name;
    int64_t rows;
    int dim;
    int clusters;
    std::vector<IndexConfig> configs;
    bool filtered;
  };
  std::vector<Plan> plans = {
      {"large", rows, dim, 1000,
       {{"flat", "flat", {}},
        {"ivf", "ivf nlist=1024 nprobe=32", {1, 2, 4, 8, 16, 32, 64, 128}},
        {"hnsw", "hnsw ef_construction=64 m=16", {16, 32, 64, 128, 256}}},
       true},
  };
  if (!skip_small) {
    plans.push_back({"small", small_rows, small_dim, 300,
                     {{"flat", "flat", {}},
                      {"ivf", "ivf nlist=256 nprobe=32", {1, 2, 4, 8, 16, 32, 64}},
                      {"hnsw", "hnsw ef_construction=100 m=16", {16, 32, 64, 128, 256}}},
                     false});
  }
  for (const Plan& p : plans) {
    const Clock::time_point start = Clock::now();
    Dataset d = MakeDataset(p.name, p.rows, p.dim, queries, p.clusters, spread);
    std::vector<IndexConfig> configs;
    for (const IndexConfig& c : p.configs) {
      if (("," + kinds + ",").find("," + c.label + ",") != std::string::npos) configs.push_back(c);
    }
    fmt::print(stderr, "{}: {} x {} generated with exact truth in {:.1f} s\n", p.name, p.rows, p.dim,
               Seconds(start));
    WriteFile(fmt::format("{}/{}_base.f32", data_dir, p.name), d.base.data(), d.base.size() * 4);
    WriteFile(fmt::format("{}/{}_query.f32", data_dir, p.name), d.query.data(), d.query.size() * 4);
    WriteFile(fmt::format("{}/{}_truth.i64", data_dir, p.name), d.truth.data(), d.truth.size() * 8);
    json r = RunDataset(d, fmt::format("{}/{}", db_root, p.name), configs, p.filtered,
                        filtered_queries);
    r["spread"] = spread;
    out["datasets"].push_back(r);
    std::ofstream(out_path) << out.dump(1) << "\n";
    std::filesystem::remove_all(fmt::format("{}/{}", db_root, p.name));
  }
  return 0;
}
