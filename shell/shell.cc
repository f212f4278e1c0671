#include "shell/shell.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "fmt/format.h"
#include "semdb/components.h"
#include "semdb/evaluation.h"
#include "semdb/import.h"
#include "shell/empty_result_note.h"
#include "shell/json_output.h"
#include "shell/progress_bar.h"
#include "shell/table.h"
#include "storage/bounded_json.h"

namespace semdb {

struct Shell::Command {
  std::string name;
  std::vector<std::string> aliases;
  std::string usage;
  std::string summary;
  std::string details;
  std::vector<std::string> options;  // accepted --options
  absl::Status (Shell::*run)(const CommandLine&);
};

namespace {

constexpr char kDefaultCollection[] = "default";
constexpr int kMinWidth = 20;     // narrower, a table has no room for its columns
constexpr int kMaxReadDepth = 16;  // `read` inside a file that `read` runs

// A number in [0, 1] (or (0, 1] when zero is not allowed).
absl::StatusOr<double> ParseFraction(const std::string& what, const std::string& raw,
                                     bool zero_allowed) {
  double v;
  std::string text = Unquote(raw);
  if (!absl::SimpleAtod(text, &v) || !(v <= 1) || !(zero_allowed ? v >= 0 : v > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must be a number ", zero_allowed ? "from 0" : "above 0", " to 1, got '", text,
        "'"));
  }
  return v;
}

// Flattens nested JSON objects into "a.b" keys for a two-column table.
void Flatten(const nlohmann::json& j, const std::string& prefix,
             std::vector<std::vector<nlohmann::json>>* rows) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) Flatten(v, prefix.empty() ? k : prefix + "." + k, rows);
    return;
  }
  rows->push_back({prefix, j});
}

// sqlite3's dot commands that change a setting, and the setting.
constexpr std::pair<const char*, const char*> kDotSettings[] = {
    {".mode", "format"}, {".timer", "timer"}, {".width", "width"}};

// Levenshtein distance (insertions, deletions, substitutions), in bytes.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The candidate closest to `word`, when it is close enough to be the word
// meant: at most 2 edits, and fewer edits than the word has letters; the
// first in `candidates` on a tie. Empty when none is.
std::string Nearest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::min<size_t>(3, word.size());
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace

const std::vector<Shell::Command>& Shell::Commands() {
  static const auto* const kCommands = new std::vector<Command>{
      {"help", {"?", ".help"}, "help [COMMAND]", "show commands, or one command in detail", "", {},
       &Shell::Help},
      {"collections", {"list", "ls", ".tables", ".collections"}, "collections", "list the collections", "", {},
       &Shell::ListCollections},
      {"create", {},
       "create NAME [--embedder SPEC] [--index SPEC] [--chunking SPEC] [--indexed FIELD,...] "
       "[--keyword-index on|off] [--vector-storage auto|float32|float16]",
       "create a collection and use it",
       "The embedder turns text into vectors; it is fixed for the collection's life.\n"
       "--indexed names top-level metadata fields to keep a secondary index of, so\n"
       "that filters on them are counted and answered without reading every\n"
       "document (other fields can still be filtered on). Texts are also kept in a\n"
       "keyword (BM25) index for `search --hybrid` (--keyword-index off: not kept).\n"
       "--vector-storage: how vectors are stored on disk; float16 halves the disk\n"
       "(11 significant bits), auto (the default) stores the half-precision output of\n"
       "TF-IDF with LSA as float16 and everything else as float32.\n"
       "SPEC is a kind followed by key=value parameters. Embedders:\n",
       {"embedder", "index", "chunking", "indexed", "keyword-index", "vector-storage"},
       &Shell::Create},
      {"use", {}, "use NAME", "make NAME the current collection", "", {}, &Shell::Use},
      {"drop", {}, "drop NAME", "delete a collection and all its documents", "", {},
       &Shell::Drop},
      {"insert", {"add"}, "insert TEXT [--id ID] [--meta JSON]",
       "add a document (the id is generated when not given)",
       "TEXT runs to the first --option; quote it if it contains \" --\".\n"
       "Example: insert Bushfires near Sydney --meta {\"year\": 2001, \"topic\": \"fire\"}",
       {"id", "meta"}, &Shell::Insert},
      {"upsert", {}, "upsert TEXT --id ID [--meta JSON]",
       "insert, or replace the document with this id", "", {"id", "meta"}, &Shell::Upsert},
      {"import", {}, "import PATH [--format F] [--text-column C] [--id-column C] [--upsert]",
       "import a file or a directory tree",
       "Formats: auto (by extension), lines (a document per line), text (a document\n"
       "per file), jsonl (JSON objects; --text-column names the text field, default\n"
       "\"text\"; other fields become metadata), csv (header row; columns as jsonl).\n"
       "In a directory, files of unknown extension are read whole. Malformed records\n"
       "are skipped and listed with their line numbers; the rest is imported.",
       {"format", "text-column", "id-column", "upsert"}, &Shell::Import},
      {"search", {"find", "s"},
       "search QUERY [--k N] [--where FILTER] [--hybrid W] [--fusion F] [--dedupe] "
       "[--neighbors N] "
       "[--parent] [--nprobe N] [--ef N] [--recall R] [--strategy S] [--include FIELDS]",
       "find the documents (or passages) closest in meaning to QUERY",
       "FILTER conditions on metadata: = != < <= > >= IN (...) EXISTS, combined with\n"
       "AND, OR, NOT and parentheses; quote strings. Example:\n"
       "  search forest fires --k 5 --where year >= 2000 AND topic IN (\"fire\", \"storm\")\n"
       "--hybrid W fuses a keyword (BM25) ranking with weight W in [0, 1] into the\n"
       "vector ranking: 0 = vector only, 1 = keywords only; by default 0.3 when the\n"
       "collection keeps a keyword index. --fusion convex (default: min-max normalized\n"
       "scores, (1-W)*vector + W*keyword) or rrf (reciprocal rank fusion, k=60).\n"
       "--nprobe (IVF) and --ef (HNSW) override the planner's search width;\n"
       "--recall R in (0, 1] is the recall the planner aims for (default 0.95;\n"
       "1 = exact only); --strategy forces exact_scan, filtered_scan, ann or\n"
       "ann_post_filter (default auto). 'explain search ...' shows the plan.\n"
       "In a chunked collection hits are passages: the id is their document's, and\n"
       "'passage' says which one (index/count) and where it lies (byte offsets).\n"
       "--dedupe keeps the best passage of each document, --neighbors N adds the N\n"
       "passages before and after each hit, --parent the whole document.\n"
       "--include text,metadata (default), text, metadata or none: the hits' fields\n"
       "besides id and score (none reads nothing from storage).\n"
       "--file FILE searches each line of FILE (one batch: the texts are embedded\n"
       "together and, without a filter or keyword ranking, searched in one index call).",
       {"k", "where", "nprobe", "ef", "hybrid", "fusion", "recall", "strategy", "dedupe",
        "neighbors", "parent", "include", "file"},
       &Shell::Search},
      {"explain", {}, "explain [analyze] search QUERY [search options]",
       "show how a search would be answered (with analyze: run it and measure)",
       "Shows the strategy the query planner chose, the filter's estimated\n"
       "selectivity and matches and where the estimate came from, the search\n"
       "width (nprobe/ef_search, results fetched) and the estimated cost of every\n"
       "strategy. 'explain analyze' also runs the search and shows what it did:\n"
       "index searches, results, filter checks, fallbacks, hits and timings.",
       {"k", "where", "nprobe", "ef", "hybrid", "fusion", "recall", "strategy", "dedupe",
        "neighbors", "parent"},
       &Shell::Explain},
      {"get", {}, "get ID [ID...]", "show a document, or several (quote ids with spaces)", "",
       {}, &Shell::Get},
      {"scan", {"peek"}, "scan [--where FILTER] [--limit N] [--offset N] [--cursor C]",
       "list documents in storage order, a page at a time",
       "Shows --limit documents (default 20) after skipping --offset, from the\n"
       "start or from --cursor C, the cursor printed under the previous page.\n"
       "An upsert moves a document to the end of the order.",
       {"where", "limit", "offset", "cursor"}, &Shell::Scan},
      {"delete", {"rm"}, "delete ID [ID...] | delete --where FILTER [--yes]",
       "delete documents by id, or those matching a filter",
       "With --where and without --yes, only counts the documents that would be\n"
       "deleted; with --yes, deletes them in one atomic write.",
       {"where", "yes"}, &Shell::Delete},
      {"count", {}, "count [--where FILTER]", "count the documents (matching a filter)", "",
       {"where"}, &Shell::Count},
      {"update", {}, "update ID [ID...] --metadata JSON [--replace]",
       "change documents' metadata without re-embedding them",
       "By default JSON is merged into each document's metadata (RFC 7386: its\n"
       "fields are set, null removes a field, objects merge); --replace replaces\n"
       "the metadata whole. Example: update a1 --metadata {\"year\": 2002, \"draft\": null}",
       {"metadata", "replace"}, &Shell::Update},
      {"export", {}, "export FILE [--vectors] [--where FILTER]",
       "write the documents to FILE as JSON Lines, for import to read back",
       "Each line is {\"id\", \"text\", \"metadata\"} (and \"vector\" with --vectors: the\n"
       "stored vector in a vectors collection, the model's in others). 'import FILE'\n"
       "restores ids, texts and metadata as they were, and the vectors of a vectors\n"
       "collection.",
       {"vectors", "where"}, &Shell::Export},
      {"stats", {}, "stats", "facts about the current collection, its embedder and index",
       "", {}, &Shell::Stats},
      {"refit", {}, "refit", "refit the embedder on all documents and re-embed them",
       "TF-IDF refits by itself when the collection has doubled since its last fit.\n"
       "For a file-based model (glove, word2vec, fasttext, transformer) whose file\n"
       "was replaced, refit re-embeds every document with the new file.",
       {},
       &Shell::Refit},
      {"similar", {}, "similar WORD | similar WORD - WORD + WORD [--k N]",
       "nearest words, or word arithmetic (word-vector collections)",
       "For collections embedded by glove, word2vec or fasttext. Example:\n"
       "  similar king - man + woman --k 5\n"
       "The expression's own words are left out of the results.",
       {"k"}, &Shell::Similar},
      {"eval", {},
       "eval retrieval QUERIES QRELS [--hybrid W] [--fusion F] [--depth N] [--json] | "
       "eval similarity PAIRS [--json] | eval words FILE [--json]",
       "measure search or similarity quality against human judgments",
       "eval retrieval: searches the current collection with each query of QUERIES\n"
       "(JSON Lines with \"_id\"/\"id\" and \"text\", or id<TAB>text lines) and scores\n"
       "the rankings (to --depth, default 1000) against QRELS (TREC \"query 0 doc grade\"\n"
       "or \"query doc grade\" lines): nDCG@10 with gain 2^grade - 1, MAP and recall@10,\n"
       "@100, averaged over the queries with a relevant document. --hybrid and\n"
       "--fusion as for search.\n"
       "eval similarity: Spearman and Pearson (x100) between the cosine of each text\n"
       "pair under the collection's model and the human score; PAIRS holds\n"
       "text1<TAB>text2<TAB>score lines, or the STS Benchmark's TSV layout.\n"
       "eval words: Spearman of word-vector cosines (glove, word2vec, fasttext) with\n"
       "human scores; word1<TAB>word2<TAB>score lines, '#' comments (WordSim-353).",
       {"hybrid", "fusion", "depth", "json"}, &Shell::Eval},
      {"similarity", {}, "similarity TEXT1 --with TEXT2",
       "the cosine similarity of two texts under the current collection's model",
       "0 when either text has no word the model knows.", {"with"}, &Shell::Similarity},
      {"checkpoint", {"save"}, "checkpoint", "save the index now (faster next open)", "", {},
       &Shell::Checkpoint},
      {"reindex", {}, "reindex --index SPEC",
       "change the current collection's index and rebuild it from the stored vectors",
       "Changes the index type, its build parameters or its search defaults (see\n"
       "'help create' for the kinds). Searches use the old index until the new one\n"
       "is complete. Example: reindex --index hnsw m=32 ef_search=128",
       {"index"}, &Shell::Reindex},
      {"set", {}, "set format F | set width N | set timer on|off", "change output settings",
       "format: table (the default), json, jsonl, csv (RFC 4180), markdown or line\n"
       "(a \"column = value\" line per field); also sqlite3's .mode F.\n"
       "width: the columns a table may take; 0 follows the terminal (the default).\n"
       "timer: print each command's time on standard error; also .timer on|off.",
       {}, &Shell::Set},
      {"read", {".read"}, "read FILE", "run the commands of FILE, one per line", "", {},
       &Shell::Read},
      {"output", {".output"}, "output [FILE]",
       "send results to FILE (replaced), or back to the screen without FILE",
       "Errors, progress and timings stay on the screen.", {}, &Shell::Output},
      {"quit", {"exit", "\\q", ".quit", ".exit"}, "quit", "leave the shell", "", {},
       &Shell::Quit},
  };
  return *kCommands;
}

const Shell::Command* Shell::Find(std::string_view name) {
  for (const Command& c : Commands()) {
    if (c.name == name || std::find(c.aliases.begin(), c.aliases.end(), name) != c.aliases.end()) {
      return &c;
    }
  }
  return nullptr;
}

std::vector<std::string> Shell::CommandNames() {
  std::vector<std::string> names;
  for (const Command& c : Commands()) {
    names.push_back(c.name);
    names.insert(names.end(), c.aliases.begin(), c.aliases.end());
  }
  for (const auto& [dot, setting] : kDotSettings) names.push_back(dot);
  return names;
}

namespace {

// Paths that start with `prefix`: the entries of its directory part whose
// names continue its last part (hidden ones only when that part starts
// with '.'), directories with a trailing '/'.
std::vector<std::string> CompletePath(const std::string& prefix) {
  namespace fs = std::filesystem;
  const size_t slash = prefix.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : prefix.substr(0, slash + 1);
  const std::string start = slash == std::string::npos ? prefix : prefix.substr(slash + 1);
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir.empty() ? "." : dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!absl::StartsWith(name, start) || (name[0] == '.' && !absl::StartsWith(start, "."))) {
      continue;
    }
    out.push_back(dir + name + (it->is_directory(ec) ? "/" : ""));
  }
  return out;
}

// Commands whose arguments are files.
bool TakesPaths(std::string_view command) {
  for (std::string_view c : {"import", "eval", "read", "output"}) {
    if (command == c) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> Shell::Completions(std::string_view line) const {
  const size_t word_start = line.find_last_of(" \t") == std::string_view::npos
                                ? 0
                                : line.find_last_of(" \t") + 1;
  const std::string word(line.substr(word_start));
  std::vector<std::string> out;
  const auto add_matching = [&](const std::vector<std::string>& names) {
    for (const std::string& n : names) {
      if (absl::StartsWith(n, word)) out.push_back(n);
    }
  };
  const std::string before(absl::StripLeadingAsciiWhitespace(std::string(line.substr(0, word_start))));
  if (before.empty()) {
    add_matching(CommandNames());
  } else {
    const std::string command =
        absl::AsciiStrToLower(before.substr(0, before.find_first_of(" \t")));
    const Command* c = Find(command);
    if (c != nullptr && absl::StartsWith(word, "--")) {
      std::vector<std::string> options;
      for (const std::string& o : c->options) options.push_back("--" + o);
      add_matching(options);
    } else if (c != nullptr && (c->name == "use" || c->name == "drop")) {
      std::vector<std::string> names;
      for (const CollectionInfo& info : db_->ListCollections()) names.push_back(info.name);
      add_matching(names);
    } else if (c != nullptr && TakesPaths(c->name)) {
      out = CompletePath(word);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Shell::Shell(std::unique_ptr<Database> db, ShellSettings settings, std::ostream& out,
             std::ostream& err)
    : db_(std::move(db)), settings_(std::move(settings)), stdout_(out), out_(&out), err_(err) {}

absl::Status Shell::ChooseStartCollection() {
  std::vector<CollectionInfo> all = db_->ListCollections();
  if (all.empty()) {
    absl::StatusOr<std::shared_ptr<Collection>> c =
        db_->CreateCollection(kDefaultCollection, CollectionSpec{});
    if (!c.ok()) return c.status();
    current_ = kDefaultCollection;
    return absl::OkStatus();
  }
  for (const CollectionInfo& info : all) {
    if (info.name == kDefaultCollection) current_ = info.name;
  }
  if (current_.empty() && all.size() == 1) current_ = all[0].name;
  return absl::OkStatus();
}

std::string Shell::Prompt() const {
  return current_.empty() ? "semdb> " : absl::StrCat("semdb:", current_, "> ");
}

int Shell::Width() const {
  if (settings_.width > 0) return settings_.width;
  const int terminal = TerminalColumns(fileno(stdout));
  return terminal > 0 ? terminal : ShellSettings::kDefaultWidth;
}

void Shell::Emit(const Result& result, std::optional<OutputFormat> format) {
  *out_ << FormatResult(result, {format.value_or(settings_.format), Width()});
  out_->flush();
}

absl::Status Shell::Execute(std::string_view line) {
  const auto start = std::chrono::steady_clock::now();
  absl::Status status;
  absl::StatusOr<CommandLine> cmd = ParseCommandLine(line);
  if (!cmd.ok()) {
    status = cmd.status();
  } else if (cmd->command.empty() || cmd->command[0] == '#') {
    return absl::OkStatus();  // blank line or comment
  } else {
    status = Run(*cmd);
  }
  if (!status.ok()) {
    err_ << "error: " << status.message() << std::endl;
  }
  if (settings_.timer) {
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
    err_ << fmt::format("time: {:.3f} ms", ms) << std::endl;
  }
  return status;
}

absl::Status Shell::Run(const CommandLine& typed) {
  CommandLine cmd = typed;
  // sqlite3's dot commands that are a setting: ".mode json" is "set format json".
  for (const auto& [dot, setting] : kDotSettings) {
    if (cmd.command == dot) {
      cmd.command = "set";
      cmd.positional = absl::StrCat(setting, " ", cmd.positional);
    }
  }
  if (const Command* found = Find(cmd.command)) {
    const Command& c = *found;
    for (const auto& [name, value] : cmd.options) {
      if (std::find(c.options.begin(), c.options.end(), name) == c.options.end()) {
        const std::string near = Nearest(name, c.options);
        return absl::InvalidArgumentError(
            absl::StrCat("'", c.name, "' has no option --", name,
                         near.empty() ? "" : absl::StrCat(" (did you mean --", near, "?)"),
                         "; usage: ", c.usage));
      }
    }
    return (this->*c.run)(cmd);
  }
  const std::string near = Nearest(cmd.command, CommandNames());
  return absl::InvalidArgumentError(
      absl::StrCat("unknown command '", cmd.command, "'",
                   near.empty() ? "" : absl::StrCat(" (did you mean '", near, "'?)"),
                   "; type 'help' for the list"));
}

absl::StatusOr<std::shared_ptr<Collection>> Shell::Current() const {
  if (current_.empty()) {
    return absl::FailedPreconditionError(
        "no current collection: 'use NAME' or 'create NAME' first");
  }
  return db_->GetCollection(current_);
}

absl::Status Shell::Help(const CommandLine& cmd) {
  const std::string topic = absl::AsciiStrToLower(cmd.Text());
  if (topic.empty()) {
    Result r;
    r.columns = {"command", "what it does"};
    r.wrap = true;  // usage lines are never cut
    for (const Command& c : Commands()) r.rows.push_back({c.usage, c.summary});
    r.footer = {"Type 'help COMMAND' for details; sqlite3's .mode, .timer, .help, .quit, "
                ".tables, .read and .output work too."};
    Emit(r);
    return absl::OkStatus();
  }
  if (const Command* found = Find(topic)) {
    const Command& c = *found;
    std::string text = absl::StrCat("usage: ", c.usage, "\n", c.summary, "\n");
    if (!c.aliases.empty()) absl::StrAppend(&text, "aliases: ", absl::StrJoin(c.aliases, ", "), "\n");
    if (!c.details.empty()) absl::StrAppend(&text, "\n", c.details, "\n");
    if (c.name == "create") {
      const auto append_kinds = [&](const std::vector<ComponentKind>& kinds) {
        for (const ComponentKind& k : kinds) {
          for (const std::string& line : KindHelp(k)) absl::StrAppend(&text, "  ", line, "\n");
        }
      };
      append_kinds(EmbedderKinds());
      absl::StrAppend(&text, "Indexes:\n");
      append_kinds(IndexKinds());
      absl::StrAppend(&text, "Chunking (documents split into passages, searched one by one):\n");
      append_kinds(ChunkingKinds());
      absl::StrAppend(&text,
                      "Example: create news --embedder tfidf dim=128 --index flat\n"
                      "Example: create wiki --chunking sentences max_chars=800\n");
    }
    Result r;
    r.message = text;
    r.json = {{"command", c.name}, {"usage", c.usage}, {"aliases", c.aliases},
              {"summary", c.summary}, {"details", c.details}, {"options", c.options}};
    Emit(r);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("no command '", topic, "'"));
}

absl::Status Shell::ListCollections(const CommandLine&) {
  std::vector<CollectionInfo> all = db_->ListCollections();
  Result r;
  r.columns = {"name", "documents", "dim", "embedder", "index"};
  r.json = nlohmann::json::array();
  for (const CollectionInfo& c : all) {
    r.rows.push_back({c.name == current_ ? c.name + " *" : c.name, c.documents, c.dimension,
                      c.embedder, c.index});
    r.json.push_back(CollectionInfoJson(c));
  }
  r.footer = {absl::StrCat("(", Plural(static_cast<int64_t>(all.size()), "collection"), ")")};
  Emit(r);
  return absl::OkStatus();
}

absl::Status Shell::Create(const CommandLine& cmd) {
  const std::string name = cmd.Text();
  if (name.empty()) {
    return absl::InvalidArgumentError(
        "usage: create NAME [--embedder SPEC] [--index SPEC] [--chunking SPEC] [--indexed "
        "FIELD,...] [--keyword-index on|off] [--vector-storage auto|float32|float16]");
  }
  CollectionSpec spec;
  if (auto e = cmd.Option("embedder")) spec.embedder = Unquote(*e);
  if (auto i = cmd.Option("index")) spec.index = Unquote(*i);
  if (auto c = cmd.Option("chunking")) spec.chunking = Unquote(*c);
  if (auto fields = cmd.Option("indexed")) {
    for (absl::string_view f : absl::StrSplit(Unquote(*fields), ',', absl::SkipWhitespace())) {
      spec.indexed_fields.emplace_back(absl::StripAsciiWhitespace(f));
    }
  }
  if (auto k = cmd.Option("keyword-index")) {
    const std::string v = absl::AsciiStrToLower(Unquote(*k));
    if (v != "on" && v != "off") {
      return absl::InvalidArgumentError(
          absl::StrCat("--keyword-index must be on or off, got '", *k, "'"));
    }
    spec.keyword_index = v == "on";
  }
  if (auto v = cmd.Option("vector-storage")) spec.vector_storage = Unquote(*v);
  absl::StatusOr<std::shared_ptr<Collection>> c = db_->CreateCollection(name, spec);
  if (!c.ok()) return c.status();
  current_ = name;
  CollectionInfo info = (*c)->Info();
  Emit({.json = {{"created", name},
                 {"embedder", info.embedder},
                 {"index", info.index},
                 {"chunking", info.chunking}},
        .message = absl::StrCat(
            "created collection '", name, "' (embedder: ", info.embedder, "; index: ",
            info.index, info.chunking == "none" ? "" : absl::StrCat("; chunking: ", info.chunking),
            "); now using it")});
  return absl::OkStatus();
}

absl::Status Shell::Use(const CommandLine& cmd) {
  const std::string name = cmd.Text();
  if (name.empty()) return absl::InvalidArgumentError("usage: use NAME");
  absl::StatusOr<std::shared_ptr<Collection>> c = db_->GetCollection(name);
  if (!c.ok()) return c.status();
  current_ = name;
  Emit({.message = absl::StrCat("using '", name, "' (", Plural((*c)->Count(), "document"), ")")});
  return absl::OkStatus();
}

absl::Status Shell::Drop(const CommandLine& cmd) {
  const std::string name = cmd.Text();
  if (name.empty()) return absl::InvalidArgumentError("usage: drop NAME");
  if (absl::Status s = db_->DropCollection(name); !s.ok()) return s;
  if (current_ == name) current_.clear();
  Emit({.json = {{"dropped", name}}, .message = absl::StrCat("dropped collection '", name, "'")});
  return absl::OkStatus();
}

absl::Status Shell::WriteDocument(const CommandLine& cmd, bool upsert) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  Document doc;
  doc.text = cmd.Text();
  const auto given_id = cmd.Option("id");
  if (doc.text.empty() || (upsert && !given_id)) {
    return absl::InvalidArgumentError(upsert ? "usage: upsert TEXT --id ID [--meta JSON]"
                                             : "usage: insert TEXT [--id ID] [--meta JSON]");
  }
  if (given_id) doc.id = Unquote(*given_id);
  if (auto meta = cmd.Option("meta")) {
    absl::StatusOr<nlohmann::json> m = ParseMetadata(*meta);
    if (!m.ok()) return m.status();
    doc.metadata = *std::move(m);
  }
  std::string id = doc.id;
  if (upsert) {
    if (absl::Status s = (*c)->Upsert(std::move(doc)); !s.ok()) return s;
  } else {
    absl::StatusOr<std::string> inserted = (*c)->Insert(std::move(doc));
    if (!inserted.ok()) return inserted.status();
    id = *std::move(inserted);
  }
  const char* verb = upsert ? "upserted" : "inserted";
  Emit({.json = {{verb, id}}, .message = absl::StrCat(verb, " '", id, "'")});
  return absl::OkStatus();
}

absl::Status Shell::Import(const CommandLine& cmd) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  const std::string path = cmd.Text();
  if (path.empty()) return absl::InvalidArgumentError("usage: import PATH [--format F] ...");
  ImportOptions options;
  if (auto f = cmd.Option("format")) {
    absl::StatusOr<ImportFormat> format = ParseImportFormat(Unquote(*f));
    if (!format.ok()) return format.status();
    options.format = *format;
  }
  if (auto t = cmd.Option("text-column")) options.text_field = Unquote(*t);
  if (auto i = cmd.Option("id-column")) options.id_field = Unquote(*i);
  if (auto u = cmd.Option("upsert")) {
    if (!u->empty()) return absl::InvalidArgumentError("--upsert takes no value");
    options.upsert = true;
  }
  ProgressBar bar(stderr, settings_.progress);
  const auto start = std::chrono::steady_clock::now();
  options.progress = [&](const ImportProgress& p) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bar.Update(p.bytes_done, p.bytes_total,
               fmt::format("{} documents, {} skipped, {:.0f}/s", p.documents, p.skipped,
                           seconds > 0 ? p.documents / seconds : 0.0));
  };
  options.cancelled = settings_.interrupted;
  absl::StatusOr<ImportReport> report = ImportPath(**c, path, options);
  bar.Finish();
  if (!report.ok()) return report.status();
  Result r;
  nlohmann::json problems = nlohmann::json::array();
  for (const ImportProblem& p : report->problems) {
    problems.push_back({{"source", p.source}, {"line", p.line}, {"reason", p.reason}});
  }
  r.json = {{"files", report->files}, {"imported", report->documents},
            {"skipped", report->skipped}, {"problems", problems},
            {"refitted", report->refitted}, {"cancelled", report->cancelled}};
  if (report->cancelled) {
    r.message = absl::StrCat("import cancelled: kept the ", Plural(report->documents, "document"),
                             " stored before Ctrl-C",
                             report->refitted ? " (the model was fitted on them)"
                                              : " (the model was not refitted; 'refit' does it)");
  } else {
    r.message = absl::StrCat("imported ", Plural(report->documents, "document"), " from ",
                             Plural(report->files, "file"),
                             report->skipped ? absl::StrCat("; skipped ", report->skipped) : "",
                             report->refitted ? "; model refitted on the whole collection" : "");
  }
  for (const ImportProblem& p : report->problems) {
    absl::StrAppend(&r.message, "\n  skipped ", p.source,
                    p.line ? absl::StrCat(":", p.line) : "", ": ", p.reason);
  }
  if (report->skipped > static_cast<int64_t>(report->problems.size())) {
    absl::StrAppend(&r.message, "\n  ... and ", report->skipped - report->problems.size(),
                    " more");
  }
  Emit(r);
  return absl::OkStatus();
}

absl::StatusOr<SearchOptions> Shell::ParseSearchOptions(const CommandLine& cmd) {
  SearchOptions options;
  if (auto k = cmd.Option("k")) {
    absl::StatusOr<int64_t> v = ParseInt("--k", *k, 1, kMaxK);
    if (!v.ok()) return v.status();
    options.k = static_cast<int>(*v);
  }
  if (auto n = cmd.Option("nprobe")) {
    absl::StatusOr<int64_t> v = ParseInt("--nprobe", *n, 1, kMaxSearchWidth);
    if (!v.ok()) return v.status();
    options.knobs.nprobe = static_cast<int>(*v);
  }
  if (auto e = cmd.Option("ef")) {
    absl::StatusOr<int64_t> v = ParseInt("--ef", *e, 1, kMaxSearchWidth);
    if (!v.ok()) return v.status();
    options.knobs.ef_search = static_cast<int>(*v);
  }
  if (auto h = cmd.Option("hybrid")) {
    absl::StatusOr<double> v = ParseFraction("--hybrid", *h, true);
    if (!v.ok()) return v.status();
    options.hybrid = *v;
  }
  if (auto f = cmd.Option("fusion")) {
    absl::StatusOr<FusionMethod> m = ParseFusionName(absl::AsciiStrToLower(Unquote(*f)));
    if (!m.ok()) return m.status();
    options.fusion = *m;
  }
  if (auto i = cmd.Option("include")) {
    // "text,metadata", "text", "metadata" or "none" (ids and scores only).
    const std::string list = absl::AsciiStrToLower(Unquote(*i));
    std::vector<std::string> names;
    if (list != "none") names = absl::StrSplit(list, ',', absl::SkipWhitespace());
    for (std::string& n : names) n = std::string(absl::StripAsciiWhitespace(n));
    absl::StatusOr<HitFields> fields = ParseHitFields(names);
    if (!fields.ok() || (names.empty() && list != "none")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--include takes text,metadata, text, metadata or none, got '", list, "'"));
    }
    options.include = *fields;
  }
  if (auto r = cmd.Option("recall")) {
    absl::StatusOr<double> v = ParseFraction("--recall", *r, false);
    if (!v.ok()) return v.status();
    options.recall_target = *v;
  }
  if (auto st = cmd.Option("strategy")) {
    absl::StatusOr<SearchStrategy> s = ParseStrategyName(absl::AsciiStrToLower(Unquote(*st)));
    if (!s.ok()) return s.status();
    options.strategy = *s;
  }
  absl::StatusOr<std::optional<Filter>> where = WhereOption(cmd);
  if (!where.ok()) return where.status();
  options.filter = *std::move(where);
  for (const char* flag : {"dedupe", "parent"}) {
    if (auto v = cmd.Option(flag); v && !v->empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, " takes no value"));
    }
  }
  options.one_per_parent = cmd.Option("dedupe").has_value();
  options.include_parent = cmd.Option("parent").has_value();
  if (auto n = cmd.Option("neighbors")) {
    absl::StatusOr<int64_t> v = ParseInt("--neighbors", *n, 0, kMaxNeighbors);
    if (!v.ok()) return v.status();
    options.neighbors = static_cast<int>(*v);
  }
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  return options;
}

absl::Status Shell::Search(const CommandLine& cmd) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  const std::string query = cmd.Text();
  absl::StatusOr<SearchOptions> options = ParseSearchOptions(cmd);
  if (!options.ok()) return options.status();
  if (cmd.Option("file")) return SearchFile(cmd, *options);
  if (query.empty()) return absl::InvalidArgumentError("usage: search QUERY [--k N] [--where FILTER]");
  absl::StatusOr<std::vector<Hit>> hits = (*c)->Search(query, *options);
  if (!hits.ok()) return hits.status();
  const bool passages = !hits->empty() && hits->front().passage.has_value();
  // The column says what the score is (the same kind for every hit).
  const std::string score_column =
      hits->empty() ? "score" : ScoreKindName(hits->front().score_kind);
  Result r;
  r.columns = {"#", "id"};
  if (passages) r.columns.push_back("passage");
  r.columns.push_back(score_column);
  const HitFields& include = options->include;
  if (include.text) r.columns.push_back("text");
  if (include.metadata) r.columns.push_back("metadata");
  r.json = nlohmann::json::array();
  int rank = 0;
  for (const Hit& h : *hits) {
    std::vector<nlohmann::json> row = {++rank, h.id};
    if (passages) {
      row.push_back(fmt::format("{}/{} @{}-{}", h.passage->index + 1, h.passage->count,
                                h.passage->begin, h.passage->end));
    }
    row.push_back(RoundScore(h.score));
    if (include.text) row.push_back(h.text);
    if (include.metadata) row.push_back(h.metadata.empty() ? nlohmann::json() : h.metadata);
    r.rows.push_back(std::move(row));
    nlohmann::json j = HitJson(h, include);
    j["score"] = RoundScore(h.score);
    r.json.push_back(std::move(j));
  }
  r.footer = {absl::StrCat("(", Plural(static_cast<int64_t>(hits->size()), "result"), ")")};
  if (hits->empty()) {
    // Why nothing came back, when the query's words were the reason.
    if (std::string note = EmptyResultNote(**c, query, *options); !note.empty()) {
      r.footer.push_back(absl::StrCat("note: ", note));
    }
  }
  // The context asked for, in full below the table.
  if (passages && (options->neighbors > 0 || options->include_parent)) {
    rank = 0;
    for (const Hit& h : *hits) {
      r.footer.push_back(absl::StrCat(
          "\n[", ++rank, "] ", h.id, ", passage ", h.passage->index + 1, " of ",
          h.passage->count, options->include_parent ? " (whole document)" : "", ":\n",
          options->include_parent ? h.parent_text.value_or("") : JoinedContext(h)));
    }
  }
  Emit(r);
  return absl::OkStatus();
}

absl::Status Shell::Explain(const CommandLine& cmd) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  std::string text = cmd.Text();
  const auto strip_word = [&](std::string_view word) {
    if (absl::AsciiStrToLower(text.substr(0, word.size())) == word &&
        (text.size() == word.size() || text[word.size()] == ' ')) {
      text = std::string(absl::StripLeadingAsciiWhitespace(text.substr(word.size())));
      return true;
    }
    return false;
  };
  const bool analyze = strip_word("analyze");
  if (!strip_word("search") || text.empty()) {
    return absl::InvalidArgumentError("usage: explain [analyze] search QUERY [search options]");
  }
  absl::StatusOr<SearchOptions> options = ParseSearchOptions(cmd);
  if (!options.ok()) return options.status();
  absl::StatusOr<SearchExplanation> e = (*c)->Explain(Unquote(text), *options, analyze);
  if (!e.ok()) return e.status();
  Result r;
  r.json = e->ToJson();
  if (!e->no_plan.empty()) {  // nothing to plan: the plan says why
    r.message = absl::StrCat("plan:      ", e->no_plan);
    Emit(r);
    return absl::OkStatus();
  }
  const SearchExplanation::Plan& plan = e->plan;
  std::string out = absl::StrCat("plan:      ", plan.strategy, " (", plan.reason, ")\n");
  absl::StrAppend(&out, "index:     ", e->collection.index, ", ", e->collection.live,
                  " vectors\n");
  if (!e->query.filter.empty()) {
    absl::StrAppend(&out, "filter:    ", e->query.filter, "\n",
                    fmt::format("estimate:  selectivity {:.4f}, ~{} matches ({})\n",
                                e->estimates.selectivity, e->estimates.estimated_matches,
                                e->estimates.source));
  }
  std::string search = absl::StrCat("search:    fetch ", plan.fetch_k);
  if (plan.ef_search > 0) absl::StrAppend(&search, " ef_search=", plan.ef_search);
  if (plan.nprobe > 0) absl::StrAppend(&search, " nprobe=", plan.nprobe);
  absl::StrAppend(&out, search, "\n");
  if (e->hybrid) {
    absl::StrAppend(&out, "hybrid:    keyword weight ",
                    nlohmann::json(e->hybrid->keyword_weight).dump(), ", ", e->hybrid->fusion,
                    " fusion over the top ", e->hybrid->depth, " of each ranking\n");
  }
  r.message = out;
  r.columns = {"strategy", "cost (us)", "note"};
  for (const auto& [name, cost] : plan.costs) {
    r.rows.push_back({name == plan.strategy ? name + " *" : name,
                      cost.feasible ? nlohmann::json(std::llround(cost.cost_us))
                                    : nlohmann::json(),
                      cost.note});
  }
  if (e->analysis) {
    const SearchExplanation::Analysis& a = *e->analysis;
    std::string lines = absl::StrCat(
        "analyze:   ran ", a.strategy_run, ": ", a.index_searches, " index searches, ",
        a.index_results, " results, ", a.filter_checks, " filter checks, ", a.matches_listed,
        " matches listed, ", a.vectors_scanned, " vectors scanned, ", a.hits, " hits\n");
    if (!a.fallback.empty()) absl::StrAppend(&lines, "fallback:  ", a.fallback, "\n");
    absl::StrAppend(&lines, fmt::format("time:      {:.3f} ms (plan {:.3f}, search {:.3f}, "
                                        "documents {:.3f})",
                                        a.total_ms, a.plan_ms, a.search_ms, a.documents_ms));
    r.footer = absl::StrSplit(lines, '\n');
  }
  Emit(r);
  return absl::OkStatus();
}

absl::Status Shell::Stats(const CommandLine&) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  Result r;
  r.json = (*c)->Stats().ToJson();
  r.columns = {"fact", "value"};
  Flatten(r.json, "", &r.rows);
  Emit(r);
  return absl::OkStatus();
}

absl::Status Shell::Refit(const CommandLine&) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  if (absl::Status s = (*c)->Refit(); !s.ok()) return s;
  CollectionInfo info = (*c)->Info();
  Emit({.json = {{"model_version", info.model_version}, {"dimension", info.dimension}},
        .message = absl::StrCat("refitted on ", Plural(info.documents, "document"),
                                ": model version ", info.model_version, ", dimension ",
                                info.dimension)});
  return absl::OkStatus();
}

absl::Status Shell::Similar(const CommandLine& cmd) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  const std::string expression = cmd.Text();
  if (expression.empty()) return absl::InvalidArgumentError("usage: similar WORD [--k N]");
  int k = 10;
  if (auto raw = cmd.Option("k")) {
    absl::StatusOr<int64_t> v = ParseInt("--k", *raw, 1, kMaxK);
    if (!v.ok()) return v.status();
    k = static_cast<int>(*v);
  }
  absl::StatusOr<std::vector<WordMatch>> words = (*c)->NearestWords(expression, k);
  if (!words.ok()) return words.status();
  Result r;
  r.columns = {"#", "word", "cosine"};
  r.json = nlohmann::json::array();
  int rank = 0;
  for (const WordMatch& w : *words) {
    r.rows.push_back({++rank, w.word, RoundScore(w.cosine)});
    r.json.push_back({{"word", w.word}, {"cosine", RoundScore(w.cosine)}});
  }
  Emit(r);
  return absl::OkStatus();
}

absl::Status Shell::Eval(const CommandLine& cmd) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  absl::StatusOr<std::vector<std::string>> words = SplitWords(cmd.positional);
  if (!words.ok()) return words.status();
  if (auto v = cmd.Option("json"); v && !v->empty()) {
    return absl::InvalidArgumentError("--json takes no value");
  }
  // --json (kept from before `set format`): JSON whatever the format.
  const std::optional<OutputFormat> format =
      cmd.Option("json") ? std::optional(OutputFormat::kJson) : std::nullopt;
  const std::string mode = words->empty() ? "" : (*words)[0];
  if (mode == "retrieval" && words->size() == 3) {
    absl::StatusOr<SearchOptions> options = ParseSearchOptions(cmd);
    if (!options.ok()) return options.status();
    int depth = 1000;
    if (auto d = cmd.Option("depth")) {
      absl::StatusOr<int64_t> v = ParseInt("--depth", *d, 1, kMaxK);
      if (!v.ok()) return v.status();
      depth = static_cast<int>(*v);
    }
    absl::StatusOr<RetrievalEvaluation> r =
        EvaluateRetrieval(**c, (*words)[1], (*words)[2], *options, depth);
    if (!r.ok()) return r.status();
    Emit({.json = r->ToJson(),
          .message = fmt::format("nDCG@10 {:.4f}  MAP {:.4f}  recall@10 {:.4f}  recall@100 "
                                 "{:.4f}  ({} of {} queries judged; gain 2^grade-1; depth {})",
                                 r->ndcg_at_10, r->map, r->recall_at_10, r->recall_at_100,
                                 r->judged, r->queries, r->depth)},
         format);
    return absl::OkStatus();
  }
  if (mode == "similarity" && words->size() == 2) {
    absl::StatusOr<SimilarityEvaluation> r = EvaluateSimilarity(**c, (*words)[1]);
    if (!r.ok()) return r.status();
    Emit({.json = r->ToJson(),
          .message = fmt::format("Spearman {:.2f}  Pearson {:.2f}  (x100, {} pairs)",
                                 r->spearman, r->pearson, r->pairs)},
         format);
    return absl::OkStatus();
  }
  if (mode != "words" || words->size() != 2) {
    return absl::InvalidArgumentError(
        "usage: eval retrieval QUERIES QRELS | eval similarity PAIRS | eval words FILE");
  }
  absl::StatusOr<WordSimilarityResult> r = (*c)->EvaluateWordSimilarity((*words)[1]);
  if (!r.ok()) return r.status();
  nlohmann::json j = {{"spearman", r->spearman},
                      {"pairs_used", r->pairs_used},
                      {"pairs_skipped", r->pairs_skipped},
                      {"pairs_with_subwords", r->pairs_with_subwords},
                      {"missing_words", r->missing_words.size()}};
  Emit({.json = j,
        .message = fmt::format("Spearman rho {:.4f} over {} pairs ({} skipped: a word without "
                               "a vector; {} with n-gram vectors)",
                               r->spearman, r->pairs_used, r->pairs_skipped,
                               r->pairs_with_subwords)},
       format);
  return absl::OkStatus();
}

absl::Status Shell::Similarity(const CommandLine& cmd) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  auto with = cmd.Option("with");
  const std::string a = cmd.Text();
  if (a.empty() || !with || Unquote(*with).empty()) {
    return absl::InvalidArgumentError("usage: similarity TEXT1 --with TEXT2");
  }
  absl::StatusOr<double> cosine = (*c)->Similarity(a, Unquote(*with));
  if (!cosine.ok()) return cosine.status();
  Emit({.json = {{"cosine", RoundScore(*cosine)}},
        .message = fmt::format("cosine {:.{}f}", *cosine, kScoreDigits)});
  return absl::OkStatus();
}

absl::Status Shell::Checkpoint(const CommandLine&) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  if (absl::Status s = (*c)->Checkpoint(); !s.ok()) return s;
  Emit({.message = "index saved"});
  return absl::OkStatus();
}

absl::Status Shell::Reindex(const CommandLine& cmd) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  auto spec = cmd.Option("index");
  if (!cmd.Text().empty() || !spec || Unquote(*spec).empty()) {
    return absl::InvalidArgumentError("usage: reindex --index SPEC");
  }
  if (absl::Status s = (*c)->SetIndex(Unquote(*spec)); !s.ok()) return s;
  CollectionInfo info = (*c)->Info();
  Emit({.json = {{"index", info.index}, {"documents", info.documents}},
        .message = absl::StrCat("rebuilt the index of '", info.name, "' as '", info.index,
                                "' (", Plural(info.documents, "document"), ")")});
  return absl::OkStatus();
}

absl::Status Shell::Set(const CommandLine& cmd) {
  absl::StatusOr<std::vector<std::string>> words = SplitWords(cmd.positional);
  if (!words.ok()) return words.status();
  const std::string what = words->empty() ? "" : absl::AsciiStrToLower((*words)[0]);
  if (words->size() == 2 && what == "format") {
    absl::StatusOr<OutputFormat> format = ParseOutputFormat((*words)[1]);
    if (!format.ok()) return format.status();
    settings_.format = *format;
    return absl::OkStatus();
  }
  if (words->size() == 2 && what == "width") {
    absl::StatusOr<int64_t> width = ParseInt("the width", (*words)[1], 0, 10000);
    if (!width.ok()) return width.status();
    if (*width > 0 && *width < kMinWidth) {
      return absl::InvalidArgumentError(
          absl::StrCat("the width must be 0 (the terminal's) or at least ", kMinWidth));
    }
    settings_.width = static_cast<int>(*width);
    return absl::OkStatus();
  }
  if (words->size() == 2 && what == "timer" &&
      ((*words)[1] == "on" || (*words)[1] == "off")) {
    settings_.timer = (*words)[1] == "on";
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "usage: set format F (", OutputFormatNames(), "), set width N, or set timer on|off"));
}

absl::Status Shell::Read(const CommandLine& cmd) {
  const std::string path = cmd.Text();
  if (path.empty()) return absl::InvalidArgumentError("usage: read FILE");
  if (read_depth_ >= kMaxReadDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("read: files read each other more than ", kMaxReadDepth, " deep"));
  }
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  // Like a script: every command runs, each error is printed; the read
  // fails when one of them did.
  ++read_depth_;
  int failed = 0;
  for (std::string line; !quit_ && std::getline(in, line);) {
    if (!Execute(line).ok()) ++failed;
  }
  --read_depth_;
  if (failed > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", Plural(failed, "command"), " failed"));
  }
  return absl::OkStatus();
}

absl::Status Shell::Output(const CommandLine& cmd) {
  const std::string path = cmd.Text();
  if (path.empty()) {
    out_ = &stdout_;
    output_file_.reset();
    return absl::OkStatus();
  }
  auto file = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc);
  if (!*file) return absl::InvalidArgumentError(absl::StrCat("cannot write ", path));
  output_file_ = std::move(file);
  out_ = output_file_.get();
  return absl::OkStatus();
}

absl::Status Shell::Quit(const CommandLine&) {
  quit_ = true;
  return absl::OkStatus();
}

}  // namespace semdb
