// FieldIndex: secondary indexes of a collection's declared metadata fields,
// kept in RocksDB (AuxIndex::kFields) and written in the same batch as the
// document, so that a filter's matching documents can be counted or listed
// without reading every document's metadata.
//
// Key layout (relative to the collection): <field> 0x00 <tag> <value> <label:8>
//   tag 'x' (no value): the document has the field (for EXISTS)
//   tag 'n' null, 'b' boolean (1 byte), 'd' number (8 bytes: the double's
//   bits, order-preserving), 's' string (0x00 escaped as 0x00 0xff, ended by
//   0x00 0x01, so keys sort by the string's bytes); the upper-case tags mark
//   an element of an array value, which matches = and IN (filter.h) but not
//   ranges. Values compare as Filter::Matches compares them, so a covered
//   filter is answered exactly.
#ifndef SEMDB_SRC_FIELD_INDEX_H_
#define SEMDB_SRC_FIELD_INDEX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "semdb/filter.h"
#include "storage/store.h"

namespace semdb {

// Checks declared field names: 1 to 256 bytes, top-level (no '.'), no NUL,
// no duplicates.
absl::Status ValidateIndexedFields(const std::vector<std::string>& fields);

// Documents matching (a superset of) a filter, by label.
struct FieldCandidates {
  std::vector<uint64_t> labels;  // sorted, unique
  // True when exactly the matching documents; false when a superset that
  // must be checked against the filter (parts of it are not indexed).
  bool exact = true;
};

class FieldIndex {
 public:
  FieldIndex(const Store* store, uint32_t cid, std::vector<std::string> fields);

  const std::vector<std::string>& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }

  // Adds to `batch` the entries of a document with `metadata`, or removes
  // them (given the metadata the entries were written from).
  void Put(StoreBatch& batch, uint64_t label, const nlohmann::json& metadata) const;
  void Remove(StoreBatch& batch, uint64_t label, const nlohmann::json& metadata) const;

  // True when the index alone answers `filter` (=, IN, ranges and EXISTS
  // on indexed fields, under AND and OR).
  bool Covers(const Filter& filter) const;

  // The documents matching `filter` as far as the index can tell, or
  // nullopt when it cannot narrow them down to at most `cap` (a leaf
  // matches more, or nothing in the filter is indexed). AND intersects the
  // indexed parts (inexact when some part is not indexed or too large); OR
  // needs every part; NOT and != are never indexed.
  absl::StatusOr<std::optional<FieldCandidates>> Resolve(const Filter& filter,
                                                         int64_t cap) const;

 private:
  struct Range {
    std::string begin, end;
  };
  // Key ranges whose entries match a covered leaf, or nullopt.
  std::optional<std::vector<Range>> LeafRanges(const Filter& leaf) const;
  bool Indexed(const std::string& field) const;

  const Store* store_;
  uint32_t cid_;
  std::vector<std::string> fields_;
};

}  // namespace semdb

#endif  // SEMDB_SRC_FIELD_INDEX_H_
