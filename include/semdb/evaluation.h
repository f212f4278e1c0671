// Built-in quality evaluation of a collection (`eval retrieval`, `eval
// similarity` in the shell), so that users measure their own data and
// settings with the same code that produced the README's tables.
//
// Retrieval metrics, for each judged query (one with at least one document
// of grade > 0), over the collection's ranking to `depth`:
//   nDCG@k  = DCG@k / ideal DCG@k, DCG@k = sum_{i=1..k} (2^grade_i - 1) / log2(i + 1)
//             (graded gain as in Burges et al. 2005 and trec_eval's ndcg
//             with gains 2^g - 1; the ideal ranks all judged documents by grade)
//   AP      = sum over relevant documents found at rank i of precision@i,
//             divided by the number of relevant (grade > 0) documents
//   recall@k = relevant documents in the top k / relevant documents
// and their means over the judged queries (MAP is the mean AP).
//
// Similarity: Spearman's rho and Pearson's r, x100 by convention in the
// output, between the collection's cosine of each text pair and the human
// score.
#ifndef SEMDB_EVALUATION_H_
#define SEMDB_EVALUATION_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "semdb/database.h"

namespace semdb {

// Document id -> relevance grade (> 0 relevant; 0 or less judged not).
using Judgments = absl::flat_hash_map<std::string, int>;

double NdcgAt(const std::vector<std::string>& ranking, const Judgments& judged, int k);
double AveragePrecision(const std::vector<std::string>& ranking, const Judgments& judged);
double RecallAt(const std::vector<std::string>& ranking, const Judgments& judged, int k);

struct EvalQuery {
  std::string id;
  std::string text;
};

// QUERIES: JSON Lines with an id ("_id", "id", "query_id" or "qid") and a
// text ("text" or "query"), or lines "id<TAB>text".
absl::StatusOr<std::vector<EvalQuery>> ReadQueries(const std::string& path);

// QRELS: TREC lines "query iteration document grade", or "query document
// grade" (whitespace-separated); a first line whose grade is not a number
// is a header and skipped.
absl::StatusOr<absl::flat_hash_map<std::string, Judgments>> ReadQrels(const std::string& path);

struct RetrievalEvaluation {
  int64_t queries = 0;          // in the queries file
  int64_t judged = 0;           // with a relevant document: the ones measured
  int depth = 0;                // ranking depth for AP
  double ndcg_at_10 = 0, map = 0, recall_at_10 = 0, recall_at_100 = 0;
  nlohmann::json ToJson() const;
};

// Searches the collection with each judged query (options.k is set to the
// depth, one hit per document) and averages the metrics.
absl::StatusOr<RetrievalEvaluation> EvaluateRetrieval(const Collection& collection,
                                                      const std::string& queries_path,
                                                      const std::string& qrels_path,
                                                      SearchOptions options, int depth = 1000);

struct SimilarityEvaluation {
  int64_t pairs = 0;
  double spearman = 0, pearson = 0;  // x100
  nlohmann::json ToJson() const;
};

// PAIRS: tab-separated "text1<TAB>text2<TAB>score", or the STS Benchmark
// layout (genre, dataset, year, id, score, text1, text2[, ...]).
absl::StatusOr<SimilarityEvaluation> EvaluateSimilarity(const Collection& collection,
                                                        const std::string& pairs_path);

}  // namespace semdb

#endif  // SEMDB_EVALUATION_H_
