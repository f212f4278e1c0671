// semdb's HNSW search loop and vector kernels against FAISS on the same
// graph: with FAISS's stopping rule the portable kernel returns exactly what
// faiss::IndexHNSW::search returns (ids and scores), the vector kernels the
// same ids with scores within float rounding; with semdb's rule recall is at
// least FAISS's at every ef and above a floor against exact search.
#include "index/hnsw_search.h"

#include <cmath>
#include <vector>

#include "catch2/catch.hpp"
#include "faiss/IndexHNSW.h"
#include "faiss/impl/IDSelector.h"
#include "faiss/utils/distances.h"
#include "index/inner_product.h"
#include "vector_data.h"

namespace semdb {
namespace {

std::vector<SimdLevel> SupportedLevels() {
  std::vector<SimdLevel> levels = {SimdLevel::kPortable};
  if (BestSimdLevel() != SimdLevel::kPortable) levels.push_back(SimdLevel::kAvx2);
  if (BestSimdLevel() == SimdLevel::kAvx512) levels.push_back(SimdLevel::kAvx512);
  return levels;
}

TEST_CASE("inner-product kernels agree with FAISS and with double precision", "[hnsw]") {
  std::vector<float> v = testing::ClusteredVectors(2, 300, 1, 3, 1.0f);
  for (size_t d : {1, 3, 8, 15, 16, 17, 31, 64, 100, 128, 257, 300}) {
    const float* x = v.data();
    const float* y = v.data() + 300;
    double exact = 0;
    for (size_t i = 0; i < d; ++i) exact += double(x[i]) * y[i];
    // The portable kernel sums in FAISS's order: bit-identical.
    REQUIRE(InnerProductKernel(SimdLevel::kPortable)(x, y, d) == faiss::fvec_inner_product(x, y, d));
    for (SimdLevel level : SupportedLevels()) {
      INFO(SimdLevelName(level) << " d=" << d);
      REQUIRE(std::abs(InnerProductKernel(level)(x, y, d) - exact) < 1e-5);
    }
  }
  INFO("this CPU: " << SimdLevelName(BestSimdLevel()));
  REQUIRE(BestInnerProduct() == InnerProductKernel(BestSimdLevel()));
}

struct Graph {
  static constexpr int kDim = 48;
  // Base and held-out queries from the same clusters.
  std::vector<float> base = testing::ClusteredVectors(6200, kDim, 40, 11, 1.2f);
  std::vector<float> queries{base.end() - 200 * kDim, base.end()};
  faiss::IndexHNSWFlat index{kDim, 16, faiss::METRIC_INNER_PRODUCT};

  Graph() {
    base.resize(6000 * kDim);
    index.hnsw.efConstruction = 80;
    index.add(static_cast<faiss::Index::idx_t>(base.size() / kDim), base.data());
  }
  const float* vectors() const {
    return reinterpret_cast<const float*>(
        static_cast<const faiss::IndexFlat*>(index.storage)->codes.data());
  }
};

TEST_CASE("the HNSW loop returns FAISS's results on FAISS's graph", "[hnsw]") {
  Graph g;
  const int k = 10;
  // Even positions only: the selector bounds the results, not the walk.
  std::vector<faiss::Index::idx_t> even;
  for (faiss::Index::idx_t i = 0; i < g.index.ntotal; i += 2) even.push_back(i);
  faiss::IDSelectorBatch even_sel(even.size(), even.data());
  for (int ef : {10, 40, 128}) {
    for (const faiss::IDSelector* sel : {static_cast<const faiss::IDSelector*>(nullptr),
                                         static_cast<const faiss::IDSelector*>(&even_sel)}) {
      g.index.hnsw.efSearch = ef;
      faiss::SearchParametersHNSW params;
      params.sel = const_cast<faiss::IDSelector*>(sel);
      params.efSearch = ef;
      int exact_queries = 0;
      for (int q = 0; q < 200; ++q) {
        const float* query = g.queries.data() + q * Graph::kDim;
        std::vector<float> faiss_scores(k);
        std::vector<faiss::Index::idx_t> faiss_ids(k);
        g.index.search(1, query, k, faiss_scores.data(), faiss_ids.data(), &params);
        for (SimdLevel level : SupportedLevels()) {
          INFO("ef=" << ef << " selector=" << (sel != nullptr) << " query " << q << " "
                     << SimdLevelName(level));
          std::vector<float> scores(k);
          std::vector<int64_t> ids(k);
          SearchHnswFlat(g.index.hnsw, g.vectors(), Graph::kDim, InnerProductKernel(level),
                         {query, k, ef, sel, /*faiss_stop_rule=*/true}, scores.data(),
                         ids.data());
          for (int i = 0; i < k; ++i) {
            if (level == SimdLevel::kPortable) {
              REQUIRE(ids[i] == faiss_ids[i]);
              REQUIRE(scores[i] == faiss_scores[i]);
            } else {
              REQUIRE(std::abs(scores[i] - faiss_scores[i]) < 1e-5);
            }
          }
          // Rounding may swap two results that tie within it, never more.
          exact_queries += level != SimdLevel::kPortable && ids == std::vector<int64_t>(
                               faiss_ids.begin(), faiss_ids.end());
        }
      }
      if (SupportedLevels().size() > 1) {
        REQUIRE(exact_queries >= 195 * (static_cast<int>(SupportedLevels().size()) - 1));
      }
    }
  }
}

TEST_CASE("the HNSW loop meets recall floors against exact search", "[hnsw]") {
  Graph g;
  const int k = 10;
  for (auto [ef, floor] : {std::pair{10, 0.8}, std::pair{32, 0.97}, std::pair{128, 0.995}}) {
    double recall = 0, faiss_rule_recall = 0;
    for (int q = 0; q < 200; ++q) {
      const float* query = g.queries.data() + q * Graph::kDim;
      const std::vector<int64_t> truth = testing::ExactTopK(g.base, Graph::kDim, query, k, {});
      std::vector<float> scores(k);
      std::vector<int64_t> ids(k);
      for (bool faiss_rule : {false, true}) {
        SearchHnswFlat(g.index.hnsw, g.vectors(), Graph::kDim, BestInnerProduct(),
                       {query, k, ef, nullptr, faiss_rule}, scores.data(), ids.data());
        (faiss_rule ? faiss_rule_recall : recall) += testing::RecallOf(ids, truth);
      }
    }
    INFO("ef=" << ef << " recall " << recall / 200 << ", FAISS's rule " << faiss_rule_recall / 200);
    REQUIRE(recall / 200 >= floor);
    REQUIRE(recall >= faiss_rule_recall);
  }
}

}  // namespace
}  // namespace semdb
