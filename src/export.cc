#include "semdb/export.h"

#include "absl/strings/str_cat.h"

namespace semdb {

DocumentExport::DocumentExport(std::shared_ptr<const Collection> collection,
                               ExportOptions options)
    : collection_(std::move(collection)), options_(std::move(options)) {}

absl::StatusOr<std::string> DocumentExport::Next() {
  if (done_) return std::string();
  const CollectionInfo info = collection_->Info();
  const bool stored_vectors = info.caller_vectors;
  if (options_.vectors && info.chunking != "none") {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", info.name, "' is chunked: its documents have a vector per passage, "
        "so they cannot be exported with one vector each"));
  }
  ListOptions list{.filter = options_.filter,
                   .limit = std::max<int64_t>(1, options_.page_size),
                   .cursor = cursor_};
  absl::StatusOr<DocumentPage> page = collection_->ListPage(list);
  if (!page.ok()) return page.status();
  cursor_ = page->next_cursor;
  done_ = cursor_.empty();
  if (options_.vectors && !stored_vectors && !page->documents.empty()) {
    std::vector<std::string_view> texts;
    for (const Document& d : page->documents) texts.push_back(d.text);
    absl::StatusOr<std::vector<float>> vectors = collection_->Embed(texts);
    if (!vectors.ok()) return vectors.status();
    const size_t dim = vectors->size() / texts.size();
    for (size_t i = 0; i < page->documents.size(); ++i) {
      page->documents[i].vector.assign(vectors->begin() + i * dim,
                                       vectors->begin() + (i + 1) * dim);
    }
  }
  std::string lines;
  for (const Document& d : page->documents) {
    nlohmann::json j = {{"id", d.id}, {"text", d.text}, {"metadata", d.metadata}};
    if (options_.vectors) j["vector"] = d.vector;
    absl::StrAppend(&lines, j.dump(), "\n");
    ++documents_;
  }
  // A page emptied by deletes since its scan is not the end.
  if (lines.empty() && !done_) return Next();
  return lines;
}

absl::StatusOr<int64_t> ExportJsonLines(std::shared_ptr<const Collection> collection,
                                        std::ostream& out, const ExportOptions& options) {
  DocumentExport exporter(std::move(collection), options);
  while (true) {
    absl::StatusOr<std::string> lines = exporter.Next();
    if (!lines.ok()) return lines.status();
    if (lines->empty()) break;
    out << *lines;
    if (!out) return absl::InternalError("writing the export failed");
  }
  out.flush();
  if (!out) return absl::InternalError("writing the export failed");
  return exporter.documents();
}

}  // namespace semdb
