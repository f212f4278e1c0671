#include "src/keyword_index.h"

#include <algorithm>
#include <cmath>

#include "embedders/text_terms.h"
#include "storage/records.h"

namespace semdb {
namespace {

constexpr char kTotalsKey[] = "s";

std::string TermPrefix(std::string_view term) {
  std::string k = "t";
  k.append(term);
  k.push_back('\0');
  return k;
}

std::string PostingKey(std::string_view term, uint64_t label) {
  std::string k = TermPrefix(term);
  AppendBigEndian64(&k, label);
  return k;
}

}  // namespace

absl::StatusOr<absl::flat_hash_map<std::string, int>> CountTerms(std::string_view text,
                                                                 int* length) {
  absl::StatusOr<std::vector<std::string>> words = TextTerms(text, TermOptions{});
  if (!words.ok()) return words.status();
  absl::flat_hash_map<std::string, int> counts;
  for (std::string& w : *words) ++counts[std::move(w)];
  *length = static_cast<int>(words->size());
  return counts;
}

absl::Status KeywordIndex::Update::Add(uint64_t label, std::string_view text) {
  int length = 0;
  absl::StatusOr<absl::flat_hash_map<std::string, int>> terms = CountTerms(text, &length);
  if (!terms.ok()) return terms.status();
  for (const auto& [term, tf] : *terms) {
    std::string value;
    AppendVarint(&value, static_cast<uint64_t>(tf));
    AppendVarint(&value, static_cast<uint64_t>(length));
    puts_.emplace_back(PostingKey(term, label), std::move(value));
  }
  ++docs_delta_;
  length_delta_ += length;
  return absl::OkStatus();
}

absl::Status KeywordIndex::Update::Remove(uint64_t label, std::string_view text) {
  int length = 0;
  absl::StatusOr<absl::flat_hash_map<std::string, int>> terms = CountTerms(text, &length);
  if (!terms.ok()) return terms.status();
  for (const auto& [term, tf] : *terms) deletes_.push_back(PostingKey(term, label));
  --docs_delta_;
  length_delta_ -= length;
  return absl::OkStatus();
}

absl::Status KeywordIndex::Update::Finish(StoreBatch& batch) {
  absl::StatusOr<Totals> totals = index_.GetTotals();
  if (!totals.ok()) return totals.status();
  // Deletes first: a label removed and added again (upsert) keeps its new
  // postings, as a WriteBatch applies operations in order.
  for (const std::string& k : deletes_) batch.DeleteAux(AuxIndex::kPostings, index_.cid_, k);
  for (const auto& [k, v] : puts_) batch.PutAux(AuxIndex::kPostings, index_.cid_, k, v);
  std::string value;
  AppendVarint(&value, static_cast<uint64_t>(std::max<int64_t>(0, totals->documents + docs_delta_)));
  AppendVarint(&value, static_cast<uint64_t>(std::max<int64_t>(0, totals->length + length_delta_)));
  batch.PutAux(AuxIndex::kPostings, index_.cid_, kTotalsKey, value);
  return absl::OkStatus();
}

absl::StatusOr<KeywordIndex::Totals> KeywordIndex::GetTotals() const {
  absl::StatusOr<std::optional<std::string>> v =
      store_->GetAux(AuxIndex::kPostings, cid_, kTotalsKey);
  if (!v.ok()) return v.status();
  Totals t;
  if (!v->has_value()) return t;
  std::string_view in = **v;
  uint64_t docs, length;
  if (!ReadVarint(&in, &docs) || !ReadVarint(&in, &length) || !in.empty()) {
    return absl::DataLossError("corrupt keyword index totals");
  }
  t.documents = static_cast<int64_t>(docs);
  t.length = static_cast<int64_t>(length);
  return t;
}

absl::StatusOr<KeywordStatistics> KeywordIndex::Statistics(std::string_view query) const {
  int query_length = 0;
  absl::StatusOr<absl::flat_hash_map<std::string, int>> terms = CountTerms(query, &query_length);
  if (!terms.ok()) return terms.status();
  absl::StatusOr<Totals> totals = GetTotals();
  if (!totals.ok()) return totals.status();
  KeywordStatistics out;
  out.documents = totals->documents;
  out.length = totals->length;
  for (const auto& [term, count] : *terms) {
    const std::string prefix = TermPrefix(term);
    int64_t& df = out.document_frequency[term];
    absl::Status s = store_->ScanAux(AuxIndex::kPostings, cid_, prefix, PrefixEnd(prefix),
                                     [&](std::string_view, std::string_view) {
                                       ++df;
                                       return absl::OkStatus();
                                     });
    if (!s.ok()) return s;
  }
  return out;
}

absl::StatusOr<std::vector<IndexHit>> KeywordIndex::Search(
    std::string_view query, int k, const LabelPredicate* filter,
    const KeywordStatistics* global) const {
  int query_length = 0;
  absl::StatusOr<absl::flat_hash_map<std::string, int>> terms = CountTerms(query, &query_length);
  if (!terms.ok()) return terms.status();
  absl::StatusOr<Totals> totals = GetTotals();
  if (!totals.ok()) return totals.status();
  std::vector<IndexHit> hits;
  if (totals->documents == 0) return hits;
  const double n = static_cast<double>(global != nullptr ? global->documents : totals->documents);
  const double total_length =
      static_cast<double>(global != nullptr ? global->length : totals->length);
  const double avgdl = std::max(1e-9, total_length / std::max(1.0, n));
  absl::flat_hash_map<uint64_t, double> scores;
  struct Posting {
    uint64_t label;
    double tf, length;
  };
  std::vector<Posting> postings;
  for (const auto& [term, count] : *terms) {
    postings.clear();
    const std::string prefix = TermPrefix(term);
    const std::string end = PrefixEnd(prefix);
    absl::Status s = store_->ScanAux(
        AuxIndex::kPostings, cid_, prefix, end,
        [&](std::string_view key, std::string_view value) -> absl::Status {
          uint64_t tf, length;
          if (key.size() != prefix.size() + 8 || !ReadVarint(&value, &tf) ||
              !ReadVarint(&value, &length)) {
            return absl::DataLossError("corrupt keyword posting");
          }
          postings.push_back({ReadBigEndian64(key.data() + prefix.size()),
                              static_cast<double>(tf), static_cast<double>(length)});
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
    double df = static_cast<double>(postings.size());
    if (global != nullptr) {
      auto it = global->document_frequency.find(term);
      if (it != global->document_frequency.end()) df = static_cast<double>(it->second);
    }
    const double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    for (const Posting& p : postings) {
      if (filter != nullptr && !(*filter)(p.label)) continue;
      scores[p.label] += idf * p.tf * (kBm25K1 + 1) /
                         (p.tf + kBm25K1 * (1 - kBm25B + kBm25B * p.length / avgdl));
    }
  }
  hits.reserve(scores.size());
  for (const auto& [label, score] : scores) hits.push_back({label, static_cast<float>(score)});
  if (k > 0 && static_cast<size_t>(k) < hits.size()) {
    std::partial_sort(hits.begin(), hits.begin() + k, hits.end(), RanksBefore);
    hits.resize(k);
  } else {
    std::sort(hits.begin(), hits.end(), RanksBefore);
  }
  return hits;
}

}  // namespace semdb
