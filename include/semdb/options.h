// Options for opening a database, creating collections, writing and
// searching.
#ifndef SEMDB_OPTIONS_H_
#define SEMDB_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "semdb/filter.h"
#include "semdb/vector_index.h"

namespace semdb {

// Where a long operation is: a refit, an index rebuild, the log replay of an
// open (Options::progress).
struct OperationProgress {
  std::string collection;
  std::string operation;  // "refit", "index rebuild", "log replay"
  int64_t done = 0;       // items (documents, vectors, logged operations) done
  int64_t total = 0;      // items expected; 0 when unknown
  bool finished = false;  // the last call for this operation
};

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
  // Opens an existing database without writing anything (RocksDB's
  // OpenForReadOnly): works on a full disk or a read-only mount, serves
  // searches from the saved indexes (caught up from the log in memory), and
  // refuses every write with FailedPrecondition. Another process may not
  // write to the database meanwhile.
  bool read_only = false;
  // What semdb logs (spdlog, logger "semdb", on standard error): "off",
  // "error", "warn" (problems only: the default), "info" (also the start
  // and end of long operations, with their time) or "debug" (also their
  // progress). One level per process: the last Open sets it.
  std::string log_level = "warn";
  // Called as long operations advance (at their start, every 1% and at
  // their end), from the thread running them, e.g. to draw a progress bar;
  // must be cheap. Unset: nothing is called.
  std::function<void(const OperationProgress&)> progress;
  // Where word-vector embedders keep the binary caches of their vector files
  // (created when needed). Empty: the database's cache/ folder. A spec's own
  // cache_dir= wins over both.
  std::string cache_dir;
  // The threads the database's embedders run their parallel loops on (one
  // pool per database, the calling thread included); 0: one per hardware
  // thread. Index builds and FAISS searches have their own threads.
  int threads = 0;
  // Memory (bytes, estimated) for the texts and metadata of recently read
  // search hits, so that a hit read again costs no storage read
  // (storage/document_cache.h); every write of a document updates it. 0: off.
  size_t document_cache_bytes = size_t{32} << 20;
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
  // Top-level metadata fields with a secondary index, so that filters on
  // them are counted and answered without reading every document's
  // metadata (fixed at creation; other fields are still filterable).
  std::vector<std::string> indexed_fields;
  // Keep a BM25 keyword index of the texts, for hybrid search.
  bool keyword_index = true;
  // How the vectors are stored (fixed for the collection's life; README,
  // "The library", C++): "float32", "float16" (IEEE half floats: half the
  // disk, 11 significant bits; searches and reads see the stored values
  // widened to float32), or "auto": float16 for the vectors of models whose
  // output is half precision already (EmbedderCapabilities::half_precision:
  // TF-IDF with LSA, decided at each fit), else float32 (caller-supplied
  // vectors, word vectors, transformers, plain TF-IDF).
  std::string vector_storage = "auto";
};

struct WriteOptions {
  std::optional<bool> sync;  // overrides Options::sync for this call
  // Skip the refit that Options::refit_growth would start after this write
  // (a never-fitted collection then stores texts without vectors). For bulk
  // writers that refit once when they are done, as ImportPath does: each
  // growth refit re-embeds every document written so far.
  bool defer_refit = false;
};

// Which documents Collection::List returns.
struct ListOptions {
  std::optional<Filter> filter;  // on the documents' metadata; unset: all
  int64_t offset = 0;            // documents to skip (>= 0), after the cursor
  int64_t limit = -1;            // at most this many; -1: no limit
  // Where to start: empty for the first page, else the next_cursor of the
  // previous page (Collection::ListPage). Unlike an offset, a cursor costs
  // nothing to skip to and does not shift when earlier documents are
  // deleted.
  std::string cursor;
};

inline constexpr int kMaxK = 10000;
inline constexpr int kMaxNeighbors = 20;
// nprobe and ef_search given explicitly are at most this.
inline constexpr int kMaxSearchWidth = 1 << 20;

// How a search is answered. kAuto lets the query planner choose by cost
// (README, "Query planner"); the others force one strategy (for tests and
// benchmarks; a filtered result still holds k hits whenever k match).
enum class SearchStrategy {
  kAuto,
  kExactScan,     // compare with every vector (filtered by an id selector)
  kFilteredScan,  // list the filter's matches, compare with those only
  kAnn,           // the ANN index, restricted to matches by an id selector
  kAnnPostFilter  // the ANN index over-fetching, then checking the filter
};

// The strategy's name in the shell, the HTTP API and EXPLAIN output
// ("auto", "exact_scan", "filtered_scan", "ann", "ann_post_filter").
const char* StrategyName(SearchStrategy strategy);
// The strategy named `name` (as StrategyName writes it), or InvalidArgument
// listing the names.
absl::StatusOr<SearchStrategy> ParseStrategyName(std::string_view name);

// How hybrid search fuses the vector and the keyword (BM25) rankings.
enum class FusionMethod {
  // Convex combination of min-max normalized scores (Bruch et al. 2023,
  // "An Analysis of Fusion Functions for Hybrid Retrieval"):
  //   (1 - w) * (s_v - min_v) / (max_v - min_v) + w * (s_k - min_k) / (max_k - min_k)
  // over each ranking's own hits (a document missing from a ranking gets 0
  // from it; a ranking whose scores are all equal gives its hits 1).
  kConvex,
  // Reciprocal rank fusion (Cormack et al. 2009), ranks from 1:
  //   (1 - w) / (60 + vector rank) + w / (60 + keyword rank).
  // Equal scores share a rank, that of the first of them (1, 2, 2, 4), and
  // in a ranking cut at its search depth the last group of equal scores
  // (e.g. the documents of cosine 0) earns none: the order of ties (by
  // internal labels, which differ between one collection and the shards
  // of a sharded one) changes no fused score.
  kRrf,
};

// The method's name in the shell, the HTTP API, Python and EXPLAIN output
// ("convex", "rrf").
const char* FusionName(FusionMethod method);
// The method named `name` (as FusionName writes it), or InvalidArgument
// listing the names.
absl::StatusOr<FusionMethod> ParseFusionName(std::string_view name);

// The keyword weight of a text search that does not set one, in a collection
// with a keyword index: chosen on the shared Cranfield data (README, "Search
// quality"), where convex fusion at 0.3 beat 0.5, RRF and either side alone.
inline constexpr double kDefaultKeywordWeight = 0.3;

// What each hit carries besides its id, score and passage position, which
// every hit has (kept in memory: a search asking for neither field reads
// nothing from storage). A field not asked for is left empty in the hits,
// and is neither read nor parsed.
struct HitFields {
  bool text = true;      // Hit::text
  bool metadata = true;  // Hit::metadata
};

// The fields named in `names`, each "text" or "metadata" (none: ids and
// scores only), or InvalidArgument naming the first other name. The shell,
// the HTTP API and Python read a caller's list of hit fields with it.
absl::StatusOr<HitFields> ParseHitFields(absl::Span<const std::string> names);

struct SearchOptions {
  int k = 10;  // 1..kMaxK
  std::optional<Filter> filter;
  // Explicit knobs are used as given; unset ones are chosen by the planner.
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
  SearchStrategy strategy = SearchStrategy::kAuto;
  // The recall@k the planner aims for, in (0, 1]: up to 0.95 it uses the
  // index's nprobe/ef_search defaults, up to 0.99 twice them, above four
  // times; 1 allows only exact strategies.
  double recall_target = 0.95;
  // Hybrid search: the weight, in [0, 1], of the keyword (BM25) ranking
  // fused with the vector ranking by `fusion`. 0 is vector search only; 1
  // the keyword ranking only, and the query is then not embedded. Unset:
  // kDefaultKeywordWeight for text queries of collections with a keyword
  // index, else 0. A positive weight needs a text query and a keyword
  // index. A text query with no word the model knows (only stop words, or
  // unknown words) is answered by the keyword ranking alone, or is empty
  // without a keyword index.
  std::optional<double> hybrid;
  FusionMethod fusion = FusionMethod::kConvex;
  // The hits' fields to return (both by default); the passage options
  // above add theirs whatever this says.
  HitFields include;

  // InvalidArgument naming the first option out of its range (the ranges
  // above). Every search checks its options with it; the shell and the
  // HTTP API report the same limits.
  absl::Status Validate() const;
};

}  // namespace semdb

#endif  // SEMDB_OPTIONS_H_
