// semdb's HNSW construction (index/hnsw_build.h) against hnswlib, the
// reference implementation of the algorithm it follows, on the same data,
// M and efConstruction: recall at equal ef, on clustered data and on
// overlapping clusters in a latent space. Also: the graph (level 0 in the
// packed blocks, the levels above in faiss::HNSW: index/hnsw_packed_index.h)
// written as FAISS's IndexHNSWFlat (index/hnsw_file.h) is a valid FAISS graph
// that FAISS's own search uses and that holds the same links, incremental
// adds keep it searchable, and the search over the packed level 0 returns
// exactly what the search over FAISS's arrays of that file returns.
#include "index/hnsw_build.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "faiss/IndexHNSW.h"
#include "faiss/impl/IDSelector.h"
#include "faiss/impl/io.h"
#include "faiss/index_io.h"
#include "hnswlib/hnswlib.h"
#include "index/hnsw_file.h"
#include "index/hnsw_packed_index.h"
#include "index/hnsw_search.h"
#include "index/inner_product.h"
#include "vector_data.h"

namespace semdb {
namespace {

constexpr int kDim = 48, kRows = 8000, kQueries = 200, kK = 10, kM = 16, kEfConstruction = 100;

struct DataSet {
  std::string name;
  std::vector<float> base, queries;
};

DataSet Make(const std::string& name) {
  std::vector<float> all = name == "latent"
                               ? testing::LatentVectors(kRows + kQueries, kDim, 12, 40, 5)
                               : testing::ClusteredVectors(kRows + kQueries, kDim, 60, 5, 1.0f);
  DataSet d{name, {}, {}};
  d.base.assign(all.begin(), all.begin() + kRows * kDim);
  d.queries.assign(all.begin() + kRows * kDim, all.end());
  return d;
}

// semdb's graph over d.base, added in `chunks`, and FAISS's reading of the
// IndexHNSWFlat file semdb writes of it (FAISS's layout: every level's
// links in faiss::HNSW, the vectors in an IndexFlat).
struct SemdbGraph {
  PackedHnsw index{kDim, kM};
  std::unique_ptr<faiss::IndexHNSWFlat> faiss_copy;

  SemdbGraph(const DataSet& d, const std::vector<int64_t>& chunk_ends, int threads) {
    index.hnsw.efConstruction = kEfConstruction;
    for (int64_t end : chunk_ends) {
      const int64_t before = index.ntotal;
      index.storage->add(end - before, d.base.data() + before * kDim);
      index.ntotal = index.storage->ntotal;
      BuildHnsw(index.hnsw, index.level0(), BestInnerProduct(), threads);
    }
    faiss::VectorIOWriter w;
    WriteHnswFlat(index, &w);
    faiss::VectorIOReader r;
    r.data = std::move(w.data);
    faiss_copy.reset(dynamic_cast<faiss::IndexHNSWFlat*>(faiss::read_index(&r)));
    REQUIRE(faiss_copy != nullptr);
  }
  const float* rows() const {
    return reinterpret_cast<const float*>(
        static_cast<const faiss::IndexFlat*>(faiss_copy->storage)->codes.data());
  }
};

// Every link joins two distinct nodes that both have that level, at most
// once per list, and lists are filled from the front.
void RequireValidGraph(const faiss::HNSW& g) {
  const int64_t n = static_cast<int64_t>(g.levels.size());
  REQUIRE(g.entry_point >= 0);
  REQUIRE(g.levels[g.entry_point] - 1 == g.max_level);
  int64_t links = 0;
  for (int64_t v = 0; v < n; ++v) {
    for (int level = 0; level < g.levels[v]; ++level) {
      size_t begin, end;
      g.neighbor_range(v, level, &begin, &end);
      bool ended = false;
      std::vector<int> seen;
      for (size_t j = begin; j < end; ++j) {
        const int u = g.neighbors[j];
        if (u < 0) {
          ended = true;
          continue;
        }
        REQUIRE_FALSE(ended);
        REQUIRE(u != v);
        REQUIRE(u < n);
        REQUIRE(g.levels[u] > level);
        REQUIRE(std::find(seen.begin(), seen.end(), u) == seen.end());
        seen.push_back(u);
        ++links;
      }
      if (v != g.entry_point || n > 1) REQUIRE((level > 0 || !seen.empty()));
    }
  }
  REQUIRE(links > n * kM / 2);
}

// The packed blocks hold the file's level-0 links and rows, the packed
// graph's faiss::HNSW its upper levels, node by node.
void RequirePackedMatches(const SemdbGraph& g) {
  const faiss::HNSW& graph = g.faiss_copy->hnsw;
  const faiss::HNSW& upper = g.index.hnsw;
  const PackedLevel0& level0 = g.index.level0();
  REQUIRE(level0.size() == graph.levels.size());
  REQUIRE(upper.levels == graph.levels);
  REQUIRE(upper.nb_neighbors(0) == 0);
  for (size_t v = 0; v < graph.levels.size(); ++v) {
    size_t begin, end;
    graph.neighbor_range(static_cast<int64_t>(v), 0, &begin, &end);
    const int32_t* links = level0.links(static_cast<int32_t>(v));
    REQUIRE(static_cast<int>(end - begin) == level0.width());
    REQUIRE(std::equal(links, links + level0.width(), graph.neighbors.begin() + begin));
    for (int level = 1; level < graph.levels[v]; ++level) {
      size_t upper_begin, upper_end;
      graph.neighbor_range(static_cast<int64_t>(v), level, &begin, &end);
      upper.neighbor_range(static_cast<int64_t>(v), level, &upper_begin, &upper_end);
      REQUIRE(std::equal(graph.neighbors.begin() + begin, graph.neighbors.begin() + end,
                         upper.neighbors.begin() + upper_begin,
                         upper.neighbors.begin() + upper_end));
    }
    const float* row = level0.vector(static_cast<int32_t>(v));
    REQUIRE(std::equal(row, row + kDim, g.rows() + v * kDim));
  }
}

double SemdbRecall(const SemdbGraph& g, const DataSet& d, const std::vector<int64_t>& truth,
                   int ef) {
  double recall = 0;
  std::vector<float> scores(kK);
  std::vector<int64_t> ids(kK);
  for (int q = 0; q < kQueries; ++q) {
    SearchHnswPacked(g.index.hnsw, g.index.level0(), BestInnerProduct(),
                     {d.queries.data() + q * kDim, kK, ef, nullptr, false}, scores.data(),
                     ids.data());
    recall += testing::RecallOf(ids, std::vector<int64_t>(truth.begin() + q * kK,
                                                          truth.begin() + (q + 1) * kK));
  }
  return recall / kQueries;
}

std::vector<int64_t> Truth(const DataSet& d) {
  std::vector<int64_t> truth;
  for (int q = 0; q < kQueries; ++q) {
    std::vector<int64_t> top =
        testing::ExactTopK(d.base, kDim, d.queries.data() + q * kDim, kK, {});
    truth.insert(truth.end(), top.begin(), top.end());
  }
  return truth;
}

// A selector of the odd positions: it bounds the results, not the walk.
faiss::IDSelectorBatch OddPositions() {
  std::vector<faiss::Index::idx_t> odd;
  for (faiss::Index::idx_t i = 1; i < kRows; i += 2) odd.push_back(i);
  return faiss::IDSelectorBatch(odd.size(), odd.data());
}

TEST_CASE("semdb's HNSW build matches hnswlib's recall at equal ef", "[hnsw][build]") {
  for (const std::string name : {"clustered", "latent"}) {
    const DataSet d = Make(name);
    const std::vector<int64_t> truth = Truth(d);
    SemdbGraph g(d, {kRows}, 2);
    RequireValidGraph(g.faiss_copy->hnsw);

    hnswlib::InnerProductSpace space(kDim);
    hnswlib::HierarchicalNSW<float> peer(&space, kRows, kM, kEfConstruction, 100);
    for (int64_t i = 0; i < kRows; ++i) peer.addPoint(d.base.data() + i * kDim, i);

    for (auto [ef, floor] : {std::pair{10, 0.75}, std::pair{32, 0.93}, std::pair{128, 0.99}}) {
      peer.setEf(ef);
      double peer_recall = 0;
      for (int q = 0; q < kQueries; ++q) {
        auto top = peer.searchKnn(d.queries.data() + q * kDim, kK);
        std::vector<int64_t> ids;
        for (; !top.empty(); top.pop()) ids.push_back(static_cast<int64_t>(top.top().second));
        peer_recall += testing::RecallOf(ids, std::vector<int64_t>(truth.begin() + q * kK,
                                                                   truth.begin() + (q + 1) * kK));
      }
      peer_recall /= kQueries;
      const double recall = SemdbRecall(g, d, truth, ef);
      INFO(name << " ef=" << ef << ": semdb " << recall << ", hnswlib " << peer_recall);
      REQUIRE(recall >= floor);
      REQUIRE(recall >= peer_recall - 0.015);
    }

    // FAISS searches the graph it reads from semdb's file with its own code.
    g.faiss_copy->hnsw.efSearch = 64;
    std::vector<float> scores(static_cast<size_t>(kQueries) * kK);
    std::vector<faiss::Index::idx_t> ids(static_cast<size_t>(kQueries) * kK);
    g.faiss_copy->search(kQueries, d.queries.data(), kK, scores.data(), ids.data());
    double faiss_recall = 0;
    for (int q = 0; q < kQueries; ++q) {
      faiss_recall += testing::RecallOf(
          std::vector<faiss::Index::idx_t>(ids.begin() + q * kK, ids.begin() + (q + 1) * kK),
          std::vector<int64_t>(truth.begin() + q * kK, truth.begin() + (q + 1) * kK));
    }
    INFO(name << ": FAISS's search on semdb's graph, ef 64: " << faiss_recall / kQueries);
    REQUIRE(faiss_recall / kQueries >= 0.95);
  }
}

TEST_CASE("a graph grown by incremental adds stays searchable", "[hnsw][build]") {
  const DataSet d = Make("latent");
  const std::vector<int64_t> truth = Truth(d);
  // One vector first, then one more, a small batch on one thread, most of
  // the rest in parallel, then a last one whose links back change old lists.
  SemdbGraph g(d, {1, 2, 300, kRows - 1, kRows}, 2);
  RequireValidGraph(g.faiss_copy->hnsw);
  RequirePackedMatches(g);
  INFO("recall at ef 64: " << SemdbRecall(g, d, truth, 64));
  REQUIRE(SemdbRecall(g, d, truth, 64) >= 0.97);
}

TEST_CASE("the packed level 0 returns the FAISS-array search's results", "[hnsw][build]") {
  const DataSet d = Make("clustered");
  SemdbGraph g(d, {kRows / 2, kRows}, 2);
  faiss::IDSelectorBatch odd_sel = OddPositions();
  for (const faiss::IDSelector* sel : {static_cast<const faiss::IDSelector*>(nullptr),
                                       static_cast<const faiss::IDSelector*>(&odd_sel)}) {
    for (int ef : {10, 64}) {
      for (bool faiss_rule : {false, true}) {
        for (int q = 0; q < kQueries; ++q) {
          const HnswQuery query{d.queries.data() + q * kDim, kK, ef, sel, faiss_rule};
          std::vector<float> scores(kK), packed_scores(kK);
          std::vector<int64_t> ids(kK), packed_ids(kK);
          SearchHnswFlat(g.faiss_copy->hnsw, g.rows(), kDim, BestInnerProduct(), query,
                         scores.data(), ids.data());
          SearchHnswPacked(g.index.hnsw, g.index.level0(), BestInnerProduct(), query,
                           packed_scores.data(), packed_ids.data());
          INFO("ef=" << ef << " selector=" << (sel != nullptr) << " query " << q);
          REQUIRE(packed_ids == ids);
          REQUIRE(packed_scores == scores);
          if (sel != nullptr) {
            for (int64_t id : ids) REQUIRE(id % 2 == 1);
          }
        }
      }
    }
  }
}

TEST_CASE("PackedHnsw::search returns FAISS's search of the file's graph", "[hnsw][build]") {
  const DataSet d = Make("latent");
  SemdbGraph g(d, {kRows / 2, kRows}, 2);
  faiss::IDSelectorBatch odd_sel = OddPositions();
  for (faiss::IDSelector* sel : {static_cast<faiss::IDSelector*>(nullptr),
                                 static_cast<faiss::IDSelector*>(&odd_sel)}) {
    for (int ef : {10, 64}) {
      faiss::SearchParametersHNSW params;
      params.efSearch = ef;
      params.sel = sel;
      // FAISS 1.7.3 sizes its candidate heap by hnsw.efSearch: the same on both.
      g.index.hnsw.efSearch = ef;
      g.faiss_copy->hnsw.efSearch = ef;
      std::vector<float> scores(kQueries * kK), faiss_scores(kQueries * kK);
      std::vector<faiss::Index::idx_t> ids(kQueries * kK), faiss_ids(kQueries * kK);
      g.index.search(kQueries, d.queries.data(), kK, scores.data(), ids.data(), &params);
      g.faiss_copy->search(kQueries, d.queries.data(), kK, faiss_scores.data(), faiss_ids.data(),
                           &params);
      INFO("ef=" << ef << " selector=" << (sel != nullptr));
      REQUIRE(ids == faiss_ids);
      REQUIRE(scores == faiss_scores);
    }
  }
}

}  // namespace
}  // namespace semdb
