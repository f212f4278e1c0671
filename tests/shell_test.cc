// The shell: its command syntax, its tables, and scripted sessions through
// the real `semdb` binary.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "semdb/components.h"
#include "shell/command_line.h"
#include "shell/result.h"
#include "shell/shell.h"
#include "shell/table.h"
#include "run_semdb.h"
#include "test_data.h"

namespace semdb {
namespace {

using testing::Run;
using testing::RunSemdb;
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
          "----+---------------\n"
          "  1 | 東京 is a city\n"
          " 22 | line break\n");
  Table wide{{"a", "b"}, {{std::string(50, 'x'), std::string(50, 'y')}}, {}};
  for (std::string_view line : {RenderTable(wide, 40)}) {
    size_t nl = line.find('\n');
    REQUIRE(DisplayWidth(line.substr(0, nl)) <= 40);
  }
}

TEST_CASE("cells wrap at spaces, inside words only when they must", "[shell]") {
  REQUIRE(WrapToWidth("search QUERY [--k N]", 10) ==
          std::vector<std::string>{"search", "QUERY [--k", "N]"});
  REQUIRE(WrapToWidth("abcdefghij", 4) == std::vector<std::string>{"abcd", "efgh", "ij"});
  REQUIRE(WrapToWidth("東京 都庁", 4) == std::vector<std::string>{"東京", "都庁"});
  REQUIRE(WrapToWidth("", 4) == std::vector<std::string>{""});
  Table t{{"a", "b"}, {{"one two three", "x"}}, {}, /*wrap=*/true};
  REQUIRE(RenderTable(t, 15) ==
          " a         | b\n"
          "-----------+--\n"
          " one two   | x\n"
          " three     |\n");
}

TEST_CASE("FormatResult: one result in every format", "[shell]") {
  Result r{.columns = {"name", "n", "score"},
           .rows = {{"a,b", 2, 0.123456}, {"line\nbreak", nullptr, 1.0}},
           .footer = {"(2 rows)"}};
  const auto as = [&](OutputFormat f) { return FormatResult(r, {f, 80}); };
  REQUIRE(as(OutputFormat::kTable) ==
          " name       | n |  score\n"
          "------------+---+-------\n"
          " a,b        | 2 | 0.1235\n"
          " line break |   | 1.0000\n"
          "(2 rows)\n");
  REQUIRE(as(OutputFormat::kCsv) == "name,n,score\r\n\"a,b\",2,0.1235\r\n\"line\nbreak\",,1.0000\r\n");
  REQUIRE(as(OutputFormat::kJson) ==
          "[{\"n\":2,\"name\":\"a,b\",\"score\":0.123456},"
          "{\"n\":null,\"name\":\"line\\nbreak\",\"score\":1.0}]\n");
  REQUIRE(as(OutputFormat::kJsonl) ==
          "{\"n\":2,\"name\":\"a,b\",\"score\":0.123456}\n"
          "{\"n\":null,\"name\":\"line\\nbreak\",\"score\":1.0}\n");
  REQUIRE(as(OutputFormat::kMarkdown) ==
          "| name | n | score |\n|---|---:|---:|\n| a,b | 2 | 0.1235 |\n"
          "| line<br>break |  | 1.0000 |\n(2 rows)\n");
  REQUIRE(as(OutputFormat::kLine) ==
          " name = a,b\n    n = 2\nscore = 0.1235\n\n"
          " name = line\nbreak\n    n = \nscore = 1.0000\n(2 rows)\n");
  // A message without a table: as it is in the text formats, nothing in
  // JSON unless the result has a JSON value.
  Result message{.message = "inserted 'x'"};
  REQUIRE(FormatResult(message, {OutputFormat::kCsv, 80}) == "inserted 'x'\n");
  REQUIRE(FormatResult(message, {OutputFormat::kJson, 80}).empty());
  message.json = {{"inserted", "x"}};
  REQUIRE(FormatResult(message, {OutputFormat::kJsonl, 80}) == "{\"inserted\":\"x\"}\n");
  REQUIRE(RoundScore(0.97430002689361572) == 0.9743);
  REQUIRE(ParseOutputFormat("box").value() == OutputFormat::kTable);
  REQUIRE(ParseOutputFormat("ndjson").value() == OutputFormat::kJsonl);
}

TEST_CASE("tab completion: commands, options, collections, paths", "[shell]") {
  TempDir dir;
  std::ostringstream out, err;
  Shell shell(Database::Open(dir / "db").value(), ShellSettings{}, out, err);
  REQUIRE(shell.ChooseStartCollection().ok());
  REQUIRE(shell.Execute("create fireworks").ok());
  REQUIRE(shell.Execute("create forest").ok());
  using V = std::vector<std::string>;
  REQUIRE(shell.Completions("sea") == V{"search"});
  REQUIRE(shell.Completions("  .mo") == V{".mode"});
  REQUIRE(shell.Completions("re") == V{"read", "refit", "reindex"});
  REQUIRE(shell.Completions("search big fires --st") == V{"--strategy"});
  REQUIRE(shell.Completions("import data --") ==
          V{"--format", "--id-column", "--text-column", "--upsert"});
  REQUIRE(shell.Completions("use f") == V{"fireworks", "forest"});
  REQUIRE(shell.Completions("drop d") == V{"default"});
  REQUIRE(shell.Completions("search f").empty());  // query text: nothing to offer
  std::filesystem::create_directories(dir / "files/sub");
  std::ofstream(dir / "files/notes.jsonl") << "{}\n";
  std::ofstream(dir / "files/.hidden") << "";
  const std::string files = dir / "files";
  REQUIRE(shell.Completions("import " + files + "/") == V{files + "/notes.jsonl", files + "/sub/"});
  REQUIRE(shell.Completions(".read " + files + "/n") == V{files + "/notes.jsonl"});
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
  const std::string help_create = RunSemdb(dir.path(), "-c 'help create'").out;
  REQUIRE(help_create.find("tfidf [lsa=auto|true|false] [dim=256]") != std::string::npos);
  // Every parameter of every kind's table, with what it accepts.
  for (const auto& kinds : {EmbedderKinds(), IndexKinds(), ChunkingKinds()}) {
    for (const ComponentKind& kind : kinds) {
      REQUIRE(help_create.find("  " + kind.name + " ") != std::string::npos);
      for (const ParameterInfo& p : kind.parameters) {
        INFO(kind.name << " " << p.name);
        REQUIRE(help_create.find(absl::StrCat(" ", p.name, " ")) != std::string::npos);
        REQUIRE(help_create.find(p.help) != std::string::npos);
        if (p.type != ParameterInfo::Type::kText) {
          REQUIRE(help_create.find(absl::StrCat(p.Accepted(), ": ", p.help)) != std::string::npos);
        }
      }
    }
  }
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

TEST_CASE("a filter quoted whole means the same in every command that takes --where",
          "[shell][binary]") {
  TempDir dir;
  Run r = RunSemdb(dir.path(), "db --json",
                   "create notes --embedder tfidf dim=16\n"
                   "insert The cat sat on the mat --id cat --meta {\"kind\": \"pet\"}\n"
                   "insert A cat food advert --id ad --meta {\"kind\": \"news\"}\n"
                   "search cat --k 5 --where kind = 'pet'\n"
                   "search cat --k 5 --where \"kind = 'pet'\"\n"
                   "search cat --k 5 --where 'kind = \"pet\"'\n"
                   "explain search cat --where \"kind = 'pet'\"\n"
                   "count --where \"kind = 'pet'\"\n"
                   "scan --where 'kind = \"pet\"'\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<nlohmann::json> out = JsonLines(r.out);
  REQUIRE(out.size() == 9);
  for (int i : {3, 4, 5}) {
    INFO(out[i].dump());
    REQUIRE(out[i].size() == 1);
    REQUIRE(out[i][0]["id"] == "cat");
  }
  REQUIRE(out[6]["query"]["filter"] == "kind = \"pet\"");
  REQUIRE(out[7]["count"] == 1);
  REQUIRE(out[8]["documents"].size() == 1);
  REQUIRE(out[8]["documents"][0]["id"] == "cat");
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

namespace semdb {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_CASE("output formats: table, json, jsonl, csv, markdown, line", "[shell][binary]") {
  TempDir dir;
  const std::string setup =
      "create notes --embedder tfidf dim=16\n"
      "insert The cat sat, said \"meow\" --id cat --meta {\"kind\": \"pet\"}\n"
      "insert Dogs bark at the postman --id dog\n";
  REQUIRE(RunSemdb(dir.path(), "db", setup).exit_code == 0);
  const std::string query = "use notes\nsearch cat --k 1 --hybrid 0\n";

  // CSV (RFC 4180): quotes doubled, fields with commas or quotes quoted,
  // CRLF line ends; numbers rounded to 4 decimals; the message of `use`
  // (not a table) as it is.
  Run csv = RunSemdb(dir.path(), "db --format csv", query);
  INFO(csv.err);
  REQUIRE(csv.exit_code == 0);
  const std::string csv_table = csv.out.substr(csv.out.find('#'));
  REQUIRE(csv_table.starts_with("#,id,cosine,text,metadata\r\n1,cat,"));
  REQUIRE(csv_table.ends_with(",\"The cat sat, said \"\"meow\"\"\",\"{\"\"kind\"\":\"\"pet\"\"}\"\r\n"));

  // The same through `set format` and sqlite3's `.mode`.
  REQUIRE(RunSemdb(dir.path(), "db", "set format csv\n" + query).out == csv.out);
  REQUIRE(RunSemdb(dir.path(), "db", ".mode csv\n" + query).out == csv.out);

  Run md = RunSemdb(dir.path(), "db", ".mode markdown\n" + query);
  REQUIRE(md.out.find("| # | id | cosine | text | metadata |\n"
                      "|---:|---|---:|---|---|\n"
                      "| 1 | cat | ") != std::string::npos);
  REQUIRE(md.out.find(" | The cat sat, said \"meow\" | {\"kind\":\"pet\"} |\n(1 result)\n") !=
          std::string::npos);

  Run line = RunSemdb(dir.path(), "db --format line", query);
  REQUIRE(line.out.find("       # = 1\n      id = cat\n  cosine = 0.") != std::string::npos);
  REQUIRE(line.out.find("\n    text = The cat sat, said \"meow\"\nmetadata = {\"kind\":\"pet\"}\n") !=
          std::string::npos);

  // JSON: the score rounded to 4 decimals and named.
  Run json = RunSemdb(dir.path(), "db --format json", query);
  nlohmann::json hits = nlohmann::json::parse(json.out);
  REQUIRE(hits[0]["id"] == "cat");
  REQUIRE(hits[0]["score_kind"] == "cosine");
  const double score = hits[0]["score"].get<double>();
  REQUIRE(score == std::round(score * 1e4) / 1e4);
  REQUIRE(hits[0]["score"].dump().size() <= 6);  // 0.1234

  // JSON Lines: a line per row.
  Run jsonl = RunSemdb(dir.path(), "db --format jsonl -c 'use notes' -c 'search cat --k 2' "
                                   "-c collections");
  std::vector<std::string> lines = Lines(jsonl.out);
  REQUIRE(lines.size() == 4);  // two hits, two collections
  REQUIRE(nlohmann::json::parse(lines[0])["score_kind"] == "fusion score");
  REQUIRE(nlohmann::json::parse(lines[3])["name"] == "notes");

  // A table: a column of numbers is right-aligned, the record view of get.
  Run table = RunSemdb(dir.path(), "db -c 'use notes' -c 'get dog' -c collections");
  REQUIRE(table.out.find("id:             dog\n") != std::string::npos);
  REQUIRE(table.out.find("text:           Dogs bark at the postman\n") != std::string::npos);
  REQUIRE(table.out.find(" notes * |         2 |") != std::string::npos);

  Run bad = RunSemdb(dir.path(), "db --format yaml -c count");
  REQUIRE(bad.exit_code == 2);
  REQUIRE(bad.err ==
          "error: --format: unknown output format 'yaml' (table, json, jsonl, csv, markdown, "
          "line)\n");
}

TEST_CASE("score columns say what the score is", "[shell][binary]") {
  TempDir dir;
  Run r = RunSemdb(dir.path(), "db --format csv",
                   "create notes --embedder tfidf dim=16\n"
                   "insert The cat sat on the mat --id cat\n"
                   "insert Dogs bark at the postman --id dog\n"
                   "search cat --k 1\n"
                   "search cat --k 1 --hybrid 0\n"
                   "search cat --k 1 --fusion rrf\n"
                   "search cat --k 1 --hybrid 1\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> headers;
  for (const std::string& line : Lines(r.out)) {
    if (line.starts_with("#,")) headers.push_back(line);
  }
  REQUIRE(headers == std::vector<std::string>{"#,id,fusion score,text,metadata\r",
                                              "#,id,cosine,text,metadata\r",
                                              "#,id,rank score,text,metadata\r",
                                              "#,id,bm25,text,metadata\r"});
}

TEST_CASE("search --include chooses the hits' fields", "[shell][binary]") {
  TempDir dir;
  Run r = RunSemdb(dir.path(), "db --format csv",
                   "create notes --embedder tfidf dim=16\n"
                   "insert The cat sat on the mat --id cat --meta {\"kind\": \"pet\"}\n"
                   "insert Dogs bark at the postman --id dog\n"
                   "search cat --k 1 --hybrid 0 --include none\n"
                   "search cat --k 1 --hybrid 0 --include text\n"
                   "search cat --k 1 --hybrid 0 --include metadata\n"
                   "search cat --k 1 --hybrid 0 --include metadata,text\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> rows;
  for (const std::string& line : Lines(r.out)) {
    if (line.starts_with("#,") || line.starts_with("1,")) rows.push_back(line);
  }
  REQUIRE(rows.size() == 8);
  CHECK(rows[0] == "#,id,cosine\r");
  CHECK(rows[2] == "#,id,cosine,text\r");
  CHECK(rows[3].ends_with(",The cat sat on the mat\r"));
  CHECK(rows[4] == "#,id,cosine,metadata\r");
  CHECK(rows[5].ends_with(",\"{\"\"kind\"\":\"\"pet\"\"}\"\r"));
  CHECK(rows[6] == "#,id,cosine,text,metadata\r");

  // JSON leaves out the fields not asked for, in a query file's batch too.
  {
    std::ofstream queries(dir / "queries.txt");
    queries << "cat\npostman\n";
  }
  Run json = RunSemdb(dir.path(), "db --format json", "use notes\nsearch cat --k 1 --include text\n");
  INFO(json.err);
  REQUIRE(json.exit_code == 0);
  nlohmann::json one = nlohmann::json::parse(json.out);
  CHECK(one[0]["text"] == "The cat sat on the mat");
  CHECK_FALSE(one[0].contains("metadata"));
  json = RunSemdb(dir.path(), "db --format json",
                  "use notes\nsearch --file " + (dir / "queries.txt") +
                      " --k 1 --include none\n");
  INFO(json.err);
  REQUIRE(json.exit_code == 0);
  nlohmann::json many = nlohmann::json::parse(json.out);
  REQUIRE(many.size() == 2);
  CHECK(many[1]["hits"][0]["id"] == "dog");
  CHECK_FALSE(many[1]["hits"][0].contains("text"));
  CHECK_FALSE(many[1]["hits"][0].contains("metadata"));

  Run bad = RunSemdb(dir.path(), "db", "use notes\nsearch cat --include title\n");
  CHECK_THAT(bad.err, Catch::Contains("--include takes text,metadata, text, metadata or none, "
                                      "got 'title'"));
}

TEST_CASE("create takes every collection setting: indexed fields, keyword index, vector storage",
          "[shell][binary]") {
  TempDir dir;
  Run r = RunSemdb(dir.path(), "db --format json",
                   "create half --embedder vectors dim=3 --indexed kind --keyword-index off "
                   "--vector-storage float16\n"
                   "stats\n"
                   "create plain --embedder tfidf dim=16\n"
                   "stats\n"
                   "create bad1 --keyword-index maybe\n"
                   "create bad2 --vector-storage float8\n");
  INFO(r.out << r.err);
  CHECK(r.err ==
        "error: --keyword-index must be on or off, got 'maybe'\n"
        "error: vector_storage is auto, float32 or float16, not 'float8'\n");
  std::vector<nlohmann::json> stats;
  for (const std::string& line : Lines(r.out)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("vector_storage")) stats.push_back(j);
  }
  REQUIRE(stats.size() == 2);
  CHECK(stats[0]["vector_storage"] == "float16");
  CHECK(stats[0]["vector_encoding"] == "float16");
  CHECK(stats[0]["indexed_fields"] == nlohmann::json::array({"kind"}));
  CHECK_FALSE(stats[0].contains("keyword_index"));
  CHECK(stats[1]["vector_storage"] == "auto");
  CHECK(stats[1].contains("keyword_index"));
  // The settings are the collection's for good: a reopen sees them.
  Run again = RunSemdb(dir.path(), "db --format json -c 'use half' -c stats");
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.out.find("\"vector_storage\":\"float16\"") != std::string::npos);
}

TEST_CASE("tables take the terminal's width or `set width`, and help wraps, never cuts",
          "[shell][binary]") {
  TempDir dir;
  const std::vector<std::string> usages = {
      "search QUERY [--k N] [--where FILTER] [--hybrid W] [--fusion F] [--dedupe]",
      "import PATH [--format F] [--text-column C] [--id-column C] [--upsert]",
      "set format F | set width N | set timer on|off"};
  for (int width : {80, 40}) {
    for (const Run& r : {RunSemdb(dir.path(), "db -c help", "", width),
                         RunSemdb(dir.path(), "db", "set width " + std::to_string(width) +
                                                         "\nhelp\n", 200)}) {
      INFO(width << "\n" << r.out << r.err);
      REQUIRE(r.exit_code == 0);
      std::string words;  // the table's first column, words in order
      size_t column_end = std::string::npos;  // where the rule line has its '+'
      for (const std::string& line : Lines(r.out)) {
        if (line.starts_with("Type 'help")) break;
        REQUIRE(DisplayWidth(line) <= width);
        if (line.starts_with("---")) column_end = line.find('+');
        if (column_end == std::string::npos || line.starts_with("---")) continue;
        for (absl::string_view w :
             absl::StrSplit(line.substr(0, column_end), ' ', absl::SkipEmpty())) {
          absl::StrAppend(&words, words.empty() ? "" : " ", w);
        }
      }
      for (const std::string& usage : usages) {
        INFO(usage);
        REQUIRE(words.find(usage) != std::string::npos);
      }
    }
  }
  // Search results at 40 columns: cut with "…", every line within 40.
  Run narrow = RunSemdb(dir.path(), "db",
                        "insert a rather long document about rivers and their deltas\n"
                        "search rivers\n", 40);
  for (const std::string& line : Lines(narrow.out)) REQUIRE(DisplayWidth(line) <= 40);
  REQUIRE(narrow.out.find("…") != std::string::npos);
  REQUIRE(RunSemdb(dir.path(), "db -c 'set width 5'").err ==
          "error: the width must be 0 (the terminal's) or at least 20\n");
}

TEST_CASE("sqlite3 dot commands, read and output, did you mean", "[shell][binary]") {
  TempDir dir;
  std::ofstream(dir / "script.semdb") << "insert from a script --id s1\n"
                                         "nonsense\n"
                                         "count\n";
  Run r = RunSemdb(dir.path(), "db",
                   ".timer on\n"
                   ".read script.semdb\n"
                   ".timer off\n"
                   ".output out.txt\n"
                   "get s1\n"
                   ".output\n"
                   ".tables\n"
                   ".collections\n"
                   ".help\n"
                   "serch rivers\n"
                   "search rivers --kk 3\n"
                   "import --uspert\n"
                   ".quit\n"
                   "count\n");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 1);
  // .read runs each line; the failing one is reported, the rest runs.
  REQUIRE(r.out.starts_with("inserted 's1'\n1\n"));
  REQUIRE(r.err.find("time: ") != std::string::npos);
  REQUIRE(testing::ReadFile(dir / "out.txt").starts_with("id:             s1\n"));
  REQUIRE(r.out.find("id:") == std::string::npos);
  // .tables and .collections list the collections; .help the commands.
  REQUIRE(r.out.find(" default * |") != std::string::npos);
  REQUIRE(r.out.find("(1 collection)\n name") != std::string::npos);
  REQUIRE(r.out.find("search QUERY") != std::string::npos);
  std::vector<std::string> errors;
  for (const std::string& line : Lines(r.err)) {
    if (!line.starts_with("time: ")) errors.push_back(line);
  }
  REQUIRE(errors.size() == 5);
  REQUIRE(errors[0] == "error: unknown command 'nonsense'; type 'help' for the list");
  REQUIRE(errors[1] == "error: script.semdb: 1 command failed");
  REQUIRE(errors[2] ==
          "error: unknown command 'serch' (did you mean 'search'?); type 'help' for the list");
  REQUIRE(errors[3].starts_with("error: 'search' has no option --kk (did you mean --k?); usage: "));
  REQUIRE(errors[4].starts_with(
      "error: 'import' has no option --uspert (did you mean --upsert?); usage: "));
  // .quit left before the last count.
  REQUIRE(r.out.ends_with("Type 'help COMMAND' for details; sqlite3's .mode, .timer, .help, "
                          ".quit, .tables, .read and .output work too.\n"));
}

TEST_CASE("long operations log through spdlog at --log-level info, quiet by default",
          "[shell][binary]") {
  TempDir dir;
  const std::string commands = "-c 'insert rivers and deltas' -c 'insert forests and fires' "
                               "-c 'reindex --index hnsw m=8' -c refit";
  Run quiet = RunSemdb(dir.path(), "db " + commands);
  REQUIRE(quiet.exit_code == 0);
  REQUIRE(quiet.err.empty());
  Run info = RunSemdb(dir.path(), "db --log-level info " + commands);
  INFO(info.err);
  REQUIRE(info.exit_code == 0);
  // The last four: the reindex and the refit (inserts refit as the
  // collection doubles, before them).
  std::vector<std::string> lines = Lines(info.err);
  REQUIRE(lines.size() >= 4);
  lines.erase(lines.begin(), lines.end() - 4);
  REQUIRE(lines[0].ends_with(" [semdb] [info] index rebuild of 'default': started (4 items)"));
  REQUIRE(lines[1].find(" [semdb] [info] index rebuild of 'default': 4 items in ") !=
          std::string::npos);
  REQUIRE(lines[2].ends_with(" [semdb] [info] refit of 'default': started (4 items)"));
  REQUIRE(lines[3].find(" [semdb] [info] refit of 'default': 4 items in ") != std::string::npos);
  Run bad = RunSemdb(dir.path(), "db --log-level loud -c count");
  REQUIRE(bad.exit_code == 2);
  REQUIRE(bad.err == "error: unknown log level 'loud' (off, error, warn, info, debug)\n");
}

TEST_CASE("import problems name --text-column and the columns found, in file order",
          "[shell][binary]") {
  TempDir dir;
  std::ofstream(dir / "a.csv") << "id,body\n1,first\n";
  std::ofstream(dir / "b.jsonl") << "{\"id\": \"x\", \"text\": \"fine\"}\n"
                                 << "{\"id\": \"x\", \"text\": \"duplicate\"}\n"
                                 << "{\"body\": \"no text\", \"year\": 2001}\n";
  Run r = RunSemdb(dir.path(), "db -c 'import a.csv' -c 'import b.jsonl'");
  INFO(r.out << r.err);
  // The new collection's model is fitted once, at the end of the import
  // (its batches defer the write path's fits).
  REQUIRE(r.out ==
          "imported 0 documents from 1 file; skipped 1\n"
          "  skipped a.csv:1: no column named 'text' (columns: id, body); name the text column "
          "with --text-column\n"
          "imported 1 document from 1 file; skipped 2; model refitted on the whole collection\n"
          "  skipped b.jsonl:2: document 'x' already exists (upsert replaces it)\n"
          "  skipped b.jsonl:3: no 'text' field (fields: body, year); name the text field with "
          "--text-column\n");
}

}  // namespace
}  // namespace semdb
