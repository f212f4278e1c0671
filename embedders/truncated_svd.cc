#include "embedders/truncated_svd.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <random>

#include "absl/strings/str_cat.h"
#include "cblas.h"
#include "embedders/parallel_for.h"
#include "lapacke.h"

namespace semdb {
namespace {

constexpr double kRelativeRankTolerance = 1e-6;
constexpr int kOversamples = 20;
constexpr int kPowerIterations = 7;

// OpenBLAS on one thread while an SVD runs (process-wide, so counted: the
// setting is restored when the last concurrent SVD ends). Its own threads
// busy-wait in sched_yield between calls, and the SVD alternates BLAS and
// LAPACK calls with sparse products that ParallelFor already spreads over
// the cores: perf of a 10,000-line text import showed the OpenBLAS threads
// spinning in 35-40% of its samples.
class OneBlasThread {
 public:
  OneBlasThread() {
    std::lock_guard<std::mutex> lock(mu_);
    if (active_++ == 0) {
      saved_ = openblas_get_num_threads();
      openblas_set_num_threads(1);
    }
  }
  ~OneBlasThread() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--active_ == 0) openblas_set_num_threads(saved_);
  }
  OneBlasThread(const OneBlasThread&) = delete;
  OneBlasThread& operator=(const OneBlasThread&) = delete;

 private:
  static inline std::mutex mu_;
  static inline int active_ = 0;
  static inline int saved_ = 1;
};

SparseMatrix Transpose(const SparseMatrix& x) {
  SparseMatrix t;
  t.rows = x.cols;
  t.cols = x.rows;
  t.row_start.assign(t.rows + 1, 0);
  for (int32_t c : x.col) ++t.row_start[c + 1];
  for (int64_t i = 0; i < t.rows; ++i) t.row_start[i + 1] += t.row_start[i];
  t.col.resize(x.col.size());
  t.value.resize(x.value.size());
  std::vector<int64_t> next(t.row_start.begin(), t.row_start.end() - 1);
  for (int64_t r = 0; r < x.rows; ++r) {
    for (int64_t p = x.row_start[r]; p < x.row_start[r + 1]; ++p) {
      int64_t q = next[x.col[p]]++;
      t.col[q] = static_cast<int32_t>(r);
      t.value[q] = x.value[p];
    }
  }
  return t;
}

// out (x.rows x l, row-major) = x * m (x.cols x l, row-major).
template <typename T>
void SparseTimesDense(const SparseMatrix& x, const std::vector<T>& m, int l,
                      std::vector<T>* out) {
  out->assign(static_cast<size_t>(x.rows) * l, T(0));
  ParallelFor(x.rows, 256, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      T* dst = out->data() + r * l;
      for (int64_t p = x.row_start[r]; p < x.row_start[r + 1]; ++p) {
        const T* src = m.data() + static_cast<int64_t>(x.col[p]) * l;
        T v = x.value[p];
        for (int j = 0; j < l; ++j) dst[j] += v * src[j];
      }
    }
  });
}

// dst (cols x rows) = src (rows x cols) transposed, both row-major, by
// tiles that stay in the cache.
void TransposeDense(const float* src, int64_t rows, int64_t cols, float* dst) {
  constexpr int64_t kTile = 32;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
    const int64_t r1 = std::min(rows, r0 + kTile);
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t c1 = std::min(cols, c0 + kTile);
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = c0; c < c1; ++c) dst[c * rows + r] = src[r * cols + c];
      }
    }
  }
}

// Replaces the columns of a (rows x l, row-major) by an orthonormal basis of
// their span (Householder QR). LAPACK works on columns: a is transposed
// once into a column-major copy (`columns`, the caller's scratch, reused
// so that its pages are not faulted in again) and back, by tiles;
// LAPACKE's row-major entry points copied it element by element into and
// out of each of the two calls (14% of a 39,411-line import's samples).
absl::Status Orthonormalize(std::vector<float>* a, int64_t rows, int l,
                            std::vector<float>* columns) {
  std::vector<float> tau(l);
  columns->resize(a->size());
  TransposeDense(a->data(), rows, l, columns->data());
  int info = LAPACKE_sgeqrf(LAPACK_COL_MAJOR, rows, l, columns->data(), rows, tau.data());
  if (info == 0) {
    info = LAPACKE_sorgqr(LAPACK_COL_MAJOR, rows, l, l, columns->data(), rows, tau.data());
  }
  if (info != 0) {
    return absl::InternalError(absl::StrCat("LAPACK QR failed (info ", info, ")"));
  }
  TransposeDense(columns->data(), l, rows, a->data());
  return absl::OkStatus();
}

// Eigenvectors of the symmetric g (n x n, row-major) for its top k
// eigenvalues, in decreasing order: values (k) and vectors (n x k,
// row-major, column j for values[j]).
absl::Status TopEigen(std::vector<double> g, int64_t n, int k,
                      std::vector<double>* values, std::vector<double>* vectors) {
  std::vector<double> w(n);
  std::vector<double> z(static_cast<size_t>(n) * k);
  std::vector<lapack_int> support(2 * static_cast<size_t>(k));
  lapack_int found = 0;
  int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', n, g.data(), n, 0,
                            0, n - k + 1, n, 0.0, &found, w.data(), z.data(), k,
                            support.data());
  if (info != 0 || found != k) {
    return absl::InternalError(absl::StrCat(
        "LAPACK eigendecomposition failed (info ", info, ", found ", found, ")"));
  }
  // dsyevr returns ascending order; reverse to descending.
  values->resize(k);
  vectors->resize(static_cast<size_t>(n) * k);
  for (int j = 0; j < k; ++j) {
    (*values)[j] = w[k - 1 - j];
    for (int64_t i = 0; i < n; ++i) {
      (*vectors)[i * k + j] = z[i * k + (k - 1 - j)];
    }
  }
  return absl::OkStatus();
}

// Number of leading singular values above the rank tolerance.
int NumericalRank(const std::vector<double>& sigma) {
  if (sigma.empty() || !(sigma[0] > 0)) return 0;
  int rank = 0;
  while (rank < static_cast<int>(sigma.size()) &&
         sigma[rank] > kRelativeRankTolerance * sigma[0]) {
    ++rank;
  }
  return rank;
}

// The singular values for the eigenvalues of a Gram matrix (in decreasing
// order), cut to the numerical rank.
std::vector<double> SingularValues(const std::vector<double>& eigenvalues) {
  std::vector<double> sigma;
  for (double l : eigenvalues) sigma.push_back(std::sqrt(std::max(0.0, l)));
  sigma.resize(NumericalRank(sigma));
  return sigma;
}

// The start of every method's SVD: the top k eigenpairs of the n x n Gram
// matrix `gram`, the eigenvectors into *vectors (n x k, row-major) and the
// singular values (square roots of the eigenvalues, cut to the numerical
// rank) into the result, which the caller completes with components.
absl::StatusOr<TruncatedSvd> SvdFromGram(std::vector<double> gram, int64_t n, int k,
                                         const char* method, std::vector<double>* vectors) {
  std::vector<double> lambda;
  if (absl::Status s = TopEigen(std::move(gram), n, k, &lambda, vectors); !s.ok()) {
    return s;
  }
  TruncatedSvd svd;
  svd.method = method;
  svd.singular_values = SingularValues(lambda);
  svd.rank = static_cast<int>(svd.singular_values.size());
  return svd;
}

// Right singular vectors from the eigendecomposition of the row Gram matrix
// x x^T: v_j = x^T u_j / sigma_j.
absl::StatusOr<TruncatedSvd> ExactFromRowGram(const SparseMatrix& x, int k) {
  const int64_t n = x.rows;
  std::vector<double> gram(static_cast<size_t>(n) * n, 0.0);
  ParallelFor(n, 16, [&](int64_t begin, int64_t end) {
    std::vector<double> dense(x.cols, 0.0);
    for (int64_t i = begin; i < end; ++i) {
      for (int64_t p = x.row_start[i]; p < x.row_start[i + 1]; ++p) {
        dense[x.col[p]] = x.value[p];
      }
      for (int64_t j = 0; j <= i; ++j) {
        double dot = 0;
        for (int64_t p = x.row_start[j]; p < x.row_start[j + 1]; ++p) {
          dot += dense[x.col[p]] * x.value[p];
        }
        gram[i * n + j] = gram[j * n + i] = dot;
      }
      for (int64_t p = x.row_start[i]; p < x.row_start[i + 1]; ++p) {
        dense[x.col[p]] = 0;
      }
    }
  });
  std::vector<double> u;
  absl::StatusOr<TruncatedSvd> started = SvdFromGram(std::move(gram), n, k, "exact", &u);
  if (!started.ok()) return started.status();
  TruncatedSvd& svd = *started;
  const int r = svd.rank;
  std::vector<double> v(static_cast<size_t>(x.cols) * r, 0.0);  // cols x r
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t p = x.row_start[i]; p < x.row_start[i + 1]; ++p) {
      double* dst = v.data() + static_cast<int64_t>(x.col[p]) * r;
      for (int j = 0; j < r; ++j) dst[j] += x.value[p] * u[i * k + j];
    }
  }
  svd.components.resize(static_cast<size_t>(r) * x.cols);
  for (int j = 0; j < r; ++j) {
    for (int64_t c = 0; c < x.cols; ++c) {
      svd.components[j * x.cols + c] =
          static_cast<float>(v[c * r + j] / svd.singular_values[j]);
    }
  }
  return started;
}

// Right singular vectors as eigenvectors of the column Gram matrix x^T x.
absl::StatusOr<TruncatedSvd> ExactFromColumnGram(const SparseMatrix& x, int k) {
  const int64_t m = x.cols;
  std::vector<double> gram(static_cast<size_t>(m) * m, 0.0);
  for (int64_t i = 0; i < x.rows; ++i) {
    for (int64_t p = x.row_start[i]; p < x.row_start[i + 1]; ++p) {
      for (int64_t q = x.row_start[i]; q < x.row_start[i + 1]; ++q) {
        gram[static_cast<int64_t>(x.col[p]) * m + x.col[q]] +=
            static_cast<double>(x.value[p]) * x.value[q];
      }
    }
  }
  std::vector<double> v;
  absl::StatusOr<TruncatedSvd> svd = SvdFromGram(std::move(gram), m, k, "exact", &v);
  if (!svd.ok()) return svd;
  svd->components.resize(static_cast<size_t>(svd->rank) * m);
  for (int j = 0; j < svd->rank; ++j) {
    for (int64_t c = 0; c < m; ++c) {
      svd->components[j * m + c] = static_cast<float>(v[c * k + j]);
    }
  }
  return svd;
}

absl::StatusOr<TruncatedSvd> Randomized(const SparseMatrix& x, int k,
                                        uint64_t seed) {
  const int l = static_cast<int>(
      std::min<int64_t>(k + kOversamples, std::min(x.rows, x.cols)));
  const SparseMatrix xt = Transpose(x);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> z(static_cast<size_t>(x.cols) * l);  // cols x l
  for (float& v : z) v = normal(rng);
  std::vector<float> y;  // rows x l
  std::vector<float> scratch;
  SparseTimesDense(x, z, l, &y);
  if (absl::Status s = Orthonormalize(&y, x.rows, l, &scratch); !s.ok()) return s;
  for (int it = 0; it < kPowerIterations; ++it) {
    SparseTimesDense(xt, y, l, &z);
    if (absl::Status s = Orthonormalize(&z, x.cols, l, &scratch); !s.ok()) return s;
    SparseTimesDense(x, z, l, &y);
    if (absl::Status s = Orthonormalize(&y, x.rows, l, &scratch); !s.ok()) return s;
  }
  // B = Q^T x is l x cols; z = x^T Q = B^T. Eigen of B B^T = z^T z gives
  // B's left singular vectors; right ones are v_j = B^T u_j / sigma_j.
  SparseTimesDense(xt, y, l, &z);
  std::vector<float> small(static_cast<size_t>(l) * l);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l, l, x.cols, 1.0f,
              z.data(), l, z.data(), l, 0.0f, small.data(), l);
  std::vector<double> gram(small.begin(), small.end());
  std::vector<double> u;
  absl::StatusOr<TruncatedSvd> started = SvdFromGram(std::move(gram), l, k, "randomized", &u);
  if (!started.ok()) return started.status();
  TruncatedSvd& svd = *started;
  const int r = svd.rank;
  // components (r x cols) = U_r^T (r x l) * z^T (l x cols), one GEMM; then
  // row j divided by sigma_j.
  std::vector<float> u_top(static_cast<size_t>(l) * r);  // l x r
  for (int t = 0; t < l; ++t) {
    for (int j = 0; j < r; ++j) u_top[t * r + j] = static_cast<float>(u[t * k + j]);
  }
  svd.components.resize(static_cast<size_t>(r) * x.cols);
  if (r == 0) return started;
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, r, x.cols, l, 1.0f, u_top.data(), r,
              z.data(), l, 0.0f, svd.components.data(), x.cols);
  for (int j = 0; j < r; ++j) {
    const float inv = static_cast<float>(1.0 / svd.singular_values[j]);
    float* row = svd.components.data() + static_cast<size_t>(j) * x.cols;
    for (int64_t c = 0; c < x.cols; ++c) row[c] *= inv;
  }
  return started;
}

}  // namespace

absl::StatusOr<TruncatedSvd> ComputeTruncatedSvd(const SparseMatrix& x, int k,
                                                 SvdMethod method,
                                                 uint64_t seed) {
  const int64_t small_side = std::min(x.rows, x.cols);
  if (small_side == 0 || k <= 0) {
    return absl::InvalidArgumentError("cannot decompose an empty matrix");
  }
  k = static_cast<int>(std::min<int64_t>(k, small_side));
  const OneBlasThread one_blas_thread;
  if (method == SvdMethod::kAuto) {
    method = small_side <= kExactSvdLimit ? SvdMethod::kExact
                                          : SvdMethod::kRandomized;
  }
  if (method == SvdMethod::kRandomized && k < small_side) {
    return Randomized(x, k, seed);
  }
  return x.rows <= x.cols ? ExactFromRowGram(x, k) : ExactFromColumnGram(x, k);
}

}  // namespace semdb
