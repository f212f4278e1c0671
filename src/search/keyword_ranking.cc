#include "src/search/keyword_ranking.h"

#include <algorithm>

#include "src/search/filter_estimate.h"
#include "src/search/hit_assembly.h"

namespace semdb {

absl::StatusOr<std::vector<IndexHit>> KeywordRanking(const SearchView& view, std::string_view text,
                                                     int depth, const Filter* filter,
                                                     SearchTrace* trace,
                                                     const KeywordStatistics* global) {
  absl::StatusOr<std::vector<IndexHit>> all =
      view.doc_indexes.keywords()->Search(text, filter == nullptr ? depth : 0, nullptr, global);
  if (!all.ok()) return all.status();
  std::vector<IndexHit> out;
  for (const IndexHit& h : *all) {
    if (static_cast<int>(out.size()) == depth) break;
    if (filter != nullptr) {
      absl::StatusOr<bool> m = MatchesFilter(view, h.label, *filter);
      if (!m.ok()) return m.status();
      ++trace->checked;
      if (!*m) continue;
    }
    out.push_back(h);
  }
  return out;
}

absl::StatusOr<std::vector<Hit>> RunKeywordSearch(const SearchView& view, std::string_view query,
                                               const SearchOptions& options,
                                               const KeywordStatistics* global) {
  SearchTrace trace;
  const bool one_per_parent = options.one_per_parent && view.chunked;
  // As RunSearch: fetch more passages while one per document leaves fewer
  // than k documents and the ranking may hold more.
  int64_t fetch = one_per_parent ? int64_t{4} * options.k : options.k;
  std::vector<uint64_t> labels;
  absl::StatusOr<std::vector<Hit>> hits;
  while (true) {
    const int depth = static_cast<int>(std::min<int64_t>(fetch, kMaxK * int64_t{4}));
    absl::StatusOr<std::vector<IndexHit>> ranking = KeywordRanking(
        view, query, depth, options.filter ? &*options.filter : nullptr, &trace, global);
    if (!ranking.ok()) return ranking.status();
    hits = AssembleHits(view, *ranking, options.k, one_per_parent, options.include, &labels);
    if (!hits.ok()) return hits.status();
    if (!one_per_parent || static_cast<int>(hits->size()) >= options.k ||
        static_cast<int64_t>(ranking->size()) < depth || depth >= kMaxK * 4) {
      break;
    }
    fetch *= 4;
  }
  for (Hit& h : *hits) h.score_kind = ScoreKind::kKeyword;
  if (absl::Status s = AddRequestedContext(view, options, labels, &*hits); !s.ok()) return s;
  return hits;
}

}  // namespace semdb
