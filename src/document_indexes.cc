#include "src/document_indexes.h"
#include "storage/bounded_json.h"

namespace semdb {

DocumentIndexes::DocumentIndexes(const Store* store, uint32_t cid,
                                 std::vector<std::string> indexed_fields, bool keyword_index)
    : store_(store), cid_(cid), fields_(store, cid, std::move(indexed_fields)) {
  if (keyword_index) keywords_.emplace(store, cid);
}

DocumentIndexes::Update::Update(const DocumentIndexes& indexes) : indexes_(indexes) {
  if (indexes.keywords_) keywords_.emplace(*indexes.keywords_);
}

absl::Status DocumentIndexes::Update::Remove(uint64_t label) {
  if (!indexes_.fields_.empty()) {
    absl::StatusOr<std::optional<std::string>> meta =
        indexes_.store_->GetMetadata(indexes_.cid_, label);
    if (!meta.ok()) return meta.status();
    removed_fields_.emplace_back(
        label, ParseJson(meta->value_or("{}")).value_or(nlohmann::json(nlohmann::json::value_t::discarded)));
  }
  if (keywords_) {
    absl::StatusOr<std::optional<DocumentRecord>> doc =
        indexes_.store_->GetDocument(indexes_.cid_, label);
    if (!doc.ok()) return doc.status();
    if (doc->has_value()) {
      if (absl::Status s = keywords_->Remove(label, (*doc)->text); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

void DocumentIndexes::Update::Add(uint64_t label, const std::string& text,
                                  const nlohmann::json& metadata) {
  if (!indexes_.fields_.empty()) added_fields_.emplace_back(label, metadata);
  if (keywords_ && error_.ok()) error_ = keywords_->Add(label, text);
}

absl::Status DocumentIndexes::Update::Finish(StoreBatch& batch) {
  if (!error_.ok()) return error_;
  for (const auto& [label, meta] : removed_fields_) indexes_.fields_.Remove(batch, label, meta);
  for (const auto& [label, meta] : added_fields_) indexes_.fields_.Put(batch, label, meta);
  return keywords_ ? keywords_->Finish(batch) : absl::OkStatus();
}

}  // namespace semdb
