// Exported models (semdb/model_state.h) and keyword statistics across
// collections, on the Lee corpus with real RocksDB, FAISS and TF-IDF: a
// model fitted once and installed elsewhere embeds identically; vectors of
// another model are refused; BM25 with summed statistics over two halves
// of a corpus scores as over the whole.
#include <algorithm>
#include <filesystem>
#include <tuple>
#include <map>

#include "catch2/catch.hpp"
#include "semdb/database.h"
#include "semdb/model_state.h"
#include "test_data.h"
#include "test_database.h"

namespace semdb {
namespace {

using testing::MakeCollection;
using testing::OpenDb;
using testing::TempDir;

constexpr char kLee[] = "gensim/lee_background.cor";

// Article i (1-based) of the Lee corpus as document "lee-i", {"line": i}.
std::vector<Document> LeeDocuments() {
  return testing::LeeDocuments([](int line) -> nlohmann::json { return {{"line", line}}; });
}

const std::vector<std::string> kQueries = {
    "bushfires in New South Wales", "the Palestinian leader Arafat", "cricket test match",
    "interest rates and the Reserve Bank", "asylum seekers on a boat", "the Taliban in Afghanistan",
    "qantas airline workers strike", "police shot a man"};

// The documents of `docs` with the vectors and stats `model` gives them.
std::vector<Document> Embedded(const Model& model, std::vector<Document> docs) {
  std::vector<std::string_view> texts;
  for (const Document& d : docs) texts.push_back(d.text);
  std::vector<float> vectors(docs.size() * model.dimension());
  std::vector<TextStats> stats;
  REQUIRE(model.Embed(texts, absl::MakeSpan(vectors), &stats).ok());
  for (size_t i = 0; i < docs.size(); ++i) {
    docs[i].vector.assign(vectors.begin() + i * model.dimension(),
                          vectors.begin() + (i + 1) * model.dimension());
    docs[i].stats = stats[i];
  }
  return docs;
}

void RequireSameHits(const std::vector<Hit>& a, const std::vector<Hit>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("hit " << i << ": " << a[i].id << " vs " << b[i].id);
    CHECK(a[i].score == b[i].score);
    if (i + 1 < a.size() && a[i].score != a[i + 1].score && (i == 0 || a[i - 1].score != a[i].score)) {
      CHECK(a[i].id == b[i].id);  // ties may come in either order
    }
  }
}

TEST_CASE("an exported model installed elsewhere embeds and searches identically",
          "[model_state]") {
  SEMDB_REQUIRE_SHARED_DATA(kLee);
  TempDir dir;
  auto db = OpenDb(dir.path());
  std::vector<Document> docs = LeeDocuments();
  auto source = MakeCollection(*db, "source", {.embedder = "tfidf dim=64"});
  REQUIRE(source->InsertBatch(docs).ok());
  absl::StatusOr<ModelState> model = source->ExportModel();
  REQUIRE(model.ok());
  CHECK(model->dimension == 64);
  const std::string fingerprint = model->Fingerprint();
  CHECK(fingerprint.size() == 16);

  // The bytes round-trip, and garbage is refused clearly.
  absl::StatusOr<ModelState> decoded = ModelState::Decode(model->Encode());
  REQUIRE(decoded.ok());
  CHECK(decoded->Fingerprint() == fingerprint);
  CHECK(ModelState::Decode("not a model").status().code() == absl::StatusCode::kInvalidArgument);

  // A standalone model embeds as the collection does.
  absl::StatusOr<std::unique_ptr<Model>> standalone = Model::Load(*decoded);
  REQUIRE(standalone.ok());
  CHECK((*standalone)->fingerprint() == fingerprint);
  std::vector<std::string_view> texts(kQueries.begin(), kQueries.end());
  std::vector<float> mine(texts.size() * 64);
  REQUIRE((*standalone)->Embed(texts, absl::MakeSpan(mine), nullptr).ok());
  absl::StatusOr<std::vector<float>> theirs = source->Embed(texts);
  REQUIRE(theirs.ok());
  CHECK(mine == *theirs);

  // A new collection takes the model without a fit of its own, and the
  // documents with their vectors embedded elsewhere.
  auto target = MakeCollection(*db, "target", {.embedder = "tfidf dim=64"});
  REQUIRE(target->InstallModel(*decoded).ok());
  REQUIRE(target->WriteEmbedded(Embedded(**standalone, docs), fingerprint, false).ok());
  CHECK(target->Count() == static_cast<int64_t>(docs.size()));
  CHECK(target->ExportModel()->Fingerprint() == fingerprint);
  for (const std::string& q : kQueries) {
    INFO(q);
    for (std::optional<double> hybrid : {std::optional<double>(0.0), std::optional<double>()}) {
      absl::StatusOr<std::vector<Hit>> a = source->Search(q, {.k = 10, .hybrid = hybrid});
      absl::StatusOr<std::vector<Hit>> b = target->Search(q, {.k = 10, .hybrid = hybrid});
      REQUIRE(a.ok());
      REQUIRE(b.ok());
      RequireSameHits(*a, *b);
    }
  }
  // What the embedder saw came along with the vectors.
  CHECK(target->Get("lee-7")->stats.tokens == source->Get("lee-7")->stats.tokens);
}

TEST_CASE("the model-version guard refuses vectors of another model", "[model_state]") {
  SEMDB_REQUIRE_SHARED_DATA(kLee);
  TempDir dir;
  std::vector<Document> docs = LeeDocuments();
  std::string fingerprint;
  {
    auto db = OpenDb(dir.path());
    auto a = MakeCollection(*db, "a", {.embedder = "tfidf dim=32"});
    REQUIRE(a->InsertBatch({docs.begin(), docs.begin() + 150}).ok());
    auto b = MakeCollection(*db, "b", {.embedder = "tfidf dim=32"});
    REQUIRE(b->InsertBatch({docs.begin() + 150, docs.end()}).ok());
    ModelState model_a = *a->ExportModel();
    ModelState model_b = *b->ExportModel();
    REQUIRE(model_a.Fingerprint() != model_b.Fingerprint());
    fingerprint = model_a.Fingerprint();

    auto shard = MakeCollection(*db, "shard", {.embedder = "tfidf dim=32"});
    REQUIRE(shard->InstallModel(model_a).ok());
    std::unique_ptr<Model> embed_b = *Model::Load(model_b);
    absl::StatusOr<std::vector<std::string>> refused = shard->WriteEmbedded(
        Embedded(*embed_b, {docs.begin(), docs.begin() + 10}), model_b.Fingerprint(), false);
    REQUIRE(refused.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(std::string(refused.status().message()),
               Catch::Contains("refuses vectors embedded under model " + model_b.Fingerprint()));
    CHECK(shard->Count() == 0);
    // A vector without the fingerprint is refused as before.
    std::vector<Document> one = Embedded(*embed_b, {docs.front()});
    CHECK(shard->InsertBatch(one).status().code() == absl::StatusCode::kInvalidArgument);

    // Texts embedded by the shard itself and by the model agree; the
    // installed model stays as the collection grows (no refit of its own).
    std::unique_ptr<Model> embed_a = *Model::Load(model_a);
    REQUIRE(shard->WriteEmbedded(Embedded(*embed_a, {docs.begin(), docs.begin() + 5}),
                                 fingerprint, false).ok());
    REQUIRE(shard->InsertBatch({docs.begin() + 5, docs.end()}).ok());
    CHECK(shard->Info().model_version == 1);
    CHECK(shard->ExportModel()->Fingerprint() == fingerprint);
    CHECK(shard->Refit().code() == absl::StatusCode::kFailedPrecondition);

    // Installing another model re-embeds every document (a new version).
    REQUIRE(shard->InstallModel(model_b).ok());
    CHECK(shard->Info().model_version == 2);
    CHECK(shard->Count() == static_cast<int64_t>(docs.size()));
    absl::StatusOr<std::vector<Hit>> via_shard = shard->Search(kQueries[0], {.k = 5, .hybrid = 0});
    absl::StatusOr<std::vector<Hit>> via_vector =
        shard->SearchVector(*b->Embed(std::vector<std::string_view>{kQueries[0]}), {.k = 5});
    REQUIRE(via_shard.ok());
    REQUIRE(via_vector.ok());
    RequireSameHits(*via_shard, *via_vector);
    REQUIRE(shard->InstallModel(model_a).ok());
  }
  // The installed model and its fingerprint survive a reopen.
  auto db = OpenDb(dir.path());
  auto shard = *db->GetCollection("shard");
  CHECK(shard->ExportModel()->Fingerprint() == fingerprint);
  CHECK(shard->Info().model_version == 3);
  Document extra{.id = "extra", .text = "bushfires near Sydney"};
  std::unique_ptr<Model> model = *Model::Load(*shard->ExportModel());
  CHECK(shard->WriteEmbedded(Embedded(*model, {extra}), fingerprint, true).ok());
  // Other kinds and caller-vector collections take no model.
  auto vectors = MakeCollection(*db, "vectors", {.embedder = "vectors dim=32"});
  CHECK(vectors->InstallModel(*shard->ExportModel()).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(vectors->ExportModel().status().code() == absl::StatusCode::kFailedPrecondition);
}

// What the collection's index says of its training (index_facts).
std::pair<std::string, uint64_t> Training(const Collection& c) {
  const nlohmann::json facts = c.Stats().index_facts;
  INFO(facts.dump());
  REQUIRE(facts.value("type", "") == "ivf");
  return {facts.value("training", ""), facts.value("centroids_crc32", uint64_t{0})};
}

TEST_CASE("an index training installed with the model is used at any size, kept across "
          "reopen and rebuild, and never retrained", "[model_state]") {
  SEMDB_REQUIRE_SHARED_DATA(kLee);
  TempDir dir;
  const std::filesystem::path root(dir.path());
  std::vector<Document> docs = LeeDocuments();
  const char kIvf[] = "ivf nlist=4 nprobe=2";
  ModelState trained;
  uint64_t centroids = 0;
  {
    auto db = OpenDb(dir.path());
    auto source = MakeCollection(*db, "source", {.embedder = "tfidf dim=32"});
    REQUIRE(source->InsertBatch(docs).ok());
    absl::StatusOr<ModelState> model = source->ExportModel();
    REQUIRE(model.ok());
    CHECK(model->index.empty());
    // Trained once on the model's vectors of the first 200 articles.
    std::vector<std::string_view> texts;
    for (int i = 0; i < 200; ++i) texts.push_back(docs[i].text);
    absl::StatusOr<std::vector<float>> sample = source->Embed(texts);
    REQUIRE(sample.ok());
    CHECK(TrainIndex(*model, "flat", *sample).status().code() ==
          absl::StatusCode::kInvalidArgument);  // nothing to learn
    CHECK(TrainIndex(*model, kIvf, absl::MakeSpan(*sample).subspan(0, 31)).status().code() ==
          absl::StatusCode::kInvalidArgument);  // not whole rows
    absl::StatusOr<ModelState> with_index = TrainIndex(*model, kIvf, *sample);
    REQUIRE(with_index.ok());
    trained = *with_index;
    CHECK(trained.index == kIvf);
    CHECK(!trained.index_training.empty());
    CHECK(trained.Fingerprint() != model->Fingerprint());
    absl::StatusOr<ModelState> decoded = ModelState::Decode(trained.Encode());
    REQUIRE(decoded.ok());
    CHECK(decoded->state == trained.state);
    CHECK(decoded->index_training == trained.index_training);
    CHECK(decoded->Fingerprint() == trained.Fingerprint());
    std::string cut = trained.Encode();
    cut.resize(cut.size() - trained.index_training.size() - trained.state.size() - 1);
    CHECK(ModelState::Decode(cut).status().code() == absl::StatusCode::kInvalidArgument);

    // A collection of another index refuses it; one of this index uses its
    // centroids from its first document on (an IVF collection of its own
    // would serve flat until 39 x nlist vectors, then train).
    auto flat = MakeCollection(*db, "flat", {.embedder = "tfidf dim=32"});
    CHECK(flat->InstallModel(trained).code() == absl::StatusCode::kInvalidArgument);
    auto target = MakeCollection(*db, "target", {.embedder = "tfidf dim=32", .index = kIvf});
    REQUIRE(target->InstallModel(trained).ok());
    std::tie(std::ignore, centroids) = Training(*target);
    CHECK(centroids != 0);
    REQUIRE(target->InsertBatch({docs.begin(), docs.begin() + 10}).ok());
    CHECK(Training(*target) == std::make_pair(std::string("installed"), centroids));
    // 30x the documents: no retraining on its own vectors.
    REQUIRE(target->InsertBatch({docs.begin() + 10, docs.end()}).ok());
    CHECK(Training(*target) == std::make_pair(std::string("installed"), centroids));
    CHECK(target->ExportModel()->Fingerprint() == trained.Fingerprint());
    CHECK(target->ExportModel()->index_training == trained.index_training);
    // Its index stays that of the training.
    CHECK(target->SetIndex("ivf nlist=8").code() == absl::StatusCode::kFailedPrecondition);
    // An index trained on this collection's own vectors has other centroids.
    REQUIRE(source->SetIndex(kIvf).ok());
    CHECK(Training(*source).first == "own");
    CHECK(Training(*source).second != centroids);
  }
  {  // Reopened from the saved index file.
    auto db = OpenDb(dir.path());
    auto target = *db->GetCollection("target");
    CHECK(target->Stats().index_origin.starts_with("loaded"));
    CHECK(Training(*target) == std::make_pair(std::string("installed"), centroids));
  }
  // Rebuilt from stored vectors: with the stored training.
  std::filesystem::remove_all(root / "indexes");
  std::filesystem::create_directory(root / "indexes");
  auto db = OpenDb(dir.path());
  auto target = *db->GetCollection("target");
  CHECK(target->Stats().index_origin.starts_with("rebuilt"));
  CHECK(Training(*target) == std::make_pair(std::string("installed"), centroids));
  CHECK(target->ExportModel()->Fingerprint() == trained.Fingerprint());
  absl::StatusOr<std::vector<Hit>> hits = target->Search(kQueries[0], {.k = 5, .hybrid = 0.0});
  REQUIRE(hits.ok());
  CHECK(hits->size() == 5);
}

TEST_CASE("BM25 with summed statistics over two halves scores as over the whole",
          "[model_state][keyword]") {
  SEMDB_REQUIRE_SHARED_DATA(kLee);
  TempDir dir;
  auto db = OpenDb(dir.path());
  std::vector<Document> docs = LeeDocuments();
  auto whole = MakeCollection(*db, "whole");
  auto odd = MakeCollection(*db, "odd");
  auto even = MakeCollection(*db, "even");
  REQUIRE(whole->InsertBatch(docs).ok());
  std::vector<Document> halves[2];
  for (size_t i = 0; i < docs.size(); ++i) halves[i % 2].push_back(docs[i]);
  REQUIRE(odd->InsertBatch(halves[0]).ok());
  REQUIRE(even->InsertBatch(halves[1]).ok());
  for (const std::string& q : kQueries) {
    INFO(q);
    KeywordStatistics global = *odd->GetKeywordStatistics(q);
    global.Add(*even->GetKeywordStatistics(q));
    KeywordStatistics expected = *whole->GetKeywordStatistics(q);
    CHECK(global.documents == expected.documents);
    CHECK(global.length == expected.length);
    CHECK(global.document_frequency == expected.document_frequency);
    for (const char* where : {"", "line > 100"}) {
      SearchOptions options{.k = 10};
      if (*where) options.filter = *Filter::Parse(where);
      std::vector<Hit> merged = *odd->KeywordSearch(q, options, &global);
      std::vector<Hit> more = *even->KeywordSearch(q, options, &global);
      merged.insert(merged.end(), more.begin(), more.end());
      std::stable_sort(merged.begin(), merged.end(),
                       [](const Hit& a, const Hit& b) { return a.score > b.score; });
      merged.resize(std::min<size_t>(merged.size(), 10));
      RequireSameHits(*whole->KeywordSearch(q, options), merged);
      // Without the global statistics each half scores by its own.
      if (!*where) CHECK((*odd->KeywordSearch(q, options)).front().score != merged.front().score);
    }
  }
  CHECK(odd->KeywordSearch(" ", {}).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace semdb
