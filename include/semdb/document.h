// Documents and search hits, as the API takes and returns them.
#ifndef SEMDB_DOCUMENT_H_
#define SEMDB_DOCUMENT_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "semdb/embedder.h"

namespace semdb {

struct Document {
  // Unique within a collection: 1 to 512 bytes of valid UTF-8. Empty on
  // insert means "generate one" (decimal digits).
  std::string id;
  std::string text;
  // A JSON object (or null, meaning none).
  nlohmann::json metadata = nlohmann::json::object();
  // A precomputed vector, for collections whose embedder is "vectors dim=N"
  // (the caller embeds). Must be empty for collections that embed text.
  std::vector<float> vector;
  // Filled by Get: what the embedder saw in the text.
  TextStats stats;
};

struct Hit {
  std::string id;
  float score = 0;  // cosine similarity, higher is closer
  std::string text;
  nlohmann::json metadata;
};

}  // namespace semdb

#endif  // SEMDB_DOCUMENT_H_
