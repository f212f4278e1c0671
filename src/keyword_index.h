// KeywordIndex: a BM25 inverted index of a collection's texts in RocksDB
// (AuxIndex::kPostings), maintained in the same batch as the documents.
//
// Key layout (relative to the collection):
//   't' <term> 0x00 <label:8> -> varint term frequency, varint document length
//   's'                       -> varint documents, varint total length
// Terms are TextTerms' (embedders/text_terms.h) with the default options, the
// same as the default TF-IDF's: words (Unicode NFKC, case-folded, at least
// two characters) minus scikit-learn's English stop words, Snowball-stemmed.
// Document length |d| counts these terms. (Indexes written before stop
// words and stems were applied keep their old postings; recreate the
// collection to rebuild them.)
//
// Scoring, for the distinct terms t of the query (Robertson/Sparck Jones
// idf as in Lucene, never negative):
//   idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
//   score(d, q) = sum_t idf(t) * tf(t,d) * (k1 + 1) /
//                                (tf(t,d) + k1 * (1 - b + b * |d| / avgdl))
// with k1 = 1.2, b = 0.75, N documents and avgdl their mean length in terms.
// tests/golden/make_bm25_golden.py computes the same formula independently.
#ifndef SEMDB_SRC_KEYWORD_INDEX_H_
#define SEMDB_SRC_KEYWORD_INDEX_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "semdb/keyword_statistics.h"
#include "semdb/vector_index.h"
#include "storage/store.h"

namespace semdb {

inline constexpr double kBm25K1 = 1.2;
inline constexpr double kBm25B = 0.75;

class KeywordIndex {
 public:
  KeywordIndex(const Store* store, uint32_t cid) : store_(store), cid_(cid) {}

  // Changes to the index gathered for one write batch. Callers serialize
  // updates (the collection's write lock): Finish reads and rewrites the
  // collection totals.
  class Update {
   public:
    explicit Update(const KeywordIndex& index) : index_(index) {}
    // `text` is the document's text (for Remove: as it was stored).
    absl::Status Add(uint64_t label, std::string_view text);
    absl::Status Remove(uint64_t label, std::string_view text);
    // Writes the postings and the new totals into `batch`.
    absl::Status Finish(StoreBatch& batch);

   private:
    const KeywordIndex& index_;
    std::vector<std::pair<std::string, std::string>> puts_;  // key -> value
    std::vector<std::string> deletes_;
    int64_t docs_delta_ = 0;
    int64_t length_delta_ = 0;
  };

  // The k documents with the best BM25 score for `query` (k <= 0: all that
  // contain a query term), best first, among labels accepted by `filter`
  // when set. Documents containing no query term are not returned.
  // With `global`, N, avgdl and df(t) are taken from it (a term it lacks
  // counts this index's df) instead of this index's.
  absl::StatusOr<std::vector<IndexHit>> Search(std::string_view query, int k,
                                               const LabelPredicate* filter,
                                               const KeywordStatistics* global = nullptr) const;
  // This index's statistics for the terms of `query`.
  absl::StatusOr<KeywordStatistics> Statistics(std::string_view query) const;

  // Documents and total length, as stored.
  struct Totals {
    int64_t documents = 0;
    int64_t length = 0;
  };
  absl::StatusOr<Totals> GetTotals() const;

 private:
  const Store* store_;
  uint32_t cid_;
};

// A text's terms with their counts, and its length in terms.
absl::StatusOr<absl::flat_hash_map<std::string, int>> CountTerms(std::string_view text,
                                                                 int* length);

}  // namespace semdb

#endif  // SEMDB_SRC_KEYWORD_INDEX_H_
