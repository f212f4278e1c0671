// IVF and HNSW FaissIndex kinds on fixed clustered data: recall floors
// against brute force, search knobs, filters, tombstones, compaction,
// training rules, save/load, and bad specs.
#include <set>

#include "catch2/catch.hpp"
#include "index/faiss_index.h"
#include "index/index_factory.h"
#include "test_data.h"
#include "vector_data.h"

namespace semdb {
namespace {

using testing::ClusteredVectors;
using testing::ExactTopK;
using testing::RecallOf;

constexpr int kDim = 32;
constexpr int kRows = 8000;
constexpr int kQueries = 100;

uint64_t LabelOf(int64_t row) { return static_cast<uint64_t>(row) * 3 + 5; }

struct Fixture {
  std::vector<float> data = ClusteredVectors(kRows, kDim, 64, 11);
  std::vector<float> queries = ClusteredVectors(kQueries, kDim, 64, 12);
  std::vector<uint64_t> labels;
  Fixture() {
    for (int i = 0; i < kRows; ++i) labels.push_back(LabelOf(i));
  }
  const float* query(int q) const { return queries.data() + q * kDim; }
};

const Fixture& Data() {
  static const Fixture* f = new Fixture();
  return *f;
}

std::unique_ptr<FaissIndex> Build(const std::string& spec_text) {
  const Fixture& f = Data();
  auto index = FaissIndex::Create(*Spec::Parse(spec_text), kDim);
  INFO(spec_text << ": " << index.status().message());
  REQUIRE(index.ok());
  if (!(*index)->is_trained()) REQUIRE((*index)->Train(f.data).ok());
  REQUIRE((*index)->Add(f.labels, f.data).ok());
  REQUIRE((*index)->size() == kRows);
  return *std::move(index);
}

// Mean recall@10 over the fixed queries, restricted to rows accepted by
// `keep` (and `predicate` on labels, the same condition).
double MeanRecall(const FaissIndex& index, const IndexSearchKnobs& knobs,
                  const std::function<bool(int64_t)>& keep = nullptr) {
  const Fixture& f = Data();
  LabelPredicate predicate = [&](uint64_t label) { return keep((label - 5) / 3); };
  double sum = 0;
  for (int q = 0; q < kQueries; ++q) {
    auto hits = index.Search({f.query(q), kDim}, 10, knobs, keep ? &predicate : nullptr);
    REQUIRE(hits.ok());
    std::vector<uint64_t> found;
    for (const IndexHit& h : *hits) found.push_back(h.label);
    std::vector<uint64_t> truth;
    for (int64_t row : ExactTopK(f.data, kDim, f.query(q), 10, keep)) {
      truth.push_back(LabelOf(row));
    }
    sum += RecallOf(found, truth);
  }
  return sum / kQueries;
}

TEST_CASE("each index kind reaches its recall floor at its defaults", "[index][ann]") {
  struct Case {
    const char* spec;
    double floor;
  };
  // Floors sit a little under what these kinds measure on this data (see
  // the INFO line on failure); PQ with 8 bytes per 32-d vector is lossy.
  for (Case c : {Case{"flat", 1.0}, Case{"ivf nlist=64", 0.95},
                 Case{"ivf nlist=64 quantizer=sq8", 0.93},
                 Case{"ivf nlist=64 quantizer=pq pq_m=8", 0.45},
                 Case{"hnsw m=16", 0.95}, Case{"hnsw m=16 sq8=true", 0.93}}) {
    auto index = Build(c.spec);
    const double recall = MeanRecall(*index, {});
    INFO(c.spec << " recall@10 = " << recall);
    REQUIRE(recall >= c.floor);
  }
}

TEST_CASE("nprobe and ef_search trade recall for work, and exact is exact", "[index][ann]") {
  auto ivf = Build("ivf nlist=64 nprobe=1");
  const double one = MeanRecall(*ivf, {});
  const double sixteen = MeanRecall(*ivf, {.nprobe = 16});
  INFO("nprobe 1: " << one << ", 16: " << sixteen);
  REQUIRE(one < 0.9);
  REQUIRE(sixteen > one + 0.1);
  REQUIRE(MeanRecall(*ivf, {.nprobe = 64}) == 1.0);  // every list: exhaustive
  REQUIRE(MeanRecall(*ivf, {.exact = true}) == 1.0);

  auto hnsw = Build("hnsw m=8 ef_construction=40 ef_search=10");
  const double low = MeanRecall(*hnsw, {});
  const double high = MeanRecall(*hnsw, {.ef_search = 200});
  INFO("ef 10: " << low << ", 200: " << high);
  REQUIRE(high > low);
  REQUIRE(high >= 0.9);
  REQUIRE(MeanRecall(*hnsw, {.exact = true}) == 1.0);

  auto pq = Build("ivf nlist=64 quantizer=pq pq_m=8");
  const float* q = Data().query(0);
  REQUIRE(pq->Search({q, kDim}, 10, {.exact = true}, nullptr).status().code() ==
          absl::StatusCode::kUnimplemented);
  REQUIRE_FALSE(pq->can_search_exactly());
}

TEST_CASE("filtered ANN search keeps to the selected labels", "[index][ann]") {
  auto every_fifth = [](int64_t row) { return row % 5 == 0; };
  for (const char* spec : {"ivf nlist=64", "hnsw m=16"}) {
    INFO(spec);
    auto index = Build(spec);
    const Fixture& f = Data();
    LabelPredicate predicate = [&](uint64_t label) { return every_fifth((label - 5) / 3); };
    for (int q = 0; q < 10; ++q) {
      // (Not a range-for over .value() of a temporary: that would dangle.)
      std::vector<IndexHit> hits = index->Search({f.query(q), kDim}, 10, {}, &predicate).value();
      for (const IndexHit& h : hits) REQUIRE(every_fifth((h.label - 5) / 3));
    }
    const double recall = MeanRecall(*index, {}, every_fifth);
    INFO(spec << " filtered recall@10 = " << recall);
    REQUIRE(recall >= 0.9);
  }
}

TEST_CASE("deleted vectors never come back, IVF compacts and HNSW asks for a rebuild",
          "[index][ann]") {
  const Fixture& f = Data();
  auto deleted = [](int64_t row) { return row % 4 == 1; };  // 25%: past the threshold
  std::vector<uint64_t> gone;
  for (int64_t row = 0; row < kRows; ++row) {
    if (deleted(row)) gone.push_back(LabelOf(row));
  }
  for (const char* spec : {"ivf nlist=64", "hnsw m=16"}) {
    INFO(spec);
    auto index = Build(spec);
    // Below the threshold nothing is compacted or asked for.
    REQUIRE(index->Remove({gone.data(), 1000}).value() == 1000);
    REQUIRE_FALSE(index->needs_rebuild());
    REQUIRE(index->Describe()["tombstones"] == 1000);
    REQUIRE(index->Remove(gone).value() == static_cast<int64_t>(gone.size()) - 1000);
    REQUIRE(index->size() == kRows - static_cast<int64_t>(gone.size()));
    const bool hnsw = std::string(spec).starts_with("hnsw");
    REQUIRE(index->needs_rebuild() == hnsw);
    REQUIRE(index->Describe()["tombstones"] == (hnsw ? gone.size() : 0));
    std::set<uint64_t> dead(gone.begin(), gone.end());
    for (int q = 0; q < kQueries; ++q) {
      std::vector<IndexHit> hits = index->Search({f.query(q), kDim}, 20, {}, nullptr).value();
      for (const IndexHit& h : hits) REQUIRE_FALSE(dead.contains(h.label));
    }
    const double recall = MeanRecall(*index, {}, [&](int64_t row) { return !deleted(row); });
    INFO("recall after deletes " << recall);
    REQUIRE(recall >= 0.95);
    // A deleted label may come back; a live one may not be added twice.
    REQUIRE(index->Add({gone[0]}, {f.data.data() + kDim, kDim}).ok());
    REQUIRE(index->Search({f.data.data() + kDim, kDim}, 1, {.exact = true}, nullptr)
                .value()[0]
                .label == gone[0]);
    REQUIRE(index->Add({f.labels[0]}, {f.data.data(), kDim}).code() ==
            absl::StatusCode::kAlreadyExists);
  }
}

TEST_CASE("IVF must be trained, on enough vectors, before vectors are added", "[index][ann]") {
  const Fixture& f = Data();
  auto ivf = FaissIndex::Create(*Spec::Parse("ivf nlist=64"), kDim);
  REQUIRE(ivf.ok());
  REQUIRE_FALSE((*ivf)->is_trained());
  REQUIRE((*ivf)->Add({1}, {f.data.data(), kDim}).code() ==
          absl::StatusCode::kFailedPrecondition);
  REQUIRE((*ivf)->Train({f.data.data(), 10 * kDim}).code() ==
          absl::StatusCode::kFailedPrecondition);
  REQUIRE((*ivf)->Train({f.data.data(), 3000 * kDim}).ok());
  REQUIRE((*ivf)->trained_size() == 3000);
  REQUIRE((*ivf)->Describe()["trained_on"] == 3000);
  REQUIRE((*ivf)->Add({1}, {f.data.data(), kDim}).ok());
}

TEST_CASE("every kind saves and loads to the same answers", "[index][ann]") {
  testing::TempDir dir;
  const Fixture& f = Data();
  for (const char* spec : {"ivf nlist=64", "ivf nlist=64 quantizer=pq pq_m=8",
                           "ivf nlist=64 quantizer=sq8", "hnsw m=16", "hnsw m=16 sq8=true"}) {
    INFO(spec);
    auto index = Build(spec);
    // Tombstones (and, for IVF, a compaction) survive the round trip.
    std::vector<uint64_t> gone(f.labels.begin(), f.labels.begin() + 2000);
    REQUIRE(index->Remove(gone).ok());
    REQUIRE(index->Save(dir / "i.index").ok());
    auto loaded = FaissIndex::Load(dir / "i.index");
    INFO(loaded.status().message());
    REQUIRE(loaded.ok());
    REQUIRE((*loaded)->spec().ToString() == index->spec().ToString());
    REQUIRE((*loaded)->size() == index->size());
    REQUIRE((*loaded)->trained_size() == index->trained_size());
    REQUIRE((*loaded)->needs_rebuild() == index->needs_rebuild());
    for (int q = 0; q < 20; ++q) {
      auto a = index->Search({f.query(q), kDim}, 10, {}, nullptr).value();
      auto b = (*loaded)->Search({f.query(q), kDim}, 10, {}, nullptr).value();
      REQUIRE(a.size() == b.size());
      for (size_t i = 0; i < a.size(); ++i) REQUIRE(a[i].label == b[i].label);
    }
    // More deletes after loading keep working (IVF ids were renumbered).
    REQUIRE((*loaded)->Remove({f.labels[3000]}).value() == 1);
  }
}

// An empty index writes zero-length arrays (UBSan once caught a null buffer
// passed to fwrite here; scripts/sanitize.sh address runs this test).
TEST_CASE("empty indexes of every kind save and load", "[index][ann]") {
  testing::TempDir dir;
  const Fixture& f = Data();
  for (const char* spec : {"flat", "ivf nlist=64", "hnsw m=16"}) {
    INFO(spec);
    auto index = FaissIndex::Create(*Spec::Parse(spec), kDim);
    REQUIRE(index.ok());
    REQUIRE((*index)->Save(dir / "empty.index").ok());
    auto loaded = FaissIndex::Load(dir / "empty.index");
    INFO(loaded.status().message());
    REQUIRE(loaded.ok());
    REQUIRE((*loaded)->size() == 0);
    REQUIRE((*loaded)->is_trained() == (*index)->is_trained());
    // Emptied by deletes: the same, with tombstones or renumbered ids.
    auto emptied = Build(spec);
    REQUIRE(emptied->Remove(f.labels).value() == kRows);
    REQUIRE(emptied->Save(dir / "emptied.index").ok());
    auto reloaded = FaissIndex::Load(dir / "emptied.index");
    INFO(reloaded.status().message());
    REQUIRE(reloaded.ok());
    REQUIRE((*reloaded)->size() == 0);
    REQUIRE((*reloaded)->Search({f.query(0), kDim}, 10, {}, nullptr).value().empty());
  }
}

TEST_CASE("bad index specs are refused with the reason", "[index][ann]") {
  auto error = [](const std::string& text, int dim) {
    absl::Status s = ValidateIndexSpec(*Spec::Parse(text), dim);
    REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  REQUIRE(error("ivf nlist=0", 8).find("'nlist'") != std::string::npos);
  REQUIRE(error("ivf quantizer=lsh", 8).find("one of flat, sq8, pq") != std::string::npos);
  REQUIRE(error("ivf pq_m=4", 8).find("only with quantizer=pq") != std::string::npos);
  REQUIRE(error("ivf quantizer=pq pq_m=5", 32).find("must divide the dimension 32") !=
          std::string::npos);
  REQUIRE(error("hnsw m=1", 8).find("'m'") != std::string::npos);
  REQUIRE(error("hnsw sq8=maybe", 8).find("true or false") != std::string::npos);
  REQUIRE(error("hnsw efsearch=10", 8).find("unknown parameter 'efsearch'") != std::string::npos);
  REQUIRE(error("annoy", 8).find("known: flat, ivf, hnsw") != std::string::npos);
  // Dimension-dependent checks wait for a dimension.
  REQUIRE(ValidateIndexSpec(*Spec::Parse("ivf quantizer=pq pq_m=5"), 0).ok());
  REQUIRE(FaissIndex::Create(*Spec::Parse("ivf quantizer=pq pq_m=5"), 32).status().code() ==
          absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace semdb
