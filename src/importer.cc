#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "text/utf8.h"
#include "semdb/import.h"
#include "src/csv_reader.h"
#include "storage/bounded_json.h"

namespace semdb {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBinarySniffBytes = 8192;

ImportFormat FormatOf(const fs::path& path) {
  std::string ext = absl::AsciiStrToLower(path.extension().string());
  if (ext == ".jsonl" || ext == ".ndjson") return ImportFormat::kJsonLines;
  if (ext == ".csv") return ImportFormat::kCsv;
  if (ext == ".txt" || ext == ".md" || ext == ".markdown" || ext == ".text") {
    return ImportFormat::kText;
  }
  return ImportFormat::kLines;
}

// Turns a CSV cell into a JSON number when it is one, else a string.
nlohmann::json CellValue(const std::string& cell) {
  int64_t i;
  double d;
  if (absl::SimpleAtoi(cell, &i)) return i;
  if (!cell.empty() && cell.find_first_not_of("0123456789.eE+-") == std::string::npos &&
      absl::SimpleAtod(cell, &d) && std::isfinite(d)) {
    return d;
  }
  return cell;
}

// Feeds documents to the collection in batches and keeps the report.
class Importer {
 public:
  Importer(Collection& collection, const ImportOptions& options, int64_t bytes_total)
      : collection_(collection),
        options_(options),
        write_(options.write),
        stored_vectors_(collection.Info().caller_vectors) {
    // One refit at the end of the import (ImportPath) instead of one each
    // time the collection doubles, each re-embedding all written so far.
    write_.defer_refit = true;
    progress_.bytes_total = bytes_total;
  }

  void Problem(const std::string& source, int64_t line, std::string reason) {
    ++report_.skipped;
    ++progress_.skipped;
    // Kept in file order: a record refused when its batch is written comes
    // after records of later lines that the parser refused.
    ImportProblem p{source, line, std::move(reason)};
    auto at = std::upper_bound(report_.problems.begin(), report_.problems.end(), p,
                               [&](const ImportProblem& a, const ImportProblem& b) {
                                 return std::pair(FileOrder(a.source), a.line) <
                                        std::pair(FileOrder(b.source), b.line);
                               });
    if (at - report_.problems.begin() <
        static_cast<std::ptrdiff_t>(ImportReport::kMaxReportedProblems)) {
      report_.problems.insert(at, std::move(p));
      if (report_.problems.size() > ImportReport::kMaxReportedProblems) {
        report_.problems.pop_back();
      }
    }
  }

  // Files are read in the order given here (their rank orders problems).
  void StartFile(const std::string& source) { file_rank_.emplace(source, file_rank_.size()); }

  // Queues one document; records with problems the collection would refuse
  // are reported here, one by one. An exported record (semdb/export.h)
  // keeps its metadata as it is, and its vector in a "vectors" collection
  // only (others embed the text).
  absl::Status Add(const std::string& source, int64_t line, Document doc,
                   bool exported = false) {
    if (!stored_vectors_) doc.vector.clear();
    if (doc.vector.empty() && doc.text.find_first_not_of(" \t\r\n") == std::string::npos) {
      Problem(source, line, "empty text");
      return absl::OkStatus();
    }
    if (absl::Status s = ValidateUtf8(doc.text); !s.ok()) {
      Problem(source, line, std::string(s.message()));
      return absl::OkStatus();
    }
    if (!exported && !doc.metadata.contains("source")) doc.metadata["source"] = source;
    if (!exported && line > 0 && !doc.metadata.contains("line")) doc.metadata["line"] = line;
    batch_.push_back(std::move(doc));
    origins_.push_back({source, line});
    return batch_.size() >= options_.batch_size ? Flush() : absl::OkStatus();
  }

  // Writes the queued batch; a Cancelled error, writing nothing, when
  // ImportOptions::cancelled says so.
  absl::Status Flush() {
    if (batch_.empty()) return absl::OkStatus();
    if (options_.cancelled && options_.cancelled()) {
      batch_.clear();
      origins_.clear();
      return absl::CancelledError("import cancelled");
    }
    std::vector<Document> docs = std::move(batch_);
    batch_.clear();
    absl::Status s = WriteBatch(docs);
    if (IsRecordError(s)) {
      // Find the offending records: write them one at a time.
      for (size_t i = 0; i < docs.size(); ++i) {
        std::vector<Document> one;
        one.push_back(std::move(docs[i]));
        absl::Status single = WriteBatch(one);
        if (IsRecordError(single)) {
          Problem(origins_[i].first, origins_[i].second, std::string(single.message()));
        } else if (!single.ok()) {
          return single;
        } else {
          ++report_.documents;
        }
      }
    } else if (!s.ok()) {
      return s;
    } else {
      report_.documents += static_cast<int64_t>(docs.size());
    }
    origins_.clear();
    progress_.documents = report_.documents;
    if (options_.progress) options_.progress(progress_);
    return absl::OkStatus();
  }

  void AdvanceBytes(int64_t bytes) { progress_.bytes_done += bytes; }
  ImportReport& report() { return report_; }

 private:
  size_t FileOrder(const std::string& source) const {
    auto it = file_rank_.find(source);
    return it == file_rank_.end() ? file_rank_.size() : it->second;
  }

  static bool IsRecordError(const absl::Status& s) {
    return absl::IsInvalidArgument(s) || absl::IsAlreadyExists(s);
  }

  absl::Status WriteBatch(std::vector<Document>& docs) {
    if (options_.upsert) {
      // Upsert needs ids; give id-less documents an insert of their own.
      std::vector<Document> with_id, without_id;
      for (Document& d : docs) (d.id.empty() ? without_id : with_id).push_back(d);
      if (absl::Status s = collection_.UpsertBatch(std::move(with_id), write_); !s.ok()) {
        return s;
      }
      return collection_.InsertBatch(std::move(without_id), write_).status();
    }
    return collection_.InsertBatch(docs, write_).status();
  }

  Collection& collection_;
  const ImportOptions& options_;
  WriteOptions write_;  // options_.write with the refit deferred
  const bool stored_vectors_;  // a "vectors" collection
  std::vector<Document> batch_;
  std::vector<std::pair<std::string, int64_t>> origins_;
  ImportReport report_;
  ImportProgress progress_;
  std::map<std::string, size_t> file_rank_;
};

// Whether a JSON Lines record has the shape of an export (semdb/export.h):
// the text and id fields, an object "metadata", optionally "vector", and
// nothing else.
bool IsExportedRecord(const nlohmann::json& fields, const ImportOptions& o) {
  auto metadata = fields.find("metadata");
  if (metadata == fields.end() || !metadata->is_object()) return false;
  for (const auto& [key, value] : fields.items()) {
    if (key != o.text_field && key != o.id_field && key != "metadata" && key != "vector") {
      return false;
    }
  }
  return true;
}

// Builds a document from named fields (a JSON Lines object or a CSV row);
// an exported record's metadata is its "metadata" object.
absl::StatusOr<Document> FromFields(nlohmann::json fields, const ImportOptions& o,
                                    bool exported = false) {
  Document doc;
  if (exported) {
    auto vector = fields.find("vector");
    if (vector != fields.end()) {
      if (!vector->is_array() ||
          !std::all_of(vector->begin(), vector->end(),
                       [](const nlohmann::json& x) { return x.is_number(); })) {
        return absl::InvalidArgumentError("'vector' is not an array of numbers");
      }
      for (const nlohmann::json& x : *vector) doc.vector.push_back(x.get<float>());
      fields.erase(vector);
    }
  }
  auto text = fields.find(o.text_field);
  if (text == fields.end()) {
    std::vector<std::string> names;
    for (const auto& [name, value] : fields.items()) names.push_back(name);
    return absl::InvalidArgumentError(absl::StrCat(
        "no '", o.text_field, "' field (fields: ", absl::StrJoin(names, ", "),
        "); name the text field with --text-column"));
  }
  if (!text->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("'", o.text_field, "' is not a string"));
  }
  doc.text = text->get<std::string>();
  fields.erase(text);
  auto id = fields.find(o.id_field);
  if (id != fields.end()) {
    if (id->is_string()) {
      doc.id = id->get<std::string>();
    } else if (id->is_number_integer()) {
      doc.id = id->dump();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("'", o.id_field, "' is neither a string nor an integer"));
    }
    fields.erase(id);
  }
  doc.metadata = exported ? std::move(fields["metadata"]) : std::move(fields);
  return doc;
}

absl::Status ImportFile(Importer& importer, const fs::path& path, ImportFormat format,
                        const ImportOptions& options) {
  const std::string source = path.string();
  importer.StartFile(source);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    importer.Problem(source, 0, "cannot open the file");
    return absl::OkStatus();
  }
  ++importer.report().files;
  if (format == ImportFormat::kAuto) format = FormatOf(path);

  // Binary files are not text: look for NUL bytes at the start.
  char head[kBinarySniffBytes];
  in.read(head, sizeof(head));
  if (std::find(head, head + in.gcount(), '\0') != head + in.gcount()) {
    importer.Problem(source, 0, "binary file (contains NUL bytes), not imported");
    std::error_code ec;
    importer.AdvanceBytes(static_cast<int64_t>(fs::file_size(path, ec)));
    return absl::OkStatus();
  }
  in.clear();
  in.seekg(0);

  if (format == ImportFormat::kText) {
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    importer.AdvanceBytes(static_cast<int64_t>(text.size()));
    Document doc;
    doc.text = std::move(text);
    return importer.Add(source, 0, std::move(doc));
  }

  if (format == ImportFormat::kCsv) {
    CsvReader csv(in);
    std::vector<std::string> header, row;
    std::string error;
    if (!csv.Next(&header, &error) || !error.empty()) {
      importer.Problem(source, 1, error.empty() ? "empty CSV file" : "bad header: " + error);
      return absl::OkStatus();
    }
    if (std::find(header.begin(), header.end(), options.text_field) == header.end()) {
      importer.Problem(source, 1, absl::StrCat("no column named '", options.text_field,
                                               "' (columns: ", absl::StrJoin(header, ", "),
                                               "); name the text column with --text-column"));
      return absl::OkStatus();
    }
    int64_t consumed = csv.bytes_read();
    while (csv.Next(&row, &error)) {
      importer.AdvanceBytes(csv.bytes_read() - consumed);
      consumed = csv.bytes_read();
      const int64_t line = csv.record_line();
      if (!error.empty()) {
        importer.Problem(source, line, error);
        continue;
      }
      if (row.size() == 1 && row[0].empty()) continue;  // blank line
      if (row.size() != header.size()) {
        importer.Problem(source, line, absl::StrCat("has ", row.size(), " fields, the header ",
                                                    header.size()));
        continue;
      }
      nlohmann::json fields = nlohmann::json::object();
      for (size_t i = 0; i < row.size(); ++i) {
        fields[header[i]] = header[i] == options.text_field || header[i] == options.id_field
                                ? nlohmann::json(row[i])
                                : CellValue(row[i]);
      }
      absl::StatusOr<Document> doc = FromFields(std::move(fields), options);
      if (!doc.ok()) {
        importer.Problem(source, line, std::string(doc.status().message()));
        continue;
      }
      if (absl::Status s = importer.Add(source, line, *std::move(doc)); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // Line-based: lines and JSON Lines.
  int64_t line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    importer.AdvanceBytes(static_cast<int64_t>(line.size()) + (in.eof() ? 0 : 1));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    Document doc;
    bool exported = false;
    if (format == ImportFormat::kJsonLines) {
      absl::StatusOr<nlohmann::json> object = ParseJson(line);
      if (!object.ok() || !object->is_object()) {
        importer.Problem(source, line_number,
                         object.ok() ? "not a JSON object" : std::string(object.status().message()));
        continue;
      }
      exported = IsExportedRecord(*object, options);
      absl::StatusOr<Document> parsed = FromFields(*std::move(object), options, exported);
      if (!parsed.ok()) {
        importer.Problem(source, line_number, std::string(parsed.status().message()));
        continue;
      }
      doc = *std::move(parsed);
    } else {
      doc.text = std::move(line);
    }
    if (absl::Status s = importer.Add(source, line_number, std::move(doc), exported); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ImportFormat> ParseImportFormat(std::string_view name) {
  if (name == "auto") return ImportFormat::kAuto;
  if (name == "lines") return ImportFormat::kLines;
  if (name == "text") return ImportFormat::kText;
  if (name == "jsonl") return ImportFormat::kJsonLines;
  if (name == "csv") return ImportFormat::kCsv;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown import format '", std::string(name), "' (auto, lines, text, jsonl, csv)"));
}

namespace {

// Refits a fittable model fitted on fewer texts (passages) than the
// collection holds (with `only_unfitted`, only a model never fitted);
// returns whether it did. A failed fit keeps the previous model and is
// reported as a problem of the import (the records are stored; `stats`
// shows the fit error too).
bool RefitIfGrown(Collection& collection, bool only_unfitted, ImportReport* report) {
  const CollectionStats stats = collection.Stats();
  if (!stats.fitted_documents) return false;  // not fittable
  const int64_t texts = stats.chunking.empty() ? stats.documents : stats.passages;
  if (*stats.fitted_documents >= texts) return false;
  if (only_unfitted && *stats.fitted_documents > 0) return false;
  if (absl::Status s = collection.Refit(); !s.ok()) {
    report->problems.push_back({"", 0, absl::StrCat("refit failed: ", s.message())});
    return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<ImportReport> ImportPath(Collection& collection, const std::string& path,
                                        const ImportOptions& options) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return absl::NotFoundError(absl::StrCat("no such file or directory: ", path));
  }
  if (options.batch_size == 0) return absl::InvalidArgumentError("batch size must be positive");
  std::vector<fs::path> files;
  int64_t bytes = 0;
  if (fs::is_directory(status)) {
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!name.empty() && name[0] == '.') {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file()) files.push_back(it->path());
    }
    if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot read ", path, ": ",
                                                            ec.message()));
    std::sort(files.begin(), files.end());
  } else if (fs::is_regular_file(status)) {
    files.push_back(path);
  } else {
    // A FIFO or a device would block the import, or never end.
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is not a regular file or a directory (a FIFO, socket or device): not imported"));
  }
  for (const fs::path& f : files) bytes += static_cast<int64_t>(fs::file_size(f, ec));
  Importer importer(collection, options, bytes);
  for (const fs::path& f : files) {
    // In a directory, files of an unknown kind are read whole, as text.
    ImportFormat format = options.format;
    if (format == ImportFormat::kAuto && fs::is_directory(status) &&
        FormatOf(f) == ImportFormat::kLines) {
      format = ImportFormat::kText;
    }
    absl::Status s = ImportFile(importer, f, format, options);
    if (s.ok() && &f == &files.back()) s = importer.Flush();
    if (absl::IsCancelled(s)) {
      importer.report().cancelled = true;
      break;
    }
    if (!s.ok()) return s;
  }
  ImportReport report = std::move(importer.report());
  if (report.documents > 0) {
    // The batches deferred their refits (Importer::write_). A cancelled
    // import keeps the model it had, but a collection without one gets its
    // first fit, so that what was kept is searchable.
    report.refitted = RefitIfGrown(collection, report.cancelled, &report);
  }
  if (report.documents > 0) {
    // A bulk write ends with the index saved and the memtables flushed: the
    // first open after it, even after a crash, replays neither the index
    // log nor the write-ahead log. A failure only means a longer replay.
    if (absl::Status s = collection.Checkpoint(); !s.ok()) {
      report.problems.push_back({"", 0, absl::StrCat("checkpoint failed: ", s.message())});
    }
  }
  return report;
}

}  // namespace semdb
