// The semdb library API: a database of collections of documents searchable
// by meaning.
//
//   auto db = semdb::Database::Open("my.semdb");
//   auto docs = (*db)->CreateCollection("docs", {"tfidf dim=256", "flat"});
//   (*docs)->Insert({.text = "Bushfires threaten Sydney"});
//   auto hits = (*docs)->Search("fires near the city", {.k = 5});
//
// Thread safety: Database and Collection methods may be called concurrently
// from any number of threads. Writes to one collection are serialized;
// searches run in parallel with each other and with writes, and see each
// write either entirely or not at all. A search started after a write (or
// delete) returned sees it.
//
// Lifetime: a Collection handle (a shared_ptr) may outlive its collection
// and its Database. After DropCollection its methods return NotFound; after
// the Database is destroyed they return FailedPrecondition ("database ...
// is closed"), never touching the closed storage (Info and Count give the
// last known figures; Stats adds an "error"). Destroying a Database waits
// for the calls in progress on its collections.
//
// Only one process may open a database at a time; a second Open fails with
// FailedPrecondition ("database ... is locked").
#ifndef SEMDB_DATABASE_H_
#define SEMDB_DATABASE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "nlohmann/json.hpp"
#include "semdb/collection_stats.h"
#include "semdb/document.h"
#include "semdb/keyword_statistics.h"
#include "semdb/model_state.h"
#include "semdb/options.h"
#include "semdb/search_explanation.h"
#include "semdb/word_queries.h"

namespace semdb {

struct CollectionInfo {
  std::string name;
  std::string embedder;  // canonical embedder spec
  std::string index;     // canonical index spec
  int dimension = 0;     // 0 until a fittable embedder has been fitted
  int64_t documents = 0;
  uint32_t model_version = 0;  // increases with every refit
  std::string chunking = "none";  // canonical chunking spec
  int64_t passages = 0;           // indexed passages (= documents when not chunked)
  // The collection stores the caller's vectors ("vectors dim=N"): documents
  // come with their vector, and nothing embeds text.
  bool caller_vectors = false;
};

// A page of Collection::ListPage.
struct DocumentPage {
  std::vector<Document> documents;
  // ListOptions::cursor for the next page; empty when this is the last.
  std::string next_cursor;
};

class Collection {
 public:
  ~Collection();
  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;

  const std::string& name() const;
  CollectionInfo Info() const;

  // Inserts documents; ids must be new (AlreadyExists otherwise, and then
  // nothing of the batch is written). Returns the ids, generated where
  // empty. The batch is one atomic write.
  absl::StatusOr<std::string> Insert(Document doc, const WriteOptions& wo = {});
  absl::StatusOr<std::vector<std::string>> InsertBatch(std::vector<Document> docs,
                                                       const WriteOptions& wo = {});
  // Inserts, or replaces documents whose ids exist. Ids are required.
  absl::Status Upsert(Document doc, const WriteOptions& wo = {});
  absl::Status UpsertBatch(std::vector<Document> docs, const WriteOptions& wo = {});

  // In a chunked collection, the whole document as inserted.
  absl::StatusOr<Document> Get(std::string_view id) const;
  // NotFound when no document has this id. In a chunked collection the
  // document and all its passages go in one atomic write (as an upsert
  // replaces them all).
  absl::Status Delete(std::string_view id, const WriteOptions& wo = {});
  // Deletes the documents with these ids that exist, in one atomic write;
  // returns how many were deleted.
  absl::StatusOr<int64_t> DeleteBatch(const std::vector<std::string>& ids,
                                      const WriteOptions& wo = {});

  // Top-k documents (passages, in a chunked collection) by cosine
  // similarity to the embedded query text.
  absl::StatusOr<std::vector<Hit>> Search(std::string_view query,
                                          const SearchOptions& options = {}) const;
  // Top-k documents by cosine similarity to `vector` (normalized here).
  absl::StatusOr<std::vector<Hit>> SearchVector(absl::Span<const float> vector,
                                                const SearchOptions& options = {}) const;
  // Several queries with the same options: answer i is what Search
  // (SearchVector) returns for query i, scores within float rounding. The
  // texts are embedded in one call; without a filter, a keyword ranking or
  // one_per_parent in a chunked collection, the index is searched once for
  // all of them (FAISS shares the work), otherwise query by query.
  absl::StatusOr<std::vector<std::vector<Hit>>> SearchBatch(
      absl::Span<const std::string> queries, const SearchOptions& options = {}) const;
  // `vectors`: the queries as rows of Info().dimension numbers.
  absl::StatusOr<std::vector<std::vector<Hit>>> SearchVectorBatch(
      absl::Span<const float> vectors, const SearchOptions& options = {}) const;

  // The plan a search would follow, the estimates behind it and the cost
  // of each strategy (README, "EXPLAIN"); with `analyze` the search also
  // runs and `analysis` holds its actual counts and timings.
  absl::StatusOr<SearchExplanation> Explain(std::string_view query,
                                            const SearchOptions& options = {},
                                            bool analyze = false) const;
  absl::StatusOr<SearchExplanation> ExplainVector(absl::Span<const float> vector,
                                                  const SearchOptions& options = {},
                                                  bool analyze = false) const;

  // The cosine similarity of two texts under the collection's model, in
  // [-1, 1]; 0 when either has no word the model knows.
  absl::StatusOr<double> Similarity(std::string_view a, std::string_view b) const;

  // Documents (not passages).
  int64_t Count() const;

  // The documents with these ids, in the order asked; ids with no document
  // are skipped (so the result may be shorter).
  absl::StatusOr<std::vector<Document>> GetBatch(absl::Span<const std::string> ids) const;
  // Documents in storage order (the order they were written: an upsert
  // moves a document to the end), filtered, paged (ListOptions).
  absl::StatusOr<std::vector<Document>> List(const ListOptions& options = {}) const;
  // The same page, with the cursor of the next one (empty after the last).
  absl::StatusOr<DocumentPage> ListPage(const ListOptions& options = {}) const;
  // Documents whose metadata matches `filter`.
  absl::StatusOr<int64_t> Count(const Filter& filter) const;
  // Deletes the documents whose metadata matches `filter` when the call
  // starts, in one atomic write; returns how many were deleted.
  absl::StatusOr<int64_t> DeleteMatching(const Filter& filter, const WriteOptions& wo = {});
  // Replaces the metadata of the documents `ids` with `metadatas` (one
  // each); texts, vectors and passages stay. One atomic write that keeps
  // the field and keyword indexes in step; NotFound (and nothing written)
  // when an id has no document.
  absl::Status UpdateMetadata(absl::Span<const std::string> ids,
                              absl::Span<const nlohmann::json> metadatas,
                              const WriteOptions& wo = {});
  // As UpdateMetadata, but each object is an RFC 7386 merge patch applied
  // to the document's stored metadata: its fields are set, a null deletes
  // a field, nested objects merge.
  absl::Status MergeMetadata(absl::Span<const std::string> ids,
                             absl::Span<const nlohmann::json> patches,
                             const WriteOptions& wo = {});
  // The vectors the collection's model gives these texts (unit length, or
  // zero for a text with no known word), as texts.size() rows of
  // Info().dimension floats. FailedPrecondition for "vectors" collections
  // and before a fittable embedder's first fit.
  absl::StatusOr<std::vector<float>> Embed(absl::Span<const std::string_view> texts) const;

  // Refits the embedder on all stored texts (for embedders that learn from
  // the collection), re-embeds them and rebuilds the index: a new model
  // version. Searches continue on the old version until the new one is
  // complete. For a file-based model that was replaced (text operations
  // then fail, see Open), this re-embeds the collection with the new file.
  // FailedPrecondition for collections of caller-supplied vectors.
  absl::Status Refit();

  // Saves the index and flushes the storage's memtables, so that the next
  // open (even after a crash) replays neither the index log nor RocksDB's
  // write-ahead log. ImportPath ends with one.
  absl::Status Checkpoint();

  // Changes the collection's index spec (type, build parameters or search
  // defaults, see `help create`) and rebuilds the index from the stored
  // vectors; searches use the old index until the new one is complete.
  absl::Status SetIndex(const std::string& spec);

  // Counts, embedder and index facts, unknown-token totals.
  CollectionStats Stats() const;

  // Word queries, for collections whose embedder holds word vectors (glove,
  // word2vec, fasttext; FailedPrecondition for others). The k vocabulary
  // words nearest to `expression`: a word, or words joined by + and -
  // ("king - man + woman"), excluding the expression's own words.
  absl::StatusOr<std::vector<WordMatch>> NearestWords(std::string_view expression,
                                                      int k) const;
  // Spearman correlation between human similarity scores of word pairs in a
  // WordSim-353-style file ("word1<TAB>word2<TAB>score", '#' comments) and
  // the cosines of the embedder's word vectors.
  absl::StatusOr<WordSimilarityResult> EvaluateWordSimilarity(const std::string& path) const;

  // Sharing one model between collections (semdb/model_state.h), e.g. the
  // shards of semdb.distributed.
  // The fitted model in use (FailedPrecondition for "vectors" collections
  // and before a fittable embedder's first fit).
  absl::StatusOr<ModelState> ExportModel() const;
  // Makes `model` the collection's model: every document is re-embedded
  // into a new model version and the index rebuilt, switched in one write
  // as by Refit (searches use the old version meanwhile). The embedder kind
  // must be the collection's. An installed model is kept: the collection
  // no longer refits itself as it grows, and Refit refuses.
  absl::Status InstallModel(const ModelState& model);
  // Inserts (or with `upsert`, upserts) documents that carry their text AND
  // the vector (and TextStats) that the model `fingerprint` gave the text
  // (Model::Embed), in one atomic write. FailedPrecondition, and nothing
  // written, when `fingerprint` is not the collection's model: the
  // model-version guard. Unchunked text collections only.
  absl::StatusOr<std::vector<std::string>> WriteEmbedded(std::vector<Document> docs,
                                                         std::string_view fingerprint,
                                                         bool upsert,
                                                         const WriteOptions& wo = {});
  // The keyword index's statistics for the terms of `query`
  // (FailedPrecondition without a keyword index).
  absl::StatusOr<KeywordStatistics> GetKeywordStatistics(std::string_view query) const;
  // The keyword (BM25) ranking alone, options.k hits, options.filter and
  // one_per_parent applied; Hit::score is the BM25 score. With `global`,
  // BM25 uses those corpus statistics (documents, length, document
  // frequencies: e.g. summed over shards) instead of the collection's.
  absl::StatusOr<std::vector<Hit>> KeywordSearch(std::string_view query,
                                                 const SearchOptions& options = {},
                                                 const KeywordStatistics* global = nullptr) const;

  class Impl;

 private:
  friend class Database;
  explicit Collection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Database {
 public:
  // Opens the database in directory `path`, creating it if allowed.
  // Restores every collection: its embedder state and its index, loaded
  // from the last save and caught up from the log, or rebuilt from the
  // stored vectors when the saved index is missing, stale or corrupt. An
  // embedder must reproduce the vectors it gave for fixed probe texts when
  // the collection's vectors were made; a model file replaced since then
  // makes the collection's text operations fail with FailedPrecondition
  // (get, delete, drop and Refit still work) rather than mix models.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path,
                                                        const Options& options = {});
  // Saves every collection's index and closes.
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Names: 1 to 64 characters of letters, digits, '_', '-', '.'.
  absl::StatusOr<std::shared_ptr<Collection>> CreateCollection(
      const std::string& name, const CollectionSpec& spec = {});
  // The collection `name` when it exists and its spec agrees with `spec`
  // (same embedder, index and chunking kinds with the parameters given,
  // same indexed fields and keyword index); FailedPrecondition naming the
  // differences when it does not; otherwise it is created. Atomic with
  // respect to other creates and drops.
  absl::StatusOr<std::shared_ptr<Collection>> GetOrCreateCollection(
      const std::string& name, const CollectionSpec& spec = {});
  absl::StatusOr<std::shared_ptr<Collection>> GetCollection(const std::string& name) const;
  std::vector<CollectionInfo> ListCollections() const;
  absl::Status DropCollection(const std::string& name);

  const std::string& path() const;

  class Impl;

 private:
  explicit Database(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace semdb

#endif  // SEMDB_DATABASE_H_
