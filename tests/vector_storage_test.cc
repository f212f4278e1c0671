// Stored vector precision (CollectionSpec::vector_storage): the half-float
// conversions, the record encodings, and collections on real RocksDB whose
// vectors are stored as float16: searches rank the stored values, a reopen
// finds the same, and databases written before the choice existed open as
// float32.
#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include "absl/base/casts.h"
#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"
#include "semdb/database.h"
#include "storage/half_float.h"
#include "storage/records.h"
#include "test_data.h"
#include "test_database.h"

namespace semdb {
namespace {

using testing::HitIds;
using testing::MakeCollection;
using testing::OpenDb;
using testing::TempDir;

uint32_t Bits(float f) { return absl::bit_cast<uint32_t>(f); }

std::vector<float> RandomUnitVector(std::mt19937& rng, int dim) {
  std::normal_distribution<float> normal;
  std::vector<float> v(dim);
  double norm = 0;
  for (float& x : v) {
    x = normal(rng);
    norm += static_cast<double>(x) * x;
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(norm));
  return v;
}

float Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(s);
}

// The top `k` of `rows` by dot product with `query`, as (row, score).
std::vector<std::pair<size_t, float>> BruteForce(const std::vector<std::vector<float>>& rows,
                                                 const std::vector<float>& query, size_t k) {
  std::vector<std::pair<size_t, float>> all;
  for (size_t i = 0; i < rows.size(); ++i) all.emplace_back(i, Dot(rows[i], query));
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  all.resize(std::min(k, all.size()));
  return all;
}

// `hits` are a top k of `rows` for `query`: their scores are the brute
// force ones, each hit's score its row's dot product (ties may swap).
void CheckTopK(const std::vector<Hit>& hits, const std::vector<std::vector<float>>& rows,
               const std::vector<float>& query, const std::function<size_t(const Hit&)>& row) {
  const auto truth = BruteForce(rows, query, hits.size());
  REQUIRE(hits.size() == truth.size());
  for (size_t j = 0; j < truth.size(); ++j) {
    CHECK(std::abs(hits[j].score - truth[j].second) < 1e-5);
    CHECK(std::abs(hits[j].score - Dot(rows[row(hits[j])], query)) < 1e-5);
  }
}

TEST_CASE("array half conversions agree with the scalar ones bit for bit", "[vector_storage]") {
  // Every half, widened (an odd count: the scalar tail runs too).
  std::vector<uint16_t> halves(65535);
  for (size_t i = 0; i < halves.size(); ++i) halves[i] = static_cast<uint16_t>(i);
  std::vector<float> widened(halves.size());
  HalvesToFloats(halves, absl::MakeSpan(widened));
  for (size_t i = 0; i < halves.size(); ++i) {
    const float want = HalfToFloat(halves[i]);
    if (std::isnan(want)) {
      REQUIRE(std::isnan(widened[i]));  // F16C quiets a signaling NaN
    } else {
      REQUIRE(Bits(widened[i]) == Bits(want));
    }
  }
  // Floats: every finite half, the midpoints between neighbours (ties round
  // to even) and just beside them, the subnormal range, overflow, zeros,
  // infinities, and random values of every magnitude.
  std::vector<float> floats;
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const float a = HalfToFloat(static_cast<uint16_t>(h));
    const float b = HalfToFloat(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((static_cast<double>(a) + b) / 2);
    for (float f : {a, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f)}) {
      floats.push_back(f);
      floats.push_back(-f);
    }
  }
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> exponent(-30, 17);
  for (int i = 0; i < 100000; ++i) {
    floats.push_back((i % 2 ? -1.0f : 1.0f) * std::exp2(exponent(rng)));
  }
  for (float f : {0.0f, -0.0f, 65504.0f, 65520.0f, 1e6f, -1e6f, INFINITY, -INFINITY,
                  absl::bit_cast<float>(uint32_t{1}), 1e-8f}) {
    floats.push_back(f);
  }
  floats.push_back(1.0f);  // an odd count
  std::vector<uint16_t> narrowed(floats.size());
  FloatsToHalves(floats, absl::MakeSpan(narrowed));
  for (size_t i = 0; i < floats.size(); ++i) {
    INFO("float " << floats[i]);
    REQUIRE(narrowed[i] == FloatToHalf(floats[i]));
  }
  std::vector<float> rounded = floats;
  RoundToHalfPrecision(absl::MakeSpan(rounded));
  for (size_t i = 0; i < floats.size(); ++i) {
    REQUIRE(Bits(rounded[i]) == Bits(HalfToFloat(FloatToHalf(floats[i]))));
  }
}

TEST_CASE("vector records in float16 hold the nearest halves", "[vector_storage]") {
  const VectorRecord v{7, 1, {0.1f, -0.7071f, 1.0f, 3e-6f, 0.0f}};
  const std::string bytes = v.Encode(VectorStorage::kFloat16);
  CHECK(bytes.size() == VectorRecord::EncodeHeader(7, 1).size() + 5 * 2);
  absl::StatusOr<VectorRecord> back = VectorRecord::Decode(bytes, VectorStorage::kFloat16);
  REQUIRE(back.ok());
  CHECK(back->tokens == 7);
  CHECK(back->unknown_tokens == 1);
  REQUIRE(back->values.size() == 5);
  for (size_t i = 0; i < 5; ++i) {
    CHECK(back->values[i] == HalfToFloat(FloatToHalf(v.values[i])));
  }
  std::vector<float> rounded = v.values;
  RoundToStorage(VectorStorage::kFloat16, absl::MakeSpan(rounded));
  CHECK(rounded == back->values);
  RoundToStorage(VectorStorage::kFloat32, absl::MakeSpan(rounded = v.values));
  CHECK(rounded == v.values);
  // An odd number of value bytes is no float16 record.
  CHECK(VectorRecord::Decode(bytes + "x", VectorStorage::kFloat16).status().code() ==
        absl::StatusCode::kDataLoss);
  CHECK(ParseVectorStorage("float16") == VectorStorage::kFloat16);
  CHECK(ParseVectorStorage("float32") == VectorStorage::kFloat32);
  CHECK_FALSE(ParseVectorStorage("auto").has_value());
  CHECK(std::string(VectorStorageName(VectorStorage::kFloat16)) == "float16");
}

TEST_CASE("collection records: format 1 reads as float32, newer formats are refused",
          "[vector_storage]") {
  CollectionRecord r;
  r.id = 3;
  r.name = "c";
  r.embedder_spec = "tfidf";
  r.index_spec = "flat";
  r.vector_storage = "auto";
  r.vector_encoding = VectorStorage::kFloat16;
  absl::StatusOr<CollectionRecord> back = CollectionRecord::Decode(r.Encode());
  REQUIRE(back.ok());
  CHECK(back->vector_storage == "auto");
  CHECK(back->vector_encoding == VectorStorage::kFloat16);

  // As semdb wrote it before the choice: no format, no vector keys.
  nlohmann::json old = nlohmann::json::parse(r.Encode());
  old.erase("format");
  old.erase("vector_storage");
  old.erase("vector_encoding");
  back = CollectionRecord::Decode(old.dump());
  REQUIRE(back.ok());
  CHECK(back->vector_storage == "float32");
  CHECK(back->vector_encoding == VectorStorage::kFloat32);

  nlohmann::json newer = nlohmann::json::parse(r.Encode());
  newer["format"] = 3;
  back = CollectionRecord::Decode(newer.dump());
  CHECK(back.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(back.status().message().find("newer") != std::string_view::npos);

  nlohmann::json bad = nlohmann::json::parse(r.Encode());
  bad["vector_encoding"] = "float8";
  CHECK(CollectionRecord::Decode(bad.dump()).status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("bad vector_storage values are clear errors", "[vector_storage]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  absl::StatusOr<std::shared_ptr<Collection>> c =
      db->CreateCollection("c", {.embedder = "vectors dim=4", .vector_storage = "float8"});
  REQUIRE(c.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(c.status().message() == "vector_storage is auto, float32 or float16, not 'float8'");
  MakeCollection(*db, "h", {.embedder = "vectors dim=4", .vector_storage = "float16"});
  // Get-or-create with another storage names the difference.
  c = db->GetOrCreateCollection("h", {.embedder = "vectors dim=4", .vector_storage = "float32"});
  REQUIRE(c.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(c.status().message().find("vector storage 'float16', not 'float32'") !=
        std::string_view::npos);
  CHECK(db->GetOrCreateCollection("h", {.embedder = "vectors dim=4"}).ok());  // auto: any
}

TEST_CASE("float16 vectors: stored rounded, searched as stored, the same after a reopen",
          "[vector_storage]") {
  TempDir dir;
  constexpr int kDim = 48;
  constexpr int kDocs = 600;
  std::mt19937 rng(11);
  std::vector<std::vector<float>> given;
  std::vector<std::vector<float>> queries;
  for (int i = 0; i < kDocs; ++i) given.push_back(RandomUnitVector(rng, kDim));
  for (int i = 0; i < 25; ++i) queries.push_back(RandomUnitVector(rng, kDim));
  std::vector<std::vector<std::vector<Hit>>> before(2);
  for (const std::string index : {"flat", "hnsw m=16"}) {
    const std::string name = index == "flat" ? "flat" : "hnsw";
    auto db = OpenDb(dir.path());
    auto c = MakeCollection(
        *db, name, {.embedder = "vectors dim=48", .index = index, .vector_storage = "float16"});
    std::vector<Document> docs;
    for (int i = 0; i < kDocs; ++i) {
      docs.push_back({.id = "v" + std::to_string(i), .vector = given[i]});
    }
    REQUIRE(c->InsertBatch(docs).ok());
    const CollectionStats stats = c->Stats();
    CHECK(stats.vector_storage == "float16");
    CHECK(stats.vector_encoding == "float16");
    // Read back: each value the half nearest to the given one.
    std::vector<std::vector<float>> stored;
    for (int i = 0; i < kDocs; ++i) {
      absl::StatusOr<Document> d = c->Get("v" + std::to_string(i));
      REQUIRE(d.ok());
      std::vector<float> want = given[i];
      RoundToHalfPrecision(absl::MakeSpan(want));
      REQUIRE(d->vector == want);
      stored.push_back(d->vector);
    }
    // Exact flat search is brute force over the stored (widened) values.
    for (const std::vector<float>& q : queries) {
      absl::StatusOr<std::vector<Hit>> hits =
          c->SearchVector(q, {.k = 10, .strategy = SearchStrategy::kExactScan});
      REQUIRE(hits.ok());
      REQUIRE(hits->size() == 10);
      CheckTopK(*hits, stored, q, [](const Hit& h) { return std::stoul(h.id.substr(1)); });
      before[name == "hnsw"].push_back(*hits);
    }
    if (name == "hnsw") {
      for (const std::vector<float>& q : queries) {
        absl::StatusOr<std::vector<Hit>> hits = c->SearchVector(q, {.k = 10});
        REQUIRE(hits.ok());
        before[1].push_back(*hits);
      }
    }
  }
  // Reopened (the flat index rebuilt from the stored vectors, HNSW loaded
  // from its file): the very same hits and scores.
  auto db = OpenDb(dir.path());
  for (const std::string name : {"flat", "hnsw"}) {
    auto c = *db->GetCollection(name);
    CHECK(c->Stats().vector_encoding == "float16");
    const std::vector<std::vector<Hit>>& want = before[name == "hnsw"];
    for (size_t i = 0; i < want.size(); ++i) {
      const std::vector<float>& q = queries[i % queries.size()];
      SearchOptions options{.k = 10};
      if (i < queries.size()) options.strategy = SearchStrategy::kExactScan;
      absl::StatusOr<std::vector<Hit>> hits = c->SearchVector(q, options);
      REQUIRE(hits.ok());
      REQUIRE(HitIds(*hits) == HitIds(want[i]));
      for (size_t j = 0; j < hits->size(); ++j) CHECK((*hits)[j].score == want[i][j].score);
    }
  }
  // A stored vector read back and written again keeps its bytes.
  auto c = *db->GetCollection("flat");
  absl::StatusOr<Document> d = c->Get("v3");
  REQUIRE(d.ok());
  REQUIRE(c->Upsert({.id = "again", .vector = d->vector}).ok());
  CHECK(c->Get("again")->vector == d->vector);
}

TEST_CASE("TF-IDF with LSA stores float16 by default, plain TF-IDF and vectors float32",
          "[vector_storage]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  const std::vector<Document> docs =
      testing::LeeDocuments([](int line) { return nlohmann::json{{"line", line}}; });
  const std::vector<std::string> queries = {"bushfires near Sydney", "cricket match result",
                                            "Israeli Palestinian violence", "economy and jobs"};
  std::vector<std::vector<Hit>> before;
  {
    auto db = OpenDb(dir.path());
    auto lsa = MakeCollection(*db, "lsa", {.embedder = "tfidf lsa=true"});
    auto plain = MakeCollection(*db, "plain", {.embedder = "tfidf lsa=false"});
    auto vectors = MakeCollection(*db, "vectors", {.embedder = "vectors dim=3"});
    REQUIRE(lsa->InsertBatch(docs).ok());
    REQUIRE(plain->InsertBatch(docs).ok());
    REQUIRE(vectors->Insert({.id = "a", .vector = {0.1f, 0.2f, 0.3f}}).ok());
    CHECK(lsa->Stats().vector_storage == "auto");
    CHECK(lsa->Stats().vector_encoding == "float16");
    CHECK(plain->Stats().vector_encoding == "float32");
    CHECK(vectors->Stats().vector_encoding == "float32");
    const std::vector<float> a = vectors->Get("a")->vector;
    CHECK(std::abs(a[0] - 0.1f / std::sqrt(0.14f)) < 1e-7);
    CHECK(a[0] != HalfToFloat(FloatToHalf(a[0])));  // not rounded

    // Exact vector search over the LSA collection is brute force over its
    // model's vectors rounded to halves.
    std::vector<std::string_view> texts;
    for (const Document& d : docs) texts.push_back(d.text);
    absl::StatusOr<std::vector<float>> embedded = lsa->Embed(texts);
    REQUIRE(embedded.ok());
    RoundToHalfPrecision(absl::MakeSpan(*embedded));
    const size_t dim = embedded->size() / docs.size();
    std::vector<std::vector<float>> rows;
    for (size_t i = 0; i < docs.size(); ++i) {
      rows.emplace_back(embedded->begin() + i * dim, embedded->begin() + (i + 1) * dim);
    }
    for (const std::string& query : queries) {
      const std::string_view text[] = {query};
      absl::StatusOr<std::vector<float>> q = lsa->Embed(text);
      REQUIRE(q.ok());
      absl::StatusOr<std::vector<Hit>> hits = lsa->SearchVector(*q, {.k = 10});
      REQUIRE(hits.ok());
      REQUIRE(hits->size() == 10);
      CheckTopK(*hits, rows, *q, [](const Hit& h) { return std::stoul(h.id.substr(4)) - 1; });
      absl::StatusOr<std::vector<Hit>> hybrid = lsa->Search(query, {.k = 10});
      REQUIRE(hybrid.ok());
      before.push_back(*hits);
      before.push_back(*hybrid);
    }
  }
  auto db = OpenDb(dir.path());
  auto lsa = *db->GetCollection("lsa");
  CHECK(lsa->Stats().vector_encoding == "float16");
  for (size_t i = 0; i < queries.size(); ++i) {
    const std::string_view text[] = {queries[i]};
    absl::StatusOr<std::vector<float>> q = lsa->Embed(text);
    REQUIRE(q.ok());
    absl::StatusOr<std::vector<Hit>> hits = lsa->SearchVector(*q, {.k = 10});
    absl::StatusOr<std::vector<Hit>> hybrid = lsa->Search(queries[i], {.k = 10});
    REQUIRE(hits.ok());
    REQUIRE(hybrid.ok());
    REQUIRE(HitIds(*hits) == HitIds(before[2 * i]));
    REQUIRE(HitIds(*hybrid) == HitIds(before[2 * i + 1]));
    for (size_t j = 0; j < hits->size(); ++j) CHECK((*hits)[j].score == before[2 * i][j].score);
    for (size_t j = 0; j < hybrid->size(); ++j) {
      CHECK((*hybrid)[j].score == before[2 * i + 1][j].score);
    }
  }
  // A refit keeps the collection's choice.
  REQUIRE(lsa->Refit().ok());
  CHECK(lsa->Stats().vector_encoding == "float16");
  CHECK(lsa->Stats().model_version == 2);
}

TEST_CASE("a database written before vector_storage existed opens and searches unchanged",
          "[vector_storage]") {
  TempDir dir;
  std::mt19937 rng(5);
  std::vector<std::vector<float>> given;
  for (int i = 0; i < 200; ++i) given.push_back(RandomUnitVector(rng, 16));
  const std::vector<float> query = RandomUnitVector(rng, 16);
  std::vector<Hit> before;
  {
    auto db = OpenDb(dir.path());
    auto c = MakeCollection(*db, "old", {.embedder = "vectors dim=16"});
    std::vector<Document> docs;
    for (size_t i = 0; i < given.size(); ++i) {
      docs.push_back({.id = "v" + std::to_string(i), .vector = given[i]});
    }
    REQUIRE(c->InsertBatch(docs).ok());
    before = *c->SearchVector(query, {.k = 10});
  }
  {
    // Rewrite the collection record as the previous format encoded it: no
    // "format", no vector storage keys (the vectors are float32 as ever).
    rocksdb::Options options;
    const std::string path = dir / "store";
    std::vector<std::string> families;
    REQUIRE(rocksdb::DB::ListColumnFamilies(options, path, &families).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& f : families) descriptors.emplace_back(f, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(options, path, descriptors, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> rdb(raw);
    std::string value;
    REQUIRE(rdb->Get(rocksdb::ReadOptions(), "collection/old", &value).ok());
    nlohmann::json j = nlohmann::json::parse(value);
    REQUIRE(j.at("vector_encoding") == "float32");
    j.erase("format");
    j.erase("vector_storage");
    j.erase("vector_encoding");
    REQUIRE(rdb->Put(rocksdb::WriteOptions(), "collection/old", j.dump()).ok());
    for (rocksdb::ColumnFamilyHandle* h : handles) REQUIRE(rdb->DestroyColumnFamilyHandle(h).ok());
    REQUIRE(rdb->Close().ok());
  }
  auto db = OpenDb(dir.path());
  auto c = *db->GetCollection("old");
  CHECK(c->Stats().vector_storage == "float32");
  CHECK(c->Stats().vector_encoding == "float32");
  absl::StatusOr<std::vector<Hit>> hits = c->SearchVector(query, {.k = 10});
  REQUIRE(hits.ok());
  REQUIRE(HitIds(*hits) == HitIds(before));
  for (size_t j = 0; j < hits->size(); ++j) CHECK((*hits)[j].score == before[j].score);
  CHECK(c->Get("v7")->vector == given[7]);  // the exact floats
  REQUIRE(c->Insert({.id = "new", .vector = given[0]}).ok());
  CHECK(c->Get("new")->vector == given[0]);
}

}  // namespace
}  // namespace semdb
