// Collections embedded by each embedder kind, end to end through the API:
// word vectors (GloVe text, fastText .bin), the transformer model folder,
// and a model file replaced under a collection.
#include <filesystem>
#include <cstdlib>
#include <fstream>

#include "absl/strings/ascii.h"

#include "catch2/catch.hpp"
#include "semdb/database.h"
#include "test_data.h"
#include "test_database.h"

namespace semdb {
namespace {

using testing::OpenDb;
using testing::SharedData;
using testing::TempDir;
using testing::TestData;

std::shared_ptr<Collection> Create(Database& db, const std::string& name,
                                   const std::string& embedder) {
  return testing::MakeCollection(db, name, {.embedder = embedder, .index = "flat"});
}

std::vector<Hit> Search(const Collection& c, std::string_view q, int k) {
  absl::StatusOr<std::vector<Hit>> hits = c.Search(q, {.k = k});
  INFO(hits.status().message());
  REQUIRE(hits.ok());
  return *std::move(hits);
}

TEST_CASE("a GloVe collection: insert, search, word queries, and a cached reopen",
          "[embedders][glove]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/test_glove.txt");
  TempDir dir;
  const std::string spec = "glove path=" + SharedData("gensim/test_glove.txt");
  {
    auto db = OpenDb(dir.path());
    auto c = Create(*db, "g", spec);
    REQUIRE(c->Info().dimension == 50);
    REQUIRE(c->InsertBatch({{.id = "people", .text = "People said they would be out this year."},
                            {.id = "her", .text = "She said that her first one was new."},
                            {.id = "none", .text = "Zebras xylophones quokkas."}})
                .ok());
    REQUIRE(c->Get("people")->stats.tokens == 8);
    REQUIRE(c->Get("none")->stats.unknown_tokens == 3);
    REQUIRE(c->Get("none")->stats.zero_vector);
    REQUIRE(Search(*c, "people said they would be out", 1)[0].id == "people");
    REQUIRE(c->Stats().unknown_tokens == 3 + 0);

    absl::StatusOr<std::vector<WordMatch>> words = c->NearestWords("his - he + she", 3);
    REQUIRE(words.ok());
    REQUIRE((*words)[0].word == "her");
    REQUIRE((*words)[0].cosine == Approx(0.9929).margin(1e-4));
    REQUIRE(c->NearestWords("zebra", 3).status().code() == absl::StatusCode::kNotFound);
    REQUIRE(c->NearestWords("he +", 3).status().code() == absl::StatusCode::kInvalidArgument);
    REQUIRE(c->Stats().embedder_facts["cache_built_on_open"] == true);
  }
  auto db = OpenDb(dir.path());
  auto c = *db->GetCollection("g");
  nlohmann::json facts = c->Stats().embedder_facts;
  REQUIRE(facts["cache_built_on_open"] == false);  // mapped from the cache
  REQUIRE(facts["cache"].get<std::string>().starts_with(dir / "cache/"));
  REQUIRE(Search(*c, "she said her first", 1)[0].id == "her");
}

TEST_CASE("stats name the BLAS kernels the embedder runs on, as the environment chose them",
          "[embedders][blas]") {
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto c = Create(*db, "t", "tfidf");
  REQUIRE(c->InsertBatch({{.id = "a", .text = "bushfires burn near Sydney"},
                          {.id = "b", .text = "the batsman scored a century"}})
              .ok());
  const nlohmann::json blas = c->Stats().embedder_facts["blas"];
  INFO(blas.dump());
  const std::string core = blas["core"].get<std::string>();
  REQUIRE_FALSE(core.empty());
  REQUIRE(blas["library"].get<std::string>().starts_with("OpenBLAS"));
  REQUIRE(blas["threads"].get<int>() >= 1);
  // A preset OPENBLAS_CORETYPE is what runs (OpenBLAS matches it without
  // regard to case); without one, OpenBLAS chose from the CPU.
  if (const char* preset = std::getenv("OPENBLAS_CORETYPE"); preset != nullptr && *preset) {
    REQUIRE(blas["coretype_preset"] == preset);
    REQUIRE(absl::AsciiStrToLower(core) == absl::AsciiStrToLower(preset));
  } else {
    REQUIRE(blas["coretype_preset"].is_null());
  }
}

TEST_CASE("a fastText collection builds unknown words from n-grams", "[embedders][fasttext]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_fasttext_new.bin");
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto c = Create(*db, "ft", "fasttext path=" + SharedData("gensim/lee_fasttext_new.bin"));
  REQUIRE(c->InsertBatch({{.id = "fire", .text = "Firefighters battled bushfires near Sydney"},
                          {.id = "cricket", .text = "The batsman scored a century in the Test"},
                          {.id = "oov", .text = "Qwertyuiopasdf zxcvbnmlkjh"}})
              .ok());
  Document oov = c->Get("oov").value();
  REQUIRE(oov.stats.unknown_tokens == 2);
  REQUIRE_FALSE(oov.stats.zero_vector);  // n-gram vectors, not zeros
  REQUIRE(Search(*c, "Firefighters battled bushfires near Sydney", 1)[0].id == "fire");
  absl::StatusOr<WordSimilarityResult> eval =
      c->EvaluateWordSimilarity(SharedData("gensim/wordsim353.tsv"));
  REQUIRE(eval.ok());
  REQUIRE(eval->pairs_used == 353);
  REQUIRE(eval->pairs_with_subwords == 314);
  REQUIRE(eval->spearman == Approx(-0.0486).margin(1e-4));
}

TEST_CASE("transformer collections on each architecture's model folder",
          "[embedders][transformer]") {
  const std::vector<std::string> texts = {
      "The quick brown fox jumps over the lazy dog.",
      "Stock markets fell sharply after the announcement.",
      "A new species of frog was discovered in the rainforest.",
      "The orchestra played Beethoven's ninth symphony.",
  };
  for (auto [folder, dimension] :
       {std::pair{"bert_tiny", 24}, std::pair{"roberta_tiny", 24}, std::pair{"xlm_roberta_tiny", 24},
        std::pair{"mpnet_tiny", 24}, std::pair{"modernbert_tiny", 32},
        std::pair{"nomic_bert_tiny", 32}}) {
    DYNAMIC_SECTION(folder) {
      TempDir dir;
      std::vector<Hit> before;
      {
        auto db = OpenDb(dir.path());
        auto c = Create(*db, "c", "transformer path=" + TestData(folder));
        REQUIRE(c->Info().dimension == dimension);
        std::vector<Document> docs;
        for (size_t i = 0; i < texts.size(); ++i) {
          docs.push_back({.id = "t" + std::to_string(i), .text = texts[i]});
        }
        REQUIRE(c->InsertBatch(std::move(docs)).ok());
        for (size_t i = 0; i < texts.size(); ++i) {
          std::vector<Hit> hits = Search(*c, texts[i], 4);
          REQUIRE(hits.size() == 4);
          CHECK(hits[0].id == "t" + std::to_string(i));
          CHECK(hits[0].score == Approx(1.0).margin(1e-5));
        }
        before = Search(*c, "frogs in the forest", 4);
        CHECK(c->NearestWords("frog", 3).status().code() == absl::StatusCode::kFailedPrecondition);
      }
      auto db = OpenDb(dir.path());
      auto c = *db->GetCollection("c");
      std::vector<Hit> after = Search(*c, "frogs in the forest", 4);
      REQUIRE(after.size() == before.size());
      for (size_t i = 0; i < after.size(); ++i) {
        CHECK(after[i].id == before[i].id);
        CHECK(after[i].score == Approx(before[i].score).margin(1e-6));
      }
    }
  }
}

TEST_CASE("a replaced model file is refused until the collection is refitted",
          "[embedders][glove]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/test_glove.txt");
  TempDir dir;
  const std::string file = dir / "vectors.txt";
  std::filesystem::copy_file(SharedData("gensim/test_glove.txt"), file);
  {
    auto db = OpenDb(dir / "db");
    auto c = Create(*db, "g", "glove path=" + file);
    REQUIRE(c->Insert({.id = "a", .text = "people said the year was new"}).ok());
  }
  // Replace the vectors: every word gets another word's vector.
  std::vector<std::string> lines = testing::ReadLines(file);
  std::vector<std::string> words, vectors;
  for (const std::string& line : lines) {
    words.push_back(line.substr(0, line.find(' ')));
    vectors.push_back(line.substr(line.find(' ')));
  }
  std::rotate(vectors.begin(), vectors.begin() + 1, vectors.end());
  {
    std::ofstream out(file, std::ios::trunc);
    for (size_t i = 0; i < words.size(); ++i) out << words[i] << vectors[i] << "\n";
  }
  auto db = OpenDb(dir / "db");
  auto c = *db->GetCollection("g");
  absl::Status search = c->Search("people", {.k = 1}).status();
  REQUIRE(search.code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(std::string(search.message()).find("not the one that made the stored vectors") !=
          std::string::npos);
  REQUIRE(c->Insert({.text = "more people"}).status().code() ==
          absl::StatusCode::kFailedPrecondition);
  REQUIRE(c->Get("a")->text == "people said the year was new");  // still readable
  REQUIRE(c->Stats().model_error.empty() == false);
  // Refit accepts the new file: everything is re-embedded with it.
  REQUIRE(c->Refit().ok());
  REQUIRE(c->Info().model_version == 1);
  REQUIRE(Search(*c, "people said the year was new", 1)[0].score == Approx(1).margin(1e-5));
  REQUIRE(c->Insert({.text = "more people"}).ok());
}

TEST_CASE("a SIF collection fits on its own texts", "[embedders][sif]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_fasttext.vec");
  TempDir dir;
  auto db = OpenDb(dir.path());
  auto c = Create(*db, "sif",
                  "fasttext path=" + SharedData("gensim/lee_fasttext.vec") + " weighting=sif");
  REQUIRE(c->Info().dimension == 0);  // fitted at the first insert
  std::vector<Document> docs;
  int i = 0;
  for (const std::string& line : testing::ReadLines(SharedData("gensim/lee_background.cor"))) {
    docs.push_back({.id = std::to_string(i++), .text = line});
  }
  REQUIRE(c->InsertBatch(std::move(docs)).ok());
  REQUIRE(c->Info().dimension == 10);
  REQUIRE(c->Info().model_version == 1);
  REQUIRE(Search(*c, testing::ReadLines(SharedData("gensim/lee_background.cor"))[42], 1)[0].id ==
          "42");
}

}  // namespace
}  // namespace semdb
