// semdb's search overhead over raw FAISS on the identical index (issue 12):
// a collection per index kind (flat, IVF, HNSW) of clustered unit vectors
// with a text and metadata each; its index saved by Checkpoint and read
// back from the file by FaissIndex::Load and by FAISS's read_index, so that
// FAISS's own search runs on the same bytes the collection serves (a flat
// index is not saved: both sides add the same vectors).
// One query per call on one thread: Collection::SearchVector asking for ids
// and scores only, the same with text and metadata (the default), and
// faiss::Index::search, rounds interleaved (the two collection sides block
// by block within a pass), in CPU seconds of the searching thread (on a
// shared machine wall-clock time also counts the waits for a core), each
// side's time the sum over blocks of 20 queries of its best time for the
// block over --rounds (see kBlock), with the
// spread of the ids-only ratio round by round. Text and metadata are timed
// three ways: on a copy of the database opened with the document cache off
// (Options::document_cache_bytes = 0), on the first pass after a reopen
// (document cache, RocksDB caches and label directory empty), and with the
// cache warm (as above). Recall@10 against exact search is printed for
// both sides. The table goes to stdout and, with --out, to a
// file.
//
//   search_overhead_bench [--rows 100000] [--dim 128] [--queries 1000] [--rounds 5]
//                         [--out bench/results/search_overhead.md]
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "CLI/CLI.hpp"
#include "faiss/IndexFlat.h"
#include "faiss/IndexHNSW.h"
#include "faiss/IndexIVF.h"
#include "faiss/impl/io.h"
#include "faiss/index_io.h"
#include "fmt/format.h"
#include "index/faiss_index.h"
#include "omp.h"
#include "saved_index_file.h"
#include "semdb/database.h"
#include "vector_data.h"  // tests/: the clustered-vector generator

extern "C" char* openblas_get_corename();

namespace {

using FaissId = faiss::Index::idx_t;
constexpr int kK = 10;

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return fmt::format("{} {} {}", one, five, fifteen);
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    fmt::print(stderr, "{}: {}\n", what, s.ToString());
    std::exit(1);
  }
}

struct Data {
  int dim = 0, queries = 0;
  std::vector<float> query;
  std::vector<FaissId> truth;  // queries x kK, positions = insertion order
};

double Recall(const std::vector<FaissId>& found, const Data& d) {
  int hit = 0;
  for (int q = 0; q < d.queries; ++q) {
    for (int i = 0; i < kK; ++i) {
      for (int j = 0; j < kK; ++j) hit += found[q * kK + i] == d.truth[q * kK + j];
    }
  }
  return hit / double(d.queries * kK);
}

// Queries per timed block. A pass is timed block by block and each side
// keeps, per block, its best time over the rounds: on a loaded machine a
// pass of 1000 queries rarely escapes every interruption, a block of 20
// often does, so the sum of the best blocks is far steadier than the best
// pass (both sides measured alike).
constexpr int kBlock = 20;

// A side's timings: per block, the best CPU seconds over the rounds; per
// round, the pass's total.
struct Timing {
  std::vector<double> best_blocks;
  std::vector<double> rounds;
  double Best() const {
    double sum = 0;
    for (double b : best_blocks) sum += b;
    return sum;
  }
};

// A side of a pass: its search, the positions it found, its timings.
struct Side {
  std::function<void(int q, FaissId* out)> search;
  std::vector<FaissId>* found;
  Timing* timing;
};

// One pass over the queries by each of `sides`, interleaved block by block:
// at each step every side runs one block (the first side rotating with the
// step and `round`), so that the sides compared see the machine in the same
// state, interruptions alike. Side i runs the blocks shifted by i / n of
// the pass: a side never searches right after another side searched the
// same queries (their graph nodes would still be in the CPU's caches). Each
// side's time goes per block into its timing.
void Pass(const Data& d, const std::vector<Side>& sides, int round) {
  const size_t blocks = (d.queries + kBlock - 1) / kBlock;
  std::vector<double> totals(sides.size(), 0);
  for (const Side& side : sides) {
    side.found->assign(static_cast<size_t>(d.queries) * kK, -1);
    if (side.timing->best_blocks.empty()) side.timing->best_blocks.assign(blocks, 1e30);
  }
  for (size_t step = 0; step < blocks; ++step) {
    for (size_t k = 0; k < sides.size(); ++k) {
      const size_t i = (k + step + static_cast<size_t>(round)) % sides.size();
      const Side& side = sides[i];
      const size_t b = (step + i * blocks / sides.size()) % blocks;
      const int end = std::min<int>(d.queries, static_cast<int>(b + 1) * kBlock);
      const double t = ThreadCpuSeconds();
      for (int q = static_cast<int>(b) * kBlock; q < end; ++q) {
        side.search(q, side.found->data() + static_cast<size_t>(q) * kK);
      }
      const double spent = ThreadCpuSeconds() - t;
      side.timing->best_blocks[b] = std::min(side.timing->best_blocks[b], spent);
      totals[i] += spent;
    }
  }
  for (size_t i = 0; i < sides.size(); ++i) sides[i].timing->rounds.push_back(totals[i]);
}

// One side's pass; returns its CPU seconds.
double Pass(const Data& d, std::vector<FaissId>* found, Timing* timing,
            std::function<void(int q, FaissId* out)> search) {
  Pass(d, {Side{std::move(search), found, timing}}, 0);
  return timing->rounds.back();
}

// The median and the range of a/b round by round, as "1.02x (0.97-1.10)".
std::string RoundRatios(const Timing& a, const Timing& b) {
  std::vector<double> r;
  for (size_t i = 0; i < a.rounds.size() && i < b.rounds.size(); ++i) {
    r.push_back(a.rounds[i] / b.rounds[i]);
  }
  std::sort(r.begin(), r.end());
  if (r.empty()) return "-";
  const double median =
      r.size() % 2 ? r[r.size() / 2] : (r[r.size() / 2 - 1] + r[r.size() / 2]) / 2;
  return fmt::format("{:.2f}x ({:.2f}-{:.2f})", median, r.front(), r.back());
}

struct Row {
  std::string knob;
  semdb::SearchOptions options;
  std::unique_ptr<faiss::SearchParameters> params;
  // The collection (ids only, and with text and metadata: cache warm,
  // cache off), semdb's index alone (FaissIndex::Search), raw FAISS; and
  // the CPU seconds of the first pass after a reopen.
  Timing ids, full, full_off, index, faiss;
  double cold = 0;
  double ids_recall = 0, full_recall = 0, faiss_recall = 0;
};

// A collection of `spec` over the vectors, each with a text and metadata,
// checkpointed; then its rows measured against FAISS on the saved index.
std::string Measure(const std::string& db_dir, const std::string& spec,
                    const std::vector<float>& data, int64_t rows, const Data& d, int rounds,
                    std::vector<Row>& table, double* text_cost, std::string* notes) {
  std::filesystem::remove_all(db_dir);
  auto db = semdb::Database::Open(db_dir);
  Check(db.status(), "open");
  auto c = (*db)->CreateCollection("c", {.embedder = fmt::format("vectors dim={}", d.dim),
                                         .index = spec,
                                         .keyword_index = false});
  Check(c.status(), "create");
  omp_set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));
  for (int64_t begin = 0; begin < rows; begin += 5000) {
    std::vector<semdb::Document> docs;
    for (int64_t i = begin; i < std::min(rows, begin + 5000); ++i) {
      docs.push_back(
          {.id = std::to_string(i),
           .text = fmt::format("Passage {} of the benchmark corpus: a paragraph of about two "
                               "hundred bytes, as a chunked document's passage would hold, "
                               "with words that repeat from one passage to the next one.",
                               i),
           .metadata = {{"n", i}, {"group", fmt::format("g{}", i % 50)}, {"year", 1990 + i % 30}},
           .vector = {data.begin() + i * d.dim, data.begin() + (i + 1) * d.dim}});
    }
    Check((*c)->InsertBatch(std::move(docs)).status(), "insert");
  }
  Check((*c)->Checkpoint(), "checkpoint");
  c->reset();
  db->reset();
  // Served as after a restart: reopened, its records in table files; a copy
  // with the document cache off beside it.
  const std::string off_dir = db_dir + "-cache-off";
  std::filesystem::remove_all(off_dir);
  std::filesystem::copy(db_dir, off_dir, std::filesystem::copy_options::recursive);
  auto db_off = semdb::Database::Open(off_dir, {.document_cache_bytes = 0});
  Check(db_off.status(), "open the copy");
  auto c_off = (*db_off)->GetCollection("c");
  Check(c_off.status(), "get");
  auto reopen = [&] {
    c->reset();
    db->reset();
    db = semdb::Database::Open(db_dir);
    Check(db.status(), "reopen");
    c = (*db)->GetCollection("c");
    Check(c.status(), "get");
  };
  reopen();
  // semdb's index alone and FAISS's own: IVF and HNSW read from the saved
  // file (FAISS by read_index of its FAISS part, so that FAISS searches its
  // own structures); a flat index is not saved (open builds it from the
  // stored vectors), so both sides add the same vectors in the same order.
  std::string path;
  for (const auto& f : std::filesystem::directory_iterator(db_dir + "/indexes")) {
    if (f.path().extension() == ".index") path = f.path().string();
  }
  absl::StatusOr<std::unique_ptr<semdb::FaissIndex>> saved;
  std::unique_ptr<faiss::Index> raw;
  if (path.empty()) {
    saved = semdb::FaissIndex::Create(*semdb::Spec::Parse("flat"), d.dim);
    Check(saved.status(), "create the flat index");
    std::vector<uint64_t> labels(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) labels[static_cast<size_t>(i)] = static_cast<uint64_t>(i);
    Check((*saved)->Add(labels, absl::MakeConstSpan(data).subspan(0, rows * d.dim)),
          "add to the flat index");
    raw = std::make_unique<faiss::IndexFlatIP>(d.dim);
    raw->add(rows, data.data());
  } else {
    saved = semdb::FaissIndex::Load(path);
    Check(saved.status(), "load the saved index");
    std::ifstream in(path, std::ios::binary);
    const std::optional<std::string> bytes = semdb::bench::FaissBytesOfIndexFile(
        std::string(std::istreambuf_iterator<char>(in), {}));
    Check(bytes ? absl::OkStatus() : absl::DataLossError("truncated"), "read the saved index");
    faiss::VectorIOReader reader;
    reader.data.assign(bytes->begin(), bytes->end());
    raw.reset(faiss::read_index(&reader));
  }
  omp_set_num_threads(1);

  auto semdb_search = [&](const semdb::SearchOptions& o, bool cache = true) {
    return [&, o, cache](int q, FaissId* out) {
      auto hits = (cache ? *c : *c_off)->SearchVector(
          absl::MakeConstSpan(d.query).subspan(static_cast<size_t>(q) * d.dim, d.dim), o);
      Check(hits.status(), "search");
      for (size_t i = 0; i < hits->size() && i < kK; ++i) out[i] = std::stoll((*hits)[i].id);
    };
  };
  std::vector<float> scores(kK);
  // The first pass with text and metadata after a reopen, per row.
  for (Row& row : table) {
    reopen();
    std::vector<FaissId> found;
    Timing once;
    row.cold = Pass(d, &found, &once, semdb_search(row.options));
  }
  std::set<FaissId> hit_documents;  // distinct hits of the passes
  for (int r = 0; r < rounds; ++r) {
    for (Row& row : table) {
      std::vector<FaissId> found;
      semdb::SearchOptions ids_only = row.options;
      ids_only.include = {.text = false, .metadata = false};
      auto faiss_pass = [&] {
        Pass(d, &found, &row.faiss, [&](int q, FaissId* out) {
          raw->search(1, d.query.data() + static_cast<size_t>(q) * d.dim, kK, scores.data(), out,
                     row.params.get());
        });
        row.faiss_recall = Recall(found, d);
      };
      // Alternate which side goes first.
      if (r % 2 == 1) faiss_pass();
      // Ids only and with text and metadata, block by block (Pass).
      std::vector<FaissId> full_found;
      Pass(d,
           {Side{semdb_search(ids_only), &found, &row.ids},
            Side{semdb_search(row.options), &full_found, &row.full}},
           r);
      row.ids_recall = Recall(found, d);
      row.full_recall = Recall(full_found, d);
      hit_documents.insert(full_found.begin(), full_found.end());
      Pass(d, &found, &row.full_off, semdb_search(row.options, false));
      Pass(d, &found, &row.index, [&](int q, FaissId* out) {
        auto hits = (*saved)->Search(
            absl::MakeConstSpan(d.query).subspan(static_cast<size_t>(q) * d.dim, d.dim), kK,
            row.options.knobs, nullptr);
        Check(hits.status(), "index search");
        for (size_t i = 0; i < hits->size(); ++i) out[i] = static_cast<FaissId>((*hits)[i].label);
      });
      if (r % 2 == 0) faiss_pass();
    }
  }
  std::ostringstream md;
  for (const Row& row : table) {
    const double ids = row.ids.Best(), full = row.full.Best(), full_off = row.full_off.Best(),
                 index = row.index.Best(), faiss = row.faiss.Best();
    md << fmt::format("| {} | {} | {:.1f} | {:.1f} | {:.1f} | {:.2f}x | {} | {:.2f}x | {:.1f} | "
                      "{:.1f} | {:.1f} | {:.2f}x | {:.4f} | {:.4f} |\n",
                      spec.substr(0, spec.find(' ')), row.knob, 1e6 * faiss / d.queries,
                      1e6 * index / d.queries, 1e6 * ids / d.queries, ids / faiss,
                      RoundRatios(row.ids, row.faiss), ids / index, 1e6 * full_off / d.queries,
                      1e6 * row.cold / d.queries, 1e6 * full / d.queries, full / faiss,
                      row.ids_recall, row.faiss_recall);
    if (row.knob == "ef 64") {
      text_cost[0] = (full - ids) / ids;
      text_cost[1] = (row.cold - ids) / ids;
      text_cost[2] = (full_off - ids) / ids;
    }
  }
  *notes += fmt::format("{}: the warm document cache holds the {} distinct documents the passes "
                        "hit.\n",
                        spec.substr(0, spec.find(' ')), hit_documents.size());
  c_off->reset();
  db_off->reset();
  std::filesystem::remove_all(off_dir);
  return md.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("semdb search overhead over raw FAISS");
  int64_t rows = 100000;
  int dim = 128, queries = 1000, rounds = 5, nlist = 1024, m = 16, ef_construction = 200;
  std::string db_dir = "search_overhead_db", out, only;
  app.add_option("--rows", rows, "vectors per collection");
  app.add_option("--dim", dim, "dimensions");
  app.add_option("--queries", queries, "queries per pass");
  app.add_option("--rounds", rounds, "interleaved rounds; the best is kept");
  app.add_option("--nlist", nlist, "IVF lists");
  app.add_option("--m", m, "HNSW M");
  app.add_option("--ef-construction", ef_construction, "HNSW efConstruction");
  app.add_option("--db-dir", db_dir, "scratch folder for the databases (replaced)");
  app.add_option("--out", out, "also write the table to this file");
  app.add_option("--only", only, "measure only this index kind (flat, ivf or hnsw)");
  CLI11_PARSE(app, argc, argv);

  std::ostringstream md;
  md << fmt::format("cores: {} (hardware_concurrency), OpenBLAS core: {}, load average: {}\n\n",
                    std::thread::hardware_concurrency(), openblas_get_corename(), LoadAverage());
  md << fmt::format("{} x {} clustered unit vectors with a 200-byte text and 3 metadata fields "
                    "each, {} queries, k = {}, one query per call on one thread, {} interleaved "
                    "rounds, each side's time the sum over blocks of {} queries of its best "
                    "time for the block over the rounds, microseconds of thread CPU time per "
                    "query; the same index file searched by the collection and by FAISS.\n\n",
                    rows, dim, queries, kK, rounds, kBlock);
  // Queries from the same clusters as the data (drawn together, kept apart).
  std::vector<float> data = semdb::testing::ClusteredVectors(rows + queries, dim, 200, 1);
  Data d;
  d.dim = dim;
  d.queries = queries;
  d.query.assign(data.begin() + rows * dim, data.end());
  data.resize(static_cast<size_t>(rows) * dim);
  {
    faiss::IndexFlatIP exact(dim);
    exact.add(rows, data.data());
    std::vector<float> scores(static_cast<size_t>(queries) * kK);
    d.truth.resize(scores.size());
    exact.search(queries, d.query.data(), kK, scores.data(), d.truth.data());
  }
  md << "| index | knob | raw FAISS (us) | semdb index alone (us) | semdb ids + scores (us) | "
        "ids / FAISS | ids / FAISS per round: median (range) | ids / index alone | + text + metadata, cache off (us) | + text + "
        "metadata, first pass after reopen (us) | + text + metadata, cache warm (us) | "
        "warm / FAISS | semdb recall | FAISS recall |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  std::filesystem::create_directories(db_dir);
  double text_cost[3] = {0, 0, 0};  // cache warm, first pass, cache off
  std::string notes;
  if (only.empty() || only == "flat") {
    std::vector<Row> table(1);
    table[0].knob = "exact";
    md << Measure(db_dir + "/flat", "flat", data, rows, d, rounds, table, text_cost, &notes);
  }
  if (only.empty() || only == "ivf") {
    std::vector<Row> table;
    for (int nprobe : {1, 2, 4, 8, 16, 32, 64}) {
      Row& row = table.emplace_back();
      row.knob = fmt::format("nprobe {}", nprobe);
      row.options.knobs.nprobe = nprobe;
      row.options.strategy = semdb::SearchStrategy::kAnn;
      auto params = std::make_unique<faiss::SearchParametersIVF>();
      params->nprobe = nprobe;
      row.params = std::move(params);
    }
    md << Measure(db_dir + "/ivf", fmt::format("ivf nlist={}", nlist), data, rows, d, rounds,
                  table, text_cost, &notes);
  }
  if (only.empty() || only == "hnsw") {
    std::vector<Row> table;
    for (int ef : {16, 32, 64, 128, 256}) {
      Row& row = table.emplace_back();
      row.knob = fmt::format("ef {}", ef);
      row.options.knobs.ef_search = ef;
      row.options.strategy = semdb::SearchStrategy::kAnn;
      auto params = std::make_unique<faiss::SearchParametersHNSW>();
      params->efSearch = ef;
      row.params = std::move(params);
    }
    md << Measure(db_dir + "/hnsw",
                  fmt::format("hnsw m={} ef_construction={}", m, ef_construction), data, rows,
                  d, rounds, table, text_cost, &notes);
  }
  md << fmt::format("\nText + metadata of the 10 hits cost {:.1f}% of an HNSW query at ef 64 "
                    "with the document cache warm (semdb with them against semdb with ids and "
                    "scores only), {:.1f}% on the first pass after a reopen, {:.1f}% with the "
                    "cache off.\n",
                    100 * text_cost[0], 100 * text_cost[1], 100 * text_cost[2]);
  md << "The document cache (Options::document_cache_bytes, 32 MiB by default) holds the "
        "decoded texts and the packed metadata of hits already read, filled by searches, never "
        "by writes: a warm hit's metadata is unpacked from one contiguous string, not parsed "
        "from JSON.\n" +
            notes;
  md << fmt::format("load average after: {}\n", LoadAverage());
  fmt::print("{}", md.str());
  if (!out.empty()) std::ofstream(out) << md.str();
  std::filesystem::remove_all(db_dir);
  return 0;
}
