// The shell's commands on the documents of the current collection: get,
// scan, count, delete, update, export, and searches of several queries.
// Each is one call of the library's Collection API (the HTTP routes call
// the same), so that shell, HTTP and C++ behave alike.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fmt/format.h"
#include "semdb/export.h"
#include "shell/json_output.h"
#include "shell/result.h"
#include "shell/shell.h"

namespace semdb {
namespace {

constexpr int64_t kDefaultScanLimit = 20;

absl::Status NoValue(const CommandLine& cmd, const char* flag) {
  if (auto v = cmd.Option(flag); v && !v->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " takes no value"));
  }
  return absl::OkStatus();
}

// Documents as a table (id, text, metadata) and, for JSON, their objects.
Result DocumentsResult(const std::vector<Document>& docs) {
  Result r{.columns = {"id", "text", "metadata"}, .json = nlohmann::json::array()};
  for (const Document& d : docs) {
    r.rows.push_back({d.id, d.text, d.metadata.empty() ? nlohmann::json() : d.metadata});
    r.json.push_back(DocumentJson(d));
  }
  r.footer = {absl::StrCat("(", Plural(static_cast<int64_t>(docs.size()), "document"), ")")};
  return r;
}

}  // namespace

absl::StatusOr<std::optional<Filter>> WhereOption(const CommandLine& cmd) {
  auto where = cmd.Option("where");
  if (!where) return std::nullopt;
  absl::StatusOr<Filter> filter = Filter::Parse(Unquote(*where));
  if (!filter.ok()) return filter.status();
  return *std::move(filter);
}

absl::Status Shell::Get(const CommandLine& cmd) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  absl::StatusOr<std::vector<std::string>> ids = SplitWords(cmd.positional);
  if (!ids.ok()) return ids.status();
  if (ids->empty()) return absl::InvalidArgumentError("usage: get ID [ID...]");
  if (ids->size() == 1) {
    absl::StatusOr<Document> doc = (*c)->Get(ids->front());
    if (!doc.ok()) return doc.status();
    Emit({.columns = {"id", "metadata", "tokens", "unknown_tokens", "text"},
          .rows = {{doc->id, doc->metadata, doc->stats.tokens, doc->stats.unknown_tokens,
                    doc->text}},
          .record = true,
          .json = DocumentJson(*doc)});
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Document>> docs = (*c)->GetBatch(*ids);
  if (!docs.ok()) return docs.status();
  Result r = DocumentsResult(*docs);
  if (docs->size() < ids->size()) {
    r.footer.push_back(absl::StrCat("not found: ", absl::StrJoin(MissingIds(*ids, *docs), ", ")));
  }
  Emit(r);
  return absl::OkStatus();
}

absl::Status Shell::Scan(const CommandLine& cmd) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  if (!cmd.Text().empty()) {
    return absl::InvalidArgumentError(
        "usage: scan [--where FILTER] [--limit N] [--offset N] [--cursor C]");
  }
  ListOptions options{.limit = kDefaultScanLimit};
  absl::StatusOr<std::optional<Filter>> where = WhereOption(cmd);
  if (!where.ok()) return where.status();
  options.filter = *std::move(where);
  if (auto limit = cmd.Option("limit")) {
    absl::StatusOr<int64_t> v = ParseInt("--limit", *limit, 1, int64_t{1} << 40);
    if (!v.ok()) return v.status();
    options.limit = *v;
  }
  if (auto offset = cmd.Option("offset")) {
    absl::StatusOr<int64_t> v = ParseInt("--offset", *offset, 0, int64_t{1} << 62);
    if (!v.ok()) return v.status();
    options.offset = *v;
  }
  if (auto cursor = cmd.Option("cursor")) options.cursor = Unquote(*cursor);
  absl::StatusOr<DocumentPage> page = (*c)->ListPage(options);
  if (!page.ok()) return page.status();
  Result r = DocumentsResult(page->documents);
  r.json = {{"documents", std::move(r.json)},
            {"next_cursor", page->next_cursor.empty() ? nlohmann::json()
                                                      : nlohmann::json(page->next_cursor)}};
  if (!page->next_cursor.empty()) {
    r.footer.push_back(absl::StrCat("more: scan --cursor ", page->next_cursor,
                                    options.filter ? " --where ..." : "", " (same options)"));
  }
  Emit(r);
  return absl::OkStatus();
}

absl::Status Shell::Count(const CommandLine& cmd) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  if (!cmd.Text().empty()) return absl::InvalidArgumentError("usage: count [--where FILTER]");
  absl::StatusOr<std::optional<Filter>> where = WhereOption(cmd);
  if (!where.ok()) return where.status();
  absl::StatusOr<int64_t> n = *where ? (*c)->Count(**where) : (*c)->Count();
  if (!n.ok()) return n.status();
  Emit({.json = {{"count", *n}}, .message = std::to_string(*n)});
  return absl::OkStatus();
}

absl::Status Shell::Delete(const CommandLine& cmd) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  absl::StatusOr<std::optional<Filter>> where = WhereOption(cmd);
  if (!where.ok()) return where.status();
  if (absl::Status s = NoValue(cmd, "yes"); !s.ok()) return s;
  if (*where) {
    // Deleting by filter can remove much: without --yes, only say how much.
    if (!cmd.Text().empty()) {
      return absl::InvalidArgumentError("give ids or --where, not both");
    }
    if (!cmd.Option("yes")) {
      absl::StatusOr<int64_t> n = (*c)->Count(**where);
      if (!n.ok()) return n.status();
      Emit({.json = {{"would_delete", *n}},
            .message = absl::StrCat(Plural(*n, "document"),
                                    " match; nothing was deleted: add --yes to delete them")});
      return absl::OkStatus();
    }
    absl::StatusOr<int64_t> n = (*c)->DeleteMatching(**where);
    if (!n.ok()) return n.status();
    Emit({.json = {{"deleted", *n}}, .message = absl::StrCat("deleted ", Plural(*n, "document"))});
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> ids = SplitWords(cmd.positional);
  if (!ids.ok()) return ids.status();
  if (ids->empty()) {
    return absl::InvalidArgumentError("usage: delete ID [ID...] | delete --where FILTER [--yes]");
  }
  if (ids->size() == 1) {
    if (absl::Status s = (*c)->Delete(ids->front()); !s.ok()) return s;
    Emit({.json = {{"deleted", ids->front()}},
          .message = absl::StrCat("deleted '", ids->front(), "'")});
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> n = (*c)->DeleteBatch(*ids);
  if (!n.ok()) return n.status();
  Emit({.json = {{"deleted", *n}},
        .message = absl::StrCat("deleted ", Plural(*n, "document"), " of ", ids->size(),
                                " ids given")});
  return absl::OkStatus();
}

absl::Status Shell::Update(const CommandLine& cmd) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  absl::StatusOr<std::vector<std::string>> ids = SplitWords(cmd.positional);
  if (!ids.ok()) return ids.status();
  auto raw = cmd.Option("metadata");
  if (ids->empty() || !raw) {
    return absl::InvalidArgumentError("usage: update ID [ID...] --metadata JSON [--replace]");
  }
  if (absl::Status s = NoValue(cmd, "replace"); !s.ok()) return s;
  absl::StatusOr<nlohmann::json> metadata = ParseMetadata(*raw, "--metadata");
  if (!metadata.ok()) return metadata.status();
  const bool replace = cmd.Option("replace").has_value();
  std::vector<nlohmann::json> metadatas(ids->size(), *metadata);
  absl::Status s = replace ? (*c)->UpdateMetadata(*ids, metadatas)
                           : (*c)->MergeMetadata(*ids, metadatas);
  if (!s.ok()) return s;
  Emit({.json = {{"updated", ids->size()}},
        .message = absl::StrCat(replace ? "replaced" : "merged", " the metadata of ",
                                Plural(static_cast<int64_t>(ids->size()), "document"))});
  return absl::OkStatus();
}

absl::Status Shell::Export(const CommandLine& cmd) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  const std::string path = cmd.Text();
  if (path.empty()) {
    return absl::InvalidArgumentError("usage: export FILE [--vectors] [--where FILTER]");
  }
  if (absl::Status s = NoValue(cmd, "vectors"); !s.ok()) return s;
  ExportOptions options;
  absl::StatusOr<std::optional<Filter>> where = WhereOption(cmd);
  if (!where.ok()) return where.status();
  options.filter = *std::move(where);
  options.vectors = cmd.Option("vectors").has_value();
  // Written beside, then renamed: a failed export leaves no partial file.
  const std::string partial = path + ".partial";
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", partial));
  absl::StatusOr<int64_t> n = ExportJsonLines(*c, out, options);
  out.close();
  if (n.ok() && (!out || std::rename(partial.c_str(), path.c_str()) != 0)) {
    n = absl::InternalError(absl::StrCat("cannot write ", path));
  }
  if (!n.ok()) {
    std::remove(partial.c_str());
    return n.status();
  }
  Emit({.json = {{"exported", *n}, {"file", path}},
        .message = absl::StrCat("exported ", Plural(*n, "document"), " to ", path)});
  return absl::OkStatus();
}

absl::Status Shell::SearchFile(const CommandLine& cmd, const SearchOptions& options) {
  absl::StatusOr<std::shared_ptr<Collection>> c = Current();
  if (!c.ok()) return c.status();
  const std::string path = Unquote(*cmd.Option("file"));
  if (!cmd.Text().empty()) {
    return absl::InvalidArgumentError("give a query or --file FILE, not both");
  }
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::vector<std::string> queries;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) queries.push_back(line);
  }
  if (queries.empty()) return absl::InvalidArgumentError(absl::StrCat(path, " has no query"));
  absl::StatusOr<std::vector<std::vector<Hit>>> answers = (*c)->SearchBatch(queries, options);
  if (!answers.ok()) return answers.status();
  // The score column says what the score is (the same kind for every hit).
  std::string score_column = "score";
  for (const std::vector<Hit>& hits : *answers) {
    if (!hits.empty()) score_column = ScoreKindName(hits.front().score_kind);
  }
  Result r{.columns = {"query", "#", "id", score_column}, .json = nlohmann::json::array()};
  if (options.include.text) r.columns.push_back("text");
  for (size_t q = 0; q < queries.size(); ++q) {
    nlohmann::json hits = nlohmann::json::array();
    int rank = 0;
    for (const Hit& h : (*answers)[q]) {
      std::vector<nlohmann::json> row = {rank == 0 ? queries[q] : "", ++rank, h.id, h.score};
      if (options.include.text) row.push_back(h.text);
      r.rows.push_back(std::move(row));
      hits.push_back(HitJson(h, options.include));
    }
    r.json.push_back({{"query", queries[q]}, {"hits", std::move(hits)}});
  }
  r.footer = {absl::StrCat("(", queries.size(), queries.size() == 1 ? " query" : " queries", ")")};
  Emit(r);
  return absl::OkStatus();
}

}  // namespace semdb
