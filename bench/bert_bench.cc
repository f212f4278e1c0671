// Times the transformer embedder on a file of sentences (one a line) and
// writes what bert_bench.py compares with PyTorch: the token ids of each
// sentence and the embeddings. Prints "seconds=S" for one Embed of all
// sentences after a warm-up batch (model loading excluded), the precision
// that ran and OpenBLAS's kernels (openblas_get_corename), and
// "load_seconds=S" for TransformerEmbedder::Create (with precision=auto it
// includes the bf16 check: the check texts embedded in both precisions).
// With --load-only 1 it stops after loading (no --sentences needed). Both
// print the process's resident memory then ("rss_mb", VmRSS) and its peak
// so far ("peak_rss_mb", VmHWM).
//
// Usage: bert_bench --model DIR --sentences FILE [--threads 2] [--batch 32]
//                   [--precision fp32|bf16|auto] [--ids FILE] [--vectors FILE]
//                   [--load-only 1]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "embedders/transformer_embedder.h"
#include "fmt/format.h"

namespace {

// "rss_mb=R peak_rss_mb=P" from /proc/self/status (kB there).
std::string MemoryFacts() {
  std::ifstream status("/proc/self/status");
  double rss = 0, peak = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stod(line.substr(6)) / 1024;
    if (line.rfind("VmHWM:", 0) == 0) peak = std::stod(line.substr(6)) / 1024;
  }
  return fmt::format("rss_mb={:.0f} peak_rss_mb={:.0f}", rss, peak);
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, sentences, ids_path, vectors_path, threads = "2", batch = "32",
                                                      precision = "fp32";
  bool load_only = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--model") model = value;
    else if (flag == "--sentences") sentences = value;
    else if (flag == "--threads") threads = value;
    else if (flag == "--batch") batch = value;
    else if (flag == "--precision") precision = value;
    else if (flag == "--ids") ids_path = value;
    else if (flag == "--vectors") vectors_path = value;
    else if (flag == "--load-only") load_only = value == "1";
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (model.empty() || (sentences.empty() && !load_only)) {
    std::cerr << "usage: bert_bench --model DIR --sentences FILE [--threads N] [--batch N] "
                 "[--precision P] [--ids FILE] [--vectors FILE] [--load-only 1]\n";
    return 2;
  }
  semdb::Spec spec{"transformer", {{"path", model}, {"threads", threads}, {"batch_size", batch},
                                   {"precision", precision}}};
  const auto load_start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<semdb::TransformerEmbedder>> e =
      semdb::TransformerEmbedder::Create(spec);
  const double load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  if (!e.ok()) {
    std::cerr << e.status() << "\n";
    return 1;
  }
  if (load_only) {
    std::cout << fmt::format("load_seconds={:.4f} precision={} {}\n", load_seconds,
                             (*e)->Describe()["precision"].get<std::string>(), MemoryFacts());
    return 0;
  }
  std::vector<std::string> texts;
  std::ifstream in(sentences);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) texts.push_back(line);
  }
  std::vector<std::string_view> views(texts.begin(), texts.end());
  const int dim = (*e)->dimension();
  std::vector<float> out(texts.size() * dim);

  const size_t warm = std::min<size_t>(views.size(), 32);
  absl::Status s = (*e)->Embed(absl::MakeSpan(views).subspan(0, warm),
                               absl::MakeSpan(out).subspan(0, warm * dim), nullptr);
  const auto start = std::chrono::steady_clock::now();
  if (s.ok()) s = (*e)->Embed(views, absl::MakeSpan(out), nullptr);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  const nlohmann::json facts = (*e)->Describe();
  std::cout << fmt::format(
      "sentences={} seconds={:.4f} sentences_per_second={:.1f} load_seconds={:.4f} precision={} "
      "openblas_core={} {}\n",
      texts.size(), seconds, texts.size() / seconds, load_seconds,
      facts["precision"].get<std::string>(),
      facts["blas"]["core"].get<std::string>(), MemoryFacts());
  if (!ids_path.empty()) {
    std::ofstream ids(ids_path);
    for (const std::string& t : texts) {
      absl::StatusOr<semdb::EncodedText> enc = (*e)->tokenizer().Encode(t, (*e)->max_length());
      if (!enc.ok()) return 1;
      for (size_t k = 0; k < enc->ids.size(); ++k) ids << (k ? " " : "") << enc->ids[k];
      ids << "\n";
    }
  }
  if (!vectors_path.empty()) {
    std::ofstream v(vectors_path, std::ios::binary);
    v.write(reinterpret_cast<const char*>(out.data()), out.size() * sizeof(float));
  }
  return 0;
}
