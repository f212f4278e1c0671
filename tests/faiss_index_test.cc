#include "index/faiss_index.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

#include "catch2/catch.hpp"
#include "faiss/IndexFlat.h"
#include "faiss/IndexHNSW.h"
#include "faiss/IndexIVF.h"
#include "faiss/impl/io.h"
#include "faiss/index_io.h"
#include "test_data.h"
#include "vector_data.h"

namespace semdb {
namespace {

std::vector<float> RandomUnitVectors(int n, int dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(static_cast<size_t>(n) * dim);
  for (int i = 0; i < n; ++i) {
    double norm = 0;
    for (int j = 0; j < dim; ++j) norm += std::pow(v[i * dim + j] = normal(rng), 2);
    for (int j = 0; j < dim; ++j) v[i * dim + j] /= static_cast<float>(std::sqrt(norm));
  }
  return v;
}

// The exact top k labels by brute force.
std::vector<uint64_t> BruteForce(const std::vector<float>& data, const std::vector<uint64_t>& labels,
                                 const float* q, int dim, int k,
                                 const std::function<bool(uint64_t)>& keep) {
  std::vector<std::pair<float, uint64_t>> scored;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!keep(labels[i])) continue;
    float dot = 0;
    for (int j = 0; j < dim; ++j) dot += data[i * dim + j] * q[j];
    scored.emplace_back(-dot, labels[i]);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<uint64_t> out;
  for (int i = 0; i < k && i < static_cast<int>(scored.size()); ++i) out.push_back(scored[i].second);
  return out;
}

std::vector<uint64_t> Labels(const std::vector<IndexHit>& hits) {
  std::vector<uint64_t> out;
  for (const IndexHit& h : hits) out.push_back(h.label);
  return out;
}

TEST_CASE("flat index search is exact, with deletes and filters", "[index]") {
  const int dim = 16, n = 3000;
  std::vector<float> data = RandomUnitVectors(n, dim, 1);
  std::vector<uint64_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = 1000 + 7 * i;
  auto index = FaissIndex::Create(*Spec::Parse("flat"), dim);
  REQUIRE(index.ok());
  REQUIRE((*index)->Add(labels, data).ok());
  REQUIRE((*index)->size() == n);

  std::vector<float> queries = RandomUnitVectors(20, dim, 2);
  auto all = [](uint64_t) { return true; };
  for (int q = 0; q < 20; ++q) {
    auto hits = (*index)->Search({queries.data() + q * dim, dim}, 10, {}, nullptr);
    REQUIRE(hits.ok());
    REQUIRE(Labels(*hits) == BruteForce(data, labels, queries.data() + q * dim, dim, 10, all));
  }

  // Delete every third vector: more than the compaction threshold.
  std::vector<uint64_t> removed;
  for (int i = 0; i < n; i += 3) removed.push_back(labels[i]);
  absl::StatusOr<int64_t> count = (*index)->Remove(removed);
  REQUIRE(count.ok());
  REQUIRE(*count == static_cast<int64_t>(removed.size()));
  REQUIRE((*index)->Remove(removed).value() == 0);  // already gone
  REQUIRE((*index)->size() == n - static_cast<int64_t>(removed.size()));
  auto live = [&](uint64_t l) { return (l - 1000) / 7 % 3 != 0; };
  auto even = [&](uint64_t l) { return live(l) && l % 2 == 0; };
  LabelPredicate even_predicate = [](uint64_t l) { return l % 2 == 0; };
  for (int q = 0; q < 20; ++q) {
    const float* qv = queries.data() + q * dim;
    REQUIRE(Labels((*index)->Search({qv, dim}, 10, {}, nullptr).value()) ==
            BruteForce(data, labels, qv, dim, 10, live));
    REQUIRE(Labels((*index)->Search({qv, dim}, 10, {}, &even_predicate).value()) ==
            BruteForce(data, labels, qv, dim, 10, even));
  }
  // A removed label can be added again.
  REQUIRE((*index)->Add({labels[0]}, {data.data(), dim}).ok());
  REQUIRE((*index)->Search({data.data(), dim}, 1, {}, nullptr).value()[0].label == labels[0]);
  REQUIRE((*index)->Add({labels[1]}, {data.data(), dim}).code() ==
          absl::StatusCode::kAlreadyExists);
}

// IVF-Flat is searched with semdb's kernel (index/ivf_scan.h) over FAISS's
// lists: the hits and their order are what FAISS's own IndexIVF::search
// returns on the same index, single queries (coarse assignment by semdb's
// kernel) and batches (by FAISS's matrix product); exact search with deletes
// and a filter is the brute-force top k.
TEST_CASE("IVF-Flat search returns FAISS's hits, and exact IVF search is exact", "[index]") {
  const int dim = 24, n = 4000, nq = 40, k = 10;
  std::vector<float> data = RandomUnitVectors(n, dim, 11);
  std::vector<float> queries = RandomUnitVectors(nq, dim, 12);
  std::vector<uint64_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = i;
  auto index = FaissIndex::Create(*Spec::Parse("ivf nlist=32 nprobe=4"), dim).value();
  REQUIRE(index->Train(data).ok());
  REQUIRE(index->Add(labels, data).ok());
  const auto& ivf = dynamic_cast<const faiss::IndexIVF&>(index->faiss_index());
  for (int nprobe : {1, 4, 32}) {
    INFO("nprobe " << nprobe);
    faiss::SearchParametersIVF params;
    params.nprobe = nprobe;
    std::vector<float> faiss_scores(nq * k);
    std::vector<faiss::Index::idx_t> faiss_ids(nq * k);
    ivf.search(nq, queries.data(), k, faiss_scores.data(), faiss_ids.data(), &params);
    auto batch = index->SearchBatch(queries, k, {.nprobe = nprobe}, nullptr).value();
    for (int q = 0; q < nq; ++q) {
      std::vector<IndexHit> single =
          index->Search({queries.data() + q * dim, static_cast<size_t>(dim)}, k,
                        {.nprobe = nprobe}, nullptr)
              .value();
      REQUIRE(single.size() == static_cast<size_t>(k));
      REQUIRE(batch[q].size() == static_cast<size_t>(k));
      for (int i = 0; i < k; ++i) {
        REQUIRE(single[i].label == static_cast<uint64_t>(faiss_ids[q * k + i]));
        REQUIRE(batch[q][i].label == static_cast<uint64_t>(faiss_ids[q * k + i]));
        REQUIRE(std::abs(single[i].score - faiss_scores[q * k + i]) < 1e-5f);
        REQUIRE(std::abs(batch[q][i].score - faiss_scores[q * k + i]) < 1e-5f);
      }
    }
  }
  std::vector<uint64_t> removed;
  for (int i = 0; i < n; i += 7) removed.push_back(i);
  REQUIRE(index->Remove(removed).ok());
  LabelPredicate odd = [](uint64_t l) { return l % 2 == 1; };
  for (int q = 0; q < nq; ++q) {
    const float* qv = queries.data() + q * dim;
    std::vector<IndexHit> hits =
        index->Search({qv, static_cast<size_t>(dim)}, k, {.exact = true}, &odd).value();
    REQUIRE(Labels(hits) ==
            BruteForce(data, labels, qv, dim, k, [](uint64_t l) { return l % 2 == 1 && l % 7 != 0; }));
  }
}

TEST_CASE("Reserve makes room for a build and changes no answer", "[index]") {
  const int dim = 16, n = 2500;
  std::vector<float> data = RandomUnitVectors(n, dim, 5);
  std::vector<uint64_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = 10 + 3 * i;
  std::vector<float> queries = RandomUnitVectors(10, dim, 6);
  for (const char* spec : {"flat", "hnsw m=8", "ivf nlist=4 nprobe=4"}) {
    INFO(spec);
    auto plain = FaissIndex::Create(*Spec::Parse(spec), dim);
    auto reserved = FaissIndex::Create(*Spec::Parse(spec), dim);
    REQUIRE(plain.ok());
    REQUIRE(reserved.ok());
    if (!(*plain)->is_trained()) {
      REQUIRE((*plain)->Train(data).ok());
      REQUIRE((*reserved)->Train(data).ok());
    }
    (*reserved)->Reserve(n);
    if (std::string(spec) == "flat") {
      // The flat codes take their final size at once (no growth by copies).
      const auto& flat = dynamic_cast<const faiss::IndexFlatCodes&>((*reserved)->faiss_index());
      REQUIRE(flat.codes.capacity() >= static_cast<size_t>(n) * flat.code_size);
    }
    // Added in batches, as a build from stored vectors adds them.
    for (int first = 0; first < n; first += 1000) {
      const int count = std::min(1000, n - first);
      const absl::Span<const uint64_t> batch(labels.data() + first, count);
      const absl::Span<const float> rows(data.data() + first * dim, count * dim);
      REQUIRE((*plain)->Add(batch, rows).ok());
      REQUIRE((*reserved)->Add(batch, rows).ok());
    }
    REQUIRE((*reserved)->size() == n);
    for (int q = 0; q < 10; ++q) {
      const absl::Span<const float> query(queries.data() + q * dim, dim);
      auto a = (*plain)->Search(query, 10, {}, nullptr);
      auto b = (*reserved)->Search(query, 10, {}, nullptr);
      REQUIRE(a.ok());
      REQUIRE(b.ok());
      REQUIRE(Labels(*a) == Labels(*b));
    }
  }
}

TEST_CASE("flat index rejects bad shapes", "[index]") {
  auto index = FaissIndex::Create(*Spec::Parse("flat"), 4);
  REQUIRE(index.ok());
  std::vector<float> three(3);
  REQUIRE((*index)->Add({1}, three).code() == absl::StatusCode::kInvalidArgument);
  REQUIRE((*index)->Search(three, 1, {}, nullptr).status().code() ==
          absl::StatusCode::kInvalidArgument);
  std::vector<float> q(4, 0.5f);
  REQUIRE((*index)->Search(q, 0, {}, nullptr).status().code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE((*index)->Search(q, 5, {}, nullptr).value().empty());
  REQUIRE(FaissIndex::Create(*Spec::Parse("flat"), 0).status().code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(FaissIndex::Create(*Spec::Parse("flat extra=1"), 4).status().code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(FaissIndex::Create(*Spec::Parse("magic"), 4).status().code() ==
          absl::StatusCode::kInvalidArgument);
}

TEST_CASE("an index refuses a label twice, within a batch or across batches", "[index]") {
  for (const char* spec : {"flat", "hnsw m=8", "ivf nlist=1 nprobe=1"}) {
    INFO(spec);
    auto index = FaissIndex::Create(*Spec::Parse(spec), 2);
    REQUIRE(index.ok());
    const std::vector<float> four = {1, 0, 0, 1, 1, 1, -1, 0};
    if (!(*index)->is_trained()) REQUIRE((*index)->Train(four).ok());
    // Repeated in one batch, in increasing order or not: nothing is added.
    CHECK(absl::IsAlreadyExists((*index)->Add({1, 2, 2, 3}, four)));
    CHECK(absl::IsAlreadyExists((*index)->Add({3, 1, 2, 1}, four)));
    CHECK((*index)->size() == 0);
    REQUIRE((*index)->Add({5, 1, 9, 2}, four).ok());
    // Already in the index: refused whole.
    CHECK(absl::IsAlreadyExists((*index)->Add({10, 11, 12, 9}, four)));
    CHECK((*index)->size() == 4);
    REQUIRE((*index)->Add({10, 11, 12, 13}, four).ok());
    CHECK((*index)->size() == 8);
  }
}

TEST_CASE("a saved index loads identically and damage is detected", "[index]") {
  testing::TempDir dir;
  const int dim = 8, n = 500;
  std::vector<float> data = RandomUnitVectors(n, dim, 3);
  std::vector<uint64_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = i * 2 + 1;
  auto index = FaissIndex::Create(*Spec::Parse("flat"), dim);
  REQUIRE((*index)->Add(labels, data).ok());
  REQUIRE((*index)->Remove({labels[0], labels[5]}).ok());
  const std::string path = dir / "i.index";
  REQUIRE((*index)->Save(path).ok());

  auto loaded = FaissIndex::Load(path);
  INFO(loaded.status().message());
  REQUIRE(loaded.ok());
  REQUIRE((*loaded)->size() == n - 2);
  REQUIRE((*loaded)->spec().ToString() == "flat");
  for (int q = 0; q < 10; ++q) {
    absl::Span<const float> qv(data.data() + q * dim, dim);
    auto a = (*index)->Search({qv.data(), qv.size()}, 5, {}, nullptr).value();
    auto b = (*loaded)->Search({qv.data(), qv.size()}, 5, {}, nullptr).value();
    REQUIRE(Labels(a) == Labels(b));
  }

  const std::string bytes = testing::ReadFile(path);
  auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream(dir / name, std::ios::binary) << content;
    return dir / name;
  };
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x01;
  for (const std::string& bad :
       {write("flipped", flipped), write("truncated", bytes.substr(0, bytes.size() - 9)),
        write("short", bytes.substr(0, 20)), write("empty", ""),
        write("garbage", std::string(4096, 'g')), write("trailing", bytes + "xx")}) {
    auto r = FaissIndex::Load(bad);
    INFO(bad);
    REQUIRE(r.status().code() == absl::StatusCode::kDataLoss);
  }
  REQUIRE(FaissIndex::Load(dir / "absent").status().code() == absl::StatusCode::kNotFound);
}

// Ranks i of two result lists agree: same score within float rounding, and
// the same label unless a neighbouring rank ties with it within rounding.
void RequireSameHits(const std::vector<IndexHit>& a, const std::vector<IndexHit>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("rank " << i);
    REQUIRE(std::abs(a[i].score - b[i].score) < 1e-5);
    const bool tie = (i > 0 && std::abs(a[i].score - a[i - 1].score) < 1e-5) ||
                     (i + 1 < a.size() && std::abs(a[i].score - a[i + 1].score) < 1e-5);
    if (!tie) REQUIRE(a[i].label == b[i].label);
  }
}

TEST_CASE("an IVF training exported once is installed in other indexes", "[index]") {
  testing::TempDir dir;
  const int dim = 8, n = 600;
  std::vector<float> data = RandomUnitVectors(n, dim, 5);
  const Spec spec = *Spec::Parse("ivf nlist=8 nprobe=2");
  auto trainer = FaissIndex::Create(spec, dim);
  REQUIRE((*trainer)->ExportTraining().status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE((*trainer)->Train(absl::MakeSpan(data).subspan(0, 300 * dim)).ok());
  absl::StatusOr<std::string> training = (*trainer)->ExportTraining();
  REQUIRE(training.ok());
  const auto crc = (*trainer)->Describe()["centroids_crc32"];

  // Two halves, each in an index with that training, search as the whole.
  std::vector<std::unique_ptr<FaissIndex>> halves;
  for (int h = 0; h < 2; ++h) {
    halves.push_back(*FaissIndex::Create(spec, dim));
    REQUIRE(halves[h]->InstallTraining(*training).ok());
    REQUIRE(halves[h]->training_installed());
    REQUIRE(halves[h]->Describe()["centroids_crc32"] == crc);
  }
  auto whole = FaissIndex::Create(spec, dim);
  REQUIRE((*whole)->InstallTraining(*training).ok());
  std::vector<uint64_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = i + 1;
  REQUIRE((*whole)->Add(labels, data).ok());
  for (int h = 0; h < 2; ++h) {
    const size_t half = n / 2;
    REQUIRE(halves[h]->Add(absl::MakeSpan(labels).subspan(h * half, half),
                           absl::MakeSpan(data).subspan(h * half * dim, half * dim)).ok());
  }
  for (int q = 0; q < 20; ++q) {
    absl::Span<const float> qv(data.data() + q * dim, dim);
    std::vector<IndexHit> merged;
    for (auto& h : halves) {
      std::vector<IndexHit> part = h->Search(qv, 10, {}, nullptr).value();
      merged.insert(merged.end(), part.begin(), part.end());
    }
    std::sort(merged.begin(), merged.end(), RanksBefore);
    merged.resize(10);
    std::vector<IndexHit> want = (*whole)->Search(qv, 10, {}, nullptr).value();
    REQUIRE(Labels(merged) == Labels(want));
  }

  // Saved and loaded, it still says so.
  const std::string path = dir / "ivf.index";
  REQUIRE(halves[0]->Save(path).ok());
  auto loaded = FaissIndex::Load(path);
  REQUIRE(loaded.ok());
  REQUIRE((*loaded)->training_installed());
  REQUIRE((*loaded)->Describe()["centroids_crc32"] == crc);

  // Refused: garbage, another nlist or dimension, a trained index, a flat one.
  auto fresh = [&](const char* s, int d) { return *FaissIndex::Create(*Spec::Parse(s), d); };
  REQUIRE(fresh("ivf nlist=8", dim)->InstallTraining("garbage").code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(fresh("ivf nlist=4", dim)->InstallTraining(*training).code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(fresh("ivf nlist=8", 16)->InstallTraining(*training).code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(fresh("ivf nlist=8 quantizer=sq8", dim)->InstallTraining(*training).code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(halves[1]->InstallTraining(*training).code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(fresh("flat", dim)->InstallTraining(*training).code() ==
          absl::StatusCode::kUnimplemented);
}

TEST_CASE("batch search returns what single searches return", "[index][batch]") {
  testing::TempDir dir;
  const int dim = 24, n = 4000, nq = 60;
  std::vector<float> data = RandomUnitVectors(n, dim, 5);
  std::vector<float> queries = RandomUnitVectors(nq, dim, 6);
  std::vector<uint64_t> labels(n), removed;
  for (int i = 0; i < n; ++i) labels[i] = 10 + 3 * i;
  for (int i = 0; i < n; i += 11) removed.push_back(labels[i]);
  LabelPredicate even = [](uint64_t l) { return l % 2 == 0; };
  for (const char* spec : {"flat", "ivf nlist=32 nprobe=4", "ivf nlist=32 quantizer=sq8",
                           "hnsw m=12 ef_search=24", "hnsw m=12 sq8=true"}) {
    INFO(spec);
    auto created = FaissIndex::Create(*Spec::Parse(spec), dim);
    REQUIRE(created.ok());
    std::unique_ptr<FaissIndex> index = *std::move(created);
    if (!index->is_trained()) REQUIRE(index->Train(data).ok());
    REQUIRE(index->Add(labels, data).ok());
    REQUIRE(index->Remove(removed).ok());
    // A loaded HNSW graph is searched through a level 0 packed at load.
    REQUIRE(index->Save(dir / "batch.index").ok());
    std::unique_ptr<FaissIndex> loaded = FaissIndex::Load(dir / "batch.index").value();
    for (const LabelPredicate* filter : {static_cast<const LabelPredicate*>(nullptr),
                                          static_cast<const LabelPredicate*>(&even)}) {
      for (IndexSearchKnobs knobs : {IndexSearchKnobs{}, IndexSearchKnobs{.nprobe = 8, .ef_search = 60}}) {
        auto batch = index->SearchBatch(queries, 10, knobs, filter);
        REQUIRE(batch.ok());
        REQUIRE(batch->size() == static_cast<size_t>(nq));
        for (int q = 0; q < nq; ++q) {
          absl::Span<const float> qv(queries.data() + q * dim, dim);
          std::vector<IndexHit> single = index->Search(qv, 10, knobs, filter).value();
          REQUIRE(single.size() == 10);
          RequireSameHits((*batch)[q], single);
          std::vector<IndexHit> reloaded = loaded->Search(qv, 10, knobs, filter).value();
          REQUIRE(Labels(reloaded) == Labels(single));
          for (const IndexHit& h : single) {
            REQUIRE((filter == nullptr || h.label % 2 == 0));
            REQUIRE((h.label - 10) / 3 % 11 != 0);  // never a removed label
          }
        }
      }
    }
  }
  auto index = FaissIndex::Create(*Spec::Parse("flat"), dim).value();
  std::vector<float> ragged(dim + 1);
  REQUIRE(index->SearchBatch(ragged, 10, {}, nullptr).status().code() ==
          absl::StatusCode::kInvalidArgument);
  REQUIRE(index->SearchBatch({}, 10, {}, nullptr).status().code() ==
          absl::StatusCode::kInvalidArgument);
}

// The FAISS bytes of a semdb index file (FaissIndex::Save, format 3):
// magic, version, spec, dimension, training size and flag, count, labels,
// tombstones, FAISS's bytes, CRC-32.
std::string FaissPart(const std::string& file) {
  uint32_t spec_size;
  std::memcpy(&spec_size, file.data() + 12, 4);
  size_t at = 16 + spec_size + 4 + 8 + 1;
  uint64_t count;
  std::memcpy(&count, file.data() + at, 8);
  at += 8 + count * 8 + (count + 7) / 8;
  REQUIRE(file.size() > at + 4);
  return file.substr(at, file.size() - at - 4);
}

TEST_CASE("an HNSW index keeps one copy of its vectors", "[index][hnsw]") {
  const int dim = 128, n = 3000, m = 16;
  const std::vector<float> data = testing::ClusteredVectors(n, dim, 20, 11);
  std::vector<uint64_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = i;
  auto index = FaissIndex::Create(*Spec::Parse("hnsw m=16"), dim);
  REQUIRE((*index)->Add(labels, data).ok());
  // Per vector: one block (2m level-0 links + dim floats, 64-byte
  // aligned), FAISS's links of the levels above (estimated 2m / 4 slots)
  // and the label tables.
  const int64_t block = (2 * m * 4 + dim * 4 + 63) / 64 * 64;
  const int64_t one_copy = n * (block + 2 * m * 4 / 4 + 8 + 24);
  REQUIRE((*index)->Describe()["memory_bytes"].get<int64_t>() == one_copy);
  REQUIRE(one_copy < int64_t{n} * dim * 4 * 2);  // not two copies of the vectors
  // Exact search reads the vectors from the blocks.
  for (int q = 0; q < 20; ++q) {
    auto hits = (*index)->Search({data.data() + q * dim, static_cast<size_t>(dim)}, 10,
                                 {.exact = true}, nullptr);
    REQUIRE(Labels(*hits) == BruteForce(data, labels, data.data() + q * dim, dim, 10,
                                        [](uint64_t) { return true; }));
  }
}

TEST_CASE("a saved HNSW file is a FAISS IndexHNSWFlat with the same graph and answers",
          "[index][hnsw]") {
  testing::TempDir dir;
  const int dim = 32, n = 4000, nq = 200, k = 10;
  const std::vector<float> all = testing::ClusteredVectors(n + nq, dim, 30, 12);
  const std::vector<float> data(all.begin(), all.begin() + n * dim);
  const float* queries = all.data() + n * dim;
  std::vector<uint64_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = 7 + i;
  auto index = FaissIndex::Create(*Spec::Parse("hnsw m=12 ef_construction=64"), dim);
  // Two adds: the second links into and relinks the first.
  REQUIRE((*index)->Add(absl::MakeConstSpan(labels).subspan(0, n / 2),
                        absl::MakeConstSpan(data).subspan(0, n / 2 * dim)).ok());
  REQUIRE((*index)->Add(absl::MakeConstSpan(labels).subspan(n / 2),
                        absl::MakeConstSpan(data).subspan(n / 2 * dim)).ok());
  REQUIRE((*index)->Save(dir / "h.index").ok());

  faiss::VectorIOReader r;
  const std::string bytes = FaissPart(testing::ReadFile(dir / "h.index"));
  r.data.assign(bytes.begin(), bytes.end());
  std::unique_ptr<faiss::Index> read(faiss::read_index(&r));
  auto* hnsw = dynamic_cast<faiss::IndexHNSWFlat*>(read.get());
  REQUIRE(hnsw != nullptr);
  REQUIRE(hnsw->ntotal == n);
  REQUIRE(hnsw->metric_type == faiss::METRIC_INNER_PRODUCT);
  // The vectors, bit for bit, and FAISS writes back the very same bytes.
  const auto* flat = dynamic_cast<const faiss::IndexFlat*>(hnsw->storage);
  REQUIRE(flat != nullptr);
  REQUIRE(std::memcmp(flat->codes.data(), data.data(), data.size() * sizeof(float)) == 0);
  faiss::VectorIOWriter w;
  faiss::write_index(read.get(), &w);
  REQUIRE(std::string(w.data.begin(), w.data.end()) == bytes);

  // FAISS's search on the file and on semdb's index in memory (semdb's
  // loop with FAISS's stopping rule and kernel over the packed level 0,
  // PackedHnsw::search): the same graph and kernel, so the same top k;
  // semdb's search finds the exact top k as often.
  const faiss::Index& mine = (*index)->faiss_index();
  std::vector<float> s1(nq * k), s2(nq * k);
  std::vector<faiss::Index::idx_t> p1(nq * k), p2(nq * k);
  faiss::SearchParametersHNSW params;
  params.efSearch = 64;
  read->search(nq, queries, k, s1.data(), p1.data(), &params);
  mine.search(nq, queries, k, s2.data(), p2.data(), &params);
  REQUIRE(p1 == p2);
  REQUIRE(s1 == s2);

  // Reopened (level 0 read into the blocks) and saved again: the same
  // bytes, and the same answers.
  auto reopened = FaissIndex::Load(dir / "h.index");
  REQUIRE(reopened.ok());
  REQUIRE((*reopened)->Save(dir / "again.index").ok());
  REQUIRE(testing::ReadFile(dir / "again.index") == testing::ReadFile(dir / "h.index"));
  std::vector<float> s3(nq * k);
  std::vector<faiss::Index::idx_t> p3(nq * k);
  (*reopened)->faiss_index().search(nq, queries, k, s3.data(), p3.data(), &params);
  REQUIRE(p3 == p1);
  REQUIRE(s3 == s1);
  int found = 0, faiss_found = 0;
  for (int q = 0; q < nq; ++q) {
    const float* query = queries + q * dim;
    const std::vector<uint64_t> truth =
        BruteForce(data, labels, query, dim, k, [](uint64_t) { return true; });
    auto hits = (*index)->Search({query, static_cast<size_t>(dim)}, k, {.ef_search = 64},
                                 nullptr);
    for (uint64_t label : Labels(*hits)) {
      found += std::count(truth.begin(), truth.end(), label);
    }
    for (int i = 0; i < k; ++i) {
      faiss_found += std::count(truth.begin(), truth.end(), labels[p1[q * k + i]]);
    }
  }
  INFO("semdb recall " << found / double(nq * k) << ", FAISS " << faiss_found / double(nq * k));
  REQUIRE(found >= faiss_found);
  REQUIRE(found >= 0.95 * nq * k);
}

// tests/data/index/hnsw_before_one_copy.index: saved by semdb when the
// FAISS storage held the vectors besides the packed level 0
// (tests/golden/make_hnsw_index_golden.cc).
TEST_CASE("an HNSW file saved before the one-copy change loads and answers", "[index][hnsw]") {
  testing::TempDir dir;
  const int dim = 16, n = 300;
  const std::vector<float> data = testing::ClusteredVectors(n, dim, 8, 7);
  std::vector<uint64_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = 1000 + i;
  auto live = [](uint64_t label) { return label >= 1010; };
  auto loaded = FaissIndex::Load(testing::TestData("index/hnsw_before_one_copy.index"));
  INFO(loaded.status().message());
  REQUIRE(loaded.ok());
  REQUIRE((*loaded)->size() == n - 10);
  REQUIRE((*loaded)->spec().ToString() ==
          Spec::Parse("hnsw m=8 ef_construction=40")->ToString());
  for (int q = 0; q < 30; ++q) {
    const float* query = data.data() + (q * 7 % n) * dim;
    const std::vector<uint64_t> truth = BruteForce(data, labels, query, dim, 5, live);
    REQUIRE(Labels(*(*loaded)->Search({query, static_cast<size_t>(dim)}, 5, {.exact = true},
                                      nullptr)) == truth);
    REQUIRE(Labels(*(*loaded)->Search({query, static_cast<size_t>(dim)}, 5,
                                      {.ef_search = 300}, nullptr)) == truth);
  }
  // Saved again in the new way: FAISS's bytes are the old file's.
  REQUIRE((*loaded)->Save(dir / "again.index").ok());
  REQUIRE(FaissPart(testing::ReadFile(dir / "again.index")) ==
          FaissPart(testing::ReadFile(testing::TestData("index/hnsw_before_one_copy.index"))));
}

}  // namespace
}  // namespace semdb
