// Collection::Impl's search path: filter estimation, the query planner's
// strategies with their retries and fallbacks, hybrid fusion, and EXPLAIN.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "index/index_layout.h"
#include "src/collection_impl.h"
#include "src/hybrid_fusion.h"
#include "src/passage_context.h"
#include "src/query_planner.h"
#include "src/recall_calibration.h"
#include "storage/bounded_json.h"

namespace semdb {
namespace {

// The field index lists at most this many candidates while planning.
constexpr int64_t kCandidateCap = 5000;
// Metadata records read to estimate a filter the field index cannot count
// (a 95% margin of about 6 points at 50% selectivity).
constexpr int kSampleSize = 256;
// Filter estimates kept per collection until its next write.
constexpr size_t kEstimateCacheSize = 256;
// Stored vectors the recall calibration starts from, and the index size
// below which it is not worth it (an exact scan costs little there).
constexpr int kCalibrationQueries = 48;
constexpr int64_t kCalibrationMinSize = 1000;
// Post-filtering and ANN retries grow the search this many times at most.
constexpr int kMaxRounds = 4;
constexpr int kGrowth = 4;

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Keeps the k best hits seen.
class TopK {
 public:
  explicit TopK(int k) : k_(k) {}
  void Offer(uint64_t label, float score) {
    IndexHit h{label, score};
    if (static_cast<int>(heap_.size()) < k_) {
      heap_.push_back(h);
      std::push_heap(heap_.begin(), heap_.end(), RanksBefore);
    } else if (RanksBefore(h, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), RanksBefore);
      heap_.back() = h;
      std::push_heap(heap_.begin(), heap_.end(), RanksBefore);
    }
  }
  std::vector<IndexHit> Take() {
    std::sort(heap_.begin(), heap_.end(), RanksBefore);
    return std::move(heap_);
  }

 private:
  int k_;
  std::vector<IndexHit> heap_;  // worst on top
};

float Dot(absl::Span<const float> a, const std::vector<float>& b) {
  float s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

// What is known of a filter's matches before searching.
struct Collection::Impl::FilterEstimate {
  double selectivity = 1;
  int64_t matches = 0;
  std::string source;
  std::optional<FieldCandidates> candidates;  // from the field index, <= cap
  bool covered = false;                        // the field index lists all matches
};

// What a search did, for EXPLAIN ANALYZE.
struct Collection::Impl::SearchTrace {
  std::string strategy_run;
  int rounds = 0;           // index searches
  int64_t fetched = 0;      // results the index returned
  int64_t checked = 0;      // metadata records checked against the filter
  int64_t listed = 0;       // matches listed for a selector or a scan
  int64_t compared = 0;     // vectors scanned (an id selector may skip scoring some)
  std::string fallback;
  double estimate_ms = 0, search_ms = 0, documents_ms = 0;
};

absl::StatusOr<bool> Collection::Impl::MatchesLocked(uint64_t label, const Filter& f) const {
  absl::StatusOr<std::optional<std::string>> meta = env_.store->GetMetadata(id_, label);
  if (!meta.ok()) return meta.status();
  if (!meta->has_value()) return false;
  return f.Matches(ParseJsonOrDiscarded(**meta));
}

absl::StatusOr<Collection::Impl::FilterEstimate> Collection::Impl::EstimateFilterLocked(
    const Filter& f) const {
  // Estimates stay valid until the collection changes: a write bumps the
  // log sequence (every write logs an index operation).
  const std::string text = f.ToString();
  {
    absl::MutexLock lock(&estimate_mu_);
    if (estimate_seq_ != counters_.next_seq) {
      estimate_cache_.clear();
      estimate_seq_ = counters_.next_seq;
    }
    auto it = estimate_cache_.find(text);
    if (it != estimate_cache_.end()) return *it->second;
  }
  absl::StatusOr<FilterEstimate> e = ComputeFilterEstimateLocked(f, text);
  if (e.ok()) {
    absl::MutexLock lock(&estimate_mu_);
    if (estimate_seq_ == counters_.next_seq) {
      if (estimate_cache_.size() >= kEstimateCacheSize) estimate_cache_.clear();
      estimate_cache_[text] = std::make_shared<const FilterEstimate>(*e);
    }
  }
  return e;
}

absl::StatusOr<Collection::Impl::FilterEstimate> Collection::Impl::ComputeFilterEstimateLocked(
    const Filter& f, const std::string& text) const {
  FilterEstimate e;
  const FieldIndex& fields = doc_indexes_->fields();
  const double live = static_cast<double>(std::max<int64_t>(counters_.live_docs, 1));
  e.covered = fields.Covers(f);
  absl::StatusOr<std::optional<FieldCandidates>> resolved = fields.Resolve(f, kCandidateCap);
  if (!resolved.ok()) return resolved.status();
  if (resolved->has_value()) {
    e.candidates = **resolved;
    const int64_t n = static_cast<int64_t>(e.candidates->labels.size());
    if (e.candidates->exact) {
      e.matches = n;
      e.source = "field index (exact count)";
    } else {
      // Check an evenly spaced sample of the candidates.
      const int64_t step = std::max<int64_t>(1, n / 200);
      int64_t checked = 0, passed = 0;
      for (int64_t i = 0; i < n; i += step) {
        absl::StatusOr<bool> m = MatchesLocked(e.candidates->labels[i], f);
        if (!m.ok()) return m.status();
        ++checked;
        passed += *m;
      }
      e.matches = checked == 0 ? 0 : static_cast<int64_t>(std::ceil(n * (passed / double(checked))));
      e.source = absl::StrCat("field index (", n, " candidates, ", checked, " checked)");
    }
    e.selectivity = e.matches / live;
    return e;
  }
  // A deterministic sample of label numbers (deleted ones are skipped).
  std::mt19937_64 rng(absl::Hash<std::string>()(text));
  std::uniform_int_distribution<uint64_t> pick(1, std::max<uint64_t>(1, counters_.next_label - 1));
  int found = 0, passed = 0;
  for (int i = 0; i < kSampleSize * 4 && found < kSampleSize; ++i) {
    absl::StatusOr<std::optional<std::string>> meta = env_.store->GetMetadata(id_, pick(rng));
    if (!meta.ok()) return meta.status();
    if (!meta->has_value()) continue;
    ++found;
    passed += f.Matches(ParseJsonOrDiscarded(**meta));
  }
  // Half a match when none was seen: rare filters are not free.
  e.selectivity = found == 0 ? 1 : std::max(0.5, double(passed)) / found;
  e.matches = static_cast<int64_t>(std::ceil(e.selectivity * live));
  e.source = absl::StrCat(e.covered ? "field index over the candidate cap; " : "",
                          "sample of ", found, " documents, ", passed, " matching");
  return e;
}

absl::StatusOr<std::shared_ptr<const RecallCurve>> Collection::Impl::RecallCurveLocked() const {
  const IndexLayout layout = *IndexLayout::FromSpec(index_->spec());
  const int64_t size = index_->size();
  if (layout.kind == IndexLayout::Kind::kFlat || !index_->can_search_exactly() ||
      size < kCalibrationMinSize) {
    return nullptr;
  }
  const std::string spec = index_->spec().ToString();
  absl::MutexLock lock(&calibration_mu_);
  if (recall_curve_ != nullptr && recall_curve_spec_ == spec &&
      size <= 2 * recall_curve_->index_size && 2 * size >= recall_curve_->index_size) {
    return recall_curve_;
  }
  // Stored vectors of evenly spread label numbers (deleted ones skipped).
  std::vector<uint64_t> labels;
  const uint64_t end = counters_.next_label;
  for (int i = 0; i < 4 * kCalibrationQueries; ++i) {
    labels.push_back(1 + (end - 1) * (2 * i + 1) / (8 * kCalibrationQueries));
  }
  std::vector<std::optional<VectorRecord>> vectors;
  if (absl::Status s = env_.store->MultiGetVectors(id_, record_.generation, labels, &vectors);
      !s.ok()) {
    return s;
  }
  std::vector<float> sample;
  std::vector<uint64_t> sample_labels;
  for (size_t i = 0; i < labels.size() && sample_labels.size() < kCalibrationQueries; ++i) {
    const std::optional<VectorRecord>& v = vectors[i];
    if (!v || static_cast<int>(v->values.size()) != index_->dimension()) continue;
    sample.insert(sample.end(), v->values.begin(), v->values.end());
    sample_labels.push_back(labels[i]);
  }
  absl::StatusOr<RecallCurve> curve = MeasureRecallCurve(*index_, layout, sample, sample_labels);
  if (!curve.ok()) return curve.status();
  recall_curve_ = std::make_shared<const RecallCurve>(*std::move(curve));
  recall_curve_spec_ = spec;
  return recall_curve_;
}

absl::StatusOr<std::vector<uint64_t>> Collection::Impl::ListMatchesLocked(
    const Filter& f, const FilterEstimate& e, SearchTrace* trace) const {
  std::vector<uint64_t> out;
  if (e.candidates && e.candidates->exact) {
    out = e.candidates->labels;
  } else if (e.candidates) {
    for (uint64_t label : e.candidates->labels) {
      absl::StatusOr<bool> m = MatchesLocked(label, f);
      if (!m.ok()) return m.status();
      ++trace->checked;
      if (*m) out.push_back(label);
    }
  } else if (e.covered) {
    absl::StatusOr<std::optional<FieldCandidates>> all =
        doc_indexes_->fields().Resolve(f, std::numeric_limits<int64_t>::max());
    if (!all.ok()) return all.status();
    out = std::move((*all)->labels);
  } else {
    absl::Status s = env_.store->ScanMetadata(
        id_, [&](uint64_t label, std::string_view json) -> absl::Status {
          ++trace->checked;
          if (f.Matches(ParseJsonOrDiscarded(json))) out.push_back(label);
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
  }
  trace->listed = static_cast<int64_t>(out.size());
  return out;  // sorted: field index results and label-ordered scans are
}

absl::StatusOr<std::vector<IndexHit>> Collection::Impl::ScanLabelsLocked(
    absl::Span<const float> query, int k, const std::vector<uint64_t>& labels,
    SearchTrace* trace) const {
  TopK top(k);
  constexpr size_t kChunk = 4096;
  std::vector<std::optional<VectorRecord>> vectors;
  for (size_t begin = 0; begin < labels.size(); begin += kChunk) {
    absl::Span<const uint64_t> chunk =
        absl::MakeConstSpan(labels).subspan(begin, std::min(kChunk, labels.size() - begin));
    if (absl::Status s = env_.store->MultiGetVectors(id_, record_.generation, chunk, &vectors);
        !s.ok()) {
      return s;
    }
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (!vectors[i] || vectors[i]->values.size() != query.size()) continue;
      top.Offer(chunk[i], Dot(query, vectors[i]->values));
      ++trace->compared;
    }
  }
  return top.Take();
}

absl::StatusOr<std::vector<IndexHit>> Collection::Impl::ExactScanLocked(
    absl::Span<const float> query, int k, const LabelPredicate* predicate,
    SearchTrace* trace) const {
  trace->compared += index_->size();
  if (index_->can_search_exactly()) {
    ++trace->rounds;
    absl::StatusOr<std::vector<IndexHit>> found =
        index_->Search(query, k, {.exact = true}, predicate);
    if (found.ok()) trace->fetched += static_cast<int64_t>(found->size());
    return found;
  }
  // The index keeps compressed codes: read the stored vectors.
  TopK top(k);
  absl::Status s = env_.store->ScanVectors(
      id_, record_.generation, [&](uint64_t label, VectorRecord& v) -> absl::Status {
        if (v.values.size() == query.size() && (predicate == nullptr || (*predicate)(label))) {
          top.Offer(label, Dot(query, v.values));
        }
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return top.Take();
}

absl::StatusOr<std::vector<IndexHit>> Collection::Impl::RunPlanLocked(
    absl::Span<const float> query, const SearchOptions& options, const QueryPlan& plan,
    const FilterEstimate* estimate, SearchTrace* trace) const {
  const int k = options.k;
  const Filter* filter = options.filter ? &*options.filter : nullptr;
  trace->strategy_run = StrategyName(plan.strategy);
  // The exact list of matches, made at most once.
  std::optional<std::vector<uint64_t>> matches;
  auto list_matches = [&]() ABSL_SHARED_LOCKS_REQUIRED(state_mu_) -> absl::Status {
    if (matches) return absl::OkStatus();
    absl::StatusOr<std::vector<uint64_t>> m = ListMatchesLocked(*filter, *estimate, trace);
    if (!m.ok()) return m.status();
    matches = *std::move(m);
    return absl::OkStatus();
  };
  // Membership in the matches by a bitmap over label numbers (dense: labels
  // count up from 1): the index checks it once per vector it meets, where a
  // binary search costs as much as the distance it saves.
  std::vector<bool> is_match;
  auto selector = [&]() -> LabelPredicate {
    if (is_match.empty()) {
      is_match.assign(matches->empty() ? 1 : matches->back() + 1, false);
      for (uint64_t label : *matches) is_match[label] = true;
    }
    return [&](uint64_t label) { return label < is_match.size() && is_match[label]; };
  };
  switch (plan.strategy) {
    case SearchStrategy::kAuto:
    case SearchStrategy::kExactScan: {
      if (filter == nullptr) return ExactScanLocked(query, k, nullptr, trace);
      if (absl::Status s = list_matches(); !s.ok()) return s;
      LabelPredicate p = selector();
      return ExactScanLocked(query, k, &p, trace);
    }
    case SearchStrategy::kFilteredScan: {
      if (absl::Status s = list_matches(); !s.ok()) return s;
      return ScanLabelsLocked(query, k, *matches, trace);
    }
    case SearchStrategy::kAnn: {
      LabelPredicate p;
      if (filter != nullptr) {
        if (absl::Status s = list_matches(); !s.ok()) return s;
        p = selector();
      }
      const int64_t expected =
          std::min<int64_t>(k, filter ? static_cast<int64_t>(matches->size()) : index_->size());
      IndexSearchKnobs knobs = plan.knobs;
      for (int round = 0; round < 2; ++round) {
        ++trace->rounds;
        absl::StatusOr<std::vector<IndexHit>> found =
            index_->Search(query, k, knobs, filter ? &p : nullptr);
        if (!found.ok()) return found.status();
        trace->fetched += static_cast<int64_t>(found->size());
        if (static_cast<int64_t>(found->size()) >= expected) return found;
        // Too few: the walk or the probed lists held too few matches.
        knobs.ef_search = knobs.ef_search > 0 ? knobs.ef_search * kGrowth : 0;
        knobs.nprobe = knobs.nprobe > 0 ? knobs.nprobe * kGrowth : 0;
      }
      trace->fallback = "the index returned fewer than k hits: exact scan of the matches";
      trace->strategy_run = StrategyName(SearchStrategy::kFilteredScan);
      if (filter == nullptr) return ExactScanLocked(query, k, nullptr, trace);
      return ScanLabelsLocked(query, k, *matches, trace);
    }
    case SearchStrategy::kAnnPostFilter: {
      absl::flat_hash_map<uint64_t, bool> verdicts;
      int fetch = plan.fetch_k;
      IndexSearchKnobs knobs = plan.knobs;
      std::vector<IndexHit> kept;
      for (int round = 0; round < kMaxRounds; ++round) {
        ++trace->rounds;
        absl::StatusOr<std::vector<IndexHit>> found = index_->Search(query, fetch, knobs, nullptr);
        if (!found.ok()) return found.status();
        trace->fetched += static_cast<int64_t>(found->size());
        kept.clear();
        for (const IndexHit& h : *found) {
          auto [it, fresh] = verdicts.try_emplace(h.label, false);
          if (fresh) {
            absl::StatusOr<bool> m = MatchesLocked(h.label, *filter);
            if (!m.ok()) return m.status();
            ++trace->checked;
            it->second = *m;
          }
          if (it->second) kept.push_back(h);
          if (static_cast<int>(kept.size()) == k) return kept;
        }
        // Everything the index holds was seen: the matches are all here.
        if (static_cast<int64_t>(found->size()) >= index_->size()) return kept;
        fetch = static_cast<int>(std::min<int64_t>(int64_t{fetch} * kGrowth, index_->size()));
        if (knobs.ef_search > 0) knobs.ef_search = std::max(knobs.ef_search, fetch);
        if (knobs.nprobe > 0) knobs.nprobe *= kGrowth;
      }
      trace->fallback = "post-filtering kept fewer than k hits: exact scan with a selector";
      trace->strategy_run = StrategyName(SearchStrategy::kExactScan);
      if (absl::Status s = list_matches(); !s.ok()) return s;
      LabelPredicate p = selector();
      return ExactScanLocked(query, k, &p, trace);
    }
  }
  return absl::InternalError("unknown strategy");
}

absl::StatusOr<std::vector<Hit>> Collection::Impl::AssembleHitsLocked(
    const std::vector<IndexHit>& found, int k, bool one_per_parent, const HitFields& include,
    std::vector<uint64_t>* kept) const {
  const size_t n = found.size();
  std::vector<uint64_t> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = found[i].label;
  std::vector<std::optional<LabelDirectory::Entry>> entries = label_entries_.Find(labels);
  // Labels not in memory yet: their documents give the ids and positions
  // (and the texts, kept for the hits that ask for them).
  std::vector<std::optional<DocumentRecord>> docs(n);
  std::vector<size_t> missing;
  for (size_t i = 0; i < n; ++i) {
    if (!entries[i]) missing.push_back(i);
  }
  if (!missing.empty()) {
    std::vector<uint64_t> missing_labels;
    for (size_t i : missing) missing_labels.push_back(labels[i]);
    std::vector<std::optional<DocumentRecord>> read;
    std::vector<std::optional<std::string>> unused;
    if (absl::Status s =
            env_.store->MultiGetDocuments(id_, missing_labels, {}, &read, &unused);
        !s.ok()) {
      return s;
    }
    std::vector<uint64_t> added;
    std::vector<LabelDirectory::Entry> added_entries;
    for (size_t j = 0; j < missing.size(); ++j) {
      // A document deleted after its batch reached storage but before the
      // index caught up is skipped.
      if (!read[j]) continue;
      entries[missing[j]] = LabelDirectory::Entry{read[j]->id, read[j]->passage};
      added.push_back(missing_labels[j]);
      added_entries.push_back(*entries[missing[j]]);
      docs[missing[j]] = std::move(read[j]);
    }
    label_entries_.Add(added, added_entries, counters_.live_docs);
  }
  // The hits kept, by position in `found`.
  std::vector<size_t> chosen;
  absl::flat_hash_set<std::string> parents;
  for (size_t i = 0; i < n && static_cast<int>(chosen.size()) < k; ++i) {
    if (!entries[i]) continue;
    const std::optional<PassageLocation>& p = entries[i]->passage;
    if (one_per_parent && p && !parents.insert(p->parent).second) continue;
    chosen.push_back(i);
  }
  // Their texts not read above and their metadata, in one read.
  std::vector<uint64_t> text_labels, meta_labels;
  for (size_t i : chosen) {
    if (include.text && !docs[i]) text_labels.push_back(labels[i]);
    if (include.metadata) meta_labels.push_back(labels[i]);
  }
  std::vector<std::optional<DocumentRecord>> texts;
  std::vector<std::optional<std::string>> metadata;
  if (absl::Status s =
          env_.store->MultiGetDocuments(id_, text_labels, meta_labels, &texts, &metadata);
      !s.ok()) {
    return s;
  }
  std::vector<Hit> hits;
  kept->clear();
  size_t next_text = 0;
  for (size_t c = 0; c < chosen.size(); ++c) {
    const size_t i = chosen[c];
    Hit hit;
    if (include.text) {
      std::optional<DocumentRecord>& doc = docs[i] ? docs[i] : texts[next_text++];
      if (!doc) continue;  // deleted since the index search, as above
      hit.text = std::move(doc->text);
    }
    if (include.metadata) {
      if (!metadata[c]) continue;  // every document has its metadata stored
      hit.metadata = ParseJsonOrDiscarded(*metadata[c]);
    }
    hit.score = found[i].score;
    LabelDirectory::Entry& e = *entries[i];
    if (const std::optional<PassageLocation>& p = e.passage) {
      hit.id = p->parent;
      hit.passage = PassageInfo{static_cast<int>(p->index), static_cast<int>(p->count),
                                static_cast<int64_t>(p->begin), static_cast<int64_t>(p->end)};
    } else {
      hit.id = std::move(e.id);
    }
    hits.push_back(std::move(hit));
    kept->push_back(labels[i]);
  }
  return hits;
}

absl::StatusOr<std::vector<IndexHit>> Collection::Impl::KeywordRankingLocked(
    std::string_view text, int depth, const Filter* filter, SearchTrace* trace,
    const KeywordStatistics* global) const {
  absl::StatusOr<std::vector<IndexHit>> all =
      doc_indexes_->keywords()->Search(text, filter == nullptr ? depth : 0, nullptr, global);
  if (!all.ok()) return all.status();
  std::vector<IndexHit> out;
  for (const IndexHit& h : *all) {
    if (static_cast<int>(out.size()) == depth) break;
    if (filter != nullptr) {
      absl::StatusOr<bool> m = MatchesLocked(h.label, *filter);
      if (!m.ok()) return m.status();
      ++trace->checked;
      if (!*m) continue;
    }
    out.push_back(h);
  }
  return out;
}

PlannerInput Collection::Impl::PlannerInputLocked(const SearchOptions& options,
                                                  int depth) const {
  PlannerInput in;
  in.live = index_->size();
  in.dimension = record_.dimension;
  in.k = depth;
  in.recall_target = options.recall_target;
  in.layout = *IndexLayout::FromSpec(index_->spec());
  in.exact_capable = index_->can_search_exactly();
  in.user_knobs = options.knobs;
  return in;
}

absl::StatusOr<std::vector<Hit>> Collection::Impl::SearchLocked(
    absl::Span<const float> query, const SearchOptions& options, std::string_view text,
    SearchExplanation* explain, bool analyze) const {
  const Clock::time_point start = Clock::now();
  SearchTrace trace;
  const double hybrid = options.hybrid.value_or(
      text.empty() || doc_indexes_->keywords() == nullptr ? 0 : kDefaultKeywordWeight);
  // Fusion ranks deeper than k on each side.
  const int depth = hybrid > 0 ? std::min(kMaxK, std::max(4 * options.k, 60)) : options.k;
  SearchOptions vector_options = options;
  vector_options.k = depth;

  PlannerInput in = PlannerInputLocked(options, depth);
  std::optional<FilterEstimate> estimate;
  if (options.filter) {
    absl::StatusOr<FilterEstimate> e = EstimateFilterLocked(*options.filter);
    if (!e.ok()) return e.status();
    estimate = *std::move(e);
    in.has_filter = true;
    in.selectivity = estimate->selectivity;
    in.estimated_matches = estimate->matches;
    in.candidates_known = estimate->candidates.has_value();
    in.candidates_exact = in.candidates_known && estimate->candidates->exact;
    in.candidates = in.candidates_known ? estimate->candidates->labels.size() : 0;
    in.filter_covered = estimate->covered;
  }
  // Filtered ANN searches take their width from the index's measured
  // recall, unless the query fixes it or asks for exact search.
  std::shared_ptr<const RecallCurve> curve;
  if (options.filter && options.recall_target < 1 && options.knobs.ef_search == 0 &&
      options.knobs.nprobe == 0 && options.strategy != SearchStrategy::kExactScan &&
      options.strategy != SearchStrategy::kFilteredScan) {
    absl::StatusOr<std::shared_ptr<const RecallCurve>> c = RecallCurveLocked();
    if (!c.ok()) return c.status();
    curve = *std::move(c);
    if (curve != nullptr) in.recall_curve = curve->samples;
  }
  trace.estimate_ms = MsSince(start);
  absl::StatusOr<QueryPlan> plan = PlanQuery(in, options.strategy);
  if (!plan.ok()) return plan.status();

  if (explain != nullptr) {
    explain->query = {.k = options.k,
                      .recall_target = options.recall_target,
                      .filter = options.filter ? options.filter->ToString() : "",
                      .hybrid = hybrid,
                      .strategy = options.strategy != SearchStrategy::kAuto
                                      ? StrategyName(options.strategy)
                                      : ""};
    explain->collection = {.live = counters_.live_docs,
                           .index = index_->Describe().value("spec", ""),
                           .configured_index = record_.index_spec};
    explain->estimates = {.selectivity = in.selectivity,
                          .estimated_matches = in.has_filter ? in.estimated_matches : in.live};
    if (estimate) {
      explain->estimates.source = estimate->source;
      explain->estimates.field_index_covers_filter = estimate->covered;
      if (estimate->candidates) {
        explain->estimates.candidates = static_cast<int64_t>(estimate->candidates->labels.size());
      }
    }
    if (curve != nullptr) {
      explain->estimates.recall_calibration = SearchExplanation::Estimates::RecallCalibration{
          .queries = curve->queries,
          .index_size = curve->index_size,
          .samples = static_cast<int64_t>(curve->samples.size()),
          .ms = std::round(curve->ms)};
    }
    explain->plan = plan->Explain();
    if (hybrid > 0) {
      explain->hybrid = SearchExplanation::Hybrid{
          .keyword_weight = hybrid, .fusion = FusionName(options.fusion), .depth = depth};
    }
    if (!analyze) return std::vector<Hit>{};
  }

  // One passage per document: fetch more than k passages, keep the best of
  // each document, and fetch more again while fewer than k documents came
  // out and the index may hold more.
  const bool one_per_parent = options.one_per_parent && chunker_.enabled();
  const int64_t live = std::max<int64_t>(1, index_->size());
  int64_t fetch = one_per_parent ? std::min<int64_t>(int64_t{4} * options.k, live) : options.k;
  std::vector<IndexHit> found;
  std::vector<uint64_t> hit_labels;
  absl::StatusOr<std::vector<Hit>> hits;
  double search_ms = 0, documents_ms = 0;
  while (true) {
    const Clock::time_point search_start = Clock::now();
    found.clear();
    const int round_depth = hybrid > 0 ? static_cast<int>(std::max<int64_t>(4 * fetch, 60))
                                       : static_cast<int>(fetch);
    vector_options.k = round_depth;
    if (estimate && estimate->candidates && estimate->candidates->exact &&
        estimate->candidates->labels.empty()) {
      trace.strategy_run = "none (no document matches)";
    } else if (hybrid < 1) {
      absl::StatusOr<std::vector<IndexHit>> v =
          RunPlanLocked(query, vector_options, *plan, estimate ? &*estimate : nullptr, &trace);
      if (!v.ok()) return v.status();
      found = *std::move(v);
    }
    if (hybrid > 0) {
      absl::StatusOr<std::vector<IndexHit>> kw = KeywordRankingLocked(
          text, round_depth, options.filter ? &*options.filter : nullptr, &trace);
      if (!kw.ok()) return kw.status();
      found = FuseRankings(found, *kw, options.fusion, hybrid, round_depth);
      if (explain != nullptr) explain->hybrid->keyword_hits = static_cast<int64_t>(kw->size());
    }
    const bool exhausted = static_cast<int64_t>(found.size()) < fetch;
    if (static_cast<int64_t>(found.size()) > fetch) found.resize(fetch);
    search_ms += MsSince(search_start);
    const Clock::time_point documents_start = Clock::now();
    hits = AssembleHitsLocked(found, options.k, one_per_parent, options.include, &hit_labels);
    documents_ms += MsSince(documents_start);
    if (!hits.ok()) return hits.status();
    if (!one_per_parent || static_cast<int>(hits->size()) >= options.k || exhausted ||
        fetch >= live) {
      break;
    }
    fetch = std::min(fetch * 4, live);
  }
  const ScoreKind kind = hybrid <= 0                          ? ScoreKind::kCosine
                        : options.fusion == FusionMethod::kRrf ? ScoreKind::kRankFusion
                        : hybrid >= 1                          ? ScoreKind::kKeyword
                                                               : ScoreKind::kFusion;
  for (Hit& h : *hits) h.score_kind = kind;
  if (chunker_.enabled() && (options.neighbors > 0 || options.include_parent)) {
    if (absl::Status s = AddPassageContext(*env_.store, id_, options, hit_labels, &*hits);
        !s.ok()) {
      return s;
    }
  }
  trace.search_ms = search_ms;
  trace.documents_ms = documents_ms;
  if (explain != nullptr && hits.ok()) {
    explain->analysis = SearchExplanation::Analysis{
        .strategy_run = trace.strategy_run,
        .index_searches = trace.rounds,
        .index_results = trace.fetched,
        .filter_checks = trace.checked,
        .matches_listed = trace.listed,
        .vectors_scanned = trace.compared,
        .fallback = trace.fallback,
        .hits = static_cast<int64_t>(hits->size()),
        .plan_ms = trace.estimate_ms,
        .search_ms = trace.search_ms,
        .documents_ms = trace.documents_ms,
        .total_ms = MsSince(start)};
  }
  return hits;
}

}  // namespace semdb

namespace semdb {

absl::StatusOr<std::vector<Hit>> Collection::Impl::KeywordSearchLocked(
    std::string_view query, const SearchOptions& options, const KeywordStatistics* global) const {
  SearchTrace trace;
  const bool one_per_parent = options.one_per_parent && chunker_.enabled();
  // As SearchLocked: fetch more passages while one per document leaves
  // fewer than k documents and the ranking may hold more.
  int64_t fetch = one_per_parent ? int64_t{4} * options.k : options.k;
  std::vector<uint64_t> labels;
  absl::StatusOr<std::vector<Hit>> hits;
  while (true) {
    const int depth = static_cast<int>(std::min<int64_t>(fetch, kMaxK * int64_t{4}));
    absl::StatusOr<std::vector<IndexHit>> ranking = KeywordRankingLocked(
        query, depth, options.filter ? &*options.filter : nullptr, &trace, global);
    if (!ranking.ok()) return ranking.status();
    hits = AssembleHitsLocked(*ranking, options.k, one_per_parent, options.include, &labels);
    if (!hits.ok()) return hits.status();
    if (!one_per_parent || static_cast<int>(hits->size()) >= options.k ||
        static_cast<int64_t>(ranking->size()) < depth || depth >= kMaxK * 4) {
      break;
    }
    fetch *= 4;
  }
  if (chunker_.enabled() && (options.neighbors > 0 || options.include_parent)) {
    if (absl::Status s = AddPassageContext(*env_.store, id_, options, labels, &*hits); !s.ok()) {
      return s;
    }
  }
  return hits;
}

}  // namespace semdb
