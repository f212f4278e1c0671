#include "embedders/word_similarity.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>

#include "absl/container/flat_hash_set.h"
#include "fmt/format.h"

namespace semdb {
namespace {

std::vector<double> Ranks(absl::Span<const double> v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t t = i; t <= j; ++t) ranks[order[t]] = rank;
    i = j + 1;
  }
  return ranks;
}

std::vector<std::string_view> Fields(std::string_view line) {
  const bool tabs = line.find('\t') != std::string_view::npos;
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= line.size()) {
    size_t j = tabs ? line.find('\t', i) : line.find_first_of(" \t", i);
    if (j == std::string_view::npos) j = line.size();
    std::string_view f = line.substr(i, j - i);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\r')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\r')) f.remove_suffix(1);
    if (!f.empty() || tabs) out.push_back(f);
    i = j + 1;
  }
  return out;
}

}  // namespace

double SpearmanRho(absl::Span<const double> x, absl::Span<const double> y) {
  return PearsonR(Ranks(x), Ranks(y));
}

double PearsonR(absl::Span<const double> rx, absl::Span<const double> ry) {
  const double n = static_cast<double>(rx.size());
  const double mx = std::accumulate(rx.begin(), rx.end(), 0.0) / n;
  const double my = std::accumulate(ry.begin(), ry.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  if (sxx == 0 || syy == 0) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

absl::StatusOr<WordSimilarityResult> EvaluateWordSimilarity(const WordVectorEmbedder& embedder,
                                                            const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("cannot open {}", path));
  const WordVectorModel& m = embedder.model();
  const int dim = m.dimension();
  std::vector<float> a(dim), b(dim);
  // Looks a word up; false when it has no vector.
  auto vector_of = [&](std::string_view word, std::vector<float>* out,
                       bool* subwords) -> absl::StatusOr<bool> {
    absl::StatusOr<std::string> w = embedder.NormalizeWord(word);
    if (!w.ok()) return w.status();
    const WordSource source = m.Lookup(*w, absl::MakeSpan(*out));
    *subwords = *subwords || source == WordSource::kSubwords;
    return source != WordSource::kUnknown &&
           std::any_of(out->begin(), out->end(), [](float x) { return x != 0; });
  };
  WordSimilarityResult result;
  absl::flat_hash_set<std::string> missing;
  std::vector<double> human, cosine;
  bool first_data_line = true;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    std::string_view view(line);
    while (!view.empty() && (view.back() == '\r' || view.back() == ' ')) view.remove_suffix(1);
    if (view.empty() || view.front() == '#') continue;
    const std::vector<std::string_view> f = Fields(view);
    const std::string where = fmt::format("{}:{}", path, line_no);
    double score = 0;
    bool numeric = false;
    if (f.size() >= 3) {
      auto [p, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), score);
      numeric = ec == std::errc() && p == f[2].data() + f[2].size() && std::isfinite(score);
    }
    const bool header = first_data_line && f.size() >= 3 && !numeric;
    first_data_line = false;
    if (header) continue;
    if (f.size() < 3 || f[0].empty() || f[1].empty()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: expected 'word1 <TAB> word2 <TAB> score'", where));
    }
    if (!numeric) {
      return absl::InvalidArgumentError(
          fmt::format("{}: the score '{}' is not a number", where, f[2]));
    }
    bool subwords = false;
    absl::StatusOr<bool> has_a = vector_of(f[0], &a, &subwords);
    if (!has_a.ok()) return absl::InvalidArgumentError(fmt::format("{}: {}", where, std::string(has_a.status().message())));
    absl::StatusOr<bool> has_b = vector_of(f[1], &b, &subwords);
    if (!has_b.ok()) return absl::InvalidArgumentError(fmt::format("{}: {}", where, std::string(has_b.status().message())));
    if (!*has_a || !*has_b) {
      ++result.pairs_skipped;
      for (auto [word, has] : {std::pair{f[0], *has_a}, std::pair{f[1], *has_b}}) {
        if (!has && missing.insert(std::string(word)).second) {
          result.missing_words.emplace_back(word);
        }
      }
      continue;
    }
    double dot = 0, na = 0, nb = 0;
    for (int j = 0; j < dim; ++j) {
      dot += static_cast<double>(a[j]) * b[j];
      na += static_cast<double>(a[j]) * a[j];
      nb += static_cast<double>(b[j]) * b[j];
    }
    human.push_back(score);
    cosine.push_back(dot / std::sqrt(na * nb));
    ++result.pairs_used;
    if (subwords) ++result.pairs_with_subwords;
  }
  if (result.pairs_used < 2) {
    return absl::FailedPreconditionError(fmt::format(
        "{}: only {} pair(s) have vectors for both words ({} skipped); Spearman's rho needs 2",
        path, result.pairs_used, result.pairs_skipped));
  }
  result.spearman = SpearmanRho(human, cosine);
  return result;
}

}  // namespace semdb
