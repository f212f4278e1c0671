#include "index/index_layout.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace semdb {

absl::StatusOr<IndexLayout> IndexLayout::FromSpec(const Spec& spec) {
  IndexLayout l;
  SpecReader r(spec);
  if (spec.kind == "flat") {
    l.kind = Kind::kFlat;
  } else if (spec.kind == "ivf") {
    l.kind = Kind::kIvf;
    l.nlist = static_cast<int>(r.GetInt("nlist", l.nlist, 1, 1 << 20));
    l.nprobe = static_cast<int>(r.GetInt("nprobe", l.nprobe, 1, 1 << 20));
    const std::string q = r.GetString("quantizer", "flat");
    if (q == "flat") {
      l.codes = Codes::kFlat;
    } else if (q == "sq8") {
      l.codes = Codes::kSq8;
    } else if (q == "pq") {
      l.codes = Codes::kPq;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter 'quantizer' of 'ivf' must be flat, sq8 or pq, got '", q, "'"));
    }
    if (r.Has("pq_m") && l.codes != Codes::kPq) {
      return absl::InvalidArgumentError("'pq_m' applies only with quantizer=pq");
    }
    l.pq_m = static_cast<int>(r.GetInt("pq_m", l.pq_m, 1, 4096));
  } else if (spec.kind == "hnsw") {
    l.kind = Kind::kHnsw;
    l.m = static_cast<int>(r.GetInt("m", l.m, 2, 256));
    l.ef_construction =
        static_cast<int>(r.GetInt("ef_construction", l.ef_construction, 1, 1 << 16));
    l.ef_search = static_cast<int>(r.GetInt("ef_search", l.ef_search, 1, 1 << 20));
    l.codes = r.GetBool("sq8", false) ? Codes::kSq8 : Codes::kFlat;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown index '", spec.kind, "'; known: flat, ivf, hnsw"));
  }
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return l;
}

absl::Status IndexLayout::CheckDimension(int dimension) const {
  if (kind == Kind::kIvf && codes == Codes::kPq && dimension % pq_m != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ivf quantizer=pq: pq_m=", pq_m, " must divide the dimension ", dimension));
  }
  return absl::OkStatus();
}

int64_t IndexLayout::training_threshold() const {
  if (kind != Kind::kIvf) return needs_training() ? 1000 : 0;
  const int64_t centroids = codes == Codes::kPq ? std::max(nlist, 256) : nlist;
  return 39 * centroids;
}

int64_t IndexLayout::training_sample() const {
  if (kind != Kind::kIvf) return needs_training() ? 100000 : 0;
  const int64_t centroids = codes == Codes::kPq ? std::max(nlist, 256) : nlist;
  return 100 * centroids;
}

std::vector<std::string> IndexLayoutHelp() {
  return {
      "flat  exact search over all vectors (default)",
      "ivf nlist=1024 nprobe=32 quantizer=flat|sq8|pq pq_m=16",
      "      inverted lists: searches nprobe of nlist k-means cells. sq8 stores",
      "      1 byte per dimension, pq pq_m bytes per vector (pq_m | dimension)",
      "hnsw m=32 ef_construction=200 ef_search=64 sq8=false",
      "      graph search; rebuilt from stored vectors when over 20% of it is",
      "      deleted (FAISS cannot delete from HNSW)",
      "Training (ivf, and sq8 codes): the collection is served exactly (flat)",
      "      until it holds 39 x nlist vectors (pq: 39 x max(nlist, 256);",
      "      hnsw sq8: 1,000), then trained on up to 100 x nlist evenly spaced",
      "      stored vectors (hnsw sq8: 100,000), and retrained at 4x the",
      "      vectors it was trained on while that sample was not yet full.",
  };
}

}  // namespace semdb
