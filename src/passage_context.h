// The context a search returns around passage hits of a chunked collection:
// neighbouring passages and the whole parent document.
#ifndef SEMDB_SRC_PASSAGE_CONTEXT_H_
#define SEMDB_SRC_PASSAGE_CONTEXT_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "semdb/document.h"
#include "semdb/options.h"
#include "storage/store.h"

namespace semdb {

// Fills Hit::neighbors (options.neighbors passages on each side) and
// Hit::parent_text (options.include_parent) for the passage hits among
// `hits`; labels[i] is the index label of hits[i]. Each hit's parent record
// is read first: a hit whose parent no longer lists its label (the document
// was deleted or replaced after the index search) is dropped, so that
// neighbours and parent text always belong to the same version of the
// document as the passage.
absl::Status AddPassageContext(const Store& store, uint32_t cid, const SearchOptions& options,
                               absl::Span<const uint64_t> labels, std::vector<Hit>* hits);

}  // namespace semdb

#endif  // SEMDB_SRC_PASSAGE_CONTEXT_H_
