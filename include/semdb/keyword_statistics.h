// The corpus statistics behind BM25 scores, for a query's terms: what a
// collection reports so that several collections (the shards of one corpus)
// can score with the corpus-wide figures and their BM25 scores compare.
#ifndef SEMDB_KEYWORD_STATISTICS_H_
#define SEMDB_KEYWORD_STATISTICS_H_

#include <cstdint>
#include <map>
#include <string>

namespace semdb {

struct KeywordStatistics {
  int64_t documents = 0;  // entries in the keyword index (passages, when chunked)
  int64_t length = 0;     // their total length in terms
  // For each distinct term of the query (as the keyword index analyzes it:
  // case-folded, stop words removed, stemmed), the entries containing it.
  std::map<std::string, int64_t> document_frequency;

  // Sums `other` into this: the statistics of the union of two corpora.
  void Add(const KeywordStatistics& other) {
    documents += other.documents;
    length += other.length;
    for (const auto& [term, df] : other.document_frequency) document_frequency[term] += df;
  }
};

}  // namespace semdb

#endif  // SEMDB_KEYWORD_STATISTICS_H_
