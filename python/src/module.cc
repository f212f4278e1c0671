// semdb._semdb: the C++ library as a Python extension (pybind11). The
// pure-Python package `semdb` (python/semdb) is the public face; this
// module is its engine.
//
// GIL: every call that does real work converts its arguments first, then
// releases the GIL for the library call, then converts the results; Python
// threads thus search in parallel, under the library's own thread-safety
// contract (include/semdb/database.h).
//
// Lifetime: a Database and the Collections it handed out share one
// DatabaseState. close() destroys the C++ Database under the state's lock,
// exclusive, after calls in flight (which hold it shared) have returned;
// every later call raises FailedPrecondition "database ... is closed"
// instead of reaching freed memory.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "python/src/py_json.h"
#include "semdb/database.h"
#include "shell/empty_result_note.h"
#include "shell/json_output.h"
#include "src/hybrid_fusion.h"
#include "semdb/model_state.h"

namespace py = pybind11;

namespace semdb::python {
namespace {

// ---- errors

struct ErrorTypes {
  py::object error, not_found, already_exists, invalid_argument, failed_precondition;
};
ErrorTypes* error_types = nullptr;  // created at import, lives as long as the process

[[noreturn]] void Raise(const absl::Status& s) {
  const ErrorTypes& e = *error_types;
  py::handle type = e.error;
  switch (s.code()) {
    case absl::StatusCode::kNotFound:
      type = e.not_found;
      break;
    case absl::StatusCode::kAlreadyExists:
      type = e.already_exists;
      break;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      type = e.invalid_argument;
      break;
    case absl::StatusCode::kFailedPrecondition:
      type = e.failed_precondition;
      break;
    default:
      break;
  }
  // Messages may quote user bytes: decode leniently.
  py::object message = py::reinterpret_steal<py::object>(
      PyUnicode_DecodeUTF8(s.message().data(), s.message().size(), "replace"));
  PyErr_SetObject(type.ptr(), message.ptr());
  throw py::error_already_set();
}

void Check(const absl::Status& s) {
  if (!s.ok()) Raise(s);
}

template <typename T>
T Take(absl::StatusOr<T> v) {
  if (!v.ok()) Raise(v.status());
  return *std::move(v);
}

// ---- shared state of a database and its collections

struct DatabaseState {
  std::string path;
  mutable std::shared_mutex mu;
  std::unique_ptr<Database> db;  // null once closed; guarded by mu
};

absl::Status Closed(const DatabaseState& state) {
  return absl::FailedPreconditionError(
      absl::StrCat("database '", state.path, "' is closed"));
}

// Runs f() with the GIL released and the database held open; f returns an
// absl::Status or absl::StatusOr.
template <typename F>
auto WhileOpen(const DatabaseState& state, F&& f) -> decltype(f()) {
  py::gil_scoped_release nogil;
  std::shared_lock lock(state.mu);
  if (state.db == nullptr) return Closed(state);
  return f();
}

// ---- conversions

std::vector<std::string> Strings(const std::optional<std::vector<std::string>>& v) {
  return v.value_or(std::vector<std::string>{});
}

std::optional<Filter> ParseWhere(const std::optional<std::string>& where) {
  if (!where) return std::nullopt;
  return Take(Filter::Parse(*where));
}

// Rows of float32 (a copy only when the input is not already C-contiguous
// float32).
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

void CheckMatrix(const FloatArray& a, const char* what) {
  if (a.ndim() != 2) {
    Raise(absl::InvalidArgumentError(
        absl::StrCat(what, " must be a 2-d array (rows of floats), got ", a.ndim(), " dimensions")));
  }
}

// Takes ownership of `values` as the buffer of an (rows, cols) array.
py::array_t<float> OwnedMatrix(std::vector<float> values, size_t rows, size_t cols) {
  auto* owned = new std::vector<float>(std::move(values));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  return py::array_t<float>({rows, cols}, owned->data(), owner);
}

// {"ids", "documents", "metadatas", "vectors"}: columns, as Chroma returns
// them; "vectors" is an (n, d) array for collections of caller-supplied
// vectors, else None.
py::dict DocumentColumns(const std::vector<Document>& docs) {
  py::list ids(docs.size()), texts(docs.size()), metadatas(docs.size());
  const size_t dim = docs.empty() ? 0 : docs.front().vector.size();
  bool vectors = dim > 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    ids[i] = py::str(docs[i].id);
    texts[i] = py::str(docs[i].text);
    metadatas[i] = FromJson(docs[i].metadata);
    vectors = vectors && docs[i].vector.size() == dim;
  }
  py::dict out;
  out["ids"] = std::move(ids);
  out["documents"] = std::move(texts);
  out["metadatas"] = std::move(metadatas);
  if (vectors) {
    std::vector<float> values;
    values.reserve(docs.size() * dim);
    for (const Document& d : docs) values.insert(values.end(), d.vector.begin(), d.vector.end());
    out["vectors"] = OwnedMatrix(std::move(values), docs.size(), dim);
  } else {
    out["vectors"] = py::none();
  }
  return out;
}

// Document i's metadata (a dict of JSON values) as JSON; InvalidArgument
// naming the document otherwise.
nlohmann::json MetadataAt(const py::sequence& metadatas, size_t i) {
  absl::StatusOr<nlohmann::json> meta = ToJson(metadatas[i]);
  if (!meta.ok()) {
    Raise(absl::InvalidArgumentError(
        absl::StrCat("document ", i + 1, ": ", meta.status().message())));
  }
  return *std::move(meta);
}

using IntArray = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;

// KeywordStatistics as {"documents", "length", "document_frequency": {term: n}}.
py::dict StatisticsDict(const KeywordStatistics& k) {
  py::dict df;
  for (const auto& [term, n] : k.document_frequency) df[py::str(term)] = n;
  py::dict out;
  out["documents"] = k.documents;
  out["length"] = k.length;
  out["document_frequency"] = std::move(df);
  return out;
}

// The inverse of StatisticsDict; InvalidArgument for another shape (it
// raised KeyError or pybind11's "Unable to cast").
KeywordStatistics StatisticsOf(const py::dict& d) {
  KeywordStatistics k;
  bool shaped = true;
  try {
    k.documents = d["documents"].cast<int64_t>();
    k.length = d["length"].cast<int64_t>();
    for (const auto& [term, n] : d["document_frequency"].cast<py::dict>()) {
      k.document_frequency[term.cast<std::string>()] = n.cast<int64_t>();
    }
  } catch (const py::error_already_set& e) {
    if (!e.matches(PyExc_KeyError) && !e.matches(PyExc_TypeError)) throw;
    shaped = false;
  } catch (const py::cast_error&) {
    shaped = false;
  }
  if (!shaped || k.documents < 0 || k.length < 0) {
    Raise(absl::InvalidArgumentError(
        "statistics must be {\"documents\": int, \"length\": int, \"document_frequency\": "
        "{term: int}}, as keyword_statistics returns them"));
  }
  return k;
}

// A standalone model (semdb.Model): embeds without a database.
class PyModel {
 public:
  explicit PyModel(const std::string& bytes) {
    ModelState state = Take(ModelState::Decode(bytes));
    absl::StatusOr<std::unique_ptr<Model>> model;
    {
      py::gil_scoped_release nogil;
      model = Model::Load(state);
    }
    model_ = Take(std::move(model));
    embedder_ = state.embedder;
  }
  int dimension() const { return model_->dimension(); }
  const std::string& fingerprint() const { return model_->fingerprint(); }
  const std::string& embedder() const { return embedder_; }

  // (vectors (n, d) float32, tokens (n,) int32, unknown tokens (n,) int32).
  py::tuple Embed(const std::vector<std::string>& texts, bool queries) const {
    std::vector<std::string_view> views(texts.begin(), texts.end());
    std::vector<float> values(texts.size() * model_->dimension());
    std::vector<TextStats> stats;
    {
      py::gil_scoped_release nogil;
      Check(queries ? model_->EmbedQueries(views, absl::MakeSpan(values), &stats)
                    : model_->Embed(views, absl::MakeSpan(values), &stats));
    }
    py::array_t<int32_t> tokens(texts.size()), unknown(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      tokens.mutable_at(i) = stats[i].tokens;
      unknown.mutable_at(i) = stats[i].unknown_tokens;
    }
    return py::make_tuple(OwnedMatrix(std::move(values), texts.size(), model_->dimension()),
                          tokens, unknown);
  }

 private:
  std::unique_ptr<Model> model_;
  std::string embedder_;
};

// The core's fusion (src/hybrid_fusion.h) over rankings of (key, score)
// pairs, best first; keys are the caller's integers.
std::vector<std::pair<int64_t, float>> FuseRankingsPy(
    const std::vector<std::pair<int64_t, float>>& vector_hits,
    const std::vector<std::pair<int64_t, float>>& keyword_hits, const std::string& method,
    double keyword_weight, int depth) {
  if (!(keyword_weight >= 0 && keyword_weight <= 1)) {
    Raise(absl::InvalidArgumentError("the keyword weight must be in [0, 1]"));
  }
  auto to_index = [](const std::vector<std::pair<int64_t, float>>& hits) {
    std::vector<IndexHit> out;
    for (const auto& [key, score] : hits) out.push_back({static_cast<uint64_t>(key), score});
    return out;
  };
  std::vector<std::pair<int64_t, float>> out;
  for (const IndexHit& h : FuseRankings(to_index(vector_hits), to_index(keyword_hits),
                                        Take(ParseFusionName(method)), keyword_weight,
                                        depth)) {
    out.emplace_back(static_cast<int64_t>(h.label), h.score);
  }
  return out;
}

struct QueryOptions {
  int k = 10;
  std::optional<std::string> where;
  std::optional<double> hybrid;
  std::optional<double> recall_target;
  std::optional<int> nprobe;
  std::optional<int> ef_search;
  bool one_per_parent = false;
  int neighbors = 0;
  bool include_parent = false;
  std::optional<std::string> strategy;
  std::string fusion = "convex";
  std::vector<std::string> include = {"text", "metadata"};
};

SearchOptions ToSearchOptions(const QueryOptions& q) {
  SearchOptions o;
  o.k = q.k;
  o.filter = ParseWhere(q.where);
  o.hybrid = q.hybrid;
  if (q.recall_target) o.recall_target = *q.recall_target;
  // As the shell's --nprobe and HTTP's "nprobe": 0 is not "the default".
  auto width = [](const std::optional<int>& v, const char* name) {
    if (v && (*v < 1 || *v > kMaxSearchWidth)) {
      Raise(absl::InvalidArgumentError(
          absl::StrCat(name, " must be from 1 to ", kMaxSearchWidth, ", got ", *v)));
    }
    return v.value_or(0);
  };
  o.knobs.nprobe = width(q.nprobe, "nprobe");
  o.knobs.ef_search = width(q.ef_search, "ef_search");
  o.one_per_parent = q.one_per_parent;
  o.neighbors = q.neighbors;
  o.include_parent = q.include_parent;
  if (q.strategy) o.strategy = Take(ParseStrategyName(*q.strategy));
  o.fusion = Take(ParseFusionName(q.fusion));
  o.include = Take(ParseHitFields(q.include));
  return o;
}

py::dict PassageDict(const PassageInfo& p) {
  py::dict d;
  d["index"] = p.index;
  d["count"] = p.count;
  d["begin"] = p.begin;
  d["end"] = p.end;
  return d;
}

// ---- the Python-facing classes

class PyCollection {
 public:
  PyCollection(std::shared_ptr<DatabaseState> state, std::shared_ptr<Collection> col)
      : state_(std::move(state)), col_(std::move(col)), name_(col_->name()) {}

  const std::string& name() const { return name_; }

  py::dict Info() const {
    CollectionInfo info = Take(WhileOpen(*state_, [&]() -> absl::StatusOr<CollectionInfo> {
      return col_->Info();
    }));
    return FromJson(CollectionInfoJson(info));
  }

  std::vector<std::string> Add(const std::optional<std::vector<std::string>>& ids,
                               const std::optional<std::vector<std::string>>& documents,
                               const std::optional<py::sequence>& metadatas,
                               const std::optional<FloatArray>& vectors, bool upsert,
                               std::optional<bool> sync) {
    // Every column given has one entry per document; vectors before
    // documents, which the package fills with "" when only vectors are given.
    size_t n = 0;
    const char* first = nullptr;
    auto count = [&](size_t size, const char* what) {
      if (first == nullptr) {
        n = size;
        first = what;
      } else if (size != n) {
        Raise(absl::InvalidArgumentError(
            absl::StrCat("got ", n, " ", first, " but ", size, " ", what)));
      }
    };
    if (ids) count(ids->size(), "ids");
    if (vectors) {
      CheckMatrix(*vectors, "vectors");
      count(vectors->shape(0), "vectors");
    }
    if (documents) count(documents->size(), "documents");
    if (metadatas) count(py::len(*metadatas), "metadatas");
    if (!documents && !vectors) {
      Raise(absl::InvalidArgumentError("give documents (texts) or vectors"));
    }
    std::vector<Document> docs(n);
    for (size_t i = 0; i < n; ++i) {
      Document& d = docs[i];
      if (ids) d.id = (*ids)[i];
      if (documents) d.text = (*documents)[i];
      if (metadatas) d.metadata = MetadataAt(*metadatas, i);
      if (vectors) {
        const float* row = vectors->data(i, 0);
        d.vector.assign(row, row + vectors->shape(1));
      }
    }
    WriteOptions wo{.sync = sync};
    if (upsert) {
      Check(WhileOpen(*state_, [&] { return col_->UpsertBatch(std::move(docs), wo); }));
      return Strings(ids);
    }
    return Take(WhileOpen(*state_, [&] { return col_->InsertBatch(std::move(docs), wo); }));
  }

  py::dict Get(const std::vector<std::string>& ids) const {
    return DocumentColumns(Take(WhileOpen(*state_, [&] { return col_->GetBatch(ids); })));
  }

  py::dict List(const std::optional<std::string>& where, int64_t limit, int64_t offset) const {
    ListOptions options{.filter = ParseWhere(where), .offset = offset, .limit = limit};
    return DocumentColumns(Take(WhileOpen(*state_, [&] { return col_->List(options); })));
  }

  int64_t Count(const std::optional<std::string>& where) const {
    std::optional<Filter> filter = ParseWhere(where);
    return Take(WhileOpen(*state_, [&]() -> absl::StatusOr<int64_t> {
      if (filter) return col_->Count(*filter);
      // Count() has no status: a dropped collection is found by GetBatch.
      if (absl::Status s = col_->GetBatch({}).status(); !s.ok()) return s;
      return col_->Count();
    }));
  }

  int64_t Delete(const std::vector<std::string>& ids, std::optional<bool> sync) {
    return Take(WhileOpen(*state_, [&] { return col_->DeleteBatch(ids, {.sync = sync}); }));
  }

  int64_t DeleteWhere(const std::string& where, std::optional<bool> sync) {
    Filter filter = Take(Filter::Parse(where));
    return Take(WhileOpen(*state_, [&] { return col_->DeleteMatching(filter, {.sync = sync}); }));
  }

  // Replaces the metadata, or with `merge` applies each as an RFC 7386
  // merge patch (HTTP PATCH's default).
  void Update(const std::vector<std::string>& ids, const py::sequence& metadatas, bool merge,
              std::optional<bool> sync) {
    std::vector<nlohmann::json> json;
    for (size_t i = 0; i < py::len(metadatas); ++i) json.push_back(MetadataAt(metadatas, i));
    Check(WhileOpen(*state_, [&] {
      return merge ? col_->MergeMetadata(ids, json, {.sync = sync})
                   : col_->UpdateMetadata(ids, json, {.sync = sync});
    }));
  }

  std::vector<std::vector<Hit>> QueryTexts(const std::vector<std::string>& texts,
                                           const QueryOptions& q) const {
    SearchOptions options = ToSearchOptions(q);
    return Take(WhileOpen(*state_, [&]() -> absl::StatusOr<std::vector<std::vector<Hit>>> {
      std::vector<std::vector<Hit>> out;
      out.reserve(texts.size());
      for (const std::string& text : texts) {
        absl::StatusOr<std::vector<Hit>> hits = col_->Search(text, options);
        if (!hits.ok()) return hits.status();
        out.push_back(*std::move(hits));
      }
      return out;
    }));
  }

  std::vector<std::vector<Hit>> QueryVectors(const FloatArray& vectors,
                                             const QueryOptions& q) const {
    CheckMatrix(vectors, "query vectors");
    SearchOptions options = ToSearchOptions(q);
    const size_t rows = vectors.shape(0), cols = vectors.shape(1);
    const float* data = vectors.data();
    return Take(WhileOpen(*state_, [&]() -> absl::StatusOr<std::vector<std::vector<Hit>>> {
      std::vector<std::vector<Hit>> out;
      out.reserve(rows);
      for (size_t r = 0; r < rows; ++r) {
        absl::StatusOr<std::vector<Hit>> hits =
            col_->SearchVector(absl::MakeConstSpan(data + r * cols, cols), options);
        if (!hits.ok()) return hits.status();
        out.push_back(*std::move(hits));
      }
      return out;
    }));
  }

  // Why `text` found nothing with these options, when its words are the
  // reason (shell/empty_result_note.h); "" otherwise.
  std::string EmptyNote(const std::string& text, const QueryOptions& q) const {
    SearchOptions options = ToSearchOptions(q);
    return Take(WhileOpen(*state_, [&]() -> absl::StatusOr<std::string> {
      return EmptyResultNote(*col_, text, options);
    }));
  }

  py::object ExplainText(const std::string& text, const QueryOptions& q, bool analyze) const {
    SearchOptions options = ToSearchOptions(q);
    return FromJson(
        Take(WhileOpen(*state_, [&] { return col_->Explain(text, options, analyze); }))
            .ToJson());
  }

  py::object ExplainVector(const FloatArray& vector, const QueryOptions& q, bool analyze) const {
    SearchOptions options = ToSearchOptions(q);
    absl::Span<const float> v(vector.data(), vector.size());
    return FromJson(
        Take(WhileOpen(*state_, [&] { return col_->ExplainVector(v, options, analyze); }))
            .ToJson());
  }

  py::array_t<float> Embed(const std::vector<std::string>& texts) const {
    std::vector<std::string_view> views(texts.begin(), texts.end());
    int dim = 0;
    std::vector<float> values =
        Take(WhileOpen(*state_, [&]() -> absl::StatusOr<std::vector<float>> {
          absl::StatusOr<std::vector<float>> v = col_->Embed(views);
          dim = col_->Info().dimension;
          return v;
        }));
    return OwnedMatrix(std::move(values), texts.size(), texts.empty() ? dim : values.size() / texts.size());
  }

  void Refit() { Check(WhileOpen(*state_, [&] { return col_->Refit(); })); }
  void Checkpoint() { Check(WhileOpen(*state_, [&] { return col_->Checkpoint(); })); }
  void SetIndex(const std::string& spec) {
    Check(WhileOpen(*state_, [&] { return col_->SetIndex(spec); }));
  }
  py::object Stats() const {
    return FromJson(Take(WhileOpen(*state_, [&]() -> absl::StatusOr<nlohmann::json> {
      return col_->Stats().ToJson();
    })));
  }

  // Sharing a model; keyword statistics (semdb.distributed).
  py::bytes ExportModel() const {
    std::string bytes = Take(WhileOpen(*state_, [&]() -> absl::StatusOr<std::string> {
      absl::StatusOr<ModelState> model = col_->ExportModel();
      if (!model.ok()) return model.status();
      return model->Encode();
    }));
    return py::bytes(bytes);
  }

  void InstallModel(const std::string& bytes) {
    ModelState model = Take(ModelState::Decode(bytes));
    Check(WhileOpen(*state_, [&] { return col_->InstallModel(model); }));
  }

  std::vector<std::string> WriteEmbedded(const std::vector<std::string>& ids,
                                         const std::vector<std::string>& documents,
                                         const std::optional<py::sequence>& metadatas,
                                         const FloatArray& vectors, const IntArray& tokens,
                                         const IntArray& unknown_tokens,
                                         const std::string& fingerprint, bool upsert,
                                         std::optional<bool> sync) {
    CheckMatrix(vectors, "vectors");
    const size_t n = documents.size();
    if (ids.size() != n || static_cast<size_t>(vectors.shape(0)) != n ||
        static_cast<size_t>(tokens.size()) != n || static_cast<size_t>(unknown_tokens.size()) != n ||
        (metadatas && py::len(*metadatas) != n)) {
      Raise(absl::InvalidArgumentError("ids, documents, metadatas, vectors and stats differ in length"));
    }
    std::vector<Document> docs(n);
    for (size_t i = 0; i < n; ++i) {
      Document& d = docs[i];
      d.id = ids[i];
      d.text = documents[i];
      if (metadatas) d.metadata = MetadataAt(*metadatas, i);
      const float* row = vectors.data(i, 0);
      d.vector.assign(row, row + vectors.shape(1));
      d.stats.tokens = tokens.data()[i];
      d.stats.unknown_tokens = unknown_tokens.data()[i];
    }
    return Take(WhileOpen(*state_, [&] {
      return col_->WriteEmbedded(std::move(docs), fingerprint, upsert, {.sync = sync});
    }));
  }

  py::dict KeywordStatisticsOf(const std::string& text) const {
    return StatisticsDict(
        Take(WhileOpen(*state_, [&] { return col_->GetKeywordStatistics(text); })));
  }

  std::vector<Hit> KeywordSearch(const std::string& text, const QueryOptions& q,
                                 const std::optional<py::dict>& global) const {
    SearchOptions options = ToSearchOptions(q);
    std::optional<KeywordStatistics> stats;
    if (global) stats = StatisticsOf(*global);
    return Take(WhileOpen(*state_, [&] {
      return col_->KeywordSearch(text, options, stats ? &*stats : nullptr);
    }));
  }

 private:
  std::shared_ptr<DatabaseState> state_;
  std::shared_ptr<Collection> col_;
  std::string name_;
};

class PyDatabase {
 public:
  static PyDatabase Open(const std::string& path, bool sync, bool create_if_missing) {
    auto state = std::make_shared<DatabaseState>();
    state->path = path;
    Options options{.create_if_missing = create_if_missing, .sync = sync};
    absl::StatusOr<std::unique_ptr<Database>> db;
    {
      py::gil_scoped_release nogil;
      db = Database::Open(path, options);
    }
    state->db = Take(std::move(db));
    return PyDatabase(std::move(state));
  }

  const std::string& path() const { return state_->path; }

  bool closed() const {
    std::shared_lock lock(state_->mu);
    return state_->db == nullptr;
  }

  // Waits for calls in flight, saves the indexes and closes; idempotent.
  void Close() {
    std::unique_ptr<Database> db;
    py::gil_scoped_release nogil;
    {
      std::unique_lock lock(state_->mu);
      db = std::move(state_->db);
    }
    db.reset();  // saves every index: outside the lock, the handle is already closed
  }

  py::list Collections() const {
    std::vector<CollectionInfo> infos =
        Take(WhileOpen(*state_, [&]() -> absl::StatusOr<std::vector<CollectionInfo>> {
          return state_->db->ListCollections();
        }));
    py::list out;
    for (const CollectionInfo& info : infos) out.append(FromJson(CollectionInfoJson(info)));
    return out;
  }

  // With `existing_ok`, Database::GetOrCreateCollection: an existing
  // collection is returned when it agrees with the spec, else
  // FailedPrecondition naming the differences.
  PyCollection CreateCollection(const std::string& name, const std::string& embedder,
                                const std::string& index, const std::string& chunking,
                                const std::vector<std::string>& indexed, bool keyword_index,
                                const std::string& vector_storage, bool existing_ok) {
    CollectionSpec spec{.embedder = embedder,
                        .index = index,
                        .chunking = chunking,
                        .indexed_fields = indexed,
                        .keyword_index = keyword_index,
                        .vector_storage = vector_storage};
    return PyCollection(state_, Take(WhileOpen(*state_, [&] {
                          return existing_ok ? state_->db->GetOrCreateCollection(name, spec)
                                             : state_->db->CreateCollection(name, spec);
                        })));
  }

  PyCollection GetCollection(const std::string& name) const {
    return PyCollection(state_, Take(WhileOpen(*state_, [&] {
                          return state_->db->GetCollection(name);
                        })));
  }

  void DropCollection(const std::string& name) {
    Check(WhileOpen(*state_, [&] { return state_->db->DropCollection(name); }));
  }

 private:
  explicit PyDatabase(std::shared_ptr<DatabaseState> state) : state_(std::move(state)) {}
  std::shared_ptr<DatabaseState> state_;
};

py::object NewError(py::module_& m, const char* name, py::handle base, const char* doc) {
  py::object type = py::reinterpret_steal<py::object>(
      PyErr_NewExceptionWithDoc(absl::StrCat("semdb.", name).c_str(), doc, base.ptr(), nullptr));
  if (!type) throw py::error_already_set();
  m.attr(name) = type;
  return type;
}

}  // namespace

PYBIND11_MODULE(_semdb, m) {
  m.doc() = "semdb's C++ engine; use the `semdb` package.";

  error_types = new ErrorTypes;
  error_types->error = NewError(m, "Error", PyExc_Exception,
                                "An error reported by semdb, with its message.");
  error_types->not_found = NewError(m, "NotFound", error_types->error,
                                    "No such collection or document.");
  error_types->already_exists = NewError(m, "AlreadyExists", error_types->error,
                                         "A collection or document id that exists.");
  error_types->invalid_argument = NewError(
      m, "InvalidArgument", error_types->error,
      "Bad input: a malformed filter or spec, a wrong dimension, bad text or metadata.");
  error_types->failed_precondition = NewError(
      m, "FailedPrecondition", error_types->error,
      "Not possible in this state: a closed database, a model not fitted yet, a text "
      "query on a collection of vectors.");

  py::class_<Hit>(m, "Hit", "One search result (see semdb.Hit).")
      .def_property_readonly("id", [](const Hit& h) { return h.id; })
      .def_property_readonly("score", [](const Hit& h) { return h.score; })
      .def_property_readonly("score_kind",
                             [](const Hit& h) { return ScoreKindName(h.score_kind); })
      .def_property_readonly("text", [](const Hit& h) { return h.text; })
      .def_property_readonly("metadata", [](const Hit& h) { return FromJson(h.metadata); })
      .def_property_readonly("passage",
                             [](const Hit& h) -> py::object {
                               if (!h.passage) return py::none();
                               return PassageDict(*h.passage);
                             })
      .def_property_readonly("neighbors",
                             [](const Hit& h) {
                               py::list out;
                               for (const Passage& p : h.neighbors) {
                                 py::dict d = PassageDict(p.info);
                                 d["text"] = p.text;
                                 out.append(std::move(d));
                               }
                               return out;
                             })
      .def_property_readonly("parent_text", [](const Hit& h) { return h.parent_text; })
      .def_property_readonly("context", [](const Hit& h) { return JoinedContext(h); })
      .def("to_dict", [](const Hit& h) { return FromJson(HitJson(h)); })
      .def("__repr__", [](const Hit& h) {
        std::string text = h.text.size() > 40 ? h.text.substr(0, 40) + "..." : h.text;
        return py::str("Hit(id={!r}, score={:.4f}, text={!r})")
            .format(h.id, h.score,
                    py::reinterpret_steal<py::object>(
                        PyUnicode_DecodeUTF8(text.data(), text.size(), "replace")));
      });

  py::class_<QueryOptions>(m, "_QueryOptions")
      .def(py::init([](int k, std::optional<std::string> where, std::optional<double> hybrid,
                       std::optional<double> recall_target, std::optional<int> nprobe,
                       std::optional<int> ef_search, bool one_per_parent, int neighbors,
                       bool include_parent, std::optional<std::string> strategy,
                       std::string fusion, std::vector<std::string> include) {
             return QueryOptions{k,         std::move(where), hybrid,         recall_target,
                                 nprobe,    ef_search,        one_per_parent, neighbors,
                                 include_parent, std::move(strategy), std::move(fusion),
                                 std::move(include)};
           }),
           py::arg("k"), py::arg("where"), py::arg("hybrid"), py::arg("recall_target"),
           py::arg("nprobe"), py::arg("ef_search"), py::arg("one_per_parent"),
           py::arg("neighbors"), py::arg("include_parent"), py::arg("strategy"),
           py::arg("fusion") = "convex",
           py::arg("include") = std::vector<std::string>{"text", "metadata"});

  py::class_<PyCollection>(m, "_Collection")
      .def_property_readonly("name", &PyCollection::name)
      .def("info", &PyCollection::Info)
      .def("add", &PyCollection::Add, py::arg("ids"), py::arg("documents"),
           py::arg("metadatas"), py::arg("vectors"), py::arg("upsert"), py::arg("sync"))
      .def("get", &PyCollection::Get, py::arg("ids"))
      .def("list", &PyCollection::List, py::arg("where"), py::arg("limit"), py::arg("offset"))
      .def("count", &PyCollection::Count, py::arg("where"))
      .def("delete", &PyCollection::Delete, py::arg("ids"), py::arg("sync"))
      .def("delete_where", &PyCollection::DeleteWhere, py::arg("where"), py::arg("sync"))
      .def("update", &PyCollection::Update, py::arg("ids"), py::arg("metadatas"),
           py::arg("merge"), py::arg("sync"))
      .def("query_texts", &PyCollection::QueryTexts, py::arg("texts"), py::arg("options"))
      .def("query_vectors", &PyCollection::QueryVectors, py::arg("vectors"),
           py::arg("options"))
      .def("empty_note", &PyCollection::EmptyNote, py::arg("text"), py::arg("options"))
      .def("explain_text", &PyCollection::ExplainText, py::arg("text"), py::arg("options"),
           py::arg("analyze"))
      .def("explain_vector", &PyCollection::ExplainVector, py::arg("vector"),
           py::arg("options"), py::arg("analyze"))
      .def("embed", &PyCollection::Embed, py::arg("texts"))
      .def("refit", &PyCollection::Refit)
      .def("checkpoint", &PyCollection::Checkpoint)
      .def("set_index", &PyCollection::SetIndex, py::arg("spec"))
      .def("stats", &PyCollection::Stats)
      .def("export_model", &PyCollection::ExportModel)
      .def("install_model", &PyCollection::InstallModel, py::arg("model"))
      .def("write_embedded", &PyCollection::WriteEmbedded, py::arg("ids"), py::arg("documents"),
           py::arg("metadatas"), py::arg("vectors"), py::arg("tokens"),
           py::arg("unknown_tokens"), py::arg("fingerprint"), py::arg("upsert"),
           py::arg("sync"))
      .def("keyword_statistics", &PyCollection::KeywordStatisticsOf, py::arg("text"))
      .def("keyword_search", &PyCollection::KeywordSearch, py::arg("text"), py::arg("options"),
           py::arg("statistics"));

  py::class_<PyModel>(m, "_Model")
      .def(py::init<const std::string&>(), py::arg("model"))
      .def_property_readonly("dimension", &PyModel::dimension)
      .def_property_readonly("fingerprint", &PyModel::fingerprint)
      .def_property_readonly("embedder", &PyModel::embedder)
      .def("embed", &PyModel::Embed, py::arg("texts"), py::arg("queries"));

  m.def("fuse_rankings", &FuseRankingsPy, py::arg("vector_hits"), py::arg("keyword_hits"),
        py::arg("method"), py::arg("keyword_weight"), py::arg("depth") = 0,
        "The core's hybrid fusion (src/hybrid_fusion.h) of two rankings of (key, score), "
        "best first, cut at `depth` (0: complete); returns (key, fused score) in fused order.");
  m.def("model_info", [](const std::string& bytes) {
          ModelState state = Take(ModelState::Decode(bytes));
          py::dict d;
          d["embedder"] = state.embedder;
          d["dimension"] = state.dimension;
          d["fingerprint"] = state.Fingerprint();
          d["index"] = state.index.empty() ? py::object(py::none()) : py::str(state.index);
          d["index_training"] = py::bytes(state.index_training);
          return d;
        }, py::arg("model"),
        "{embedder, dimension, fingerprint, index, index_training} of an exported model, "
        "without loading it.");
  m.def("train_index", [](const std::string& bytes, const std::string& index,
                          const FloatArray& sample) {
          ModelState state = Take(ModelState::Decode(bytes));
          if (sample.ndim() != 2 || sample.shape(1) != state.dimension) {
            Check(absl::InvalidArgumentError(absl::StrCat(
                "the sample must be an (n, ", state.dimension, ") array of the model's vectors")));
          }
          absl::Span<const float> rows(sample.data(), static_cast<size_t>(sample.size()));
          absl::StatusOr<ModelState> trained;
          {
            py::gil_scoped_release nogil;
            trained = TrainIndex(std::move(state), index, rows);
          }
          return py::bytes(Take(std::move(trained)).Encode());
        }, py::arg("model"), py::arg("index"), py::arg("sample"),
        "The model with the training of an index (IVF coarse centroids) learnt from "
        "`sample`, the model's vectors of a sample of the corpus (semdb/model_state.h).");
  m.def("check_hit_fields",
        [](const std::vector<std::string>& names) { Take(ParseHitFields(names)); },
        py::arg("names"),
        "Raises InvalidArgument unless every name is a hit field (\"text\", \"metadata\").");
  m.def("fnv1a64", [](const py::bytes& b) { return Fnv1a64(std::string(b)); }, py::arg("data"),
        "The 64-bit FNV-1a hash of bytes (semdb.distributed's shard routing).");

  py::class_<PyDatabase>(m, "_Database")
      .def_static("open", &PyDatabase::Open, py::arg("path"), py::arg("sync"),
                  py::arg("create_if_missing"))
      .def_property_readonly("path", &PyDatabase::path)
      .def_property_readonly("closed", &PyDatabase::closed)
      .def("close", &PyDatabase::Close)
      .def("collections", &PyDatabase::Collections)
      .def("create_collection", &PyDatabase::CreateCollection, py::arg("name"),
           py::arg("embedder"), py::arg("index"), py::arg("chunking"), py::arg("indexed"),
           py::arg("keyword_index"), py::arg("vector_storage"), py::arg("existing_ok"))
      .def("get_collection", &PyDatabase::GetCollection, py::arg("name"))
      .def("drop_collection", &PyDatabase::DropCollection, py::arg("name"));
}

}  // namespace semdb::python
