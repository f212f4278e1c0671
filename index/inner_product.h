// Inner-product kernels for the vector scans of the HNSW search loop and
// the flat storage's distance computer. Debian's FAISS is a generic x86-64
// build whose kernel is a scalar loop; these are compiled for AVX-512 and
// AVX2 as well and the best one the CPU runs is chosen once at run time.
#ifndef SEMDB_INDEX_INNER_PRODUCT_H_
#define SEMDB_INDEX_INNER_PRODUCT_H_

#include <cstddef>

namespace semdb {

using InnerProductFn = float (*)(const float* x, const float* y, size_t d);

enum class SimdLevel { kPortable, kAvx2, kAvx512 };

// The widest level this CPU supports (AVX2 means AVX2 with FMA).
SimdLevel BestSimdLevel();

// The kernel for `level`, which the CPU must support. kPortable sums in
// index order, exactly as FAISS's reference kernel does, so its results are
// bit-identical to FAISS's; the vector kernels sum in a different order
// (differences of a few float ulps).
InnerProductFn InnerProductKernel(SimdLevel level);

// InnerProductKernel(BestSimdLevel()), resolved once.
InnerProductFn BestInnerProduct();

const char* SimdLevelName(SimdLevel level);

}  // namespace semdb

#endif  // SEMDB_INDEX_INNER_PRODUCT_H_
