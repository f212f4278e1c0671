// The shell: its command syntax, its tables, and scripted sessions through
// the real `semdb` binary.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "shell/command_line.h"
#include "shell/table.h"
#include "test_data.h"

namespace semdb {
namespace {

using testing::TempDir;

TEST_CASE("command lines split into command, text and raw option values", "[shell]") {
  CommandLine c = ParseCommandLine(
                      "SEARCH forest fires near homes --k 5 --where year >= 2000 AND "
                      "topic = \"a --b\"")
                      .value();
  REQUIRE(c.command == "search");
  REQUIRE(c.Text() == "forest fires near homes");
  REQUIRE(c.Option("k") == "5");
  REQUIRE(c.Option("where") == "year >= 2000 AND topic = \"a --b\"");
  REQUIRE_FALSE(c.Option("json").has_value());

  c = ParseCommandLine("insert \"text with --dashes\" --meta {\"a\": [1, 2]} --id x").value();
  REQUIRE(c.Text() == "text with --dashes");
  REQUIRE(c.Option("meta") == "{\"a\": [1, 2]}");
  REQUIRE(c.Option("id") == "x");

  c = ParseCommandLine("  insert  it's  a 'quoted \\'word\\'' ").value();
  REQUIRE(c.Text() == "it's  a 'quoted \\'word\\''");
  REQUIRE(Unquote("'quoted \\'word\\''") == "quoted 'word'");
  REQUIRE(ParseCommandLine("get 'unterminated").status().message() ==
          "unterminated quote starting at column 5");
  REQUIRE(ParseCommandLine("").value().command.empty());
  REQUIRE(ParseCommandLine("import --upsert").value().options[0].second.empty());
  REQUIRE(SplitWords("format 'json'").value() == std::vector<std::string>{"format", "json"});
}

TEST_CASE("tables align by display width and cut long cells", "[shell]") {
  REQUIRE(DisplayWidth("abc") == 3);
  REQUIRE(DisplayWidth("東京") == 4);
  REQUIRE(DisplayWidth("e\xCC\x81") == 1);  // e + combining acute
  REQUIRE(FitToWidth("abcdef", 4) == "abc…");
  REQUIRE(FitToWidth("東京都庁", 5) == "東京…");
  Table t{{"id", "text"}, {{"1", "東京 is a city"}, {"22", "line\nbreak"}}, {true, false}};
  REQUIRE(RenderTable(t, 80) ==
          " id | text\n"
          "----+----------------\n"
          "  1 | 東京 is a city\n"
          " 22 | line break\n");
  Table wide{{"a", "b"}, {{std::string(50, 'x'), std::string(50, 'y')}}, {}};
  for (std::string_view line : {RenderTable(wide, 40)}) {
    size_t nl = line.find('\n');
    REQUIRE(DisplayWidth(line.substr(0, nl)) <= 40);
  }
}

struct Run {
  int exit_code;
  std::string out, err;
};

// Runs the semdb binary in `cwd` with `args`, feeding `input` on stdin.
Run RunSemdb(const std::string& cwd, const std::string& args, const std::string& input = "") {
  TempDir io;
  std::ofstream(io / "in") << input;
  const std::string cmd = "cd '" + cwd + "' && COLUMNS=200 '" SEMDB_BINARY_DIR "/shell/semdb' " +
                          args + " < '" + io / "in" + "' > '" + io / "out" + "' 2> '" +
                          io / "err" + "'";
  int status = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(status));
  return {WEXITSTATUS(status), testing::ReadFile(io / "out"), testing::ReadFile(io / "err")};
}

TEST_CASE("a scripted session: errors are one line each and the session goes on",
          "[shell][binary]") {
  TempDir dir;
  Run r = RunSemdb(dir.path(), "db",
                   "create notes --embedder tfidf dim=16\n"
                   "insert The cat sat on the mat --id cat --meta {\"kind\": \"pet\", \"n\": 1}\n"
                   "insert Dogs bark at the postman --id dog --meta {\"kind\": \"pet\", \"n\": 2}\n"
                   "insert Stock prices fell on Monday --id stocks --meta {\"kind\": \"news\", \"n\": 3}\n"
                   "frobnicate now\n"
                   "insert bad metadata --meta {not json}\n"
                   "insert \xC3\x28 invalid utf8\n"
                   "import /no/such/file.txt\n"
                   "search\n"
                   "search cat --k zero\n"
                   "search cat --where kind = \n"
                   "get nosuch\n"
                   "use nosuch\n"
                   "search the cat on a mat --k 2 --where kind = 'pet'\n"
                   "count\n"
                   "delete dog\n"
                   "count\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 1);
  REQUIRE(r.err ==
          "error: unknown command 'frobnicate'; type 'help' for the list\n"
          "error: --meta is not valid JSON: {not json}\n"
          "error: document 1: text: invalid UTF-8 at byte 0\n"
          "error: no such file or directory: /no/such/file.txt\n"
          "error: usage: search QUERY [--k N] [--where FILTER]\n"
          "error: --k must be a whole number from 1 to 10000, got 'zero'\n"
          "error: filter: expected a value at position 7 in 'kind ='\n"
          "error: no document 'nosuch' in 'notes'\n"
          "error: no collection 'nosuch' (have: default, notes)\n");
  REQUIRE(r.out.find("created collection 'notes'") != std::string::npos);
  REQUIRE(r.out.find("inserted 'cat'") != std::string::npos);
  // The search table: the cat first, only pets.
  const size_t table = r.out.find(" # | id");
  REQUIRE(table != std::string::npos);
  const std::string results = r.out.substr(table);
  REQUIRE(results.find(" 1 | cat ") != std::string::npos);
  REQUIRE(results.find("stocks") == std::string::npos);
  REQUIRE(results.find("(2 results)") != std::string::npos);
  REQUIRE(r.out.find("\n3\ndeleted 'dog'\n2\n") != std::string::npos);

  // Reopened, everything is there.
  Run again = RunSemdb(dir.path(), "db --json -c 'use notes' -c count -c 'get cat'");
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  std::istringstream lines(again.out);
  std::string line;
  std::getline(lines, line);
  REQUIRE(nlohmann::json::parse(line)["count"] == 2);
  std::getline(lines, line);
  nlohmann::json cat = nlohmann::json::parse(line);
  REQUIRE(cat["text"] == "The cat sat on the mat");
  REQUIRE(cat["metadata"]["n"] == 1);
}

TEST_CASE("semdb with no path starts on ./semdb_data with a default collection",
          "[shell][binary]") {
  TempDir dir;
  Run r = RunSemdb(dir.path(), "-c 'insert hello world of vectors' -c collections");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.find("default *") != std::string::npos);
  REQUIRE(std::filesystem::exists(dir / "semdb_data/store/CURRENT"));
  REQUIRE(RunSemdb(dir.path(), "--json -c count").out == "{\"count\":1}\n");
  REQUIRE(RunSemdb(dir.path(), "-c help").out.find("search QUERY") != std::string::npos);
  REQUIRE(RunSemdb(dir.path(), "-c 'help create'").out.find("tfidf [lsa=auto|true|false] [dim=256]") !=
          std::string::npos);
  // --bail stops at the first error.
  Run bail = RunSemdb(dir.path(), "--bail", "nonsense\ncount\n");
  REQUIRE(bail.exit_code == 1);
  REQUIRE(bail.out.empty());
}

TEST_CASE("import the Lee corpus in the shell and get identical results after reopening",
          "[shell][binary]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  const std::string corpus = testing::SharedData("gensim/lee_background.cor");
  Run first = RunSemdb(dir.path(), "db --json",
                       "import " + corpus + "\ncount\nsearch bushfires --k 5\n");
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  std::istringstream lines(first.out);
  std::string import_line, count_line, search_line;
  std::getline(lines, import_line);
  std::getline(lines, count_line);
  std::getline(lines, search_line);
  REQUIRE(nlohmann::json::parse(import_line)["imported"] == 300);
  REQUIRE(nlohmann::json::parse(count_line)["count"] == 300);
  nlohmann::json hits = nlohmann::json::parse(search_line);
  REQUIRE(hits.size() == 5);
  for (int i = 0; i < 3; ++i) {
    INFO(hits[i]["text"]);
    REQUIRE(hits[i]["text"].get<std::string>().find("fire") != std::string::npos);
  }
  Run second = RunSemdb(dir.path(), "db --json -c count -c 'search bushfires --k 5'");
  REQUIRE(second.out == count_line + "\n" + search_line + "\n");
  // A query of stop words only is no error: an empty answer that says why
  // ("fire" is in the English stop list).
  Run stop = RunSemdb(dir.path(), "db -c 'search fire'");
  INFO(stop.err);
  REQUIRE(stop.exit_code == 0);
  REQUIRE(stop.out.find("(0 results)\nnote: no word of the query is known to the model "
                        "(stop words or unknown words)") != std::string::npos);
}

TEST_CASE("explain, hybrid search, strategies and reindex in the shell", "[shell][binary]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  TempDir dir;
  const std::string corpus = testing::SharedData("gensim/lee_background.cor");
  Run r = RunSemdb(dir.path(), "db",
                   "create lee --indexed line\n"
                   "import " + corpus + "\n"
                   "explain search bushfires --where line < 20\n"
                   "explain analyze search bushfires --k 3 --where line >= 10 AND line < 20\n"
                   "search bushfires fire --hybrid 1 --k 2\n"
                   "search bushfires --strategy sideways\n"
                   "search bushfires --hybrid 2\n"
                   "explain bushfires\n"
                   "reindex --index hnsw m=8 ef_search=32\n"
                   "reindex --index hnsw m=1\n"
                   "explain search bushfires --k 3 --recall 0.99 --strategy ann --hybrid 0\n");
  INFO(r.out << r.err);
  REQUIRE(r.err ==
          "error: the strategy must be auto, exact_scan, filtered_scan, ann or ann_post_filter, "
          "got 'sideways'\n"
          "error: --hybrid must be a number from 0 to 1, got '2'\n"
          "error: usage: explain [analyze] search QUERY [search options]\n"
          "error: parameter 'm' of 'hnsw' must be an integer in [2, 256], got '1'\n");
  REQUIRE(r.out.find("plan:      exact_scan (cheapest estimate") != std::string::npos);
  REQUIRE(r.out.find("estimate:  selectivity 0.0633, ~19 matches (field index (exact count))") !=
          std::string::npos);
  REQUIRE(r.out.find(" filtered_scan   |        48 | 19 candidates from the field index") !=
          std::string::npos);
  REQUIRE(r.out.find(", 3 hits\ntime:      ") != std::string::npos);
  REQUIRE(r.out.find("(2 results)") != std::string::npos);
  REQUIRE(r.out.find("rebuilt the index of 'lee' as 'hnsw ef_search=32 m=8' (300 documents)") !=
          std::string::npos);
  REQUIRE(r.out.find("plan:      ann (forced)") != std::string::npos);
  REQUIRE(r.out.find("search:    fetch 3 ef_search=64\n") != std::string::npos);  // 2 x 32

  Run json = RunSemdb(dir.path(), "db --json -c 'use lee' -c 'explain analyze search fires --k 2'");
  INFO(json.err);
  REQUIRE(json.exit_code == 0);
  nlohmann::json e = nlohmann::json::parse(json.out);
  REQUIRE(e["collection"]["index"] == "hnsw ef_search=32 m=8");
  REQUIRE(e["analyze"]["hits"] == 2);
}

TEST_CASE("import of a FIFO, and of JSON Lines with a line nested 150,000 levels deep",
          "[shell][binary]") {
  TempDir dir;
  const int kDepth = 150000;
  std::ofstream(dir / "deep.jsonl")
      << "{\"id\": \"a\", \"text\": \"first line\"}\n"
      << "{\"id\": \"b\", \"text\": \"x\", \"meta\": " << std::string(kDepth, '[')
      << std::string(kDepth, ']') << "}\n"
      << "{\"id\": \"c\", \"text\": \"third line\"}\n";
  REQUIRE(mkfifo((dir / "pipe").c_str(), 0600) == 0);  // nobody writes: a read would hang
  Run r = RunSemdb(dir.path(),
                   "db -c 'create notes' -c 'import pipe' -c 'import deep.jsonl' -c count");
  INFO(r.out << r.err);
  REQUIRE(r.err.find("pipe is not a regular file or a directory") != std::string::npos);
  REQUIRE(r.out.find("skipped deep.jsonl:2: JSON nested deeper than 64 levels") !=
          std::string::npos);
  REQUIRE(r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1) == "2\n");
}

TEST_CASE("the binary reports a database it cannot open", "[shell][binary]") {
  TempDir dir;
  std::ofstream(dir / "file") << "not a directory";
  Run r = RunSemdb(dir.path(), "file -c count");
  REQUIRE(r.exit_code == 2);
  REQUIRE(r.err == "error: file is not a directory\n");
}

}  // namespace
}  // namespace semdb

namespace semdb {
namespace {

TEST_CASE("word-vector and transformer collections in the shell", "[shell][binary]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/test_glove.txt");
  TempDir dir;
  const std::string glove = testing::SharedData("gensim/test_glove.txt");
  const std::string wordsim = testing::SharedData("gensim/wordsim353.tsv");
  Run r = RunSemdb(dir.path(), "db --json",
                   "create g --embedder glove path=" + glove + "\n"
                   "similar his - he + she --k 2\n"
                   "eval words " + wordsim + "\n"
                   "create ft --embedder fasttext path=" +
                       testing::SharedData("gensim/lee_fasttext_new.bin") + "\n"
                   "eval words " + wordsim + "\n"
                   "create bert --embedder transformer path=" + testing::TestData("bert_tiny") + "\n"
                   "insert A frog was found in the rainforest --id frog\n"
                   "insert Markets fell on Monday --id markets\n"
                   "search Markets fell on Monday --k 1\n"
                   "similar frog\n");
  std::vector<std::string> lines;
  std::istringstream out(r.out);
  for (std::string line; std::getline(out, line);) lines.push_back(line);
  REQUIRE(lines.size() == 8);
  nlohmann::json similar = nlohmann::json::parse(lines[1]);
  REQUIRE(similar[0]["word"] == "her");
  REQUIRE(nlohmann::json::parse(lines[3])["pairs_used"] == 353);
  REQUIRE(nlohmann::json::parse(lines[7])[0]["id"] == "markets");
  REQUIRE(r.err ==
          "error: " + wordsim +
              ": only 0 pair(s) have vectors for both words (353 skipped); Spearman's rho "
              "needs 2\n"
          "error: collection 'bert' has no word vectors (its embedder is transformer "
          "document_prefix='' path=" +
              testing::TestData("bert_tiny") +
              " query_prefix=''); word queries need glove, word2vec or fasttext\n");
}

// Each line of --json output, parsed.
std::vector<nlohmann::json> JsonLines(const std::string& out) {
  std::vector<nlohmann::json> parsed;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) parsed.push_back(nlohmann::json::parse(line));
  return parsed;
}

// Issue 18: `search stocks` in a chunked collection of the mixed folder
// must find the JSON Lines record "Stocks fall" (it once answered that no
// query word was known: an LSA of 27 dimensions over 109 passages left the
// word outside its latent space), on the vector side alone too, and after
// a refit.
TEST_CASE("a chunked collection of the mixed folder finds 'stocks'", "[shell][binary][issue18]") {
  SEMDB_REQUIRE_SHARED_DATA("mixed-folder");
  TempDir dir;
  Run r = RunSemdb(dir.path(), "db --json",
                   "create x --chunking sentences max_chars=300\n"
                   "import " + testing::SharedData("mixed-folder") + "\n"
                   "search stocks --k 1\n"
                   "search stocks --k 1 --hybrid 0\n"
                   "refit\n"
                   "search stocks --k 1 --hybrid 0\n"
                   "get j2\n");
  INFO(r.err);
  std::vector<nlohmann::json> out = JsonLines(r.out);
  REQUIRE(out.size() == 7);
  for (int i : {2, 3, 5}) {
    INFO(out[i].dump());
    REQUIRE(out[i].size() == 1);
    REQUIRE(out[i][0]["id"] == "j2");
    REQUIRE(out[i][0]["text"] == "Stocks fall");
  }
  REQUIRE(out[6]["unknown_tokens"] == 0);
  REQUIRE(r.exit_code == 0);
}

TEST_CASE("document commands: scan, count, get, update, delete, export and import back",
          "[shell][binary][documents]") {
  SEMDB_REQUIRE_SHARED_DATA("mixed-folder");
  TempDir dir;
  std::ofstream(dir / "ids.csv") << "id,text,year\n1,Bushfires near Sydney,2001\n2,The bank raised rates,2003\n";
  std::ofstream(dir / "queries.txt") << "bushfires\n\nbank rates\n";
  Run r = RunSemdb(dir.path(), "db --json",
                   "create docs --embedder tfidf dim=16\n"
                   "import " + testing::SharedData("mixed-folder") + "\n"
                   "import ids.csv\n"
                   "scan --limit 2\n"
                   "scan --limit 50 --cursor 3 --where year >= 2002\n"
                   "count --where year >= 2002\n"
                   "get 1 2 nosuch\n"
                   "update 1 2 --metadata {\"year\": 1999, \"checked\": true}\n"
                   "update j1 --metadata {\"only\": 1} --replace\n"
                   "get j1\n"
                   "delete --where year = 1999\n"
                   "delete --where year = 1999 --yes\n"
                   "search --file queries.txt --k 1 --hybrid 0\n"
                   "export all.jsonl\n"
                   "create copy --embedder tfidf dim=16\n"
                   "import all.jsonl\n"
                   "export copy.jsonl\n"
                   "count\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<nlohmann::json> out = JsonLines(r.out);
  REQUIRE(out.size() == 18);
  // Generated ids do not collide with the CSV's ids 1 and 2.
  REQUIRE(out[2]["imported"] == 2);
  REQUIRE(out[3]["documents"][0]["id"] == "_1");
  REQUIRE(out[3]["next_cursor"] == "3");  // the cursor given to the next scan
  // From the cursor on, the records with a year of 2002 or later: j1
  // (2002), j2 (2004), CSV 2 (2003).
  std::vector<std::string> ids;
  for (const auto& d : out[4]["documents"]) ids.push_back(d["id"]);
  REQUIRE(ids == std::vector<std::string>{"j1", "j2", "2"});
  REQUIRE(out[4]["next_cursor"].is_null());
  REQUIRE(out[5]["count"] == 3);
  REQUIRE(out[6].size() == 2);
  REQUIRE(out[6][0]["id"] == "1");
  REQUIRE(out[6][1]["text"] == "The bank raised rates");
  REQUIRE(out[7]["updated"] == 2);
  REQUIRE(out[9]["metadata"] == nlohmann::json{{"only", 1}});
  REQUIRE(out[10]["would_delete"] == 2);
  REQUIRE(out[11]["deleted"] == 2);
  REQUIRE(out[12].size() == 2);
  REQUIRE(out[12][0]["query"] == "bushfires");
  REQUIRE(out[12][1]["query"] == "bank rates");
  REQUIRE(out[13]["exported"] == out[17]["count"]);
  // The copy's export is the original's, byte for byte.
  REQUIRE(testing::ReadFile(dir / "copy.jsonl") == testing::ReadFile(dir / "all.jsonl"));
}

}  // namespace
}  // namespace semdb
