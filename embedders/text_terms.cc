#include "embedders/text_terms.h"

#include <libstemmer.h>

#include <memory>

#include "absl/container/flat_hash_map.h"
#include "embedders/stop_words.h"

namespace semdb {
namespace {

struct StemmerDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};

// A libstemmer stemmer keeps per-call state: one per thread.
sb_stemmer* ThreadStemmer() {
  thread_local std::unique_ptr<sb_stemmer, StemmerDeleter> stemmer(
      sb_stemmer_new("english", "UTF_8"));
  return stemmer.get();
}

// Stems already computed by this thread: a word's stem is looked up rather
// than recomputed (libstemmer was the larger part of a fit's tokenization
// in perf). Bounded: emptied when full, so a stream of distinct words
// costs at most this many entries per thread.
constexpr size_t kStemCacheEntries = size_t{1} << 16;

const std::string& CachedEnglishStem(const std::string& word) {
  thread_local absl::flat_hash_map<std::string, std::string> cache;
  if (auto it = cache.find(word); it != cache.end()) return it->second;
  if (cache.size() >= kStemCacheEntries) cache.clear();
  return cache.emplace(word, EnglishStem(word)).first->second;
}

}  // namespace

std::string EnglishStem(std::string_view word) {
  sb_stemmer* stemmer = ThreadStemmer();
  if (stemmer == nullptr) return std::string(word);  // out of memory: unstemmed
  const sb_symbol* out = sb_stemmer_stem(
      stemmer, reinterpret_cast<const sb_symbol*>(word.data()), static_cast<int>(word.size()));
  if (out == nullptr) return std::string(word);
  return std::string(reinterpret_cast<const char*>(out),
                     static_cast<size_t>(sb_stemmer_length(stemmer)));
}

absl::StatusOr<std::vector<std::string>> TextTerms(std::string_view text,
                                                   const TermOptions& options) {
  absl::StatusOr<std::vector<std::string>> words = TokenizeWords(text, options.tokenizer);
  if (!words.ok()) return words;
  if (options.english_stop_words) {
    std::erase_if(*words, [](const std::string& w) { return IsEnglishStopWord(w); });
  }
  if (options.english_stemming) {
    for (std::string& w : *words) w = CachedEnglishStem(w);
  }
  return words;
}

}  // namespace semdb
