// IndexLayout: an index spec read into typed parameters, checked without a
// dimension (a TF-IDF collection learns its dimension at its first fit).
//
// Kinds and parameters (all cosine, by inner product on normalized vectors):
//   flat                                     exact search
//   ivf nlist=1024 nprobe=32 quantizer=flat|sq8|pq pq_m=16
//                                            inverted lists over k-means
//                                            cells; trained on the data
//   hnsw m=32 ef_construction=200 ef_search=64 sq8=false
//                                            a navigable small-world graph
// nprobe and ef_search are search-time defaults that each query may
// override (IndexSearchKnobs); the others fix how the index is built.
#ifndef SEMDB_INDEX_INDEX_LAYOUT_H_
#define SEMDB_INDEX_INDEX_LAYOUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "semdb/spec.h"

namespace semdb {

struct IndexLayout {
  enum class Kind { kFlat, kIvf, kHnsw };
  enum class Codes { kFlat, kSq8, kPq };  // how vectors are stored

  Kind kind = Kind::kFlat;
  Codes codes = Codes::kFlat;
  // IVF
  int nlist = 1024;
  int nprobe = 32;
  int pq_m = 16;  // sub-quantizers (bytes per vector); must divide the dimension
  // HNSW. FAISS's default efConstruction of 40 caps recall@10 near 0.93 on
  // 1M x 128; 200 reaches 0.99 at ef_search=64.
  int m = 32;
  int ef_construction = 200;
  int ef_search = 64;

  // The index kinds and their parameters (include/semdb/spec.h).
  static std::vector<ComponentKind> Kinds();
  // Reads a spec; InvalidArgument names the bad or unknown parameter.
  static absl::StatusOr<IndexLayout> FromSpec(const Spec& spec);

  // Dimension-dependent checks (pq_m must divide it).
  absl::Status CheckDimension(int dimension) const;

  // True when search reads the full vectors (not compressed codes), so that
  // an exhaustive pass over the index is an exact search.
  bool stores_full_vectors() const { return codes == Codes::kFlat; }

  // Kinds that learn from data before vectors are added: IVF (k-means
  // cells, and PQ codebooks) and SQ8 codes (per-dimension ranges).
  bool needs_training() const { return kind == Kind::kIvf || codes != Codes::kFlat; }
  // Vectors needed before training: 39 per k-means centroid (FAISS's own
  // minimum for k-means without a warning; PQ has 256 per sub-quantizer),
  // 1,000 for SQ8 ranges alone.
  int64_t training_threshold() const;
  // How many vectors training uses at most: 100 per centroid; 100,000 for
  // SQ8 ranges alone.
  int64_t training_sample() const;
};

}  // namespace semdb

#endif  // SEMDB_INDEX_INDEX_LAYOUT_H_
