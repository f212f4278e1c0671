// Chunking time against text size: splits a 10 MB and a 100 MB text of the
// same sentences ("chars size=1000 overlap=200", as in the chunker test),
// interleaved, best of 3 each, and prints the ratio of the two times. A
// chunker linear in the text's length gives about 10; a quadratic one 100.
//
// Usage: chunker_bench
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "src/chunker.h"

namespace {

std::string Text(size_t bytes) {
  const std::string sentence =
      "The quick brown fox jumps over the lazy dog near the riverbank at dawn. ";
  std::string text;
  text.reserve(bytes);
  while (text.size() + sentence.size() <= bytes) {
    text += sentence;
    if (text.size() % 7 == 0) text += "\n\n";
  }
  return text;
}

double Seconds(const semdb::Chunker& chunker, const std::string& text, size_t* passages) {
  const auto start = std::chrono::steady_clock::now();
  *passages = chunker.Split(text).size();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main() {
  absl::StatusOr<semdb::Chunker> chunker = semdb::Chunker::Create("chars size=1000 overlap=200");
  if (!chunker.ok()) {
    std::fprintf(stderr, "%s\n", std::string(chunker.status().message()).c_str());
    return 1;
  }
  const std::string small = Text(size_t{10} << 20), large = Text(size_t{100} << 20);
  double best_small = 1e300, best_large = 1e300;
  size_t small_passages = 0, large_passages = 0;
  for (int round = 0; round < 3; ++round) {
    best_small = std::min(best_small, Seconds(*chunker, small, &small_passages));
    best_large = std::min(best_large, Seconds(*chunker, large, &large_passages));
  }
  std::printf("cores: %u\n", std::thread::hardware_concurrency());
  std::printf("10 MB:  %zu passages in %.3f s (best of 3)\n", small_passages, best_small);
  std::printf("100 MB: %zu passages in %.3f s (best of 3)\n", large_passages, best_large);
  std::printf("time ratio 100 MB / 10 MB: %.1f (linear: about 10)\n", best_large / best_small);
  return 0;
}
