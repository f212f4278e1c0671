#include "semdb/collection_stats.h"

namespace semdb {

nlohmann::json CollectionStats::ToJson() const {
  nlohmann::json j;
  j["name"] = name;
  j["documents"] = documents;
  if (!chunking.empty()) {
    j["chunking"] = chunking;
    j["passages"] = passages;
  }
  j["embedder"] = embedder;
  j["index"] = index;
  j["dimension"] = dimension;
  j["model_version"] = model_version;
  j["vector_storage"] = vector_storage;
  j["vector_encoding"] = vector_encoding;
  j["tokens"] = tokens;
  j["unknown_tokens"] = unknown_tokens;
  if (!embedder_facts.is_null()) j["embedder_facts"] = embedder_facts;
  if (fitted_documents) j["fitted_documents"] = *fitted_documents;
  if (next_refit_at) j["next_refit_at"] = *next_refit_at;
  j["threads"] = threads;
  if (!index_facts.is_null()) {
    j["index_facts"] = index_facts;
    j["index_origin"] = index_origin;
  }
  j["indexed_fields"] = indexed_fields;
  if (keyword_index) {
    j["keyword_index"] = {{"documents", keyword_index->documents},
                          {"term_occurrences", keyword_index->term_occurrences}};
  }
  if (!error.empty()) j["error"] = error;
  if (!embedder_error.empty()) j["embedder_error"] = embedder_error;
  if (!fit_error.empty()) j["fit_error"] = fit_error;
  if (!model_error.empty()) j["model_error"] = model_error;
  return j;
}

}  // namespace semdb
