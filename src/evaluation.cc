#include "semdb/evaluation.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "embedders/word_similarity.h"
#include "storage/bounded_json.h"

namespace semdb {
namespace {

double Gain(int grade) { return grade > 0 ? std::exp2(grade) - 1 : 0; }

int64_t RelevantCount(const Judgments& judged) {
  return std::count_if(judged.begin(), judged.end(), [](const auto& j) { return j.second > 0; });
}

int GradeOf(const Judgments& judged, const std::string& id) {
  auto it = judged.find(id);
  return it == judged.end() ? 0 : it->second;
}

// Calls `line_fn(line, number)` for each line (CR stripped).
absl::Status ForEachLine(const std::string& path,
                         const std::function<absl::Status(absl::string_view, int64_t)>& line_fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    absl::string_view l = line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (absl::Status s = line_fn(l, number); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(path, ":", number, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

std::string JsonId(const nlohmann::json& j) {
  return j.is_string() ? j.get<std::string>() : j.dump();
}

}  // namespace

double NdcgAt(const std::vector<std::string>& ranking, const Judgments& judged, int k) {
  double dcg = 0;
  for (int i = 0; i < k && i < static_cast<int>(ranking.size()); ++i) {
    dcg += Gain(GradeOf(judged, ranking[i])) / std::log2(i + 2.0);
  }
  std::vector<int> grades;
  for (const auto& [id, g] : judged) grades.push_back(g);
  std::sort(grades.begin(), grades.end(), std::greater<>());
  double ideal = 0;
  for (int i = 0; i < k && i < static_cast<int>(grades.size()); ++i) {
    ideal += Gain(grades[i]) / std::log2(i + 2.0);
  }
  return ideal > 0 ? dcg / ideal : 0;
}

double AveragePrecision(const std::vector<std::string>& ranking, const Judgments& judged) {
  const int64_t relevant = RelevantCount(judged);
  if (relevant == 0) return 0;
  double sum = 0;
  int64_t found = 0;
  for (size_t i = 0; i < ranking.size(); ++i) {
    if (GradeOf(judged, ranking[i]) > 0) sum += static_cast<double>(++found) / (i + 1);
  }
  return sum / relevant;
}

double RecallAt(const std::vector<std::string>& ranking, const Judgments& judged, int k) {
  const int64_t relevant = RelevantCount(judged);
  if (relevant == 0) return 0;
  int64_t found = 0;
  for (int i = 0; i < k && i < static_cast<int>(ranking.size()); ++i) {
    if (GradeOf(judged, ranking[i]) > 0) ++found;
  }
  return static_cast<double>(found) / relevant;
}

absl::StatusOr<std::vector<EvalQuery>> ReadQueries(const std::string& path) {
  std::vector<EvalQuery> queries;
  absl::Status s = ForEachLine(path, [&](absl::string_view line, int64_t) -> absl::Status {
    if (absl::StripAsciiWhitespace(line).empty()) return absl::OkStatus();
    if (line.front() == '{') {
      absl::StatusOr<nlohmann::json> parsed = ParseJson(std::string_view(line.data(), line.size()));
      if (!parsed.ok()) return parsed.status();
      nlohmann::json& j = *parsed;
      if (!j.is_object()) return absl::InvalidArgumentError("malformed JSON: not an object");
      EvalQuery q;
      for (const char* key : {"_id", "id", "query_id", "qid"}) {
        if (j.contains(key)) {
          q.id = JsonId(j[key]);
          break;
        }
      }
      for (const char* key : {"text", "query"}) {
        if (j.contains(key) && j[key].is_string()) {
          q.text = j[key].get<std::string>();
          break;
        }
      }
      if (q.id.empty() || q.text.empty()) {
        return absl::InvalidArgumentError("a query needs an id (\"_id\", \"id\", \"query_id\", "
                                          "\"qid\") and a text (\"text\", \"query\")");
      }
      queries.push_back(std::move(q));
      return absl::OkStatus();
    }
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits('\t', 1));
    if (f.size() != 2 || f[1].empty()) {
      return absl::InvalidArgumentError("expected \"id<TAB>text\" or a JSON object");
    }
    queries.push_back({std::string(f[0]), std::string(f[1])});
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (queries.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no queries"));
  return queries;
}

absl::StatusOr<absl::flat_hash_map<std::string, Judgments>> ReadQrels(const std::string& path) {
  absl::flat_hash_map<std::string, Judgments> qrels;
  int64_t lines = 0;
  absl::Status s = ForEachLine(path, [&](absl::string_view line, int64_t) -> absl::Status {
    std::vector<absl::string_view> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.empty()) return absl::OkStatus();
    const bool first = ++lines == 1;
    if (f.size() != 3 && f.size() != 4) {
      return absl::InvalidArgumentError(
          "expected \"query iteration document grade\" or \"query document grade\"");
    }
    int grade;
    if (!absl::SimpleAtoi(f.back(), &grade)) {
      if (first) return absl::OkStatus();  // a header
      return absl::InvalidArgumentError(absl::StrCat("grade '", f.back(), "' is not an integer"));
    }
    qrels[std::string(f[0])][std::string(f[f.size() - 2])] = grade;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (qrels.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no judgments"));
  return qrels;
}

nlohmann::json RetrievalEvaluation::ToJson() const {
  return {{"queries", queries},       {"judged_queries", judged},
          {"depth", depth},           {"ndcg@10", ndcg_at_10},
          {"map", map},               {"recall@10", recall_at_10},
          {"recall@100", recall_at_100}, {"gain", "2^grade - 1"}};
}

absl::StatusOr<RetrievalEvaluation> EvaluateRetrieval(const Collection& collection,
                                                      const std::string& queries_path,
                                                      const std::string& qrels_path,
                                                      SearchOptions options, int depth) {
  absl::StatusOr<std::vector<EvalQuery>> queries = ReadQueries(queries_path);
  if (!queries.ok()) return queries.status();
  absl::StatusOr<absl::flat_hash_map<std::string, Judgments>> qrels = ReadQrels(qrels_path);
  if (!qrels.ok()) return qrels.status();
  RetrievalEvaluation e;
  e.queries = static_cast<int64_t>(queries->size());
  e.depth = std::clamp<int>(depth, 1, kMaxK);
  options.k = e.depth;
  options.one_per_parent = true;  // documents are judged, not passages
  for (const EvalQuery& q : *queries) {
    auto it = qrels->find(q.id);
    if (it == qrels->end() || RelevantCount(it->second) == 0) continue;
    absl::StatusOr<std::vector<Hit>> hits = collection.Search(q.text, options);
    if (!hits.ok()) {
      return absl::Status(hits.status().code(),
                          absl::StrCat("query ", q.id, ": ", hits.status().message()));
    }
    std::vector<std::string> ranking;
    for (const Hit& h : *hits) ranking.push_back(h.id);
    ++e.judged;
    e.ndcg_at_10 += NdcgAt(ranking, it->second, 10);
    e.map += AveragePrecision(ranking, it->second);
    e.recall_at_10 += RecallAt(ranking, it->second, 10);
    e.recall_at_100 += RecallAt(ranking, it->second, 100);
  }
  if (e.judged == 0) {
    return absl::InvalidArgumentError("no query of the queries file has a relevant document "
                                      "in the qrels file (do the query ids match?)");
  }
  const double n = static_cast<double>(e.judged);
  e.ndcg_at_10 /= n;
  e.map /= n;
  e.recall_at_10 /= n;
  e.recall_at_100 /= n;
  return e;
}

nlohmann::json SimilarityEvaluation::ToJson() const {
  return {{"pairs", pairs}, {"spearman", spearman}, {"pearson", pearson}};
}

absl::StatusOr<SimilarityEvaluation> EvaluateSimilarity(const Collection& collection,
                                                        const std::string& pairs_path) {
  std::vector<double> human, model;
  absl::Status s = ForEachLine(pairs_path, [&](absl::string_view line, int64_t) -> absl::Status {
    if (absl::StripAsciiWhitespace(line).empty()) return absl::OkStatus();
    std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    absl::string_view a, b, score_text;
    double score;
    if (f.size() >= 7 && absl::SimpleAtod(f[4], &score)) {
      a = f[5];
      b = f[6];
    } else if (f.size() == 3) {
      a = f[0];
      b = f[1];
      score_text = f[2];
      if (!absl::SimpleAtod(score_text, &score)) {
        if (human.empty()) return absl::OkStatus();  // a header
        return absl::InvalidArgumentError(absl::StrCat("score '", score_text, "' is not a number"));
      }
    } else {
      return absl::InvalidArgumentError(
          "expected \"text1<TAB>text2<TAB>score\" or the STS Benchmark layout");
    }
    absl::StatusOr<double> cosine = collection.Similarity(std::string_view(a.data(), a.size()),
                                                           std::string_view(b.data(), b.size()));
    if (!cosine.ok()) return cosine.status();
    human.push_back(score);
    model.push_back(*cosine);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (human.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(pairs_path, ": fewer than two pairs"));
  }
  SimilarityEvaluation e;
  e.pairs = static_cast<int64_t>(human.size());
  e.spearman = 100 * SpearmanRho(model, human);
  e.pearson = 100 * PearsonR(model, human);
  return e;
}

}  // namespace semdb
