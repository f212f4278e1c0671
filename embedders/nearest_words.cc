#include "embedders/nearest_words.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "absl/container/flat_hash_set.h"
#include "embedders/parallel_for.h"
#include "fmt/format.h"

namespace semdb {

absl::StatusOr<std::vector<WordTerm>> ParseWordExpression(std::string_view expression) {
  std::vector<WordTerm> terms;
  int pending_sign = 0;  // an operator waiting for its word
  size_t i = 0;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < expression.size()) {
    if (is_space(expression[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < expression.size() && !is_space(expression[j])) ++j;
    std::string_view token = expression.substr(i, j - i);
    i = j;
    while (!token.empty() && (token[0] == '+' || token[0] == '-')) {
      if (pending_sign != 0) {
        return absl::InvalidArgumentError(
            fmt::format("two operators in a row in '{}'", std::string(expression)));
      }
      pending_sign = token[0] == '+' ? 1 : -1;
      token.remove_prefix(1);
    }
    if (token.empty()) continue;
    if (pending_sign == 0 && !terms.empty()) {
      return absl::InvalidArgumentError(fmt::format(
          "expected '+' or '-' between '{}' and '{}'", terms.back().word, std::string(token)));
    }
    terms.push_back(WordTerm{std::string(token), pending_sign == 0 ? 1 : pending_sign});
    pending_sign = 0;
  }
  if (pending_sign != 0) {
    return absl::InvalidArgumentError(
        fmt::format("'{}' ends with an operator", std::string(expression)));
  }
  if (terms.empty()) return absl::InvalidArgumentError("empty word expression");
  return terms;
}

absl::StatusOr<std::vector<WordMatch>> NearestWords(const WordVectorEmbedder& embedder,
                                                    std::string_view expression, int k) {
  if (k < 1) return absl::InvalidArgumentError("k must be at least 1");
  absl::StatusOr<std::vector<WordTerm>> terms = ParseWordExpression(expression);
  if (!terms.ok()) return terms.status();
  const WordVectorModel& m = embedder.model();
  const int dim = m.dimension();
  std::vector<double> query(dim, 0.0);
  std::vector<float> v(dim);
  absl::flat_hash_set<int64_t> excluded;
  for (const WordTerm& term : *terms) {
    absl::StatusOr<std::string> word = embedder.NormalizeWord(term.word);
    if (!word.ok()) return word.status();
    if (m.Lookup(*word, absl::MakeSpan(v)) == WordSource::kUnknown) {
      return absl::NotFoundError(fmt::format("no vector for '{}'", *word));
    }
    double norm = 0;
    for (float x : v) norm += static_cast<double>(x) * x;
    if (norm == 0) return absl::NotFoundError(fmt::format("the vector of '{}' is zero", *word));
    norm = std::sqrt(norm);
    for (int j = 0; j < dim; ++j) query[j] += term.sign * v[j] / norm;
    if (int64_t index = m.Find(*word); index >= 0) excluded.insert(index);
  }
  double qnorm = 0;
  for (double x : query) qnorm += x * x;
  if (qnorm == 0) {
    return absl::InvalidArgumentError(
        fmt::format("'{}' adds up to a zero vector", std::string(expression)));
  }
  qnorm = std::sqrt(qnorm);
  std::vector<float> q(dim);
  for (int j = 0; j < dim; ++j) q[j] = static_cast<float>(query[j] / qnorm);

  const float* rows = m.vocabulary_vectors();
  const float* inverse_norms = m.inverse_norms();
  const int64_t n = m.size();
  using Scored = std::pair<float, int64_t>;  // (cosine, index)
  // Best first; ties by vocabulary order, which is frequency order in the
  // usual files.
  auto better = [](const Scored& a, const Scored& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  std::vector<Scored> best;
  std::mutex best_mutex;
  ParallelFor(n, 16384, [&](int64_t begin, int64_t end) {
    std::vector<Scored> local;  // a heap whose top is the worst kept
    for (int64_t i = begin; i < end; ++i) {
      if (inverse_norms[i] == 0 || excluded.contains(i)) continue;
      const float* row = rows + i * dim;
      float dot = 0;
      for (int j = 0; j < dim; ++j) dot += row[j] * q[j];
      Scored s{dot * inverse_norms[i], i};
      if (static_cast<int>(local.size()) < k) {
        local.push_back(s);
        std::push_heap(local.begin(), local.end(), better);
      } else if (better(s, local.front())) {
        std::pop_heap(local.begin(), local.end(), better);
        local.back() = s;
        std::push_heap(local.begin(), local.end(), better);
      }
    }
    std::lock_guard<std::mutex> lock(best_mutex);
    best.insert(best.end(), local.begin(), local.end());
  });
  std::sort(best.begin(), best.end(), better);
  if (static_cast<int>(best.size()) > k) best.resize(k);
  std::vector<WordMatch> out;
  out.reserve(best.size());
  for (const auto& [cosine, index] : best) {
    out.push_back(WordMatch{std::string(m.word(index)), cosine});
  }
  return out;
}

}  // namespace semdb
