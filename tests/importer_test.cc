// Importing real and malformed files: what goes in, and what is reported.
#include "semdb/import.h"

#include <filesystem>
#include <fstream>

#include "catch2/catch.hpp"
#include "src/csv_reader.h"
#include "test_data.h"

namespace semdb {
namespace {

using testing::TempDir;

void WriteFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<Database> db = Database::Open(dir / "db").value();
  std::shared_ptr<Collection> c = db->CreateCollection("c").value();

  ImportReport Import(const std::string& path, ImportOptions o = {}) {
    absl::StatusOr<ImportReport> r = ImportPath(*c, path, o);
    INFO(r.status().message());
    REQUIRE(r.ok());
    return *r;
  }
};

TEST_CASE("one document per line, with provenance", "[import]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  Fixture f;
  const std::string path = testing::SharedData("gensim/lee_background.cor");
  int64_t last_done = 0;
  ImportOptions o;
  o.batch_size = 64;
  o.progress = [&](const ImportProgress& p) {
    REQUIRE(p.bytes_done >= last_done);
    REQUIRE(p.bytes_done <= p.bytes_total);
    last_done = p.bytes_done;
  };
  ImportReport r = f.Import(path, o);
  REQUIRE(r.documents == 300);
  REQUIRE(r.skipped == 0);
  REQUIRE(last_done > 0);
  REQUIRE(f.c->Count() == 300);
  std::vector<Hit> hits = f.c->Search("bushfires", {.k = 1}).value();
  REQUIRE(hits[0].metadata["source"] == path);
  REQUIRE(hits[0].metadata["line"].get<int>() >= 1);
}

TEST_CASE("the Lee test corpus line with invalid UTF-8 is skipped and reported", "[import]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee.cor");
  Fixture f;
  ImportReport r = f.Import(testing::SharedData("gensim/lee.cor"), {.format = ImportFormat::kLines});
  REQUIRE(r.documents == 49);
  REQUIRE(r.skipped == 1);
  REQUIRE(r.problems[0].line > 0);
  REQUIRE(r.problems[0].reason.find("invalid UTF-8") != std::string::npos);
}

TEST_CASE("JSON Lines: fields become metadata, bad lines are reported", "[import]") {
  Fixture f;
  const std::string path = f.dir / "docs.jsonl";
  WriteFile(path,
            "{\"id\": \"a\", \"text\": \"alpha text about rivers\", \"year\": 2001}\n"
            "{\"text\": \"no id, generated\", \"tags\": [\"x\"]}\n"
            "not json at all\n"
            "[1, 2]\n"
            "\n"
            "{\"id\": 7, \"text\": \"numeric id\"}\n"
            "{\"title\": \"missing text field\"}\n"
            "{\"id\": \"a\", \"text\": \"duplicate id\"}\n"
            "{\"text\": 42}\n"
            "{\"id\": \"s\", \"text\": \"has its own source\", \"source\": \"web\"}\n");
  ImportReport r = f.Import(path);
  REQUIRE(r.documents == 4);
  REQUIRE(r.skipped == 5);
  std::vector<std::pair<int64_t, std::string>> problems;
  for (const ImportProblem& p : r.problems) problems.emplace_back(p.line, p.reason);
  REQUIRE(problems[0].first == 3);
  REQUIRE(problems[0].second.starts_with("malformed JSON: "));
  REQUIRE(problems[1] == std::make_pair(int64_t{4}, std::string("not a JSON object")));
  // The import option to use, and the fields that the record has.
  REQUIRE(problems[2] ==
          std::make_pair(int64_t{7}, std::string("no 'text' field (fields: title); name the "
                                                 "text field with --text-column")));
  // In file order, though line 8 was refused when its batch was written.
  REQUIRE(problems[3].first == 8);
  REQUIRE(problems[3].second.find("already exists") != std::string::npos);
  REQUIRE(problems[4] == std::make_pair(int64_t{9}, std::string("'text' is not a string")));
  Document a = f.c->Get("a").value();
  REQUIRE(a.metadata["year"] == 2001);
  REQUIRE(a.metadata["line"] == 1);
  REQUIRE(f.c->Get("7").value().text == "numeric id");
  REQUIRE(f.c->Get("s").value().metadata["source"] == "web");

  // With upsert, the duplicate replaces the first.
  ImportOptions upsert;
  upsert.upsert = true;
  upsert.format = ImportFormat::kJsonLines;
  WriteFile(path, "{\"id\": \"a\", \"text\": \"replaced alpha\"}\n");
  REQUIRE(f.Import(path, upsert).documents == 1);
  REQUIRE(f.c->Get("a").value().text == "replaced alpha");
}

TEST_CASE("a cancelled import keeps the batches written before, and says so", "[import]") {
  Fixture f;
  const std::string path = f.dir / "many.lines";
  std::string lines;
  for (int i = 0; i < 250; ++i) lines += "document number " + std::to_string(i) + " about rivers\n";
  WriteFile(path, lines);
  ImportOptions o;
  o.batch_size = 100;
  int batches = 0;
  o.progress = [&](const ImportProgress&) { ++batches; };
  o.cancelled = [&] { return batches == 2; };  // Ctrl-C during the second batch
  ImportReport r = f.Import(path, o);
  REQUIRE(r.cancelled);
  REQUIRE(r.documents == 200);
  REQUIRE(f.c->Count() == 200);
  REQUIRE(f.c->Search("rivers", {.k = 1}).value().size() == 1);

  o.cancelled = nullptr;
  ImportReport all = f.Import(path, o);
  REQUIRE_FALSE(all.cancelled);
  REQUIRE(all.documents == 250);
}

TEST_CASE("CSV with quotes, line breaks in fields and bad rows", "[import]") {
  Fixture f;
  const std::string path = f.dir / "docs.csv";
  WriteFile(path,
            "id,body,year,city\r\n"
            "1,\"a plain, quoted body\",1999,Paris\r\n"
            "2,\"a body with \"\"quotes\"\" and\na line break\",2005,\"New York\"\r\n"
            "3,too,many,fields,here\r\n"
            "4,short\r\n"
            "5,\"closed\"junk,2000,Rome\r\n"
            "6,the last one,2010,Oslo\r\n");
  ImportOptions o;
  o.text_field = "body";
  ImportReport r = f.Import(path, o);
  REQUIRE(r.documents == 3);
  REQUIRE(r.skipped == 3);
  REQUIRE(r.problems[0].line == 5);
  REQUIRE(r.problems[0].reason == "has 5 fields, the header 4");
  REQUIRE(r.problems[1].line == 6);
  REQUIRE(r.problems[2].line == 7);
  REQUIRE(r.problems[2].reason == "text after a closing quote");
  Document two = f.c->Get("2").value();
  REQUIRE(two.text == "a body with \"quotes\" and\na line break");
  REQUIRE(two.metadata["year"] == 2005);  // numbers become numbers
  REQUIRE(two.metadata["city"] == "New York");
  REQUIRE(f.c->Search("plain body", {.k = 1, .filter = Filter::Parse("year < 2000").value()})
              .value()[0].id == "1");

  WriteFile(path, "id,title\n1,x\n");
  ImportReport missing = f.Import(path, o);
  REQUIRE(missing.documents == 0);
  REQUIRE(missing.problems[0].reason ==
          "no column named 'body' (columns: id, title); name the text column with --text-column");
}

TEST_CASE("a directory tree: text files whole, binaries and hidden files skipped", "[import]") {
  Fixture f;
  const std::string root = f.dir / "tree";
  WriteFile(root + "/a.txt", "The first file talks about volcanoes and lava.");
  WriteFile(root + "/sub/b.md", "# Title\n\nA markdown file about glaciers.\n");
  WriteFile(root + "/sub/c.data", "an unknown extension, read whole");
  WriteFile(root + "/.hidden/d.txt", "should not be imported");
  WriteFile(root + "/image.bin", std::string("\x89PNG\0\0\0binary", 14));
  ImportReport r = f.Import(root);
  REQUIRE(r.files == 4);
  REQUIRE(r.documents == 3);
  REQUIRE(r.skipped == 1);
  REQUIRE(r.problems[0].reason.find("binary file") != std::string::npos);
  std::vector<Hit> hits = f.c->Search("glaciers", {.k = 1}).value();
  REQUIRE(hits[0].metadata["source"] == root + "/sub/b.md");
  REQUIRE_FALSE(hits[0].metadata.contains("line"));

  REQUIRE(ImportPath(*f.c, f.dir / "nope", {}).status().code() == absl::StatusCode::kNotFound);
  REQUIRE(ParseImportFormat("xml").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the CSV reader follows RFC 4180", "[import][csv]") {
  std::istringstream in("a,\"b,c\",\"d\"\"e\"\n,\n\"multi\nline\",x\r\n\"unclosed");
  CsvReader csv(in);
  std::vector<std::string> row;
  std::string error;
  REQUIRE(csv.Next(&row, &error));
  REQUIRE(row == std::vector<std::string>{"a", "b,c", "d\"e"});
  REQUIRE(csv.Next(&row, &error));
  REQUIRE(row == std::vector<std::string>{"", ""});
  REQUIRE(csv.Next(&row, &error));
  REQUIRE(csv.record_line() == 3);
  REQUIRE(row == std::vector<std::string>{"multi\nline", "x"});
  REQUIRE(csv.Next(&row, &error));
  REQUIRE(error == "a quoted field is never closed");
  REQUIRE_FALSE(csv.Next(&row, &error));
}

}  // namespace
}  // namespace semdb
