// Collection::Impl's batch search: several queries answered together, with
// one embedder call for their texts and one index call for their vectors
// where the plan allows it (no filter, a vector-only ranking, hits that
// need no regrouping by document). Every other query is answered by the
// single-query path, so that a batch answers exactly as its queries would
// one by one (scores within float rounding: a batched index call may score
// by a matrix product).
#include "absl/strings/str_cat.h"
#include "text/utf8.h"
#include "src/collection_impl.h"
#include "src/passage_context.h"
#include "src/query_planner.h"

namespace semdb {

absl::StatusOr<std::optional<std::vector<std::vector<Hit>>>>
Collection::Impl::BatchIndexSearchLocked(absl::Span<const float> queries,
                                         const SearchOptions& options) const {
  // As SearchLocked plans an unfiltered vector-only search of k results.
  absl::StatusOr<QueryPlan> plan =
      PlanQuery(PlannerInputLocked(options, options.k), options.strategy);
  if (!plan.ok()) return plan.status();
  IndexSearchKnobs knobs;
  if (plan->strategy == SearchStrategy::kExactScan && index_->can_search_exactly()) {
    knobs.exact = true;
  } else if (plan->strategy == SearchStrategy::kAnn) {
    knobs = plan->knobs;
  } else {
    return std::nullopt;
  }
  const int dim = record_.dimension;
  const size_t n = queries.size() / dim;
  absl::StatusOr<std::vector<std::vector<IndexHit>>> found =
      index_->SearchBatch(queries, options.k, knobs, nullptr);
  if (!found.ok()) return found.status();
  const size_t expected = static_cast<size_t>(std::min<int64_t>(options.k, index_->size()));
  std::vector<std::vector<Hit>> answers(n);
  std::vector<uint64_t> labels;
  for (size_t q = 0; q < n; ++q) {
    absl::Span<const float> row = queries.subspan(q * dim, dim);
    absl::StatusOr<std::vector<Hit>> hits;
    if (!knobs.exact && (*found)[q].size() < expected) {
      // The ANN search came back short: the single path retries wider.
      hits = SearchLocked(row, options, "", nullptr, false);
    } else {
      hits = AssembleHitsLocked((*found)[q], options.k, false, options.include, &labels);
      if (hits.ok() && chunker_.enabled() && (options.neighbors > 0 || options.include_parent)) {
        if (absl::Status s = AddPassageContext(*env_.store, id_, options, labels, &*hits);
            !s.ok()) {
          return s;
        }
      }
    }
    if (!hits.ok()) return hits.status();
    answers[q] = *std::move(hits);
  }
  return answers;
}

namespace {

// Whether queries with these options can share one index call.
bool Batchable(const SearchOptions& options, double hybrid, bool chunked) {
  return hybrid == 0 && !options.filter && !(options.one_per_parent && chunked);
}

}  // namespace

absl::StatusOr<std::vector<std::vector<Hit>>> Collection::Impl::SearchBatch(
    absl::Span<const std::string> queries, const SearchOptions& options) const {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  for (size_t i = 0; i < queries.size(); ++i) {
    if (queries[i].find_first_not_of(" \t\r\n") == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("query ", i + 1, " is empty"));
    }
    if (absl::Status s = ValidateUtf8(queries[i]); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("query ", i + 1, ": ", s.message()));
    }
  }
  absl::ReaderMutexLock lock(&state_mu_);
  if (absl::Status s = CheckSearchableLocked(options, true); !s.ok()) return s;
  std::vector<std::vector<Hit>> answers(queries.size());
  if (queries.empty()) return answers;
  if (index_ == nullptr && embedder_ != nullptr && !caller_vectors_) {
    if (counters_.live_docs == 0) return answers;
    return NoIndexLocked();
  }
  const int dim = record_.dimension;
  const bool keywords = doc_indexes_->keywords() != nullptr;
  const double hybrid = options.hybrid.value_or(keywords ? kDefaultKeywordWeight : 0);
  std::vector<float> vectors(queries.size() * dim, 0.0f);
  std::vector<TextStats> stats(queries.size());
  if (hybrid < 1) {
    // One embedder call for every query (EmbedQueryLocked, batched).
    if (!embedder_error_.ok()) return embedder_error_;
    if (!probe_error_.ok()) return probe_error_;
    if (caller_vectors_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "collection '", name_, "' stores caller-supplied vectors: search it with vectors"));
    }
    std::vector<std::string_view> texts(queries.begin(), queries.end());
    if (absl::Status s = embedder_->EmbedQueries(texts, absl::MakeSpan(vectors), &stats);
        !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("queries: ", s.message()));
    }
  }
  // Queries with a known word and a vector-only ranking go to the index
  // together; the others (and all, when the options need more than one
  // index call per query) one by one, as Search answers them.
  std::vector<size_t> together;
  std::vector<float> rows;
  for (size_t q = 0; q < queries.size(); ++q) {
    absl::Span<const float> row = absl::MakeConstSpan(vectors).subspan(q * dim, dim);
    if (hybrid < 1 && stats[q].zero_vector) {
      // No word the model knows: the keyword ranking alone, or nothing.
      if (!keywords) continue;
      SearchOptions keyword_only = options;
      keyword_only.hybrid = 1;
      absl::StatusOr<std::vector<Hit>> hits =
          SearchLocked(row, keyword_only, queries[q], nullptr, false);
      if (!hits.ok()) return hits.status();
      answers[q] = *std::move(hits);
    } else if (Batchable(options, hybrid, chunker_.enabled())) {
      together.push_back(q);
      rows.insert(rows.end(), row.begin(), row.end());
    } else {
      absl::StatusOr<std::vector<Hit>> hits = SearchLocked(row, options, queries[q], nullptr, false);
      if (!hits.ok()) return hits.status();
      answers[q] = *std::move(hits);
    }
  }
  if (together.empty()) return answers;
  absl::StatusOr<std::optional<std::vector<std::vector<Hit>>>> batch =
      BatchIndexSearchLocked(rows, options);
  if (!batch.ok()) return batch.status();
  for (size_t i = 0; i < together.size(); ++i) {
    const size_t q = together[i];
    if (batch->has_value()) {
      answers[q] = std::move((**batch)[i]);
      continue;
    }
    absl::StatusOr<std::vector<Hit>> hits = SearchLocked(
        absl::MakeConstSpan(rows).subspan(i * dim, dim), options, queries[q], nullptr, false);
    if (!hits.ok()) return hits.status();
    answers[q] = *std::move(hits);
  }
  return answers;
}

absl::StatusOr<std::vector<std::vector<Hit>>> Collection::Impl::SearchVectorBatch(
    absl::Span<const float> vectors, const SearchOptions& options) const {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  absl::ReaderMutexLock lock(&state_mu_);
  if (absl::Status s = CheckSearchableLocked(options, false); !s.ok()) return s;
  const int dim = record_.dimension;
  if (dim == 0 || vectors.size() % dim != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the query vectors hold ", vectors.size(), " numbers, not rows of the collection's ",
        "dimension ", dim));
  }
  std::vector<std::vector<Hit>> answers(vectors.size() / dim);
  if (index_ == nullptr) {
    if (counters_.live_docs == 0) return answers;
    return NoIndexLocked();
  }
  std::vector<float> rows;
  rows.reserve(vectors.size());
  for (size_t q = 0; q < answers.size(); ++q) {
    std::vector<float> row(vectors.begin() + q * dim, vectors.begin() + (q + 1) * dim);
    if (absl::Status s = NormalizeVector(&row, dim); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("query vector ", q + 1, ": ", s.message()));
    }
    rows.insert(rows.end(), row.begin(), row.end());
  }
  if (Batchable(options, 0, chunker_.enabled())) {
    absl::StatusOr<std::optional<std::vector<std::vector<Hit>>>> batch =
        BatchIndexSearchLocked(rows, options);
    if (!batch.ok()) return batch.status();
    if (batch->has_value()) return **std::move(batch);
  }
  for (size_t q = 0; q < answers.size(); ++q) {
    absl::StatusOr<std::vector<Hit>> hits =
        SearchLocked(absl::MakeConstSpan(rows).subspan(q * dim, dim), options, "", nullptr,
                     false);
    if (!hits.ok()) return hits.status();
    answers[q] = *std::move(hits);
  }
  return answers;
}

absl::StatusOr<std::vector<std::vector<Hit>>> Collection::SearchBatch(
    absl::Span<const std::string> queries, const SearchOptions& options) const {
  return impl_->SearchBatch(queries, options);
}

absl::StatusOr<std::vector<std::vector<Hit>>> Collection::SearchVectorBatch(
    absl::Span<const float> vectors, const SearchOptions& options) const {
  return impl_->SearchVectorBatch(vectors, options);
}

}  // namespace semdb
