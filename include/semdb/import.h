// Importing files into a collection: plain text, one document per line,
// JSON Lines and CSV, from a file or a directory tree. Each document keeps
// where it came from in its metadata ("source": the file path, and "line"
// for line-based formats), unless the record sets those fields itself.
#ifndef SEMDB_IMPORT_H_
#define SEMDB_IMPORT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "semdb/database.h"

namespace semdb {

enum class ImportFormat {
  kAuto,       // by extension: .jsonl/.ndjson -> JSON Lines, .csv -> CSV,
               // .txt/.md/.markdown/.text -> text; anything else -> lines
  kLines,      // every non-empty line is a document
  kText,       // the whole file is one document
  kJsonLines,  // one JSON object per line; text_field is the text, id_field
               // the id (optional), every other field metadata; a record
               // of an export (semdb/export.h) is read back as exported
  kCsv,        // RFC 4180 with a header row; columns as for JSON Lines,
               // numeric cells become JSON numbers
};

struct ImportProgress {
  int64_t bytes_done = 0;
  int64_t bytes_total = 0;
  int64_t documents = 0;
  int64_t skipped = 0;
};

struct ImportOptions {
  ImportFormat format = ImportFormat::kAuto;
  std::string text_field = "text";
  std::string id_field = "id";
  bool upsert = false;  // replace documents whose ids exist instead of skipping them
  size_t batch_size = 1000;
  WriteOptions write;
  // Called after every batch; must be cheap.
  std::function<void(const ImportProgress&)> progress;
  // Asked before every batch is written (a Ctrl-C, a deadline); must be
  // cheap. When it returns true the import stops there: the batches written
  // before stay (ImportReport::documents counts them), the records read but
  // not yet written are dropped, the end-of-import refit is skipped (but a
  // model never fitted is fitted on what was kept), and
  // ImportReport::cancelled is set.
  std::function<bool()> cancelled;
};

// A record that was not imported, and why.
struct ImportProblem {
  std::string source;
  int64_t line = 0;  // 0 when the whole file is concerned
  std::string reason;
};

struct ImportReport {
  int64_t files = 0;
  int64_t documents = 0;
  int64_t skipped = 0;
  // The first kMaxReportedProblems, in file order (by file, then line).
  std::vector<ImportProblem> problems;
  // The import ended with a refit: the collection's model (TF-IDF) had been
  // fitted on fewer texts than the collection then held.
  bool refitted = false;
  // ImportOptions::cancelled stopped the import before its end.
  bool cancelled = false;
  static constexpr size_t kMaxReportedProblems = 100;
};

// Imports the file or directory tree at `path` (hidden entries skipped).
// Malformed records are skipped and reported; the rest is imported. A
// fittable model is refitted once, at the end, when the collection grew
// since its last fit (the batches are written with WriteOptions::defer_refit:
// the write path alone would refit each time the collection doubles, and
// leave it fitted on the first batches), then checkpointed
// (Collection::Checkpoint), so that the first open after an import replays
// nothing. Fails only when nothing can be done (no such path) or storage
// fails.
absl::StatusOr<ImportReport> ImportPath(Collection& collection, const std::string& path,
                                        const ImportOptions& options);

// Parses a format name: auto, lines, text, jsonl, csv.
absl::StatusOr<ImportFormat> ParseImportFormat(std::string_view name);

}  // namespace semdb

#endif  // SEMDB_IMPORT_H_
