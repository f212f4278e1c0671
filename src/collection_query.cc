// The query front-end of a collection: checks a search's options and the
// collection's state, embeds text queries (or normalizes vectors), and
// hands them to the search path (src/search/) on a view of the state, for
// hits or for the plan (Explain). Text similarity uses the same query
// embedding.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/collection_impl.h"
#include "src/search/batch_search.h"
#include "src/search/search_driver.h"
#include "text/utf8.h"

namespace semdb {

absl::Status CheckQueryText(std::string_view query) {
  if (query.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return absl::InvalidArgumentError("the query is empty");
  }
  return absl::OkStatus();
}

SearchView Collection::Impl::SearchViewLocked() const {
  return SearchView{.store = *env_.store,
                    .collection_id = id_,
                    .record = record_,
                    .counters = counters_,
                    .index = index_.get(),
                    .doc_indexes = *doc_indexes_,
                    .chunked = chunker_.enabled(),
                    .estimate_version = state_version_,
                    .label_entries = label_entries_,
                    .filter_estimates = filter_estimates_,
                    .recall_curves = recall_curves_};
}

absl::Status Collection::Impl::CheckSearchableLocked(const SearchOptions& options,
                                                     bool text) const {
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  if (options.hybrid.value_or(0) > 0) {
    if (!text) {
      return absl::InvalidArgumentError("hybrid search needs a text query, not a vector");
    }
    if (doc_indexes_->keywords() == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "collection '", name_, "' keeps no keyword index (created without one)"));
    }
  }
  return absl::OkStatus();
}

absl::Status Collection::Impl::NoIndexLocked() const {
  return absl::FailedPreconditionError(absl::StrCat(
      "collection '", name_, "' has no fitted model yet",
      fit_error_.ok() ? "" : absl::StrCat(": ", fit_error_.message())));
}

absl::Status Collection::Impl::EmbedQueryLocked(std::string_view query,
                                                std::vector<float>* vector,
                                                bool* zero_vector) const {
  if (absl::Status s = CheckQueryText(query); !s.ok()) return s;
  if (query.size() > kMaxTextBytes) return absl::InvalidArgumentError("the query is too long");
  if (!embedder_error_.ok()) return embedder_error_;
  if (!probe_error_.ok()) return probe_error_;
  if (caller_vectors_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", name_, "' stores caller-supplied vectors: search it with a vector"));
  }
  vector->assign(record_.dimension, 0);
  std::vector<TextStats> stats;
  std::string_view texts[] = {query};
  if (absl::Status s = embedder_->EmbedQueries(texts, absl::MakeSpan(*vector), &stats); !s.ok()) {
    return WithContext(s, "query");
  }
  if (zero_vector != nullptr) {
    *zero_vector = stats[0].zero_vector;
  } else if (stats[0].zero_vector) {
    return absl::InvalidArgumentError(
        "none of the query's words are known to the collection's model");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<SearchOptions>> Collection::Impl::PrepareTextQueryLocked(
    std::string_view query, const SearchOptions& options, std::vector<float>* vector) const {
  if (options.hybrid.value_or(0) >= 1) {
    if (absl::Status s = CheckQueryText(query); !s.ok()) return s;
    vector->assign(record_.dimension, 0);  // the keyword ranking alone answers
    return options;
  }
  bool zero = false;
  if (absl::Status s = EmbedQueryLocked(query, vector, &zero); !s.ok()) return s;
  if (!zero) return options;
  if (doc_indexes_->keywords() == nullptr) return std::nullopt;
  SearchOptions keyword_only = options;
  keyword_only.hybrid = 1;
  return keyword_only;
}

absl::StatusOr<std::vector<Hit>> Collection::Impl::Search(
    std::string_view query, const SearchOptions& options) const {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  if (absl::Status s = CheckQueryText(query); !s.ok()) return s;
  absl::ReaderMutexLock lock(&state_mu_);
  if (absl::Status s = CheckSearchableLocked(options, true); !s.ok()) return s;
  if (index_ == nullptr && embedder_ != nullptr && !caller_vectors_) {
    if (counters_.live_docs == 0) return std::vector<Hit>{};
    return NoIndexLocked();
  }
  std::vector<float> vector;
  absl::StatusOr<std::optional<SearchOptions>> effective =
      PrepareTextQueryLocked(query, options, &vector);
  if (!effective.ok()) return effective.status();
  if (!effective->has_value()) return std::vector<Hit>{};
  return RunSearch(SearchViewLocked(), vector, **effective, query, nullptr, false);
}

absl::StatusOr<std::vector<Hit>> Collection::Impl::SearchVector(
    absl::Span<const float> vector, const SearchOptions& options) const {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  absl::ReaderMutexLock lock(&state_mu_);
  if (absl::Status s = CheckSearchableLocked(options, false); !s.ok()) return s;
  if (index_ == nullptr) {
    if (counters_.live_docs == 0) return std::vector<Hit>{};
    return NoIndexLocked();
  }
  std::vector<float> normalized(vector.begin(), vector.end());
  if (absl::Status s =
          NormalizeVector(&normalized, record_.dimension, VectorStorage::kFloat32);
      !s.ok()) {
    return WithContext(s, "query vector");
  }
  return RunSearch(SearchViewLocked(), normalized, options, "", nullptr, false);
}

absl::StatusOr<SearchExplanation> Collection::Impl::Explain(std::string_view query,
                                                            const SearchOptions& options,
                                                            bool analyze) const {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  if (absl::Status s = CheckQueryText(query); !s.ok()) return s;
  absl::ReaderMutexLock lock(&state_mu_);
  if (absl::Status s = CheckSearchableLocked(options, true); !s.ok()) return s;
  if (index_ == nullptr) return NoIndexLocked();
  std::vector<float> vector;
  absl::StatusOr<std::optional<SearchOptions>> effective =
      PrepareTextQueryLocked(query, options, &vector);
  if (!effective.ok()) return effective.status();
  if (!effective->has_value()) {
    return SearchExplanation{.no_plan = "none: no word of the query is known to the model "
                                        "(stop words or unknown words) and there is no keyword "
                                        "index"};
  }
  SearchExplanation explain;
  absl::StatusOr<std::vector<Hit>> hits =
      RunSearch(SearchViewLocked(), vector, **effective, query, &explain, analyze);
  if (!hits.ok()) return hits.status();
  if (effective->value().hybrid != options.hybrid && options.hybrid.value_or(0) < 1) {
    explain.note =
        "no word of the query is known to the model (stop words or unknown words): "
        "answered by the keyword ranking alone";
  }
  return explain;
}

absl::StatusOr<SearchExplanation> Collection::Impl::ExplainVector(
    absl::Span<const float> vector, const SearchOptions& options, bool analyze) const {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  absl::ReaderMutexLock lock(&state_mu_);
  if (absl::Status s = CheckSearchableLocked(options, false); !s.ok()) return s;
  if (index_ == nullptr) return NoIndexLocked();
  std::vector<float> normalized(vector.begin(), vector.end());
  if (absl::Status s =
          NormalizeVector(&normalized, record_.dimension, VectorStorage::kFloat32);
      !s.ok()) {
    return WithContext(s, "query vector");
  }
  SearchExplanation explain;
  absl::StatusOr<std::vector<Hit>> hits =
      RunSearch(SearchViewLocked(), normalized, options, "", &explain, analyze);
  if (!hits.ok()) return hits.status();
  return explain;
}

absl::StatusOr<std::vector<std::vector<Hit>>> Collection::Impl::SearchBatch(
    absl::Span<const std::string> queries, const SearchOptions& options) const {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  for (size_t i = 0; i < queries.size(); ++i) {
    if (!CheckQueryText(queries[i]).ok()) {
      return absl::InvalidArgumentError(absl::StrCat("query ", i + 1, " is empty"));
    }
    if (absl::Status s = ValidateUtf8(queries[i]); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("query ", i + 1, ": ", s.message()));
    }
  }
  absl::ReaderMutexLock lock(&state_mu_);
  if (absl::Status s = CheckSearchableLocked(options, true); !s.ok()) return s;
  if (queries.empty()) return std::vector<std::vector<Hit>>{};
  if (index_ == nullptr && embedder_ != nullptr && !caller_vectors_) {
    if (counters_.live_docs == 0) return std::vector<std::vector<Hit>>(queries.size());
    return NoIndexLocked();
  }
  const int dim = record_.dimension;
  const double hybrid =
      options.hybrid.value_or(doc_indexes_->keywords() != nullptr ? kDefaultKeywordWeight : 0);
  std::vector<float> vectors(queries.size() * dim, 0.0f);
  std::vector<bool> zero_vector(queries.size(), false);
  if (hybrid < 1) {
    // One embedder call for every query (EmbedQueryLocked, batched).
    if (!embedder_error_.ok()) return embedder_error_;
    if (!probe_error_.ok()) return probe_error_;
    if (caller_vectors_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "collection '", name_, "' stores caller-supplied vectors: search it with vectors"));
    }
    std::vector<std::string_view> texts(queries.begin(), queries.end());
    std::vector<TextStats> stats(queries.size());
    if (absl::Status s = embedder_->EmbedQueries(texts, absl::MakeSpan(vectors), &stats);
        !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("queries: ", s.message()));
    }
    for (size_t q = 0; q < queries.size(); ++q) zero_vector[q] = stats[q].zero_vector;
  }
  return RunBatchSearch(SearchViewLocked(), vectors, queries, zero_vector, options, hybrid);
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
  const size_t n = vectors.size() / dim;
  if (index_ == nullptr) {
    if (counters_.live_docs == 0) return std::vector<std::vector<Hit>>(n);
    return NoIndexLocked();
  }
  std::vector<float> rows;
  rows.reserve(vectors.size());
  for (size_t q = 0; q < n; ++q) {
    std::vector<float> row(vectors.begin() + q * dim, vectors.begin() + (q + 1) * dim);
    if (absl::Status s = NormalizeVector(&row, dim, VectorStorage::kFloat32); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("query vector ", q + 1, ": ", s.message()));
    }
    rows.insert(rows.end(), row.begin(), row.end());
  }
  return RunBatchSearch(SearchViewLocked(), rows, {}, {}, options, /*hybrid=*/0);
}

absl::StatusOr<double> Collection::Impl::Similarity(std::string_view a,
                                                    std::string_view b) const {
  absl::ReaderMutexLock lock(&state_mu_);
  if (absl::Status s = CheckUsableLocked(); !s.ok()) return s;
  std::vector<float> va, vb;
  bool zero_a = false, zero_b = false;
  if (absl::Status s = EmbedQueryLocked(a, &va, &zero_a); !s.ok()) return s;
  if (absl::Status s = EmbedQueryLocked(b, &vb, &zero_b); !s.ok()) return s;
  if (zero_a || zero_b) return 0.0;
  double dot = 0;
  for (size_t i = 0; i < va.size(); ++i) dot += static_cast<double>(va[i]) * vb[i];
  return std::clamp(dot, -1.0, 1.0);
}

}  // namespace semdb
