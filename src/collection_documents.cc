// Collection operations on sets of documents (several ids, a filter, a
// page of the collection), metadata updates and embeddings of texts.
// Writes go through the collection's write path (CommitWriteLocked), so
// they are one atomic batch that keeps the field and keyword indexes and
// the crash guarantees of inserts and deletes.
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "text/utf8.h"
#include "src/collection_impl.h"
#include "storage/bounded_json.h"

namespace semdb {

absl::StatusOr<std::vector<Document>> Collection::Impl::GetBatch(
    absl::Span<const std::string> ids) const {
  std::vector<Document> docs;
  for (const std::string& id : ids) {
    absl::StatusOr<Document> doc = Get(id);
    if (doc.ok()) {
      docs.push_back(*std::move(doc));
      continue;
    }
    if (!absl::IsNotFound(doc.status())) return doc.status();
    // A missing document is skipped; a dropped collection is an error.
    absl::ReaderMutexLock lock(&state_mu_);
    if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  }
  if (ids.empty()) {
    absl::ReaderMutexLock lock(&state_mu_);
    if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  }
  return docs;
}

absl::Status Collection::Impl::ScanDocuments(
    const Filter* filter, uint64_t first_label,
    const std::function<absl::Status(uint64_t label, const std::string& id)>& fn) const {
  // Held throughout, so that Close waits until the store is no longer read.
  absl::ReaderMutexLock lock(&state_mu_);
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  absl::Status s = env_.store->ScanDocuments(
      id_, [&](uint64_t label, DocumentRecord& doc) -> absl::Status {
        // A chunked document is visited at its first passage, which
        // carries the document's metadata.
        if (doc.passage.has_value() && doc.passage->index != 0) return absl::OkStatus();
        if (filter != nullptr) {
          absl::StatusOr<std::optional<std::string>> meta = env_.store->GetMetadata(id_, label);
          if (!meta.ok()) return meta.status();
          if (!filter->Matches(ParseJsonOrDiscarded(meta->value_or("{}")))) {
            return absl::OkStatus();
          }
        }
        return fn(label, doc.passage.has_value() ? doc.passage->parent : doc.id);
      },
      first_label);
  return absl::IsCancelled(s) ? absl::OkStatus() : s;
}

absl::Status Collection::Impl::UpdateMetadata(absl::Span<const std::string> ids,
                                              absl::Span<const nlohmann::json> metadatas,
                                              bool merge, const WriteOptions& wo) {
  if (ids.size() != metadatas.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "update has ", ids.size(), " ids but ", metadatas.size(), " metadata objects"));
  }
  absl::flat_hash_set<std::string_view> seen;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!seen.insert(ids[i]).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("document '", ids[i], "' appears twice in the update"));
    }
    if (!metadatas[i].is_null() && !metadatas[i].is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("document '", ids[i], "': metadata must be a JSON object"));
    }
  }

  absl::MutexLock write_lock(&write_mu_);
  PendingWrite w(*env_.store, *doc_indexes_);
  {
    absl::ReaderMutexLock lock(&state_mu_);
    if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
    w.counters = counters_;
  }
  StoreBatch& batch = w.batch;
  DocumentIndexes::Update& side_indexes = w.side_indexes;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string name = absl::StrCat("document '", ids[i], "'");
    absl::StatusOr<std::optional<StoredEntries>> entries = FindEntries(ids[i]);
    if (!entries.ok()) return entries.status();
    if (!entries->has_value()) {
      return absl::NotFoundError(absl::StrCat("no document '", ids[i], "' in '", name_,
                                              "'; nothing was updated"));
    }
    nlohmann::json metadata = metadatas[i].is_null() ? nlohmann::json::object() : metadatas[i];
    if (merge) {
      // RFC 7386 on the stored metadata, which every entry carries.
      absl::StatusOr<std::optional<std::string>> stored =
          env_.store->GetMetadata(id_, (*entries)->labels.front());
      if (!stored.ok()) return stored.status();
      nlohmann::json merged = nlohmann::json::parse(stored->value_or("{}"), nullptr, false);
      if (!merged.is_object()) merged = nlohmann::json::object();
      merged.merge_patch(metadata);
      metadata = std::move(merged);
    }
    if (absl::Status s = ValidateMetadata(metadata, 0); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(name, ": metadata: ", s.message()));
    }
    const std::string metadata_json = metadata.dump();
    // Each entry (the document, or each of its passages) is rewritten
    // under its own label with the new metadata; its vector stays.
    for (uint64_t label : (*entries)->labels) {
      absl::StatusOr<std::optional<DocumentRecord>> doc = env_.store->GetDocument(id_, label);
      if (!doc.ok()) return doc.status();
      if (!doc->has_value()) {
        return absl::DataLossError(
            absl::StrCat("document '", ids[i], "': entry ", label, " is missing"));
      }
      if (absl::Status s = side_indexes.Remove(label); !s.ok()) return s;
      side_indexes.Add(label, (*doc)->text, metadata);
      batch.PutDocument(id_, label, **doc, metadata_json);
    }
    if (chunker_.enabled()) {
      absl::StatusOr<std::optional<ParentRecord>> parent = env_.store->GetParent(id_, ids[i]);
      absl::StatusOr<std::optional<std::string>> text = env_.store->GetParentText(id_, ids[i]);
      if (!parent.ok()) return parent.status();
      if (!text.ok()) return text.status();
      if (!parent->has_value() || !text->has_value()) {
        return absl::DataLossError(absl::StrCat("document '", ids[i], "': record is missing"));
      }
      (*parent)->metadata_json = metadata_json;
      batch.PutParent(id_, ids[i], **parent, **text);
    }
  }
  return CommitWriteLocked(batch, side_indexes, w.counters, wo,
                           [](VectorIndex&) { return absl::OkStatus(); });
}

absl::StatusOr<std::vector<float>> Collection::Impl::Embed(
    absl::Span<const std::string_view> texts) const {
  for (size_t i = 0; i < texts.size(); ++i) {
    if (absl::Status s = ValidateUtf8(texts[i]); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("text ", i + 1, ": ", s.message()));
    }
  }
  absl::ReaderMutexLock lock(&state_mu_);
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  if (!embedder_error_.ok()) return embedder_error_;
  if (!probe_error_.ok()) return probe_error_;
  if (caller_vectors_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", name_, "' stores caller-supplied vectors; it has no embedder"));
  }
  if (record_.dimension == 0) return NoIndexLocked();
  std::vector<float> vectors(texts.size() * record_.dimension);
  std::vector<TextStats> stats;
  if (absl::Status s = embedder_->Embed(texts, absl::MakeSpan(vectors), &stats); !s.ok()) {
    return s;
  }
  return vectors;
}

absl::StatusOr<std::vector<Document>> Collection::GetBatch(
    absl::Span<const std::string> ids) const {
  return impl_->GetBatch(ids);
}

absl::StatusOr<DocumentPage> Collection::ListPage(const ListOptions& options) const {
  if (options.offset < 0) return absl::InvalidArgumentError("offset must not be negative");
  if (options.limit < -1) return absl::InvalidArgumentError("limit must be -1 (none) or more");
  // A cursor is the label (storage position) where the next page starts.
  uint64_t first_label = 0;
  if (!options.cursor.empty() && !absl::SimpleAtoi(options.cursor, &first_label)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", options.cursor, "' is not a cursor (give the next_cursor of a previous page)"));
  }
  std::vector<std::string> ids;
  DocumentPage page;
  int64_t skipped = 0;
  if (options.limit != 0) {
    absl::Status s = impl_->ScanDocuments(
        options.filter ? &*options.filter : nullptr, first_label,
        [&](uint64_t label, const std::string& id) {
          if (skipped < options.offset) {
            ++skipped;
            return absl::OkStatus();
          }
          if (static_cast<int64_t>(ids.size()) == options.limit) {
            // One match beyond the page: there is a next page, from here.
            page.next_cursor = std::to_string(label);
            return absl::CancelledError();
          }
          ids.push_back(id);
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
  }
  // A document deleted since the scan is left out.
  absl::StatusOr<std::vector<Document>> docs = impl_->GetBatch(ids);
  if (!docs.ok()) return docs.status();
  page.documents = *std::move(docs);
  return page;
}

absl::StatusOr<std::vector<Document>> Collection::List(const ListOptions& options) const {
  absl::StatusOr<DocumentPage> page = ListPage(options);
  if (!page.ok()) return page.status();
  return std::move(page->documents);
}

absl::StatusOr<int64_t> Collection::Count(const Filter& filter) const {
  int64_t count = 0;
  absl::Status s = impl_->ScanDocuments(&filter, 0, [&](uint64_t, const std::string&) {
    ++count;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return count;
}

absl::StatusOr<int64_t> Collection::DeleteMatching(const Filter& filter,
                                                   const WriteOptions& wo) {
  std::vector<std::string> ids;
  absl::Status s = impl_->ScanDocuments(&filter, 0, [&](uint64_t, const std::string& id) {
    ids.push_back(id);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return DeleteBatch(ids, wo);
}

absl::Status Collection::UpdateMetadata(absl::Span<const std::string> ids,
                                        absl::Span<const nlohmann::json> metadatas,
                                        const WriteOptions& wo) {
  return impl_->UpdateMetadata(ids, metadatas, /*merge=*/false, wo);
}

absl::Status Collection::MergeMetadata(absl::Span<const std::string> ids,
                                       absl::Span<const nlohmann::json> patches,
                                       const WriteOptions& wo) {
  return impl_->UpdateMetadata(ids, patches, /*merge=*/true, wo);
}

absl::StatusOr<std::vector<float>> Collection::Embed(
    absl::Span<const std::string_view> texts) const {
  return impl_->Embed(texts);
}

}  // namespace semdb
