// The batch search: several queries answered together, with one index call
// for their vectors where the plan allows it (no filter, a vector-only
// ranking, hits that need no regrouping by document). Every other query is
// answered by RunSearch, so that a batch answers exactly as its queries
// would one by one (scores within float rounding: a batched index call may
// score by a matrix product).
#ifndef SEMDB_SRC_SEARCH_BATCH_SEARCH_H_
#define SEMDB_SRC_SEARCH_BATCH_SEARCH_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "semdb/document.h"
#include "semdb/options.h"
#include "src/search/search_view.h"

namespace semdb {

// Whether queries with these options, keyword weight `hybrid` and a
// collection of passages or not (`chunked`) can share one index call. Pure.
bool Batchable(const SearchOptions& options, double hybrid, bool chunked);

// Answers `queries` (normalized rows, each view.record.dimension wide) in
// one index call when the plan allows; nullopt when it does not. `options`
// is Batchable with hybrid 0. view.index must be set.
absl::StatusOr<std::optional<std::vector<std::vector<Hit>>>> BatchIndexSearch(
    const SearchView& view, absl::Span<const float> queries, const SearchOptions& options);

// The answers to the queries whose vectors are the rows of `rows`
// (normalized): `texts` are their texts (empty for vector queries) and
// `zero_vector` says which of them had no word the model knows (empty for
// vector queries), searched with keyword weight `hybrid`. A query with no
// known word is answered by the keyword ranking alone, or, without a
// keyword index, by nothing.
absl::StatusOr<std::vector<std::vector<Hit>>> RunBatchSearch(const SearchView& view,
                                                             absl::Span<const float> rows,
                                                             absl::Span<const std::string> texts,
                                                             const std::vector<bool>& zero_vector,
                                                             const SearchOptions& options,
                                                             double hybrid);

}  // namespace semdb

#endif  // SEMDB_SRC_SEARCH_BATCH_SEARCH_H_
