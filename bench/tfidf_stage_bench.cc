// The TF-IDF stage alone, semdb's side of bench/text_import_bench.py: fits
// the default embedder's TF-IDF ("tfidf lsa=false", so no SVD) on the lines
// of CORPUS and computes every line's sparse TF-IDF row, as scikit-learn's
// TfidfVectorizer.fit_transform does. Prints {"seconds": wall, "cpu": this
// process's user+system seconds} of that work, reading the file excluded.
//
//   tfidf_stage_bench CORPUS
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "embedders/tfidf_embedder.h"

namespace {

double CpuSeconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec * 1e-6;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tfidf_stage_bench CORPUS\n");
    return 2;
  }
  std::vector<std::string> texts;
  std::ifstream in(argv[1]);
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) texts.push_back(line);
  }
  const double cpu_start = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<semdb::Spec> spec = semdb::Spec::Parse("tfidf lsa=false");
  if (!spec.ok()) return Fail(spec.status());
  absl::StatusOr<std::unique_ptr<semdb::TfidfEmbedder>> tfidf = semdb::TfidfEmbedder::Create(*spec);
  if (!tfidf.ok()) return Fail(tfidf.status());
  if (absl::Status s = (*tfidf)->Fit(semdb::CorpusOf(texts)); !s.ok()) return Fail(s);
  size_t nonzeros = 0;
  for (const std::string& t : texts) {
    absl::StatusOr<std::vector<std::pair<int32_t, float>>> row = (*tfidf)->TfidfRow(t, nullptr);
    if (!row.ok()) return Fail(row.status());
    nonzeros += row->size();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"seconds\": %.6f, \"cpu\": %.6f, \"nonzeros\": %zu}\n", seconds,
              CpuSeconds() - cpu_start, nonzeros);
  return 0;
}
