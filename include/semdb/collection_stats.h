// CollectionStats: what Collection::Stats reports (the shell's `stats`, the
// HTTP GET /collections/NAME/stats, Python's Collection.stats()).
#ifndef SEMDB_COLLECTION_STATS_H_
#define SEMDB_COLLECTION_STATS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace semdb {

struct CollectionStats {
  std::string name;
  int64_t documents = 0;
  std::string chunking;   // canonical chunking spec; empty when not chunked
  int64_t passages = 0;   // indexed passages, for chunked collections
  std::string embedder;   // canonical specs
  std::string index;
  int dimension = 0;
  uint32_t model_version = 0;
  // CollectionSpec::vector_storage as set at creation ("auto", "float32",
  // "float16"), and how the current model's vectors are stored
  // ("float32" or "float16").
  std::string vector_storage;
  std::string vector_encoding;
  // Totals over the stored texts, as the embedder split them.
  int64_t tokens = 0;
  int64_t unknown_tokens = 0;
  // The embedder's own facts (Embedder::Describe: free-form, per kind); null
  // when the collection has no embedder (caller-supplied vectors, or it
  // could not be created).
  nlohmann::json embedder_facts;
  // For embedders that learn from the collection: the live documents the
  // model was fitted on, and the count at which it refits itself.
  std::optional<int64_t> fitted_documents;
  std::optional<int64_t> next_refit_at;
  // The threads embedding and index work may use: the database's pool,
  // Options::threads with 0 resolved to the hardware threads; 0 once the
  // database closed.
  int threads = 0;
  // The index's own facts (VectorIndex::Describe) and how it was obtained
  // (loaded, rebuilt...); null and empty before there is an index.
  nlohmann::json index_facts;
  std::string index_origin;
  std::vector<std::string> indexed_fields;
  struct KeywordIndexTotals {
    int64_t documents = 0;
    int64_t term_occurrences = 0;
  };
  std::optional<KeywordIndexTotals> keyword_index;  // with a keyword index
  // Why the collection, its embedder, its last fit or its model is
  // unusable; empty when it is not.
  std::string error;
  std::string embedder_error;
  std::string fit_error;
  std::string model_error;

  // The JSON object of the API and the shell: the fields above by name,
  // absent where empty (null, unset or "").
  nlohmann::json ToJson() const;
};

}  // namespace semdb

#endif  // SEMDB_COLLECTION_STATS_H_
