// Retrieval on real long documents: the Wikipedia articles of the shared
// dump, extracted by scripts/wikipedia_to_text.py, imported into a chunked
// collection; questions about an article's subject return passages of
// that article with their source and offsets, through the C++ API and
// through the shell binary.
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "semdb/database.h"
#include "semdb/import.h"
#include "test_data.h"

namespace semdb {
namespace {

constexpr char kDump[] =
    "gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2";

struct Question {
  std::string text;
  std::string article;  // the file the best passage must come from
};

const std::vector<Question>& Questions() {
  static const auto* const kQuestions = new std::vector<Question>{
      {"Which philosopher tutored Alexander the Great and studied under Plato", "Aristotle.txt"},
      {"theory of relativity and the photoelectric effect", "Albert_Einstein.txt"},
      {"Montgomery is the capital of which state", "Alabama.txt"},
      {"president who issued the Emancipation Proclamation during the Civil War",
       "Abraham_Lincoln.txt"},
      {"the abacus calculating tool with beads", "Abacus.txt"},
  };
  return *kQuestions;
}

TEST_CASE("questions about Wikipedia articles return passages of those articles",
          "[wikipedia][passages]") {
  SEMDB_REQUIRE_SHARED_DATA(kDump);
  if (!std::filesystem::exists("/usr/bin/python3")) {
    SEMDB_SKIP("/usr/bin/python3 is needed to extract the articles");
  }
  testing::TempDir dir;
  const std::string articles = dir / "articles";
  const std::string extract = "/usr/bin/python3 '" SEMDB_SOURCE_DIR
                              "/scripts/wikipedia_to_text.py' '" +
                              testing::SharedData(kDump) + "' '" + articles + "' > /dev/null";
  REQUIRE(std::system(extract.c_str()) == 0);
  REQUIRE(std::filesystem::exists(articles + "/Aristotle.txt"));
  {
    std::unique_ptr<Database> db = Database::Open(dir / "db").value();
    std::shared_ptr<Collection> wiki =
        db->CreateCollection("wiki", {.chunking = "sentences max_chars=600"}).value();
    ImportReport report = ImportPath(*wiki, articles, {}).value();
    REQUIRE(report.documents > 100);
    REQUIRE(report.skipped == 0);
    REQUIRE(wiki->Info().passages > 50 * report.documents);
    for (const Question& q : Questions()) {
      INFO(q.text);
      std::vector<Hit> hits = wiki->Search(q.text, {.k = 3, .one_per_parent = true}).value();
      REQUIRE(hits.size() == 3);
      const Hit& best = hits[0];
      REQUIRE(best.metadata["source"] == articles + "/" + q.article);
      const std::string parent = wiki->Get(best.id).value().text;
      REQUIRE(best.passage->end <= static_cast<int64_t>(parent.size()));
      REQUIRE(parent.substr(best.passage->begin, best.passage->end - best.passage->begin) ==
              best.text);
      // At most 600 characters: count the bytes that start a code point.
      REQUIRE(std::count_if(best.text.begin(), best.text.end(),
                            [](char c) { return (c & 0xC0) != 0x80; }) <= 600);
      REQUIRE(hits[1].id != best.id);
      REQUIRE(hits[2].id != best.id);
    }
  }
  // The same through the shell, as JSON.
  for (const Question& q : Questions()) {
    INFO(q.text);
    const std::string out = dir / "out.json";
    const std::string cmd = "'" SEMDB_BINARY_DIR "/shell/semdb' '" + dir / "db" +
                            "' --json -c 'use wiki' -c 'search " + q.text +
                            " --k 1 --dedupe --neighbors 1' > '" + out + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::vector<std::string> lines = testing::ReadLines(out);
    REQUIRE(lines.size() == 1);  // `use` prints nothing in JSON mode
    nlohmann::json hit = nlohmann::json::parse(lines[0])[0];
    REQUIRE(hit["metadata"]["source"] == articles + "/" + q.article);
    REQUIRE(hit["passage"]["end"] > hit["passage"]["begin"]);
    REQUIRE(!hit["neighbors"].empty());
  }
}

}  // namespace
}  // namespace semdb
