// Store on a real RocksDB in a temporary folder: collections and counters,
// documents by id and label, vectors by generation (point, batched and
// scanned reads), chunked embedder states, the index log, parents, and what
// a collection's deletion and a read-only open leave.
#include "storage/store.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
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
    b.PutVector(1, 1, 10, v1);   // generation 1
    b.PutVector(1, 2, 10, v2);   // generation 2, same label
    b.PutVector(1, 2, 11, v1);
    b.PutVector(2, 2, 10, v1);   // another collection
    b.PutEmbedderState(1, 1, "state one");
    b.PutEmbedderState(1, 2, "state two");
  });
  CHECK(store->GetVector(1, 1, 10)->value().values == v1.values);
  CHECK(store->GetVector(1, 2, 10)->value().values == v2.values);
  CHECK(store->GetVector(1, 2, 10)->value().tokens == 4);
  CHECK_FALSE(store->GetVector(1, 1, 11)->has_value());

  // Batched: in the order asked, missing ones empty.
  std::vector<std::optional<VectorRecord>> got;
  const std::vector<uint64_t> labels = {11, 12, 10};
  REQUIRE(store->MultiGetVectors(1, 2, labels, &got).ok());
  REQUIRE(got.size() == 3);
  CHECK(got[0]->values == v1.values);
  CHECK_FALSE(got[1].has_value());
  CHECK(got[2]->values == v2.values);

  Apply(*store, [](StoreBatch& b) { b.DeleteOtherGenerations(1, 2); });
  CHECK_FALSE(store->GetVector(1, 1, 10)->has_value());
  CHECK_FALSE(store->GetEmbedderState(1, 1)->has_value());
  CHECK(*store->GetEmbedderState(1, 2) == "state two");
  std::vector<uint64_t> scanned;
  REQUIRE(store
              ->ScanVectors(1, 2,
                            [&](uint64_t label, VectorRecord&) {
                              scanned.push_back(label);
                              return absl::OkStatus();
                            })
              .ok());
  CHECK(scanned == std::vector<uint64_t>{10, 11});
  CHECK(store->GetVector(2, 2, 10)->has_value());  // untouched

  Apply(*store, [](StoreBatch& b) { b.DeleteVector(1, 2, 11); });
  CHECK_FALSE(store->GetVector(1, 2, 11)->has_value());
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
  Apply(*store, [](StoreBatch& b) { b.DeleteOtherGenerations(1, 3); });
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
      b.PutVector(1, 2, 7, VectorRecord{1, 0, {1, 0, 0}});
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
    CHECK_FALSE(store->GetVector(1, 2, 7)->has_value());
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

}  // namespace
}  // namespace semdb
