// Hit assembly: index hits (labels and scores) made into the Hits a search
// returns: ids and passage positions from the label directory (read from
// storage for labels not there yet), at most one passage per document when
// asked, text and metadata read for the hits kept, and the passage context
// (neighbours, parent text) a chunked collection's search asks for.
#ifndef SEMDB_SRC_SEARCH_HIT_ASSEMBLY_H_
#define SEMDB_SRC_SEARCH_HIT_ASSEMBLY_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "semdb/document.h"
#include "semdb/options.h"
#include "semdb/vector_index.h"
#include "src/label_directory.h"
#include "src/search/search_view.h"

namespace semdb {

// The positions in `entries` (the entries of hits, best first; nullopt for
// an entry that is gone) of the hits kept: the first k present ones, with
// `one_per_parent` only the first passage of each document. Pure.
std::vector<size_t> ChooseHits(absl::Span<const std::optional<LabelDirectory::Entry>> entries,
                               int k, bool one_per_parent);

// The hits of `found`, best first, at most k, chosen by ChooseHits; text
// and metadata when `include` asks for them. The labels of the hits kept
// go to `labels`.
absl::StatusOr<std::vector<Hit>> AssembleHits(const SearchView& view,
                                              const std::vector<IndexHit>& found, int k,
                                              bool one_per_parent, const HitFields& include,
                                              std::vector<uint64_t>* labels);

// Adds the passage context `options` asks for to `hits` (labels[i] is the
// label of hits[i]); nothing in a collection without passages.
absl::Status AddRequestedContext(const SearchView& view, const SearchOptions& options,
                                 absl::Span<const uint64_t> labels, std::vector<Hit>* hits);

}  // namespace semdb

#endif  // SEMDB_SRC_SEARCH_HIT_ASSEMBLY_H_
