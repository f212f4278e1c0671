// Exporting a collection as JSON Lines that `ImportPath` reads back
// losslessly: one document per line,
//   {"id": ..., "text": ..., "metadata": {...}}
// with "vector": [...] when asked for. Import recognizes this shape (a
// record of exactly these fields whose "metadata" is an object) and takes
// the metadata as it is, without adding "source" or "line"; it keeps the
// vectors in "vectors" collections (which store them as exported: unit
// length) and leaves them out in collections that embed their texts, which
// embed them again.
#ifndef SEMDB_EXPORT_H_
#define SEMDB_EXPORT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "semdb/database.h"

namespace semdb {

struct ExportOptions {
  std::optional<Filter> filter;  // only the documents whose metadata matches
  // Also each document's vector: the stored one in "vectors" collections,
  // the model's (Collection::Embed) in others. Not for chunked collections,
  // whose documents have a vector per passage.
  bool vectors = false;
  int64_t page_size = 256;  // documents read per step
};

// Produces the export a page of documents at a time, so that a large
// collection is written without being held in memory. Pages follow
// storage order with a cursor (Collection::ListPage).
class DocumentExport {
 public:
  DocumentExport(std::shared_ptr<const Collection> collection, ExportOptions options);

  // The next lines (one or more documents, each line ending in '\n'), or
  // an empty string when everything was written.
  absl::StatusOr<std::string> Next();
  int64_t documents() const { return documents_; }

 private:
  std::shared_ptr<const Collection> collection_;
  ExportOptions options_;
  std::string cursor_;
  bool done_ = false;
  int64_t documents_ = 0;
};

// Writes the whole export to `out`; returns how many documents it holds.
absl::StatusOr<int64_t> ExportJsonLines(std::shared_ptr<const Collection> collection,
                                        std::ostream& out, const ExportOptions& options);

}  // namespace semdb

#endif  // SEMDB_EXPORT_H_
