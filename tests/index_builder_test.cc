// The index builder's decisions (src/index_builder.h), table by table: which
// spec serves a collection of a given size, which loaded index may serve a
// configured spec, and when an index asks to be rebuilt. Thresholds are
// IndexLayout's (39 x nlist for IVF, 39 x max(nlist, 256) with PQ, 1,000 for
// SQ8 codes alone).
#include "src/index_builder.h"

#include "catch2/catch.hpp"
#include "index/index_factory.h"

namespace semdb {
namespace {

Spec S(const std::string& text) {
  absl::StatusOr<Spec> spec = Spec::Parse(text);
  REQUIRE(spec.ok());
  return *spec;
}

TEST_CASE("index builder: the serving spec by collection size", "[index_builder]") {
  struct Row {
    const char* configured;
    int64_t live;
    const char* serving;
  };
  const Row rows[] = {
      {"flat", 0, "flat"},
      {"flat", 1'000'000, "flat"},
      {"ivf nlist=4", 0, "flat"},
      {"ivf nlist=4", 155, "flat"},
      {"ivf nlist=4", 156, "ivf nlist=4"},
      {"ivf nlist=4 quantizer=sq8", 156, "ivf nlist=4 quantizer=sq8"},
      {"ivf nlist=4 pq_m=2 quantizer=pq", 9'983, "flat"},
      {"ivf nlist=4 pq_m=2 quantizer=pq", 9'984, "ivf nlist=4 pq_m=2 quantizer=pq"},
      {"hnsw", 0, "hnsw"},
      {"hnsw m=8", 5, "hnsw m=8"},
      {"hnsw sq8=true", 999, "flat"},
      {"hnsw sq8=true", 1'000, "hnsw sq8=true"},
      // A spec that does not parse is served as configured (creation reports it).
      {"ivf nlist=0", 10, "ivf nlist=0"},
  };
  for (const Row& r : rows) {
    INFO(r.configured << " with " << r.live << " vectors");
    CHECK(ServingSpec(S(r.configured), r.live).ToString() == r.serving);
  }
}

TEST_CASE("index builder: which loaded index may serve a configured spec",
          "[index_builder]") {
  struct Row {
    const char* loaded;
    const char* configured;
    bool may_serve;
  };
  const Row rows[] = {
      {"flat", "flat", true},
      {"hnsw m=8", "hnsw m=8", true},
      {"hnsw m=8", "hnsw m=16", false},
      {"flat", "ivf nlist=4", true},    // awaiting training
      {"flat", "hnsw sq8=true", true},  // awaiting training
      {"flat", "hnsw", false},          // hnsw needs no training
      {"flat nlist=4", "ivf nlist=4", false},
      {"ivf nlist=4", "ivf nlist=8", false},
      {"ivf nlist=4", "flat", false},
  };
  for (const Row& r : rows) {
    INFO(r.loaded << " for " << r.configured);
    CHECK(MayServe(S(r.loaded), S(r.configured)) == r.may_serve);
  }
}

TEST_CASE("index builder: rebuild reasons", "[index_builder]") {
  constexpr int kDim = 4;
  absl::StatusOr<std::unique_ptr<VectorIndex>> flat = CreateVectorIndex(S("flat"), kDim);
  REQUIRE(flat.ok());
  struct Row {
    const char* configured;
    int64_t live;
    const char* reason;  // "" for none
  };
  const Row rows[] = {
      {"flat", 10, ""},
      {"hnsw", 10, ""},  // no training: the flat index is not its business
      {"ivf nlist=4", 155, ""},
      {"ivf nlist=4", 156, "156 vectors reach the training threshold of 156"},
      {"hnsw sq8=true", 1'000, "1000 vectors reach the training threshold of 1000"},
  };
  for (const Row& r : rows) {
    INFO(r.configured << " with " << r.live << " vectors");
    std::optional<std::string> reason = RebuildReason(**flat, S(r.configured), r.live);
    CHECK(reason.value_or("") == r.reason);
  }
}

}  // namespace
}  // namespace semdb
