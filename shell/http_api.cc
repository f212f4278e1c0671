#include "shell/http_api.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "semdb/export.h"
#include "semdb/spec.h"
#include "shell/empty_result_note.h"
#include "shell/json_output.h"

namespace semdb {
namespace {

using nlohmann::json;

const char* CodeName(int http_status) {
  switch (http_status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 408: return "request_timeout";
    case 409: return "already_exists";
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    case 415: return "unsupported_media_type";
    case 422: return "unprocessable";
    case 431: return "header_too_large";
    case 507: return "insufficient_storage";
    default: return "internal";
  }
}

int HttpStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kFailedPrecondition:
      return 422;
    case absl::StatusCode::kResourceExhausted:
      return 507;
    default:
      return 500;
  }
}

ApiResponse BadRequest(const std::string& message) { return ErrorResponse(400, message); }

// PermissionDenied unless every file the embedder spec names (path=,
// cache_dir=) is under one of `allowed`; decided on the path's text and the
// allowed directories' real locations, before anything is opened, so the
// answer does not depend on whether the file exists.
absl::Status CheckServerPaths(const std::string& spec_text,
                              const std::vector<std::string>& allowed) {
  namespace fs = std::filesystem;
  absl::StatusOr<Spec> spec = Spec::Parse(spec_text);
  if (!spec.ok()) return spec.status();
  for (const char* key : {"path", "cache_dir"}) {
    auto it = spec->params.find(key);
    if (it == spec->params.end()) continue;
    std::error_code ec;
    const fs::path file = fs::weakly_canonical(fs::absolute(it->second, ec), ec);
    bool inside = false;
    for (const std::string& dir : allowed) {
      const fs::path root = fs::weakly_canonical(fs::absolute(dir, ec), ec);
      const auto [root_end, unused] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
      inside = inside || root_end == root.end();
    }
    if (!inside) {
      return absl::PermissionDeniedError(absl::StrCat(
          key, "=", it->second, ": this server reads files only under the directories its "
          "operator allowed with --allow-path",
          allowed.empty() ? " (none)" : ""));
    }
  }
  return absl::OkStatus();
}

// " (did you mean 'filter'?)" for an unknown field or parameter that is
// what the other routes (or the Python package, or Chroma) call one this
// route takes, as `takes` tells; else "".
std::string DidYouMean(const std::string& key, const std::function<bool(const char*)>& takes) {
  static constexpr std::pair<const char*, const char*> kOtherNames[] = {
      {"where", "filter"}, {"filter", "where"}, {"top_k", "k"}, {"n_results", "k"},
      {"limit", "k"},      {"text", "query"},   {"texts", "queries"}};
  for (const auto& [other, name] : kOtherNames) {
    if (key == other && takes(name)) return absl::StrCat(" (did you mean '", name, "'?)");
  }
  return "";
}

// Typed access to the fields of a JSON object body. The first problem is
// kept; Finish() reports it, or else a field no getter asked for (a typo
// must not be silently ignored). `what` names the object in messages: "the
// request body", or the path of a `nested` object ("documents[3]"), which
// then also prefixes its fields' names ('documents[3].text').
class Fields {
 public:
  Fields(const json& body, std::string what, bool nested = false)
      : body_(body), what_(std::move(what)), prefix_(nested ? what_ + "." : "") {
    if (!body_.is_object()) Fail(absl::StrCat(what_, " must be a JSON object"));
  }

  std::optional<std::string> String(const std::string& key, bool required = false) {
    const json* v = Find(key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) return Fail(absl::StrCat(Name(key), " must be a string"));
    return v->get<std::string>();
  }

  std::optional<int64_t> Int(const std::string& key, int64_t min, int64_t max) {
    const json* v = Find(key, false);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer() || v->get<int64_t>() < min || v->get<int64_t>() > max) {
      return Fail(absl::StrCat(Name(key), " must be an integer from ", min, " to ", max));
    }
    return v->get<int64_t>();
  }

  std::optional<double> Number(const std::string& key, double min, double max) {
    const json* v = Find(key, false);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number() || !(v->get<double>() >= min && v->get<double>() <= max)) {
      return Fail(absl::StrCat(Name(key), " must be a number from ", min, " to ", max));
    }
    return v->get<double>();
  }

  // `absent` when the field is not given.
  bool Bool(const std::string& key, bool absent = false) {
    const json* v = Find(key, false);
    if (v == nullptr) return absent;
    if (!v->is_boolean()) {
      Fail(absl::StrCat(Name(key), " must be true or false"));
      return absent;
    }
    return v->get<bool>();
  }

  const json* Array(const std::string& key, bool required) {
    const json* v = Find(key, required);
    if (v != nullptr && !v->is_array()) {
      Fail(absl::StrCat(Name(key), " must be an array"));
      return nullptr;
    }
    return v;
  }

  const json* Any(const std::string& key) { return Find(key, false); }

  absl::Status Finish() const {
    if (!error_.empty()) return absl::InvalidArgumentError(error_);
    for (const auto& [key, value] : body_.items()) {
      if (!used_.contains(key)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unknown field '", key, "' in ", what_,
            DidYouMean(key, [&](const char* name) { return used_.contains(name); })));
      }
    }
    return absl::OkStatus();
  }

 private:
  std::string Name(const std::string& key) const { return absl::StrCat("'", prefix_, key, "'"); }

  const json* Find(const std::string& key, bool required) {
    used_.insert(key);
    if (!body_.is_object()) return nullptr;
    auto it = body_.find(key);
    if (it == body_.end() || it->is_null()) {
      if (required) Fail(absl::StrCat(what_, " needs '", key, "'"));
      return nullptr;
    }
    return &*it;
  }
  std::nullopt_t Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return std::nullopt;
  }

  const json& body_;
  const std::string what_;
  const std::string prefix_;  // "documents[3]." in a nested object, else ""
  std::set<std::string> used_;
  std::string error_;
};

absl::StatusOr<std::vector<float>> ParseVector(const json& v, const std::string& what) {
  if (!v.is_array()) return absl::InvalidArgumentError(absl::StrCat(what, " must be an array"));
  std::vector<float> out;
  out.reserve(v.size());
  for (const json& x : v) {
    if (!x.is_number()) {
      return absl::InvalidArgumentError(absl::StrCat(what, " must hold only numbers"));
    }
    const float f = x.get<float>();
    if (!std::isfinite(f)) {
      return absl::InvalidArgumentError(absl::StrCat(what, " has a value beyond float range"));
    }
    out.push_back(f);
  }
  return out;
}

absl::StatusOr<Document> ParseDocument(const json& j, size_t index) {
  Fields f(j, absl::StrCat("documents[", index, "]"), /*nested=*/true);
  Document doc;
  doc.id = f.String("id").value_or("");
  doc.text = f.String("text").value_or("");
  if (const json* meta = f.Any("metadata")) {
    if (!meta->is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("documents[", index, "].metadata must be a JSON object"));
    }
    doc.metadata = *meta;
  }
  if (const json* vector = f.Any("vector")) {
    absl::StatusOr<std::vector<float>> v =
        ParseVector(*vector, absl::StrCat("documents[", index, "].vector"));
    if (!v.ok()) return v.status();
    doc.vector = *std::move(v);
  }
  if (absl::Status s = f.Finish(); !s.ok()) return s;
  return doc;
}

}  // namespace

ApiResponse ErrorResponse(int http_status, const std::string& message) {
  return {http_status, {{"error", {{"code", CodeName(http_status)}, {"message", message}}}}};
}

ApiResponse ErrorResponse(const absl::Status& status) {
  return ErrorResponse(HttpStatus(status.code()), std::string(status.message()));
}

ApiResponse HttpApi::ListCollections() const {
  json list = json::array();
  for (const CollectionInfo& info : db_.ListCollections()) list.push_back(CollectionInfoJson(info));
  return {200, {{"collections", std::move(list)}}};
}

namespace {

// A filter given as text, if any.
absl::StatusOr<std::optional<Filter>> ParseOptionalFilter(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  absl::StatusOr<Filter> parsed = Filter::Parse(*text);
  if (!parsed.ok()) return parsed.status();
  return *std::move(parsed);
}

// The filter of a GET route's `where` parameter, if given.
absl::StatusOr<std::optional<Filter>> WhereParam(const QueryParams& params) {
  auto where = params.find("where");
  if (where == params.end()) return std::nullopt;
  return ParseOptionalFilter(where->second);
}

absl::StatusOr<std::vector<std::string>> StringList(const json& list, const std::string& what) {
  std::vector<std::string> out;
  for (const json& v : list) {
    if (!v.is_string()) return absl::InvalidArgumentError(absl::StrCat(what, " must hold only strings"));
    out.push_back(v.get<std::string>());
  }
  return out;
}

json DocumentList(const std::vector<Document>& docs) {
  json out = json::array();
  for (const Document& d : docs) out.push_back(DocumentJson(d));
  return out;
}

json HitList(const std::vector<Hit>& hits, const HitFields& include) {
  json out = json::array();
  for (const Hit& h : hits) out.push_back(HitJson(h, include));
  return out;
}

// {"hits": [...]} of a text query, with "note" (EmptyResultNote) when no
// hit came back because of the query's words: a client could not tell it
// from a search that matched nothing.
json TextAnswer(const Collection& c, const std::string& query, const SearchOptions& options,
                const std::vector<Hit>& hits) {
  json answer = {{"hits", HitList(hits, options.include)}};
  if (hits.empty()) {
    if (std::string note = EmptyResultNote(c, query, options); !note.empty()) {
      answer["note"] = std::move(note);
    }
  }
  return answer;
}

// The query parameters of a GET route: only `known` ones are accepted.
absl::Status CheckParams(const QueryParams& params, std::initializer_list<const char*> known) {
  for (const auto& param : params) {
    const std::string& key = param.first;  // (clang cannot capture a structured binding)
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown query parameter '", key, "'", DidYouMean(key, [&](const char* name) {
            return std::any_of(known.begin(), known.end(),
                               [&](const char* k) { return std::string_view(k) == name; });
          })));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> IntParam(const QueryParams& params, const std::string& key,
                                 int64_t fallback, int64_t min, int64_t max) {
  auto it = params.find(key);
  if (it == params.end()) return fallback;
  int64_t v;
  if (!absl::SimpleAtoi(it->second, &v) || v < min || v > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", key, "' must be an integer from ", min, " to ", max));
  }
  return v;
}

// The spec fields of a collection body (POST /collections, PUT
// /collections/{c}): every CollectionSpec field; the caller finishes `f`.
absl::StatusOr<CollectionSpec> SpecFields(Fields& f) {
  CollectionSpec spec;
  if (auto e = f.String("embedder")) spec.embedder = *e;
  if (auto i = f.String("index")) spec.index = *i;
  if (auto c = f.String("chunking")) spec.chunking = *c;
  if (const json* fields = f.Array("indexed_fields", false)) {
    absl::StatusOr<std::vector<std::string>> names = StringList(*fields, "'indexed_fields'");
    if (!names.ok()) return names.status();
    spec.indexed_fields = *std::move(names);
  }
  spec.keyword_index = f.Bool("keyword_index", spec.keyword_index);
  if (auto v = f.String("vector_storage")) spec.vector_storage = *v;
  return spec;
}

constexpr int64_t kDefaultPageLimit = 100;
constexpr int64_t kMaxPageLimit = 10000;

}  // namespace

ApiResponse HttpApi::CreateCollection(const json& body) {
  Fields f(body, "the request body");
  const std::optional<std::string> name = f.String("name", true);
  absl::StatusOr<CollectionSpec> spec = SpecFields(f);
  if (absl::Status s = spec.ok() ? f.Finish() : spec.status(); !s.ok()) return ErrorResponse(s);
  if (absl::Status s = CheckServerPaths(spec->embedder, limits_.allowed_paths); !s.ok()) {
    return ErrorResponse(s);
  }
  absl::StatusOr<std::shared_ptr<Collection>> c = db_.CreateCollection(*name, *spec);
  if (!c.ok()) return ErrorResponse(c.status());
  return {201, {{"collection", CollectionInfoJson((*c)->Info())}}};
}

ApiResponse HttpApi::GetOrCreateCollection(const std::string& name, const json& body) {
  Fields f(body, "the request body");
  absl::StatusOr<CollectionSpec> spec = SpecFields(f);
  if (absl::Status s = spec.ok() ? f.Finish() : spec.status(); !s.ok()) return ErrorResponse(s);
  if (absl::Status s = CheckServerPaths(spec->embedder, limits_.allowed_paths); !s.ok()) {
    return ErrorResponse(s);
  }
  const bool existed = db_.GetCollection(name).ok();
  absl::StatusOr<std::shared_ptr<Collection>> c = db_.GetOrCreateCollection(name, *spec);
  if (!c.ok()) return ErrorResponse(c.status());
  return {existed ? 200 : 201,
          {{"collection", CollectionInfoJson((*c)->Info())}, {"created", !existed}}};
}

ApiResponse HttpApi::CollectionStats(const std::string& name) const {
  absl::StatusOr<std::shared_ptr<Collection>> c = db_.GetCollection(name);
  if (!c.ok()) return ErrorResponse(c.status());
  return {200, (*c)->Stats().ToJson()};
}

ApiResponse HttpApi::DropCollection(const std::string& name) {
  if (absl::Status s = db_.DropCollection(name); !s.ok()) return ErrorResponse(s);
  return {200, {{"dropped", name}}};
}

ApiResponse HttpApi::WriteDocuments(const std::string& name, const json& body) {
  Fields f(body, "the request body");
  const json* list = f.Array("documents", true);
  const bool upsert = f.Bool("upsert");
  if (absl::Status s = f.Finish(); !s.ok()) return ErrorResponse(s);
  if (list->empty()) return BadRequest("'documents' is empty");
  std::vector<Document> docs;
  docs.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    absl::StatusOr<Document> doc = ParseDocument((*list)[i], i);
    if (!doc.ok()) return ErrorResponse(doc.status());
    docs.push_back(*std::move(doc));
  }
  absl::StatusOr<std::shared_ptr<Collection>> c = db_.GetCollection(name);
  if (!c.ok()) return ErrorResponse(c.status());
  if (upsert) {
    json ids = json::array();
    for (const Document& d : docs) ids.push_back(d.id);
    if (absl::Status s = (*c)->UpsertBatch(std::move(docs)); !s.ok()) return ErrorResponse(s);
    return {200, {{"ids", std::move(ids)}}};
  }
  absl::StatusOr<std::vector<std::string>> ids = (*c)->InsertBatch(std::move(docs));
  if (!ids.ok()) return ErrorResponse(ids.status());
  return {201, {{"ids", *ids}}};
}

ApiResponse HttpApi::GetDocument(const std::string& name, const std::string& id) const {
  absl::StatusOr<std::shared_ptr<Collection>> c = db_.GetCollection(name);
  if (!c.ok()) return ErrorResponse(c.status());
  absl::StatusOr<Document> doc = (*c)->Get(id);
  if (!doc.ok()) return ErrorResponse(doc.status());
  return {200, DocumentJson(*doc)};
}

ApiResponse HttpApi::DeleteDocument(const std::string& name, const std::string& id) {
  absl::StatusOr<std::shared_ptr<Collection>> c = db_.GetCollection(name);
  if (!c.ok()) return ErrorResponse(c.status());
  if (absl::Status s = (*c)->Delete(id); !s.ok()) return ErrorResponse(s);
  return {200, {{"deleted", 1}}};
}

ApiResponse HttpApi::DeleteDocuments(const std::string& name, const json& body) {
  Fields f(body, "the request body");
  const json* list = f.Array("ids", false);
  absl::StatusOr<std::optional<Filter>> filter = ParseOptionalFilter(f.String("filter"));
  if (absl::Status s = f.Finish(); !s.ok()) return ErrorResponse(s);
  if (!filter.ok()) return ErrorResponse(filter.status());
  if ((list != nullptr) == filter->has_value()) {
    return BadRequest("give either 'ids' or 'filter'");
  }
  absl::StatusOr<std::shared_ptr<Collection>> c = db_.GetCollection(name);
  if (!c.ok()) return ErrorResponse(c.status());
  absl::StatusOr<int64_t> deleted;
  if (list != nullptr) {
    absl::StatusOr<std::vector<std::string>> ids = StringList(*list, "'ids'");
    if (!ids.ok()) return ErrorResponse(ids.status());
    deleted = (*c)->DeleteBatch(*ids);
  } else {
    deleted = (*c)->DeleteMatching(**filter);
  }
  if (!deleted.ok()) return ErrorResponse(deleted.status());
  return {200, {{"deleted", *deleted}}};
}

ApiResponse HttpApi::ListDocuments(const std::string& name, const QueryParams& params) const {
  if (absl::Status s = CheckParams(params, {"where", "limit", "offset", "cursor"}); !s.ok()) {
    return ErrorResponse(s);
  }
  ListOptions options;
  absl::StatusOr<int64_t> limit = IntParam(params, "limit", kDefaultPageLimit, 1, kMaxPageLimit);
  absl::StatusOr<int64_t> offset = IntParam(params, "offset", 0, 0, int64_t{1} << 62);
  if (!limit.ok()) return ErrorResponse(limit.status());
  if (!offset.ok()) return ErrorResponse(offset.status());
  options.limit = *limit;
  options.offset = *offset;
  if (auto it = params.find("cursor"); it != params.end()) options.cursor = it->second;
  absl::StatusOr<std::optional<Filter>> filter = WhereParam(params);
  if (!filter.ok()) return ErrorResponse(filter.status());
  options.filter = *std::move(filter);
  absl::StatusOr<std::shared_ptr<Collection>> c = db_.GetCollection(name);
  if (!c.ok()) return ErrorResponse(c.status());
  absl::StatusOr<DocumentPage> page = (*c)->ListPage(options);
  if (!page.ok()) return ErrorResponse(page.status());
  return {200, {{"documents", DocumentList(page->documents)},
                {"next_cursor", page->next_cursor.empty() ? json() : json(page->next_cursor)}}};
}

ApiResponse HttpApi::GetDocuments(const std::string& name, const json& body) const {
  Fields f(body, "the request body");
  const json* list = f.Array("ids", true);
  if (absl::Status s = f.Finish(); !s.ok()) return ErrorResponse(s);
  absl::StatusOr<std::vector<std::string>> ids = StringList(*list, "'ids'");
  if (!ids.ok()) return ErrorResponse(ids.status());
  absl::StatusOr<std::shared_ptr<Collection>> c = db_.GetCollection(name);
  if (!c.ok()) return ErrorResponse(c.status());
  absl::StatusOr<std::vector<Document>> docs = (*c)->GetBatch(*ids);
  if (!docs.ok()) return ErrorResponse(docs.status());
  return {200, {{"documents", DocumentList(*docs)}, {"missing", MissingIds(*ids, *docs)}}};
}

ApiResponse HttpApi::CountDocuments(const std::string& name, const json& body) const {
  Fields f(body, "the request body");
  absl::StatusOr<std::optional<Filter>> filter = ParseOptionalFilter(f.String("filter"));
  if (absl::Status s = f.Finish(); !s.ok()) return ErrorResponse(s);
  if (!filter.ok()) return ErrorResponse(filter.status());
  absl::StatusOr<std::shared_ptr<Collection>> c = db_.GetCollection(name);
  if (!c.ok()) return ErrorResponse(c.status());
  absl::StatusOr<int64_t> n = *filter ? (*c)->Count(**filter) : (*c)->Count();
  if (!n.ok()) return ErrorResponse(n.status());
  return {200, {{"count", *n}}};
}

ApiResponse HttpApi::UpdateMetadata(const std::string& name, const json& body) {
  Fields f(body, "the request body");
  const json* list = f.Array("documents", true);
  const bool replace = f.Bool("replace");
  if (absl::Status s = f.Finish(); !s.ok()) return ErrorResponse(s);
  if (list->empty()) return BadRequest("'documents' is empty");
  std::vector<std::string> ids;
  std::vector<json> metadatas;
  for (size_t i = 0; i < list->size(); ++i) {
    Fields d((*list)[i], absl::StrCat("documents[", i, "]"), /*nested=*/true);
    std::optional<std::string> id = d.String("id", true);
    const json* metadata = d.Any("metadata");
    if (absl::Status s = d.Finish(); !s.ok()) return ErrorResponse(s);
    if (metadata == nullptr || !metadata->is_object()) {
      return BadRequest(absl::StrCat("documents[", i, "].metadata must be a JSON object"));
    }
    ids.push_back(*std::move(id));
    metadatas.push_back(*metadata);
  }
  absl::StatusOr<std::shared_ptr<Collection>> c = db_.GetCollection(name);
  if (!c.ok()) return ErrorResponse(c.status());
  absl::Status s = replace ? (*c)->UpdateMetadata(ids, metadatas)
                           : (*c)->MergeMetadata(ids, metadatas);
  if (!s.ok()) return ErrorResponse(s);
  return {200, {{"updated", ids.size()}}};
}

ApiResponse HttpApi::Export(const std::string& name, const QueryParams& params) const {
  if (absl::Status s = CheckParams(params, {"where", "vectors"}); !s.ok()) return ErrorResponse(s);
  ExportOptions options;
  if (auto it = params.find("vectors"); it != params.end()) {
    if (it->second != "true" && it->second != "false") {
      return BadRequest("'vectors' must be true or false");
    }
    options.vectors = it->second == "true";
  }
  absl::StatusOr<std::optional<Filter>> filter = WhereParam(params);
  if (!filter.ok()) return ErrorResponse(filter.status());
  options.filter = *std::move(filter);
  absl::StatusOr<std::shared_ptr<Collection>> c = db_.GetCollection(name);
  if (!c.ok()) return ErrorResponse(c.status());
  auto exporter = std::make_shared<DocumentExport>(*c, options);
  // The first piece now, so that an error (a chunked collection with
  // vectors, a closed database) is a proper status, not a cut stream.
  absl::StatusOr<std::string> first = exporter->Next();
  if (!first.ok()) return ErrorResponse(first.status());
  ApiResponse r;
  r.stream_type = "application/x-ndjson";
  r.stream = [exporter, first = std::move(*first)]() mutable -> absl::StatusOr<std::string> {
    if (!first.empty()) return std::exchange(first, std::string());
    return exporter->Next();
  };
  return r;
}

ApiResponse HttpApi::Search(const std::string& name, const json& body) const {
  Fields f(body, "the request body");
  const std::optional<std::string> query = f.String("query");
  const json* vector_json = f.Any("vector");
  const json* queries_json = f.Array("queries", false);
  const json* vectors_json = f.Array("vectors", false);
  SearchOptions options;
  options.k = static_cast<int>(f.Int("k", 1, limits_.max_k).value_or(options.k));
  const std::optional<std::string> filter = f.String("filter");
  options.one_per_parent = f.Bool("one_per_parent");
  options.neighbors = static_cast<int>(f.Int("neighbors", 0, kMaxNeighbors).value_or(0));
  options.include_parent = f.Bool("include_parent");
  options.knobs.nprobe = static_cast<int>(f.Int("nprobe", 1, kMaxSearchWidth).value_or(0));
  options.knobs.ef_search = static_cast<int>(f.Int("ef_search", 1, kMaxSearchWidth).value_or(0));
  options.hybrid = f.Number("hybrid", 0, 1);
  options.recall_target = f.Number("recall_target", 1e-9, 1).value_or(options.recall_target);
  const std::optional<std::string> strategy = f.String("strategy");
  const std::optional<std::string> fusion = f.String("fusion");
  const json* include_json = f.Array("include", false);
  if (absl::Status s = f.Finish(); !s.ok()) return ErrorResponse(s);
  if (include_json != nullptr) {
    // The hits' fields beyond id and score: any of "text" and "metadata".
    absl::StatusOr<std::vector<std::string>> names = StringList(*include_json, "'include'");
    if (!names.ok()) return ErrorResponse(names.status());
    absl::StatusOr<HitFields> fields = ParseHitFields(*names);
    if (!fields.ok()) return ErrorResponse(fields.status());
    options.include = *fields;
  }
  if (fusion) {
    absl::StatusOr<FusionMethod> parsed = ParseFusionName(*fusion);
    if (!parsed.ok()) return ErrorResponse(parsed.status());
    options.fusion = *parsed;
  }
  if (strategy) {
    absl::StatusOr<SearchStrategy> parsed = ParseStrategyName(*strategy);
    if (!parsed.ok()) return ErrorResponse(parsed.status());
    options.strategy = *parsed;
  }
  if (query.has_value() + (vector_json != nullptr) + (queries_json != nullptr) +
          (vectors_json != nullptr) != 1) {
    return BadRequest(
        "give one of 'query' (text), 'vector' (numbers), 'queries' (texts) or 'vectors' "
        "(arrays of numbers)");
  }
  if (filter) {
    absl::StatusOr<Filter> parsed = Filter::Parse(*filter);
    if (!parsed.ok()) return ErrorResponse(parsed.status());
    options.filter = *std::move(parsed);
  }
  absl::StatusOr<std::shared_ptr<Collection>> c = db_.GetCollection(name);
  if (!c.ok()) return ErrorResponse(c.status());
  if (queries_json != nullptr || vectors_json != nullptr) {
    absl::StatusOr<std::vector<std::vector<Hit>>> answers;
    if (queries_json != nullptr) {
      absl::StatusOr<std::vector<std::string>> texts = StringList(*queries_json, "'queries'");
      if (!texts.ok()) return ErrorResponse(texts.status());
      answers = (*c)->SearchBatch(*texts, options);
    } else {
      std::vector<float> rows;
      for (size_t i = 0; i < vectors_json->size(); ++i) {
        absl::StatusOr<std::vector<float>> v =
            ParseVector((*vectors_json)[i], absl::StrCat("'vectors'[", i, "]"));
        if (!v.ok()) return ErrorResponse(v.status());
        if (v->size() != static_cast<size_t>((*c)->Info().dimension)) {
          return BadRequest(absl::StrCat("'vectors'[", i, "] has dimension ", v->size(),
                                         ", the collection has ", (*c)->Info().dimension));
        }
        rows.insert(rows.end(), v->begin(), v->end());
      }
      answers = (*c)->SearchVectorBatch(rows, options);
    }
    if (!answers.ok()) return ErrorResponse(answers.status());
    json results = json::array();
    for (size_t q = 0; q < answers->size(); ++q) {
      const std::vector<Hit>& hits = (*answers)[q];
      results.push_back(queries_json != nullptr
                            ? TextAnswer(**c, (*queries_json)[q].get<std::string>(), options, hits)
                            : json{{"hits", HitList(hits, options.include)}});
    }
    return {200, {{"results", std::move(results)}}};
  }
  if (query) {
    absl::StatusOr<std::vector<Hit>> hits = (*c)->Search(*query, options);
    if (!hits.ok()) return ErrorResponse(hits.status());
    return {200, TextAnswer(**c, *query, options, *hits)};
  }
  absl::StatusOr<std::vector<float>> vector = ParseVector(*vector_json, "'vector'");
  if (!vector.ok()) return ErrorResponse(vector.status());
  absl::StatusOr<std::vector<Hit>> hits = (*c)->SearchVector(*vector, options);
  if (!hits.ok()) return ErrorResponse(hits.status());
  return {200, {{"hits", HitList(*hits, options.include)}}};
}

}  // namespace semdb
