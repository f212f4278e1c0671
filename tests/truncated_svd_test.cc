#include "embedders/truncated_svd.h"

#include <cmath>
#include <random>

#include "catch2/catch.hpp"

namespace semdb {
namespace {

// A random sparse matrix whose spectrum decays, like TF-IDF matrices.
SparseMatrix RandomSparse(int64_t rows, int64_t cols, int per_row, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> col(0, static_cast<int32_t>(cols - 1));
  std::uniform_real_distribution<float> value(0.1f, 1.0f);
  SparseMatrix x;
  x.rows = rows;
  x.cols = cols;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<int32_t> cs;
    for (int i = 0; i < per_row; ++i) {
      // Skewed column choice: low columns are frequent.
      int32_t c = col(rng);
      cs.push_back(static_cast<int32_t>(c * (static_cast<double>(c) / cols)));
    }
    std::sort(cs.begin(), cs.end());
    cs.erase(std::unique(cs.begin(), cs.end()), cs.end());
    for (int32_t c : cs) {
      x.col.push_back(c);
      x.value.push_back(value(rng));
    }
    x.row_start.push_back(static_cast<int64_t>(x.col.size()));
  }
  return x;
}

// |<u, v>| for rows a of p and b of q (both k x cols).
double AbsDot(const TruncatedSvd& p, int a, const TruncatedSvd& q, int b, int64_t cols) {
  double dot = 0;
  for (int64_t c = 0; c < cols; ++c) dot += p.components[a * cols + c] * q.components[b * cols + c];
  return std::abs(dot);
}

TEST_CASE("randomized SVD finds the exact leading singular vectors", "[svd]") {
  SparseMatrix x = RandomSparse(1500, 900, 30, 7);
  auto exact = ComputeTruncatedSvd(x, 16, SvdMethod::kExact, 1);
  auto randomized = ComputeTruncatedSvd(x, 16, SvdMethod::kRandomized, 1);
  REQUIRE(exact.ok());
  REQUIRE(randomized.ok());
  REQUIRE(exact->method == "exact");
  REQUIRE(randomized->method == "randomized");
  REQUIRE(exact->rank == 16);
  REQUIRE(randomized->rank == 16);
  for (int j = 0; j < 8; ++j) {
    INFO("component " << j);
    REQUIRE(std::abs(exact->singular_values[j] - randomized->singular_values[j]) <
            1e-3 * exact->singular_values[0]);
    REQUIRE(AbsDot(*exact, j, *randomized, j, x.cols) > 0.999);
  }
  // Components are orthonormal.
  for (int a = 0; a < 16; ++a) {
    for (int b = 0; b < 16; ++b) {
      REQUIRE(AbsDot(*exact, a, *exact, b, x.cols) == Approx(a == b ? 1.0 : 0.0).margin(1e-4));
    }
  }
}

TEST_CASE("row and column Gram paths agree", "[svd]") {
  SparseMatrix wide = RandomSparse(200, 500, 20, 3);
  SparseMatrix tall = RandomSparse(500, 200, 20, 3);
  for (const SparseMatrix* x : {&wide, &tall}) {
    auto svd = ComputeTruncatedSvd(*x, 10, SvdMethod::kExact, 1);
    REQUIRE(svd.ok());
    // x v_j has norm sigma_j.
    for (int j = 0; j < svd->rank; ++j) {
      double norm2 = 0;
      for (int64_t r = 0; r < x->rows; ++r) {
        double dot = 0;
        for (int64_t p = x->row_start[r]; p < x->row_start[r + 1]; ++p) {
          dot += x->value[p] * svd->components[j * x->cols + x->col[p]];
        }
        norm2 += dot * dot;
      }
      REQUIRE(std::sqrt(norm2) == Approx(svd->singular_values[j]).epsilon(1e-4));
    }
  }
}

TEST_CASE("a rank-deficient matrix yields only its rank", "[svd]") {
  // Three rows, two of them equal: rank 2.
  SparseMatrix x;
  x.rows = 3;
  x.cols = 4;
  x.col = {0, 1, 0, 1, 2, 3};
  x.value = {1, 2, 1, 2, 1, 1};
  x.row_start = {0, 2, 4, 6};
  auto svd = ComputeTruncatedSvd(x, 3, SvdMethod::kAuto, 1);
  REQUIRE(svd.ok());
  REQUIRE(svd->rank == 2);
  REQUIRE(svd->components.size() == 2 * 4);

  SparseMatrix empty;
  REQUIRE_FALSE(ComputeTruncatedSvd(empty, 3, SvdMethod::kAuto, 1).ok());
}

}  // namespace
}  // namespace semdb
