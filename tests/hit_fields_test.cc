// SearchOptions::include (issue 12): hits carry only the fields asked for;
// ids and scores equal those of the full hits; a search asking for ids
// only reads nothing from storage once its hits' labels are in memory
// (RocksDB's own per-thread perf counters tell what was read); batches
// answer as single searches. Real RocksDB, FAISS and TF-IDF; expected texts
// and metadata come from the input data.
#include <random>

#include "catch2/catch.hpp"
#include "rocksdb/perf_context.h"
#include "rocksdb/perf_level.h"
#include "semdb/database.h"
#include "test_data.h"
#include "test_database.h"

namespace semdb {
namespace {

using testing::HitIds;
using testing::MakeCollection;
using testing::OpenDb;
using testing::TempDir;

constexpr HitFields kIdsOnly{.text = false, .metadata = false};

SearchOptions With(SearchOptions options, HitFields include) {
  options.include = include;
  return options;
}

// Bytes of values RocksDB returned to this thread while `fn` ran.
template <typename Fn>
uint64_t BytesRead(Fn fn) {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  fn();
  const rocksdb::PerfContext& p = *rocksdb::get_perf_context();
  const uint64_t bytes = p.get_read_bytes + p.multiget_read_bytes + p.iter_read_bytes;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  return bytes;
}

// The same hits but for the fields left out: same ids, passages and
// scores (the same index search), text and metadata as `include` says.
void RequireSameHits(const std::vector<Hit>& part, const std::vector<Hit>& full,
                     HitFields include) {
  REQUIRE(HitIds(part) == HitIds(full));
  for (size_t i = 0; i < part.size(); ++i) {
    REQUIRE(part[i].score == full[i].score);
    REQUIRE(part[i].passage.has_value() == full[i].passage.has_value());
    if (part[i].passage) {
      REQUIRE(part[i].passage->index == full[i].passage->index);
      REQUIRE(part[i].passage->begin == full[i].passage->begin);
    }
    REQUIRE(part[i].text == (include.text ? full[i].text : ""));
    if (include.metadata) {
      REQUIRE(part[i].metadata == full[i].metadata);
    } else {
      REQUIRE(part[i].metadata.is_null());
    }
  }
}

TEST_CASE("hits carry the fields asked for, and ids only reads no document", "[search][fields]") {
  for (const char* index : {"flat", "ivf nlist=16 nprobe=4", "hnsw m=16"}) {
    SECTION(index) {
      TempDir dir;
      std::mt19937 rng(5);
      std::normal_distribution<float> normal;
      std::vector<Document> docs;
      for (int i = 0; i < 1500; ++i) {
        Document d{.id = "v" + std::to_string(i),
                   .text = "text of " + std::to_string(i),
                   .metadata = {{"i", i}}};
        for (int j = 0; j < 24; ++j) d.vector.push_back(normal(rng));
        docs.push_back(std::move(d));
      }
      std::vector<float> rows;
      for (int q = 0; q < 30; ++q) {
        for (int j = 0; j < 24; ++j) rows.push_back(normal(rng));
      }
      auto query = [&](int q) { return absl::MakeConstSpan(rows).subspan(q * 24, 24); };
      const SearchOptions options{.k = 10};
      std::vector<std::vector<Hit>> full(30);
      {
        auto db = OpenDb(dir.path());
        auto v = MakeCollection(*db, "v", {.embedder = "vectors dim=24", .index = index});
        REQUIRE(v->InsertBatch(docs).ok());
        for (int q = 0; q < 30; ++q) {
          full[q] = v->SearchVector(query(q), options).value();
          REQUIRE(full[q].size() == 10);
          for (const Hit& h : full[q]) {
            const int i = std::stoi(h.id.substr(1));
            REQUIRE(h.text == "text of " + std::to_string(i));
            REQUIRE(h.metadata == nlohmann::json{{"i", i}});
          }
          for (HitFields include : {kIdsOnly, HitFields{.text = true, .metadata = false},
                                    HitFields{.text = false, .metadata = true}}) {
            RequireSameHits(v->SearchVector(query(q), With(options, include)).value(), full[q],
                            include);
          }
        }
        // Every hit's label is in memory now: ids only reads nothing, the
        // default (text and metadata) reads the hits' records.
        REQUIRE(BytesRead([&] {
                  for (int q = 0; q < 30; ++q) {
                    REQUIRE(v->SearchVector(query(q), With(options, kIdsOnly)).ok());
                  }
                }) == 0);
        REQUIRE(BytesRead([&] { REQUIRE(v->SearchVector(query(0), options).ok()); }) > 0);
        // A batch answers as its queries one by one, fields included.
        for (HitFields include : {kIdsOnly, HitFields{}}) {
          std::vector<std::vector<Hit>> batch =
              v->SearchVectorBatch(rows, With(options, include)).value();
          REQUIRE(batch.size() == 30);
          for (int q = 0; q < 30; ++q) {
            REQUIRE(HitIds(batch[q]) == HitIds(full[q]));
            for (size_t i = 0; i < batch[q].size(); ++i) {
              REQUIRE(std::abs(batch[q][i].score - full[q][i].score) <= 1e-5f);
              REQUIRE(batch[q][i].text == (include.text ? full[q][i].text : ""));
            }
          }
        }
      }
      // Reopened: the labels are read once, at their first hit, then kept.
      auto db = OpenDb(dir.path());
      auto v = db->GetCollection("v").value();
      REQUIRE(BytesRead([&] {
                RequireSameHits(v->SearchVector(query(0), With(options, kIdsOnly)).value(),
                                full[0], kIdsOnly);
              }) > 0);
      REQUIRE(BytesRead([&] {
                RequireSameHits(v->SearchVector(query(0), With(options, kIdsOnly)).value(),
                                full[0], kIdsOnly);
              }) == 0);
    }
  }
}

TEST_CASE("passage hits without text keep their document ids, positions and context",
          "[search][fields]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto lee = MakeCollection(*db, "lee", {.embedder = "tfidf dim=32",
                                         .chunking = "chars size=300 overlap=50"});
  REQUIRE(lee->InsertBatch(testing::LeeDocuments(
                               [](int line) -> nlohmann::json { return {{"line", line}}; }, 120))
              .ok());
  for (const SearchOptions& options :
       {SearchOptions{.k = 8}, SearchOptions{.k = 5, .one_per_parent = true},
        SearchOptions{.k = 5, .neighbors = 1, .hybrid = 0.0}}) {
    for (const char* q : {"bushfires near Sydney", "the stock market fell", "cricket"}) {
      INFO(q);
      const std::vector<Hit> full = lee->Search(q, options).value();
      REQUIRE(!full.empty());
      const std::vector<Hit> ids = lee->Search(q, With(options, kIdsOnly)).value();
      RequireSameHits(ids, full, kIdsOnly);
      for (size_t i = 0; i < ids.size(); ++i) {
        REQUIRE(ids[i].neighbors.size() == full[i].neighbors.size());
      }
    }
  }
}

}  // namespace
}  // namespace semdb
