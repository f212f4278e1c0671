// The keyword side of a search: the keyword index's ranking of a text,
// filtered, which hybrid search fuses with the vector ranking
// (src/hybrid_fusion.h), and the keyword-only search (RunKeywordSearch).
#ifndef SEMDB_SRC_SEARCH_KEYWORD_RANKING_H_
#define SEMDB_SRC_SEARCH_KEYWORD_RANKING_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "semdb/document.h"
#include "semdb/filter.h"
#include "semdb/options.h"
#include "semdb/vector_index.h"
#include "src/keyword_index.h"
#include "src/search/search_trace.h"
#include "src/search/search_view.h"

namespace semdb {

// The best `depth` entries for `text` by the keyword index (which must
// exist) that match `filter` (all when null), scored with the collection's
// statistics or `global` ones; metadata checks are counted in `trace`.
absl::StatusOr<std::vector<IndexHit>> KeywordRanking(const SearchView& view, std::string_view text,
                                                     int depth, const Filter* filter,
                                                     SearchTrace* trace,
                                                     const KeywordStatistics* global = nullptr);

// The hits of a keyword-only search for `query` (checked non-empty) with
// `options` (validated; its filter, k, one_per_parent, include and passage
// context apply); the hits' score_kind is kKeyword.
absl::StatusOr<std::vector<Hit>> RunKeywordSearch(const SearchView& view, std::string_view query,
                                               const SearchOptions& options,
                                               const KeywordStatistics* global);

}  // namespace semdb

#endif  // SEMDB_SRC_SEARCH_KEYWORD_RANKING_H_
