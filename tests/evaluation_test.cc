// Evaluation metrics against scikit-learn/scipy (tests/golden/make_eval_golden.py),
// and `eval` on a real collection.
#include "semdb/evaluation.h"

#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "embedders/word_similarity.h"
#include "semdb/import.h"
#include "test_data.h"

namespace semdb {
namespace {

using testing::ReadFile;
using testing::TestData;

TEST_CASE("a query file line nested too deeply is refused while parsed", "[eval]") {
  testing::TempDir dir;
  const std::string path = dir / "queries.jsonl";
  std::ofstream(path) << "{\"id\": \"q1\", \"text\": \"rivers\"}\n"
                      << "{\"id\": \"q2\", \"text\": " << std::string(100000, '[')
                      << std::string(100000, ']') << "}\n";
  absl::StatusOr<std::vector<EvalQuery>> queries = ReadQueries(path);
  REQUIRE(queries.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(std::string(queries.status().message()).find("JSON nested deeper than 64 levels") !=
          std::string::npos);
}

TEST_CASE("nDCG@10 and AP match scikit-learn", "[eval][golden]") {
  const nlohmann::json golden = nlohmann::json::parse(ReadFile(TestData("golden/eval_golden.json")));
  for (const auto& c : golden["retrieval"]) {
    std::vector<std::string> ranking = c["ranking"].get<std::vector<std::string>>();
    Judgments judged;
    for (const auto& [id, g] : c["judged"].items()) judged[id] = g.get<int>();
    REQUIRE(std::abs(NdcgAt(ranking, judged, 10) - c["ndcg10"].get<double>()) < 1e-9);
    REQUIRE(std::abs(AveragePrecision(ranking, judged) - c["ap"].get<double>()) < 1e-9);
  }
  const auto& s = golden["similarity"];
  std::vector<double> model = s["model"], human = s["human"];
  REQUIRE(std::abs(SpearmanRho(model, human) - s["spearman"].get<double>()) < 1e-9);
  REQUIRE(std::abs(PearsonR(model, human) - s["pearson"].get<double>()) < 1e-9);
}

// (No ";" in test names: CMake splits the discovered names on it, and the
// halves then match no test and pass without running.)
TEST_CASE("eval and similarity on a real collection, and import refits at its end", "[eval]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/lee_background.cor");
  testing::TempDir dir;
  auto db = Database::Open(dir / "db").value();
  auto c = db->CreateCollection("lee").value();
  ImportOptions o;
  o.batch_size = 64;  // the first batch fits; the collection then grows 4.7 times
  absl::StatusOr<ImportReport> r = ImportPath(*c, testing::SharedData("gensim/lee_background.cor"), o);
  REQUIRE(r.ok());
  REQUIRE(r->refitted);
  REQUIRE(c->Stats().fitted_documents == 300);

  // A query judged on two documents that share its words: lines 34 and 9
  // (New South Wales bushfires), by the ids the import generated for them.
  auto id_of_line = [&](int line) {
    SearchOptions o{.k = 1, .filter = Filter::Parse(absl::StrCat("line = ", line)).value()};
    std::vector<Hit> hits = c->Search("bushfires", o).value();
    REQUIRE(hits.size() == 1);
    return hits[0].id;
  };
  const std::string queries = dir / "q.tsv", qrels = dir / "qrels.txt", pairs = dir / "p.tsv";
  std::ofstream(queries) << "q1\tbushfires Sydney\nq2\tthe of and\n";
  std::ofstream(qrels) << "query-id corpus-id score\nq1 0 " << id_of_line(34) << " 2\nq1 0 "
                       << id_of_line(9) << " 1\nq2 0 " << id_of_line(1) << " 1\n";
  absl::StatusOr<RetrievalEvaluation> e = EvaluateRetrieval(*c, queries, qrels, {});
  INFO(e.status().message());
  REQUIRE(e.ok());
  REQUIRE(e->judged == 2);  // the stop-word query is answered (empty), not refused
  REQUIRE(e->ndcg_at_10 > 0);
  REQUIRE(e->recall_at_100 > 0);

  absl::StatusOr<double> same = c->Similarity("bushfires near Sydney", "Sydney bushfires");
  absl::StatusOr<double> other = c->Similarity("bushfires near Sydney", "the stock market fell");
  REQUIRE(same.ok());
  REQUIRE(other.ok());
  REQUIRE(*same > *other);
  REQUIRE(*c->Similarity("the of", "bushfires") == 0.0);

  std::ofstream(pairs) << "fires in Sydney\tbushfires near Sydney\t5\n"
                          "fires in Sydney\tthe stock market fell\t0\n"
                          "cricket match\tthe test match in Sydney\t3\n";
  absl::StatusOr<SimilarityEvaluation> sim = EvaluateSimilarity(*c, pairs);
  REQUIRE(sim.ok());
  REQUIRE(sim->pairs == 3);
  REQUIRE(std::isfinite(sim->spearman));

  // Keyword-only search does not need the query's words in the vector model,
  // and a stop-word query is an empty answer, not an error.
  SearchOptions keyword_only;
  keyword_only.hybrid = 1;
  REQUIRE(c->Search("bushfires", keyword_only).ok());
  absl::StatusOr<std::vector<Hit>> stop = c->Search("the of and");
  REQUIRE(stop.ok());
  REQUIRE(stop->empty());
}

}  // namespace
}  // namespace semdb
