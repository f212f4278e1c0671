#include "src/search/batch_search.h"

#include <algorithm>

#include "src/query_planner.h"
#include "src/search/hit_assembly.h"
#include "src/search/plan_execution.h"
#include "src/search/search_driver.h"

namespace semdb {

bool Batchable(const SearchOptions& options, double hybrid, bool chunked) {
  return hybrid == 0 && !options.filter && !(options.one_per_parent && chunked);
}

absl::StatusOr<std::optional<std::vector<std::vector<Hit>>>> BatchIndexSearch(
    const SearchView& view, absl::Span<const float> queries, const SearchOptions& options) {
  if (view.index == nullptr) {
    return absl::FailedPreconditionError("the collection has no vector index to search");
  }
  const VectorIndex& index = *view.index;
  // As RunSearch plans an unfiltered vector-only search of k results.
  absl::StatusOr<QueryPlan> plan =
      PlanQuery(PlannerInputFor(view, options, options.k), options.strategy);
  if (!plan.ok()) return plan.status();
  IndexSearchKnobs knobs;
  if (plan->strategy == SearchStrategy::kExactScan && index.can_search_exactly()) {
    knobs.exact = true;
  } else if (plan->strategy == SearchStrategy::kAnn) {
    knobs = plan->knobs;
  } else {
    return std::nullopt;
  }
  const int dim = view.record.dimension;
  const size_t n = queries.size() / dim;
  absl::StatusOr<std::vector<std::vector<IndexHit>>> found =
      index.SearchBatch(queries, options.k, knobs, nullptr);
  if (!found.ok()) return found.status();
  const size_t expected = static_cast<size_t>(std::min<int64_t>(options.k, index.size()));
  std::vector<std::vector<Hit>> answers(n);
  std::vector<uint64_t> labels;
  for (size_t q = 0; q < n; ++q) {
    absl::Span<const float> row = queries.subspan(q * dim, dim);
    absl::StatusOr<std::vector<Hit>> hits;
    if (!knobs.exact && (*found)[q].size() < expected) {
      // The ANN search came back short: the single path retries wider.
      hits = RunSearch(view, row, options, "", nullptr, false);
    } else {
      hits = AssembleHits(view, (*found)[q], options.k, false, options.include, &labels);
      if (hits.ok()) {
        if (absl::Status s = AddRequestedContext(view, options, labels, &*hits); !s.ok()) {
          return s;
        }
      }
    }
    if (!hits.ok()) return hits.status();
    answers[q] = *std::move(hits);
  }
  return answers;
}

absl::StatusOr<std::vector<std::vector<Hit>>> RunBatchSearch(const SearchView& view,
                                                             absl::Span<const float> rows,
                                                             absl::Span<const std::string> texts,
                                                             const std::vector<bool>& zero_vector,
                                                             const SearchOptions& options,
                                                             double hybrid) {
  const int dim = view.record.dimension;
  const size_t n = texts.empty() ? rows.size() / dim : texts.size();
  std::vector<std::vector<Hit>> answers(n);
  auto text_of = [&](size_t q) -> std::string_view {
    return texts.empty() ? std::string_view() : std::string_view(texts[q]);
  };
  // Queries with a known word and a vector-only ranking go to the index
  // together; the others (and all, when the options need more than one
  // index call per query) one by one, as a single search answers them.
  std::vector<size_t> together;
  std::vector<float> together_rows;
  for (size_t q = 0; q < n; ++q) {
    absl::Span<const float> row = rows.subspan(q * dim, dim);
    if (hybrid < 1 && !zero_vector.empty() && zero_vector[q]) {
      // No word the model knows: the keyword ranking alone, or nothing.
      if (view.doc_indexes.keywords() == nullptr) continue;
      SearchOptions keyword_only = options;
      keyword_only.hybrid = 1;
      absl::StatusOr<std::vector<Hit>> hits =
          RunSearch(view, row, keyword_only, text_of(q), nullptr, false);
      if (!hits.ok()) return hits.status();
      answers[q] = *std::move(hits);
    } else if (Batchable(options, hybrid, view.chunked)) {
      together.push_back(q);
      together_rows.insert(together_rows.end(), row.begin(), row.end());
    } else {
      absl::StatusOr<std::vector<Hit>> hits =
          RunSearch(view, row, options, text_of(q), nullptr, false);
      if (!hits.ok()) return hits.status();
      answers[q] = *std::move(hits);
    }
  }
  if (together.empty()) return answers;
  absl::StatusOr<std::optional<std::vector<std::vector<Hit>>>> batch =
      BatchIndexSearch(view, together_rows, options);
  if (!batch.ok()) return batch.status();
  for (size_t i = 0; i < together.size(); ++i) {
    const size_t q = together[i];
    if (batch->has_value()) {
      answers[q] = std::move((**batch)[i]);
      continue;
    }
    absl::StatusOr<std::vector<Hit>> hits =
        RunSearch(view, absl::MakeConstSpan(together_rows).subspan(i * dim, dim), options,
                  text_of(q), nullptr, false);
    if (!hits.ok()) return hits.status();
    answers[q] = *std::move(hits);
  }
  return answers;
}

}  // namespace semdb
