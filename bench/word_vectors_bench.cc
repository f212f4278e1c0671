// Word-vector loading and embedding benchmark.
//
// Generates a synthetic GloVe text file (default 400,000 words x 300
// dimensions, about 1 GB; kept in --dir, default <build>/bench-data, for
// later runs),
// then measures, each phase in a fresh child process so that its resident
// memory is its own:
//   first open   streaming the text into the binary cache, then mapping it
//   reopen       mapping the existing cache
//   embed        documents embedded per second (Zipf-distributed words, 5%
//                unknown) through the glove embedder, and a `similar` query
//   peer         a plain Python + numpy loader of the same file
//                (bench/numpy_text_loader.py), and the raw sequential read
//                speed of the file as a floor
// Page cache: the file was just written or read, so reads come from memory
// on every phase alike; the numbers are CPU cost, not disk speed.
//
// Usage: word_vectors_bench [--words N] [--dim D] [--docs N] [--dir DIR]
//                           [--no-python]
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "embedders/embedder_factory.h"
#include "embedders/nearest_words.h"
#include "embedders/word_vector_embedder.h"
#include "embedders/word_vector_loader.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"

namespace fs = std::filesystem;

namespace semdb {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// VmRSS and VmHWM of this process, in MiB.
std::pair<double, double> Memory() {
  std::ifstream in("/proc/self/status");
  double rss = 0, hwm = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stod(line.substr(6)) / 1024;
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::stod(line.substr(6)) / 1024;
  }
  return {rss, hwm};
}

std::string Word(int64_t i) { return fmt::format("w{}", i); }

// GloVe text: "word v1 ... vd", values with 5 significant digits as GloVe's.
void Generate(const std::string& path, int64_t words, int dim) {
  std::mt19937_64 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.4f);
  const std::string temp = path + ".tmp";
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + temp);
  fmt::memory_buffer line;
  for (int64_t i = 0; i < words; ++i) {
    line.clear();
    fmt::format_to(std::back_inserter(line), "{}", Word(i));
    for (int j = 0; j < dim; ++j) fmt::format_to(std::back_inserter(line), " {:.5g}", normal(rng));
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), f);
  }
  std::fclose(f);
  fs::rename(temp, path);
}

double RawReadSeconds(const std::string& path) {
  const auto start = Clock::now();
  int fd = ::open(path.c_str(), O_RDONLY);
  std::vector<char> buffer(4 << 20);
  while (::read(fd, buffer.data(), buffer.size()) > 0) {
  }
  ::close(fd);
  return Seconds(start);
}

// Child phases print one JSON object.
nlohmann::json OpenPhase(const std::string& path, const std::string& cache_dir) {
  const auto start = Clock::now();
  absl::StatusOr<LoadedWordVectors> loaded =
      LoadWordVectors({path, WordVectorKind::kGlove, BinaryChoice::kAuto, cache_dir});
  const double seconds = Seconds(start);
  if (!loaded.ok()) throw std::runtime_error(loaded.status().ToString());
  // Touch one vector so that the model is really usable.
  std::vector<float> v(loaded->model->dimension());
  loaded->model->Lookup(Word(loaded->model->size() / 2), absl::MakeSpan(v));
  auto [rss, hwm] = Memory();
  return {{"seconds", seconds},   {"built_cache", loaded->built_cache},
          {"rss_mib", rss},       {"hwm_mib", hwm},
          {"words", loaded->model->size()}, {"cache", loaded->cache_path}};
}

nlohmann::json EmbedPhase(const std::string& path, const std::string& cache_dir, int64_t docs) {
  absl::StatusOr<Spec> spec = Spec::Parse(fmt::format("glove path='{}'", path));
  absl::StatusOr<std::unique_ptr<Embedder>> e = CreateEmbedder(*spec, EmbedderContext{cache_dir});
  if (!e.ok()) throw std::runtime_error(e.status().ToString());
  auto* w = dynamic_cast<WordVectorEmbedder*>(e->get());
  const int64_t vocab = w->model().size();
  const int dim = w->dimension();

  // Zipf(1) over the vocabulary ranks, 100 tokens a document, 5% unknown.
  std::vector<double> cdf(vocab);
  double total = 0;
  for (int64_t r = 0; r < vocab; ++r) cdf[r] = total += 1.0 / (r + 1);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, total);
  std::uniform_int_distribution<int> percent(0, 99);
  std::vector<std::string> texts(docs);
  for (std::string& t : texts) {
    for (int k = 0; k < 100; ++k) {
      if (percent(rng) < 5) {
        t += fmt::format("unk{} ", rng() % 100000);
      } else {
        t += Word(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
        t += k % 12 == 11 ? ". " : " ";
      }
    }
  }
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<float> out(static_cast<size_t>(docs) * dim);
  std::vector<TextStats> stats;
  const auto start = Clock::now();
  constexpr int64_t kBatch = 1000;
  int64_t unknown = 0, tokens = 0;
  for (int64_t b = 0; b < docs; b += kBatch) {
    const int64_t n = std::min(kBatch, docs - b);
    absl::Status s = (*e)->Embed(absl::MakeConstSpan(views).subspan(b, n),
                                 absl::MakeSpan(out).subspan(b * dim, n * dim), &stats);
    if (!s.ok()) throw std::runtime_error(s.ToString());
    for (const TextStats& st : stats) {
      unknown += st.unknown_tokens;
      tokens += st.tokens;
    }
  }
  const double seconds = Seconds(start);
  const auto q = Clock::now();
  absl::StatusOr<std::vector<WordMatch>> similar = NearestWords(*w, Word(12345), 10);
  const double query_seconds = Seconds(q);
  if (!similar.ok()) throw std::runtime_error(similar.status().ToString());
  auto [rss, hwm] = Memory();
  return {{"docs", docs},
          {"seconds", seconds},
          {"docs_per_second", docs / seconds},
          {"tokens_per_second", tokens / seconds},
          {"unknown_fraction", static_cast<double>(unknown) / tokens},
          {"similar_query_seconds", query_seconds},
          {"threads", std::thread::hardware_concurrency()},
          {"rss_mib", rss},
          {"hwm_mib", hwm}};
}

nlohmann::json RunChild(const std::string& command) {
  std::FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run " + command);
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), p)) > 0) output.append(buffer, n);
  const int status = ::pclose(p);
  if (status != 0) throw std::runtime_error(fmt::format("'{}' failed: {}", command, output));
  return nlohmann::json::parse(output);
}

std::string Self() { return fs::read_symlink("/proc/self/exe").string(); }

int Main(int argc, char** argv) {
  int64_t words = 400000, docs = 20000;
  int dim = 300;
  std::string dir = std::string(SEMDB_BINARY_DIR) + "/bench-data", phase;
  bool python = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--words") {
      words = std::stoll(next());
    } else if (a == "--dim") {
      dim = std::stoi(next());
    } else if (a == "--docs") {
      docs = std::stoll(next());
    } else if (a == "--dir") {
      dir = next();
    } else if (a == "--phase") {
      phase = next();
    } else if (a == "--no-python") {
      python = false;
    } else {
      std::fprintf(stderr, "usage: %s [--words N] [--dim D] [--docs N] [--dir DIR] [--no-python]\n",
                   argv[0]);
      return 2;
    }
  }
  fs::create_directories(dir);
  dir = fs::absolute(dir).string();
  const std::string file = fmt::format("{}/synthetic_glove_{}x{}.txt", dir, words, dim);
  const std::string cache_dir = dir + "/cache";
  if (phase == "open") {
    std::printf("%s\n", OpenPhase(file, cache_dir).dump().c_str());
    return 0;
  }
  if (phase == "embed") {
    std::printf("%s\n", EmbedPhase(file, cache_dir, docs).dump().c_str());
    return 0;
  }

  if (!fs::exists(file)) {
    std::printf("generating %s ...\n", file.c_str());
    std::fflush(stdout);
    const auto start = Clock::now();
    Generate(file, words, dim);
    std::printf("  generated in %.1f s\n", Seconds(start));
  }
  const double mib = fs::file_size(file) / 1048576.0;
  fs::remove_all(cache_dir);
  const std::string self = fmt::format("'{}' --words {} --dim {} --docs {} --dir '{}'", Self(),
                                       words, dim, docs, dir);
  const double raw = RawReadSeconds(file);
  const nlohmann::json first = RunChild(self + " --phase open");
  const nlohmann::json reopen = RunChild(self + " --phase open");
  const nlohmann::json embed = RunChild(self + " --phase embed");
  nlohmann::json peer;
  if (python) {
    const fs::path script = fs::path(SEMDB_SOURCE_DIR) / "bench" / "numpy_text_loader.py";
    peer = RunChild(fmt::format("/usr/bin/python3 '{}' '{}'", script.string(), file));
  }

  std::printf("\nword vectors: %lld words x %d dims, GloVe text %.0f MiB, page cache warm\n",
              static_cast<long long>(words), dim, mib);
  std::printf("%-44s %10s %10s %10s\n", "phase", "seconds", "RSS MiB", "peak MiB");
  std::printf("%-44s %10.2f %10s %10s   (%.0f MiB/s)\n", "raw sequential read() of the text (floor)",
              raw, "-", "-", mib / raw);
  std::printf("%-44s %10.2f %10.1f %10.1f   (%.0f MiB/s)\n", "first open: stream text + write cache",
              first["seconds"].get<double>(), first["rss_mib"].get<double>(),
              first["hwm_mib"].get<double>(), mib / first["seconds"].get<double>());
  std::printf("%-44s %10.4f %10.1f %10.1f\n", "reopen: map the cache",
              reopen["seconds"].get<double>(), reopen["rss_mib"].get<double>(),
              reopen["hwm_mib"].get<double>());
  if (python) {
    std::printf("%-44s %10.2f %10s %10.1f\n", "peer: Python + numpy text loader",
                peer["seconds"].get<double>(), "-", peer["peak_rss_mib"].get<double>());
  }
  std::printf("\nembedding (glove, mean; %lld docs of 100 tokens, %.0f%% unknown, %u threads): "
              "%.0f docs/s, %.0f tokens/s; RSS %.1f MiB\n",
              static_cast<long long>(docs), 100 * embed["unknown_fraction"].get<double>(),
              embed["threads"].get<unsigned>(), embed["docs_per_second"].get<double>(),
              embed["tokens_per_second"].get<double>(), embed["rss_mib"].get<double>());
  std::printf("similar query over the whole vocabulary: %.3f s\n",
              embed["similar_query_seconds"].get<double>());
  std::printf("cache: %s (%.0f MiB)\n", first["cache"].get<std::string>().c_str(),
              fs::file_size(first["cache"].get<std::string>()) / 1048576.0);
  nlohmann::json all = {{"raw_read_seconds", raw}, {"first_open", first}, {"reopen", reopen},
                        {"embed", embed},          {"peer", peer},        {"text_mib", mib}};
  std::ofstream(dir + "/word_vectors_bench.json") << all.dump(1) << "\n";
  return 0;
}

}  // namespace
}  // namespace semdb

int main(int argc, char** argv) {
  try {
    return semdb::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "word_vectors_bench: %s\n", e.what());
    return 1;
  }
}
