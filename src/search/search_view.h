// SearchView: what a search reads of a collection, as const references to
// the collection's own state, made by Collection::Impl::SearchViewLocked
// under its state lock held shared.
//
// Why a view under a shared lock, not an immutable snapshot: the vector
// index is the bulk of the state and writes change it in place (FAISS adds
// and removes vectors in its own structures); a snapshot per write would
// copy the index, O(n) per write. Instead a search holds the state lock
// shared for its whole run and a writer takes it exclusively only for the
// moment it publishes a committed batch, so searches never block each
// other and are blocked by a writer only for that moment (never for its
// embedding or storage write). Everything reached through a view is valid
// and unchanging for as long as the lock that made it is held; the view
// must not outlive that lock.
//
// The caches a search fills (label directory, filter estimates, recall
// curve) are thread-safe on their own: several searches under the shared
// lock fill them at once.
#ifndef SEMDB_SRC_SEARCH_SEARCH_VIEW_H_
#define SEMDB_SRC_SEARCH_SEARCH_VIEW_H_

#include <cstdint>

#include "semdb/vector_index.h"
#include "src/document_indexes.h"
#include "src/label_directory.h"
#include "storage/records.h"
#include "storage/store.h"

namespace semdb {

class FilterEstimateCache;  // src/search/filter_estimate.h
class RecallCurveCache;     // src/search/recall_curve_cache.h

struct SearchView {
  const Store& store;
  uint32_t collection_id;
  const CollectionRecord& record;  // generation, dimension, configured index
  const Counters& counters;
  // Null until the collection has a dimension; every vector search needs it
  // (the entry points check), a keyword-only search does not.
  const VectorIndex* index;
  const DocumentIndexes& doc_indexes;
  bool chunked;  // documents are stored as passages
  // The version of the collection the filter estimates are valid for: it
  // changes with every committed write (Collection::Impl::state_version_).
  uint64_t estimate_version;
  LabelDirectory& label_entries;
  FilterEstimateCache& filter_estimates;
  RecallCurveCache& recall_curves;
};

}  // namespace semdb

#endif  // SEMDB_SRC_SEARCH_SEARCH_VIEW_H_
