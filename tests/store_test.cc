// Store on a real RocksDB in a temporary folder: collections and counters,
// documents by id and label, vectors by generation (point, batched and
// scanned reads), chunked embedder states, the index log, parents, what
// a collection's deletion and a read-only open leave, and the document
// cache returning what RocksDB holds (after overwrites, deletes, a drop, a
// reopen, under concurrent writers) within its budget.
#include "storage/store.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "rocksdb/convenience.h"
#include "rocksdb/env.h"
#include "rocksdb/utilities/options_util.h"
#include "test_data.h"

namespace semdb {
namespace {

using testing::TempDir;

std::unique_ptr<Store> OpenStore(const std::string& path, StoreOptions options = {}) {
  absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(path, options);
  INFO(s.status());
  REQUIRE(s.ok());
  return *std::move(s);
}

void Apply(Store& store, const std::function<void(StoreBatch&)>& fill) {
  StoreBatch batch(store);
  fill(batch);
  absl::Status s = store.Write(batch, true);
  INFO(s);
  REQUIRE(s.ok());
}

CollectionRecord Record(uint32_t id, const std::string& name) {
  CollectionRecord r;
  r.id = id;
  r.name = name;
  r.embedder_spec = "tfidf dim=8";
  r.index_spec = "flat";
  r.generation = 2;
  r.dimension = 3;
  return r;
}

TEST_CASE("Store keeps collections and their counters", "[store]") {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir / "s");
  CHECK(*store->NextCollectionId() == 1);  // nothing written yet
  CHECK_FALSE(store->GetCollection("news")->has_value());
  const Counters fresh = *store->GetCounters(7);
  CHECK(fresh.next_label == 1);
  CHECK(fresh.live_docs == 0);

  Apply(*store, [](StoreBatch& b) {
    b.PutCollection(Record(7, "news"));
    b.PutCollection(Record(8, "sport"));
    b.PutNextCollectionId(9);
    b.PutCounters(7, Counters{.next_label = 40, .next_seq = 12, .live_docs = 3, .tokens = 99});
  });
  CHECK(*store->NextCollectionId() == 9);
  absl::StatusOr<std::vector<CollectionRecord>> all = store->ListCollections();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  std::vector<std::string> names = {(*all)[0].name, (*all)[1].name};
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"news", "sport"});
  std::optional<CollectionRecord> news = *store->GetCollection("news");
  REQUIRE(news.has_value());
  CHECK(news->id == 7);
  CHECK(news->Encode() == Record(7, "news").Encode());
  const Counters c = *store->GetCounters(7);
  CHECK(c.next_label == 40);
  CHECK(c.next_seq == 12);
  CHECK(c.live_docs == 3);
  CHECK(c.tokens == 99);
  CHECK(store->GetCounters(8)->live_docs == 0);  // another collection's
}

TEST_CASE("Store reads documents by id and label, per collection", "[store]") {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir / "s");
  struct Row {
    uint32_t cid;
    uint64_t label;
    std::string id;
    std::string text;
    std::string metadata;  // the JSON text, stored as given
  };
  const std::vector<Row> rows = {
      {1, 1, "a", "first text", R"({"year":2001})"},
      {1, 2, "b", std::string("with \0 byte", 11), ""},
      {1, 5, "c", "", R"({})"},
      {2, 1, "a", "the other collection's a", R"({"x":1})"},
  };
  Apply(*store, [&](StoreBatch& b) {
    for (const Row& r : rows) b.PutDocument(r.cid, r.label, {r.id, r.text, {}}, r.metadata);
  });
  for (const Row& r : rows) {
    INFO(r.cid << "/" << r.id);
    CHECK(*store->GetLabel(r.cid, r.id) == r.label);
    std::optional<DocumentRecord> d = *store->GetDocument(r.cid, r.label);
    REQUIRE(d.has_value());
    CHECK(d->id == r.id);
    CHECK(d->text == r.text);
    CHECK(*store->GetMetadata(r.cid, r.label) == r.metadata);
  }
  CHECK_FALSE(store->GetLabel(1, "nope")->has_value());
  CHECK_FALSE(store->GetDocument(1, 3)->has_value());
  CHECK_FALSE(store->GetMetadata(1, 3)->has_value());
  CHECK_FALSE(store->GetLabel(3, "a")->has_value());
  // Batched: in the order asked, missing ones (or another collection's) empty.
  std::vector<std::optional<uint64_t>> labels;
  const std::vector<std::string_view> ids = {"nope", "b", "a", ""};
  REQUIRE(store->MultiGetLabels(1, ids, &labels).ok());
  CHECK(labels == std::vector<std::optional<uint64_t>>{std::nullopt, 2, 1, std::nullopt});

  // A scan visits one collection's documents in label order, from a label on.
  std::vector<uint64_t> seen;
  REQUIRE(store
              ->ScanDocuments(
                  1,
                  [&](uint64_t label, DocumentRecord&) {
                    seen.push_back(label);
                    return absl::OkStatus();
                  },
                  2)
              .ok());
  CHECK(seen == std::vector<uint64_t>{2, 5});

  Apply(*store, [](StoreBatch& b) { b.DeleteDocument(1, 2, "b"); });
  CHECK_FALSE(store->GetLabel(1, "b")->has_value());
  CHECK_FALSE(store->GetDocument(1, 2)->has_value());
  CHECK(store->GetLabel(1, "a")->has_value());
}

TEST_CASE("Store keeps vectors per generation and drops the others", "[store]") {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir / "s");
  const VectorRecord v1{3, 1, {0.5f, -1.0f, 2.0f}};
  const VectorRecord v2{4, 0, {1.0f, 0.0f, 0.0f}};
  Apply(*store, [&](StoreBatch& b) {
    b.PutVector(1, 1, VectorStorage::kFloat32, 10, v1);   // generation 1
    b.PutVector(1, 2, VectorStorage::kFloat32, 10, v2);   // generation 2, same label
    b.PutVector(1, 2, VectorStorage::kFloat32, 11, v1);
    b.PutVector(2, 2, VectorStorage::kFloat32, 10, v1);   // another collection
    // From its parts: the same record as v2's.
    b.PutVector(2, 2, VectorStorage::kFloat32, 11, v2.tokens, v2.unknown_tokens, v2.values);
    b.PutEmbedderState(1, 1, "state one");
    b.PutEmbedderState(1, 2, "state two");
  });
  CHECK(store->GetVector(1, 1, VectorStorage::kFloat32, 10)->value().values == v1.values);
  CHECK(store->GetVector(1, 2, VectorStorage::kFloat32, 10)->value().values == v2.values);
  CHECK(store->GetVector(1, 2, VectorStorage::kFloat32, 10)->value().tokens == 4);
  CHECK_FALSE(store->GetVector(1, 1, VectorStorage::kFloat32, 11)->has_value());
  CHECK(store->GetVector(2, 2, VectorStorage::kFloat32, 11)->value().values == v2.values);
  CHECK(store->GetVector(2, 2, VectorStorage::kFloat32, 11)->value().tokens == 4);

  // Batched: in the order asked, missing ones empty.
  std::vector<std::optional<VectorRecord>> got;
  const std::vector<uint64_t> labels = {11, 12, 10};
  REQUIRE(store->MultiGetVectors(1, 2, VectorStorage::kFloat32, labels, &got).ok());
  REQUIRE(got.size() == 3);
  CHECK(got[0]->values == v1.values);
  CHECK_FALSE(got[1].has_value());
  CHECK(got[2]->values == v2.values);

  // Other generations below and above the one kept; none in collection 2.
  CHECK(*store->HasOtherGenerations(1, 2));
  CHECK(*store->HasOtherGenerations(1, 1));
  CHECK_FALSE(*store->HasOtherGenerations(2, 2));
  CHECK(*store->HasOtherGenerations(2, 1));
  Apply(*store, [](StoreBatch& b) { b.DeleteOtherGenerations(1, 2); });
  CHECK_FALSE(*store->HasOtherGenerations(1, 2));
  CHECK_FALSE(store->GetVector(1, 1, VectorStorage::kFloat32, 10)->has_value());
  CHECK_FALSE(store->GetEmbedderState(1, 1)->has_value());
  CHECK(*store->GetEmbedderState(1, 2) == "state two");
  std::vector<uint64_t> scanned;
  REQUIRE(store
              ->ScanVectors(1, 2, VectorStorage::kFloat32,
                            [&](uint64_t label, VectorRecord&) {
                              scanned.push_back(label);
                              return absl::OkStatus();
                            })
              .ok());
  CHECK(scanned == std::vector<uint64_t>{10, 11});
  CHECK(store->GetVector(2, 2, VectorStorage::kFloat32, 10)->has_value());  // untouched

  Apply(*store, [](StoreBatch& b) { b.DeleteVector(1, 2, 11); });
  CHECK_FALSE(store->GetVector(1, 2, VectorStorage::kFloat32, 11)->has_value());
}

TEST_CASE("Store splits large states into chunks and keeps index training apart",
          "[store]") {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir / "s");
  // Over two chunks (4 MiB each), with every byte value.
  std::string state(9 << 20, '\0');
  for (size_t i = 0; i < state.size(); ++i) state[i] = static_cast<char>(i * 7 + (i >> 12));
  Apply(*store, [&](StoreBatch& b) {
    b.PutEmbedderState(1, 3, state);
    b.PutIndexTraining(1, 3, "centroids");
    b.PutEmbedderState(1, 4, "");
  });
  CHECK(*store->GetEmbedderState(1, 3) == state);
  CHECK(*store->GetIndexTraining(1, 3) == "centroids");
  CHECK(*store->GetEmbedderState(1, 4) == "");
  CHECK_FALSE(store->GetIndexTraining(1, 4)->has_value());
  // Keeping generation 3 keeps all its chunks and its training.
  CHECK(*store->HasOtherGenerations(1, 3));  // generation 4's state
  Apply(*store, [](StoreBatch& b) { b.DeleteOtherGenerations(1, 3); });
  CHECK_FALSE(*store->HasOtherGenerations(1, 3));
  CHECK_FALSE(store->GetEmbedderState(1, 4)->has_value());
  CHECK(*store->GetEmbedderState(1, 3) == state);
  CHECK(*store->GetIndexTraining(1, 3) == "centroids");
}

TEST_CASE("Store keeps the index log, parents, and removes a whole collection", "[store]") {
  TempDir dir;
  {
    std::unique_ptr<Store> store = OpenStore(dir / "s");
    Apply(*store, [](StoreBatch& b) {
      b.PutCollection(Record(1, "c"));
      for (uint64_t seq = 1; seq <= 5; ++seq) {
        b.AppendLog(1, seq, LogOp{seq % 2 ? LogOp::kAdd : LogOp::kRemove, 100 + seq});
      }
      b.PutParent(1, "doc", ParentRecord{R"({"k":1})", {7, 8}}, "the whole text");
      b.PutDocument(1, 7, {"doc#0", "the whole", {}}, "");
      b.PutVector(1, 2, VectorStorage::kFloat32, 7, VectorRecord{1, 0, {1, 0, 0}});
    });
    CHECK(*store->FirstLogSeq(1) == 1);
    Apply(*store, [](StoreBatch& b) { b.TruncateLog(1, 4); });
    CHECK(*store->FirstLogSeq(1) == 4);
    std::vector<std::pair<uint64_t, uint64_t>> log;
    REQUIRE(store
                ->ScanLog(1, 5,
                          [&](uint64_t seq, const LogOp& op) {
                            log.emplace_back(seq, op.label);
                            return absl::OkStatus();
                          })
                .ok());
    CHECK(log == std::vector<std::pair<uint64_t, uint64_t>>{{5, 105}});

    std::optional<ParentRecord> parent = *store->GetParent(1, "doc");
    REQUIRE(parent.has_value());
    CHECK(parent->passage_labels == std::vector<uint64_t>{7, 8});
    CHECK(parent->metadata_json == R"({"k":1})");
    CHECK(*store->GetParentText(1, "doc") == "the whole text");

    Apply(*store, [](StoreBatch& b) { b.DeleteCollection(Record(1, "c")); });
    CHECK_FALSE(store->GetCollection("c")->has_value());
    CHECK_FALSE(store->GetParent(1, "doc")->has_value());
    CHECK_FALSE(store->GetDocument(1, 7)->has_value());
    CHECK_FALSE(store->GetVector(1, 2, VectorStorage::kFloat32, 7)->has_value());
    CHECK_FALSE(store->FirstLogSeq(1)->has_value());
    Apply(*store, [](StoreBatch& b) { b.PutCollection(Record(2, "kept")); });
  }
  // Reopened read-only: what was written is there, and writes are refused.
  std::unique_ptr<Store> ro = OpenStore(dir / "s", {.create_if_missing = false, .read_only = true});
  CHECK(ro->GetCollection("kept")->has_value());
  StoreBatch batch(*ro);
  batch.PutCollection(Record(3, "refused"));
  CHECK(absl::IsFailedPrecondition(ro->Write(batch, false)));
}

// The documents of `labels` and their metadata by MultiGetDocuments: the
// text, or "-" for a missing document, and the metadata, or "-".
std::vector<std::pair<std::string, std::string>> ReadBoth(const Store& store, uint32_t cid,
                                                          const std::vector<uint64_t>& labels) {
  std::vector<std::optional<DocumentRecord>> docs;
  std::vector<MetadataValue> metadata;
  absl::Status s = store.MultiGetDocuments(cid, labels, labels, &docs, &metadata);
  INFO(s);
  REQUIRE(s.ok());
  REQUIRE(docs.size() == labels.size());
  REQUIRE(metadata.size() == labels.size());
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < labels.size(); ++i) {
    out.emplace_back(docs[i] ? docs[i]->text : "-", metadata[i] ? metadata[i]->dump() : "-");
  }
  return out;
}

TEST_CASE("Store's document cache returns what RocksDB holds", "[store][cache]") {
  TempDir dir;
  const StoreOptions cached{.document_cache_bytes = 1 << 20};
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  {
    std::unique_ptr<Store> store = OpenStore(dir / "s", cached);
    Apply(*store, [](StoreBatch& b) {
      b.PutDocument(1, 1, {"a", "one", {}}, R"({"v":1})");
      b.PutDocument(1, 2, {"b", "two", {}}, R"({"v":2})");
      b.PutDocument(1, 3, {"c", "three", {}}, R"({"v":3})");
      b.PutDocument(2, 1, {"a", "other", {}}, R"({"v":9})");
    });
    CHECK(store->document_cache_usage().entries == 0);  // writes do not fill it
    const Pairs first = {{"one", R"({"v":1})"}, {"two", R"({"v":2})"}, {"three", R"({"v":3})"},
                         {"-", "-"}};
    CHECK(ReadBoth(*store, 1, {1, 2, 3, 4}) == first);
    CHECK(store->document_cache_usage().entries == 3);  // the missing one is not kept
    CHECK(store->document_cache_usage().bytes > 0);
    CHECK(ReadBoth(*store, 1, {1, 2, 3, 4}) == first);  // now from the cache
    CHECK(ReadBoth(*store, 2, {1}) == Pairs{{"other", R"({"v":9})"}});

    // Only the text, or only the metadata, asked for.
    std::vector<std::optional<DocumentRecord>> docs;
    std::vector<MetadataValue> metadata;
    const std::vector<uint64_t> one = {1};
    REQUIRE(store->MultiGetDocuments(1, one, {}, &docs, &metadata).ok());
    REQUIRE(docs.size() == 1);
    CHECK(docs[0]->id == "a");
    CHECK(metadata.empty());
    REQUIRE(store->MultiGetDocuments(1, {}, one, &docs, &metadata).ok());
    CHECK(docs.empty());
    REQUIRE(metadata.size() == 1);
    CHECK(*metadata[0] == nlohmann::json{{"v", 1}});
    // Texts of some labels and metadata of others (a missing one among
    // them) in one call, each in the order asked.
    for (int round = 0; round < 2; ++round) {
      REQUIRE(store
                  ->MultiGetDocuments(1, std::vector<uint64_t>{3, 1},
                                      std::vector<uint64_t>{2, 4, 1}, &docs, &metadata)
                  .ok());
      REQUIRE(docs.size() == 2);
      CHECK(docs[0]->text == "three");
      CHECK(docs[1]->text == "one");
      REQUIRE(metadata.size() == 3);
      CHECK(*metadata[0] == nlohmann::json{{"v", 2}});
      CHECK(!metadata[1].has_value());
      CHECK(*metadata[2] == nlohmann::json{{"v", 1}});
    }
    // Metadata of every kind comes back from the cache as RocksDB holds it,
    // and stored bytes that are not JSON as a discarded value.
    const std::string varied =
        R"({"a":[1,-2,3.5,-0.0,null,true,{"b":"\u00e9"}],"u":18446744073709551615,"z":{}})";
    Apply(*store, [&](StoreBatch& b) {
      b.PutDocument(3, 1, {"v", "varied", {}}, varied);
      b.PutDocument(3, 2, {"w", "not json", {}}, "{not json");
    });
    for (int round = 0; round < 2; ++round) {  // read, then from the cache
      REQUIRE(store->MultiGetDocuments(3, {}, std::vector<uint64_t>{1, 2}, &docs, &metadata).ok());
      REQUIRE(metadata.size() == 2);
      CHECK(metadata[0]->dump() == nlohmann::json::parse(varied).dump());
      CHECK(metadata[0]->at("u").is_number_unsigned());
      CHECK(metadata[1]->is_discarded());
    }

    // Overwritten (an upsert, a metadata update), deleted, written anew.
    Apply(*store, [](StoreBatch& b) {
      b.PutDocument(1, 1, {"a", "one again", {}}, R"({"v":10})");
      b.PutDocument(1, 2, {"b", "two", {}}, R"({"v":20})");
      b.DeleteDocument(1, 3, "c");
      b.PutDocument(1, 4, {"d", "four", {}}, R"({"v":4})");
    });
    const Pairs second = {{"one again", R"({"v":10})"}, {"two", R"({"v":20})"}, {"-", "-"},
                          {"four", R"({"v":4})"}};
    CHECK(ReadBoth(*store, 1, {1, 2, 3, 4}) == second);
    CHECK(ReadBoth(*store, 1, {1, 2, 3, 4}) == second);
    // A passage's position comes back with its text.
    Apply(*store, [](StoreBatch& b) {
      b.PutDocument(1, 5, {"p#1", "a passage", PassageLocation{"p", 1, 2, 10, 19}}, "{}");
    });
    for (int round = 0; round < 2; ++round) {
      REQUIRE(store->MultiGetDocuments(1, std::vector<uint64_t>{5}, {}, &docs, &metadata).ok());
      REQUIRE(docs[0]->passage.has_value());
      CHECK(*docs[0]->passage == PassageLocation{"p", 1, 2, 10, 19});
    }

    // A dropped collection's documents are gone from the cache too; the
    // other collection's stay.
    Apply(*store, [](StoreBatch& b) { b.DeleteCollection(Record(1, "c")); });
    CHECK(ReadBoth(*store, 1, {1, 2, 4}) == Pairs(3, {"-", "-"}));
    CHECK(ReadBoth(*store, 2, {1}) == Pairs{{"other", R"({"v":9})"}});
    Apply(*store, [](StoreBatch& b) {
      b.PutDocument(1, 1, {"a", "after the drop", {}}, "{}");
    });
    CHECK(ReadBoth(*store, 1, {1}) == Pairs{{"after the drop", "{}"}});
  }
  // Reopened: an empty cache, the stored values; with the cache off too.
  for (size_t budget : {size_t{1} << 20, size_t{0}}) {
    std::unique_ptr<Store> store = OpenStore(dir / "s", {.document_cache_bytes = budget});
    CHECK(store->document_cache_usage().entries == 0);
    for (int round = 0; round < 2; ++round) {
      CHECK(ReadBoth(*store, 1, {1, 2}) == Pairs{{"after the drop", "{}"}, {"-", "-"}});
      CHECK(ReadBoth(*store, 2, {1}) == Pairs{{"other", R"({"v":9})"}});
    }
    CHECK((store->document_cache_usage().entries > 0) == (budget > 0));
  }
}

TEST_CASE("Store's document cache stays within its budget", "[store][cache]") {
  TempDir dir;
  constexpr size_t kBudget = 16 << 10;
  std::unique_ptr<Store> store = OpenStore(dir / "s", {.document_cache_bytes = kBudget});
  auto text = [](uint64_t label) { return std::string(200, 'a' + label % 26) + std::to_string(label); };
  Apply(*store, [&](StoreBatch& b) {
    for (uint64_t label = 1; label <= 500; ++label) {
      b.PutDocument(1, label, {std::to_string(label), text(label), {}},
                    R"({"n":)" + std::to_string(label) + "}");
    }
  });
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t first = 1; first <= 500; first += 10) {
      std::vector<uint64_t> labels;
      for (uint64_t l = first; l < first + 10; ++l) labels.push_back(l);
      const auto read = ReadBoth(*store, 1, labels);
      for (size_t i = 0; i < labels.size(); ++i) {
        REQUIRE(read[i].first == text(labels[i]));
        REQUIRE(read[i].second == R"({"n":)" + std::to_string(labels[i]) + "}");
      }
      REQUIRE(store->document_cache_usage().bytes <= kBudget);
    }
  }
  const Store::CacheUsage usage = store->document_cache_usage();
  CHECK(usage.entries > 10);  // the last reads are kept
  CHECK(usage.entries < 500);
}

// A writer rewrites 8 documents, each write putting the same version number
// in a document's text and metadata and publishing it once Write returned;
// readers check that every read gives, for each document, one version in
// both fields, never older than the version published before the read.
TEST_CASE("Store's document cache never serves a replaced value to concurrent readers",
          "[store][cache]") {
  TempDir dir;
  std::unique_ptr<Store> store = OpenStore(dir / "s", {.document_cache_bytes = 1 << 20});
  constexpr int kDocs = 8, kVersions = 3000;
  std::vector<uint64_t> labels;
  for (int d = 0; d < kDocs; ++d) labels.push_back(d + 1);
  auto put = [&](int d, int version) {
    StoreBatch b(*store);
    b.PutDocument(1, d + 1, {std::to_string(d), std::to_string(version), {}},
                  std::to_string(version));
    return store->Write(b, false);
  };
  for (int d = 0; d < kDocs; ++d) REQUIRE(put(d, 0).ok());
  std::vector<std::atomic<int>> published(kDocs);
  std::atomic<bool> done{false};
  std::atomic<int64_t> reads{0}, stale{0}, mixed{0}, failed{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      std::vector<std::optional<DocumentRecord>> docs;
      std::vector<MetadataValue> metadata;
      while (!done.load()) {
        std::vector<int> before(kDocs);
        for (int d = 0; d < kDocs; ++d) before[d] = published[d].load();
        if (!store->MultiGetDocuments(1, labels, labels, &docs, &metadata).ok()) {
          ++failed;
          continue;
        }
        for (int d = 0; d < kDocs; ++d) {
          if (!docs[d] || !metadata[d]) {
            ++failed;
            continue;
          }
          const int version = std::stoi(docs[d]->text);
          stale += version < before[d];
          mixed += metadata[d]->dump() != docs[d]->text;
        }
        ++reads;
      }
    });
  }
  for (int v = 1; v <= kVersions; ++v) {
    const int d = v % kDocs;
    REQUIRE(put(d, v).ok());
    published[d].store(v);
  }
  done.store(true);
  for (std::thread& t : readers) t.join();
  INFO(reads.load() << " reads");
  CHECK(reads.load() > 0);
  CHECK(failed.load() == 0);
  CHECK(stale.load() == 0);
  CHECK(mixed.load() == 0);
  // After the writer: the last versions, from RocksDB and then the cache.
  for (int round = 0; round < 2; ++round) {
    const auto read = ReadBoth(*store, 1, labels);
    for (int d = 0; d < kDocs; ++d) CHECK(read[d].first == std::to_string(published[d].load()));
  }
}

// RocksDB 7.x's manual Flush can wait forever for a memtable that its
// flush job left out when memtables are merged before flushing (RocksDB
// issues 13280, 12094; an import's refit hung so in Store::Flush): every
// family flushes each memtable on its own.
TEST_CASE("Store's column families flush each memtable on its own", "[store]") {
  TempDir dir;
  { std::unique_ptr<Store> store = OpenStore(dir / "s"); }
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  rocksdb::ConfigOptions config;
  config.env = rocksdb::Env::Default();
  REQUIRE(rocksdb::LoadLatestOptions(config, dir / "s", &db_options, &families).ok());
  REQUIRE(families.size() == 11);
  for (const rocksdb::ColumnFamilyDescriptor& f : families) {
    INFO(f.name);
    CHECK(f.options.min_write_buffer_number_to_merge == 1);
  }
}

}  // namespace
}  // namespace semdb
