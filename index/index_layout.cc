#include "index/index_layout.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace semdb {

std::vector<ComponentKind> IndexLayout::Kinds() {
  const IndexLayout d;
  return {
      {"flat", "exact search over all vectors (the default)", {}, {}},
      {"ivf",
       "inverted lists: searches nprobe of nlist k-means cells",
       {
           IntParameter("nlist", std::to_string(d.nlist), 1, 1 << 20, "k-means cells"),
           IntParameter("nprobe", std::to_string(d.nprobe), 1, 1 << 20,
                        "cells searched (a query may override it)"),
           ChoiceParameter("quantizer", {"flat", "sq8", "pq"},
                           "how vectors are stored: whole, 1 byte per dimension (sq8), "
                           "or pq_m bytes per vector (pq)"),
           IntParameter("pq_m", std::to_string(d.pq_m), 1, 4096,
                        "quantizer=pq only: bytes per vector; must divide the dimension"),
       },
       {}},
      {"hnsw",
       "graph search; rebuilt from stored vectors when over 20% of it is deleted "
       "(FAISS cannot delete from HNSW)",
       {
           IntParameter("m", std::to_string(d.m), 2, 256, "graph neighbours per node"),
           IntParameter("ef_construction", std::to_string(d.ef_construction), 1, 1 << 16,
                        "candidates while building"),
           IntParameter("ef_search", std::to_string(d.ef_search), 1, 1 << 20,
                        "candidates while searching (a query may override it)"),
           BoolParameter("sq8", false, "store 1 byte per dimension"),
       },
       {"Training (ivf, and sq8 codes): the collection is served exactly (flat)",
        "  until it holds 39 x nlist vectors (pq: 39 x max(nlist, 256);",
        "  hnsw sq8: 1,000), then trained on up to 100 x nlist evenly spaced",
        "  stored vectors (hnsw sq8: 100,000), and retrained at 4x the",
        "  vectors it was trained on while that sample was not yet full."}},
  };
}

absl::StatusOr<IndexLayout> IndexLayout::FromSpec(const Spec& spec) {
  // Made once: every search plans with its index's layout. Never destroyed,
  // so that a database closed by a static destructor at exit (its close
  // saves the index and measures the recall curve) still finds it.
  static const std::vector<ComponentKind>& kinds = *new std::vector<ComponentKind>(Kinds());
  auto kind = std::find_if(kinds.begin(), kinds.end(),
                           [&](const ComponentKind& k) { return k.name == spec.kind; });
  if (kind == kinds.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown index '", spec.kind, "'; known: flat, ivf, hnsw"));
  }
  IndexLayout l;
  SpecReader r(spec, *kind);
  if (spec.kind == "flat") {
    l.kind = Kind::kFlat;
  } else if (spec.kind == "ivf") {
    l.kind = Kind::kIvf;
    l.nlist = static_cast<int>(r.GetInt("nlist", l.nlist));
    l.nprobe = static_cast<int>(r.GetInt("nprobe", l.nprobe));
    const std::string q = r.GetString("quantizer", "flat");
    l.codes = q == "flat" ? Codes::kFlat : q == "sq8" ? Codes::kSq8 : Codes::kPq;
    if (r.Has("pq_m") && l.codes != Codes::kPq) {
      return absl::InvalidArgumentError("'pq_m' applies only with quantizer=pq");
    }
    l.pq_m = static_cast<int>(r.GetInt("pq_m", l.pq_m));
  } else {
    l.kind = Kind::kHnsw;
    l.m = static_cast<int>(r.GetInt("m", l.m));
    l.ef_construction = static_cast<int>(r.GetInt("ef_construction", l.ef_construction));
    l.ef_search = static_cast<int>(r.GetInt("ef_search", l.ef_search));
    l.codes = r.GetBool("sq8", false) ? Codes::kSq8 : Codes::kFlat;
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

}  // namespace semdb
