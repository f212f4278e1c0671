// Options for opening a database, creating collections, writing and
// searching.
#ifndef SEMDB_OPTIONS_H_
#define SEMDB_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "semdb/filter.h"
#include "semdb/vector_index.h"

namespace semdb {

struct Options {
  bool create_if_missing = true;
  bool error_if_exists = false;
  // Every write is durable (WAL fsynced) before it returns. Off: a write
  // survives a process crash, but the last writes may be lost on power loss.
  bool sync = false;
  // A fittable embedder (TF-IDF) is refitted, re-embedding every document,
  // when the collection has grown to this multiple of the documents it was
  // last fitted on; doubling keeps the total refit work linear.
  double refit_growth = 2.0;
  // A collection's index is saved (besides at close and after rebuilds)
  // once this many index operations were logged since its last save; the
  // log replayed at open is bounded by it.
  int64_t index_save_interval = 100000;
};

struct CollectionSpec {
  // "tfidf dim=256", or "vectors dim=N" for caller-supplied vectors; see
  // `help create` for every kind.
  std::string embedder = "tfidf";
  std::string index = "flat";
  // How documents are split into passages, which are embedded and searched
  // one by one: "none" (whole documents), "chars size=1000 overlap=200",
  // "tokens size=200 overlap=40", "sentences max_chars=1000",
  // "paragraphs max_chars=2000"; see `help create`. Fixed for the
  // collection's life; not for "vectors" collections.
  std::string chunking = "none";
};

struct WriteOptions {
  std::optional<bool> sync;  // overrides Options::sync for this call
};

inline constexpr int kMaxK = 10000;
inline constexpr int kMaxNeighbors = 20;

struct SearchOptions {
  int k = 10;  // 1..kMaxK
  std::optional<Filter> filter;
  IndexSearchKnobs knobs;
  // Passage options, for chunked collections (in others a hit is a whole
  // document: it has no neighbours and is its own parent, so they change
  // nothing).
  // Only the best passage of each document: k hits from k distinct
  // documents whenever that many match.
  bool one_per_parent = false;
  // Also return up to this many passages before and after each hit
  // (0..kMaxNeighbors), in Hit::neighbors.
  int neighbors = 0;
  // Also return the whole text of each hit's document, in Hit::parent_text.
  bool include_parent = false;
};

}  // namespace semdb

#endif  // SEMDB_OPTIONS_H_
