// The parameter tables (include/semdb/components.h) against the parsers
// they describe: every parameter a table lists is accepted by its kind's
// parser, through the public API, and a parameter no table lists is an
// error naming the accepted ones. (shell_test checks that `help create`
// prints every table entry.)
#include "semdb/components.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "semdb/database.h"
#include "test_data.h"
#include "test_database.h"

namespace semdb {
namespace {

using testing::SharedData;
using testing::TempDir;
using testing::TestData;

// Values a parameter accepts, for a spec that sets it: the ends of a range,
// every choice, both booleans; text parameters from `text`.
std::vector<std::string> SampleValues(const ParameterInfo& p,
                                      const std::map<std::string, std::string>& text) {
  switch (p.type) {
    case ParameterInfo::Type::kInt:
      return {absl::StrCat(static_cast<int64_t>(p.min))};
    case ParameterInfo::Type::kNumber:
      return {absl::StrCat(p.min), absl::StrCat(p.max)};
    case ParameterInfo::Type::kBool:
      return {"true", "false"};
    case ParameterInfo::Type::kChoice:
      return p.choices;
    case ParameterInfo::Type::kText:
      break;
  }
  auto it = text.find(p.name);
  REQUIRE(it != text.end());  // the test knows a value for every text parameter
  return {it->second};
}

enum class Slot { kEmbedder, kIndex, kChunking };

// Creates a collection whose `slot` spec is `spec` (the other two fixed).
absl::Status Create(Database& db, Slot slot, const std::string& spec) {
  static int n = 0;
  CollectionSpec c;
  if (slot == Slot::kEmbedder) c.embedder = spec;
  // 16 dimensions: ivf's default pq_m divides it.
  if (slot == Slot::kIndex) c = {.embedder = "vectors dim=16", .index = spec};
  if (slot == Slot::kChunking) c.chunking = spec;
  return db.CreateCollection(absl::StrCat("c", n++), c).status();
}

// For each kind, a spec with one parameter set, for each parameter and
// each sample value: the parser accepts it (the table lists nothing the
// parser does not read). `base` holds each kind's required parameters.
void CheckEveryParameterAccepted(const std::vector<ComponentKind>& kinds, Slot slot,
                                 const std::vector<std::string>& names,
                                 const std::map<std::string, std::string>& base,
                                 const std::map<std::string, std::string>& text) {
  TempDir dir;
  std::unique_ptr<Database> db = testing::OpenDb(dir / "db");
  int checked = 0;
  for (const ComponentKind& kind : kinds) {
    if (std::find(names.begin(), names.end(), kind.name) == names.end()) continue;
    const std::string prefix =
        base.count(kind.name) ? absl::StrCat(kind.name, " ", base.at(kind.name)) : kind.name;
    for (const ParameterInfo& p : kind.parameters) {
      // Parameters the base sets are not set twice.
      if (base.count(kind.name) && absl::StrCat(" ", base.at(kind.name))
                                           .find(absl::StrCat(" ", p.name, "=")) !=
                                       std::string::npos) {
        continue;
      }
      for (const std::string& value : SampleValues(p, text)) {
        const std::string spec = absl::StrCat(prefix, " ", p.name, "='", value, "'");
        INFO(spec);
        absl::Status s = Create(*db, slot, spec);
        INFO(s);
        // Accepted: created, or refused for what the value means (ivf's
        // pq_m without quantizer=pq, binary=true for a text file), never as
        // a parameter error.
        if (!s.ok()) {
          REQUIRE(s.code() != absl::StatusCode::kInternal);
          REQUIRE(s.message().find("parameter") == std::string::npos);
        }
        ++checked;
      }
    }
  }
  REQUIRE(checked > 0);
}

// A bogus parameter: InvalidArgument naming it and every accepted one.
void CheckUnknownParameterNamesAccepted(const std::vector<ComponentKind>& kinds, Slot slot) {
  TempDir dir;
  std::unique_ptr<Database> db = testing::OpenDb(dir / "db");
  for (const ComponentKind& kind : kinds) {
    absl::Status s = Create(*db, slot, kind.name + " colour=blue");
    INFO(kind.name << ": " << s);
    REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
    REQUIRE(s.message().find(
                absl::StrCat("unknown parameter 'colour' for '", kind.name, "' (accepted: ")) !=
            std::string::npos);
    for (const ParameterInfo& p : kind.parameters) {
      REQUIRE(s.message().find(p.name) != std::string::npos);
    }
  }
}

TEST_CASE("components: every parameter of the tables is accepted", "[components]") {
  const TempDir cache;
  const std::map<std::string, std::string> text = {
      {"path", TestData("bert_tiny")},
      {"model", TestData("bert_tiny")},
      {"revision", "main"},
      {"query_prefix", "query: "},
      {"document_prefix", "passage: "},
  };
  CheckEveryParameterAccepted(EmbedderKinds(), Slot::kEmbedder,
                              {"tfidf", "transformer", "vectors"},
                              {{"transformer", absl::StrCat("path=", TestData("bert_tiny"))},
                               {"vectors", "dim=8"}},
                              text);
  CheckEveryParameterAccepted(IndexKinds(), Slot::kIndex, {"flat", "ivf", "hnsw"}, {}, text);
  CheckEveryParameterAccepted(ChunkingKinds(), Slot::kChunking,
                              {"none", "chars", "tokens", "sentences", "paragraphs"}, {}, text);
}

TEST_CASE("components: every word-vector parameter is accepted", "[components]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/test_glove.txt");
  SEMDB_REQUIRE_SHARED_DATA("gensim/high_precision.kv.txt");
  SEMDB_REQUIRE_SHARED_DATA("gensim/toy-model.bin");
  const TempDir cache;
  for (const auto& [kind, file] : std::vector<std::pair<std::string, std::string>>{
           {"glove", "gensim/test_glove.txt"},
           {"word2vec", "gensim/high_precision.kv.txt"},
           {"fasttext", "gensim/toy-model.bin"}}) {
    // Every spec keeps its vectors' cache in the test's folder.
    CheckEveryParameterAccepted(
        EmbedderKinds(), Slot::kEmbedder, {kind},
        {{kind, absl::StrCat("path=", SharedData(file), " cache_dir=", cache.path())}},
        {{"path", SharedData(file)}, {"cache_dir", cache.path()}});
  }
}

TEST_CASE("components: an unknown parameter names the accepted ones", "[components]") {
  CheckUnknownParameterNamesAccepted(EmbedderKinds(), Slot::kEmbedder);
  CheckUnknownParameterNamesAccepted(IndexKinds(), Slot::kIndex);
  CheckUnknownParameterNamesAccepted(ChunkingKinds(), Slot::kChunking);
}

TEST_CASE("components: a parser reading a parameter missing from its table fails",
          "[components]") {
  const ComponentKind kind = {"k", "a kind", {IntParameter("n", "3", 1, 10, "a number")}, {}};
  const Spec spec = {"k", {{"n", "5"}}};
  SpecReader good(spec, kind);
  REQUIRE(good.GetInt("n") == 5);
  REQUIRE(good.Finish().ok());
  const Spec empty = {"k", {}};
  SpecReader defaults(empty, kind);
  REQUIRE(defaults.GetInt("n") == 3);
  SpecReader bad(spec, kind);
  bad.GetInt("n");
  REQUIRE(bad.GetBool("m", false) == false);
  REQUIRE(bad.Finish().code() == absl::StatusCode::kInternal);
  REQUIRE(std::string(bad.Finish().message()) ==
          "parameter 'm' of 'k' is read but not in its table");
  const Spec too_large = {"k", {{"n", "11"}}};
  SpecReader range(too_large, kind);
  range.GetInt("n");
  REQUIRE(std::string(range.Finish().message()) ==
          "parameter 'n' of 'k' must be an integer in [1, 10], got '11'");
}

TEST_CASE("components: help lists every parameter with its range", "[components]") {
  for (const ComponentKind& kind : EmbedderKinds()) {
    if (kind.name != "tfidf") continue;
    std::string help;
    for (const std::string& line : KindHelp(kind)) absl::StrAppend(&help, line, "\n");
    // Read by the parser but missing from the hand-written help before.
    for (const char* p : {"min_token_len", "lowercase", "max_fit_docs", "docs_per_dim"}) {
      REQUIRE(help.find(absl::StrCat("[", p, "=")) != std::string::npos);
    }
    REQUIRE(help.find("    dim            1..4096: LSA dimensions") != std::string::npos);
  }
}

}  // namespace
}  // namespace semdb
