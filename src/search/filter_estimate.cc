#include "src/search/filter_estimate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "storage/bounded_json.h"

namespace semdb {
namespace {

// The field index lists at most this many candidates while planning.
constexpr int64_t kCandidateCap = 5000;
// Metadata records read to estimate a filter the field index cannot count
// (a 95% margin of about 6 points at 50% selectivity).
constexpr int kSampleSize = 256;

// `filter`'s estimate computed afresh; `text` is filter.ToString(): it
// seeds the metadata sample.
absl::StatusOr<FilterEstimate> ComputeEstimate(const SearchView& view, const Filter& filter,
                                               const std::string& text) {
  FilterEstimate e;
  const FieldIndex& fields = view.doc_indexes.fields();
  const double live = static_cast<double>(std::max<int64_t>(view.counters.live_docs, 1));
  e.covered = fields.Covers(filter);
  absl::StatusOr<std::optional<FieldCandidates>> resolved = fields.Resolve(filter, kCandidateCap);
  if (!resolved.ok()) return resolved.status();
  if (resolved->has_value()) {
    e.candidates = **resolved;
    const int64_t n = static_cast<int64_t>(e.candidates->labels.size());
    if (e.candidates->exact) {
      e.matches = n;
      e.source = "field index (exact count)";
    } else {
      // Check an evenly spaced sample of the candidates.
      const int64_t step = CandidateSampleStep(n);
      int64_t checked = 0, passed = 0;
      for (int64_t i = 0; i < n; i += step) {
        absl::StatusOr<bool> m = MatchesFilter(view, e.candidates->labels[i], filter);
        if (!m.ok()) return m.status();
        ++checked;
        passed += *m;
      }
      e.matches = MatchesFromCandidateSample(n, checked, passed);
      e.source = absl::StrCat("field index (", n, " candidates, ", checked, " checked)");
    }
    e.selectivity = e.matches / live;
    return e;
  }
  // A deterministic sample of label numbers (deleted ones are skipped).
  std::mt19937_64 rng(absl::Hash<std::string>()(text));
  std::uniform_int_distribution<uint64_t> pick(
      1, std::max<uint64_t>(1, view.counters.next_label - 1));
  int found = 0, passed = 0;
  for (int i = 0; i < kSampleSize * 4 && found < kSampleSize; ++i) {
    absl::StatusOr<std::optional<std::string>> meta =
        view.store.GetMetadata(view.collection_id, pick(rng));
    if (!meta.ok()) return meta.status();
    if (!meta->has_value()) continue;
    ++found;
    passed += filter.Matches(ParseJsonOrDiscarded(**meta));
  }
  e.selectivity = SelectivityFromSample(found, passed);
  e.matches = static_cast<int64_t>(std::ceil(e.selectivity * live));
  e.source = absl::StrCat(e.covered ? "field index over the candidate cap; " : "",
                          "sample of ", found, " documents, ", passed, " matching");
  return e;
}

}  // namespace

std::shared_ptr<const FilterEstimate> FilterEstimateCache::Find(uint64_t version,
                                                                const std::string& text) {
  absl::MutexLock lock(&mu_);
  if (version_ != version) {
    estimates_.clear();
    version_ = version;
  }
  auto it = estimates_.find(text);
  return it == estimates_.end() ? nullptr : it->second;
}

void FilterEstimateCache::Insert(uint64_t version, const std::string& text,
                                 const FilterEstimate& estimate) {
  absl::MutexLock lock(&mu_);
  if (version_ != version) return;
  if (estimates_.size() >= kCapacity) estimates_.clear();
  estimates_[text] = std::make_shared<const FilterEstimate>(estimate);
}

int64_t CandidateSampleStep(int64_t candidates) {
  return std::max<int64_t>(1, candidates / 200);
}

int64_t MatchesFromCandidateSample(int64_t candidates, int64_t checked, int64_t passed) {
  if (checked == 0) return 0;
  return static_cast<int64_t>(std::ceil(candidates * (passed / double(checked))));
}

double SelectivityFromSample(int found, int passed) {
  return found == 0 ? 1 : std::max(0.5, double(passed)) / found;
}

absl::StatusOr<bool> MatchesFilter(const SearchView& view, uint64_t label, const Filter& filter) {
  absl::StatusOr<std::optional<std::string>> meta =
      view.store.GetMetadata(view.collection_id, label);
  if (!meta.ok()) return meta.status();
  if (!meta->has_value()) return false;
  return filter.Matches(ParseJsonOrDiscarded(**meta));
}

absl::StatusOr<FilterEstimate> EstimateFilter(const SearchView& view, const Filter& filter) {
  const std::string text = filter.ToString();
  if (std::shared_ptr<const FilterEstimate> cached =
          view.filter_estimates.Find(view.estimate_version, text)) {
    return *cached;
  }
  absl::StatusOr<FilterEstimate> e = ComputeEstimate(view, filter, text);
  if (e.ok()) view.filter_estimates.Insert(view.estimate_version, text, *e);
  return e;
}

absl::StatusOr<std::vector<uint64_t>> ListMatches(const SearchView& view, const Filter& filter,
                                                  const FilterEstimate& e, SearchTrace* trace) {
  std::vector<uint64_t> out;
  if (e.candidates && e.candidates->exact) {
    out = e.candidates->labels;
  } else if (e.candidates) {
    for (uint64_t label : e.candidates->labels) {
      absl::StatusOr<bool> m = MatchesFilter(view, label, filter);
      if (!m.ok()) return m.status();
      ++trace->checked;
      if (*m) out.push_back(label);
    }
  } else if (e.covered) {
    absl::StatusOr<std::optional<FieldCandidates>> all =
        view.doc_indexes.fields().Resolve(filter, std::numeric_limits<int64_t>::max());
    if (!all.ok()) return all.status();
    out = std::move((*all)->labels);
  } else {
    absl::Status s = view.store.ScanMetadata(
        view.collection_id, [&](uint64_t label, std::string_view json) -> absl::Status {
          ++trace->checked;
          if (filter.Matches(ParseJsonOrDiscarded(json))) out.push_back(label);
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
  }
  trace->listed = static_cast<int64_t>(out.size());
  return out;  // sorted: field index results and label-ordered scans are
}

}  // namespace semdb
