// DocumentIndexes: the per-document secondary structures a collection keeps
// beside its documents (the field index of declared metadata fields and
// the keyword index), updated in the same WriteBatch as the documents so
// that they never disagree with them.
#ifndef SEMDB_SRC_DOCUMENT_INDEXES_H_
#define SEMDB_SRC_DOCUMENT_INDEXES_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "src/field_index.h"
#include "src/keyword_index.h"
#include "storage/store.h"

namespace semdb {

class DocumentIndexes {
 public:
  DocumentIndexes(const Store* store, uint32_t cid, std::vector<std::string> indexed_fields,
                  bool keyword_index);

  const FieldIndex& fields() const { return fields_; }
  // Null when the collection keeps no keyword index.
  const KeywordIndex* keywords() const { return keywords_ ? &*keywords_ : nullptr; }

  // The index changes of one write batch. Callers serialize updates.
  class Update {
   public:
    explicit Update(const DocumentIndexes& indexes);
    // Removes a stored document's entries (reading its text and metadata).
    absl::Status Remove(uint64_t label);
    void Add(uint64_t label, const std::string& text, const nlohmann::json& metadata);
    // Adds everything to `batch`.
    absl::Status Finish(StoreBatch& batch);

   private:
    const DocumentIndexes& indexes_;
    std::vector<std::pair<uint64_t, nlohmann::json>> removed_fields_, added_fields_;
    std::optional<KeywordIndex::Update> keywords_;
    absl::Status error_;
  };

 private:
  const Store* store_;
  uint32_t cid_;
  FieldIndex fields_;
  std::optional<KeywordIndex> keywords_;
};

}  // namespace semdb

#endif  // SEMDB_SRC_DOCUMENT_INDEXES_H_
