// SearchOptions::include (issue 12): hits carry only the fields asked for;
// ids and scores equal those of the full hits; a search asking for ids
// only reads nothing from storage once its hits' labels are in memory
// (RocksDB's own per-thread perf counters tell what was read); batches
// answer as single searches; hits' texts and metadata follow every write
// whether the document cache is on or off. Real RocksDB, FAISS and TF-IDF; expected texts
// and metadata come from the input data.
#include <atomic>
#include <random>
#include <thread>

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
        // Every hit's label is in memory now: ids only reads nothing; nor
        // does the default (text and metadata) once the document cache
        // holds the hits' records (Options::document_cache_bytes).
        REQUIRE(BytesRead([&] {
                  for (int q = 0; q < 30; ++q) {
                    REQUIRE(v->SearchVector(query(q), With(options, kIdsOnly)).ok());
                  }
                }) == 0);
        REQUIRE(BytesRead([&] { REQUIRE(v->SearchVector(query(0), options).ok()); }) == 0);
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

// n vectors of `dim` standard normal values, from a generator seeded `seed`.
std::vector<std::vector<float>> GaussianVectors(int n, int dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<std::vector<float>> vectors(n);
  for (std::vector<float>& v : vectors) {
    for (int j = 0; j < dim; ++j) v.push_back(normal(rng));
  }
  return vectors;
}

// The hit whose vector is `vector` (k = 1 on an exact index), or none.
std::optional<Hit> TopHit(Collection& c, const std::vector<float>& vector) {
  std::vector<Hit> hits = c.SearchVector(vector, {.k = 1}).value();
  if (hits.empty()) return std::nullopt;
  return hits[0];
}

TEST_CASE("hits' texts and metadata follow every write, with the document cache on and off",
          "[search][fields][cache]") {
  for (size_t budget : {Options{}.document_cache_bytes, size_t{0}}) {
    DYNAMIC_SECTION("document_cache_bytes " << budget) {
      TempDir dir;
      const Options options{.document_cache_bytes = budget};
      constexpr int kDocs = 40;
      const std::vector<std::vector<float>> vectors = GaussianVectors(kDocs, 16, 9);
      std::vector<std::string> texts(kDocs);
      std::vector<nlohmann::json> metadata(kDocs);
      std::vector<bool> live(kDocs, true);
      for (int i = 0; i < kDocs; ++i) {
        texts[i] = "text " + std::to_string(i);
        metadata[i] = {{"i", i}, {"v", 0}};
      }
      auto doc = [&](int i) {
        return Document{.id = "d" + std::to_string(i), .text = texts[i],
                        .metadata = metadata[i], .vector = vectors[i]};
      };
      // Each document found by its own vector carries what was last written.
      auto check_all = [&](Collection& c) {
        for (int i = 0; i < kDocs; ++i) {
          INFO("d" << i);
          std::optional<Hit> hit = TopHit(c, vectors[i]);
          REQUIRE(hit.has_value());
          if (!live[i]) {
            CHECK(hit->id != "d" + std::to_string(i));
            continue;
          }
          REQUIRE(hit->id == "d" + std::to_string(i));
          CHECK(hit->text == texts[i]);
          CHECK(hit->metadata == metadata[i]);
        }
      };
      {
        auto db = OpenDb(dir.path(), options);
        auto c = MakeCollection(*db, "c", {.embedder = "vectors dim=16", .index = "flat"});
        std::vector<Document> docs;
        for (int i = 0; i < kDocs; ++i) docs.push_back(doc(i));
        REQUIRE(c->InsertBatch(docs).ok());
        check_all(*c);
        check_all(*c);  // from the cache when it is on
        // A metadata replacement, a merge, an upsert, a delete, a new document.
        metadata[3] = {{"i", 3}, {"v", 1}};
        REQUIRE(c->UpdateMetadata(std::vector<std::string>{"d3"}, {metadata[3]}).ok());
        metadata[4]["v"] = 2;
        REQUIRE(c->MergeMetadata(std::vector<std::string>{"d4"}, {{{"v", 2}}}).ok());
        texts[5] = "text 5, upserted";
        metadata[5] = {{"upserted", true}};
        REQUIRE(c->Upsert(doc(5)).ok());
        REQUIRE(c->Delete("d6").ok());
        live[6] = false;
        check_all(*c);
        // Concurrent writers and a searching reader: the reader never sees a
        // version of d7's metadata older than the one published before it
        // searched.
        std::atomic<int> published{0};
        std::atomic<bool> done{false};
        std::atomic<int> stale{0}, searches{0};
        std::thread reader([&] {
          while (!done.load()) {
            const int before = published.load();
            absl::StatusOr<std::vector<Hit>> hits = c->SearchVector(vectors[7], {.k = 1});
            if (!hits.ok() || hits->empty() || (*hits)[0].id != "d7" ||
                (*hits)[0].metadata.value("v", -1) < before) {
              ++stale;
            }
            ++searches;
          }
        });
        std::vector<std::thread> writers;
        for (int w = 0; w < 2; ++w) {
          writers.emplace_back([&, w] {
            // The writes start once the reader has searched, so that they
            // overlap its searches however the threads are scheduled.
            while (searches.load() == 0) std::this_thread::yield();
            for (int n = 1; n <= 100; ++n) {
              // Writer 0 writes even versions of d7, writer 1 rewrites d8.
              if (w == 0) {
                if (!c->UpdateMetadata(std::vector<std::string>{"d7"},
                                       {nlohmann::json{{"i", 7}, {"v", n}}})
                         .ok()) {
                  ++stale;
                }
                published.store(n);
              } else if (!c->MergeMetadata(std::vector<std::string>{"d8"}, {{{"v", n}}}).ok()) {
                ++stale;
              }
            }
          });
        }
        for (std::thread& t : writers) t.join();
        done.store(true);
        reader.join();
        CHECK(searches.load() > 0);
        CHECK(stale.load() == 0);
        metadata[7]["v"] = 100;
        metadata[8]["v"] = 100;
        check_all(*c);
      }
      // Reopened: the same.
      auto db = OpenDb(dir.path(), options);
      auto c = db->GetCollection("c").value();
      check_all(*c);
      check_all(*c);

      // A refit re-embeds a text collection; its hits still carry what was
      // last written.
      auto t = MakeCollection(*db, "t", {.embedder = "tfidf"});
      // A word of its own per document ("zqaa", "zqba", ...), and shared ones.
      auto word = [](int i) { return std::string("zq") + char('a' + i % 26) + char('a' + i / 26); };
      std::vector<Document> docs;
      for (int i = 0; i < 30; ++i) {
        docs.push_back({.id = "t" + std::to_string(i),
                        .text = word(i) + " shared words here",
                        .metadata = {{"i", i}}});
      }
      REQUIRE(t->InsertBatch(docs).ok());
      auto search_word = [&](int i) {
        std::vector<Hit> hits = t->Search(word(i), {.k = 1}).value();
        REQUIRE(hits.size() == 1);
        REQUIRE(hits[0].id == "t" + std::to_string(i));
        return hits[0];
      };
      CHECK(search_word(2).metadata == nlohmann::json{{"i", 2}});
      REQUIRE(t->UpdateMetadata(std::vector<std::string>{"t2"}, {{{"i", 2}, {"new", 1}}}).ok());
      REQUIRE(t->Refit().ok());
      CHECK(search_word(2).metadata == nlohmann::json{{"i", 2}, {"new", 1}});
      CHECK(search_word(2).text == word(2) + " shared words here");
    }
  }
}

// The document cache keeps hits' metadata parsed and shares the value with
// the searches that read it: each hit must get a copy of its own. And the
// first searches after a reopen (labels not in memory, documents and
// metadata read together) carry the stored fields, k hits or one.
TEST_CASE("a hit's metadata is its own copy, and first searches after a reopen carry every field",
          "[search][fields][cache]") {
  for (size_t budget : {Options{}.document_cache_bytes, size_t{0}}) {
    DYNAMIC_SECTION("document_cache_bytes " << budget) {
      TempDir dir;
      const Options options{.document_cache_bytes = budget};
      constexpr int kDocs = 60;
      const std::vector<std::vector<float>> vectors = GaussianVectors(kDocs, 16, 11);
      auto stored = [](int i) {
        return nlohmann::json{{"i", i}, {"tags", {"t", i % 7}}, {"nested", {{"even", i % 2 == 0}}}};
      };
      {
        auto db = OpenDb(dir.path(), options);
        auto c = MakeCollection(*db, "c", {.embedder = "vectors dim=16", .index = "flat"});
        std::vector<Document> docs;
        for (int i = 0; i < kDocs; ++i) {
          docs.push_back({.id = "d" + std::to_string(i), .text = "text " + std::to_string(i),
                          .metadata = stored(i), .vector = vectors[i]});
        }
        REQUIRE(c->InsertBatch(docs).ok());
        REQUIRE(c->Checkpoint().ok());
      }
      auto db = OpenDb(dir.path(), options);
      auto c = db->GetCollection("c").value();
      auto check_hits = [&](const std::vector<Hit>& hits, size_t k) {
        REQUIRE(hits.size() == k);
        for (const Hit& h : hits) {
          const int i = std::stoi(h.id.substr(1));
          REQUIRE(h.text == "text " + std::to_string(i));
          REQUIRE(h.metadata == stored(i));
        }
      };
      for (int i = 0; i < kDocs; i += 2) {
        INFO("d" << i);
        // First k = 5 after the reopen (every label read from storage for
        // the even documents not hit yet), then k = 1, then again.
        for (int k : {5, 1, 5}) {
          std::vector<Hit> hits = c->SearchVector(vectors[i], {.k = k}).value();
          check_hits(hits, k);
          REQUIRE(hits[0].id == "d" + std::to_string(i));
          // Changing what a search returned changes nothing stored or cached.
          for (Hit& h : hits) {
            h.metadata["i"] = -1;
            h.metadata["tags"].push_back("changed");
          }
        }
        check_hits(c->SearchVector(vectors[i], {.k = 5}).value(), 5);
      }
    }
  }
}

}  // namespace
}  // namespace semdb
