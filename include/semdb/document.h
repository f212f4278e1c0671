// Documents and search hits, as the API takes and returns them.
#ifndef SEMDB_DOCUMENT_H_
#define SEMDB_DOCUMENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "semdb/embedder.h"

namespace semdb {

struct Document {
  // Unique within a collection: 1 to 512 bytes of valid UTF-8. Empty on
  // insert means "generate one": "_1", "_2", ... in insertion order (a
  // leading underscore, so that they do not collide with ids users choose).
  std::string id;
  std::string text;
  // A JSON object (or null, meaning none).
  nlohmann::json metadata = nlohmann::json::object();
  // A precomputed vector, for collections whose embedder is "vectors dim=N"
  // (the caller embeds). Must be empty for collections that embed text.
  // Stored L2-normalized (cosine search compares unit vectors): Get returns
  // v / |v|, not v.
  std::vector<float> vector;
  // Filled by Get: what the embedder saw in the text.
  TextStats stats;
};

// Where a passage lies in its document (chunked collections).
struct PassageInfo {
  int index = 0;      // 0-based position among the document's passages
  int count = 0;      // how many passages the document has
  int64_t begin = 0;  // byte offsets [begin, end) into the document's text
  int64_t end = 0;
  bool operator==(const PassageInfo&) const = default;
};

// A passage returned beside a hit (SearchOptions::neighbors).
struct Passage {
  PassageInfo info;
  std::string text;
};

// What a hit's score is. Higher is closer for every kind.
enum class ScoreKind {
  kCosine,  // cosine similarity of the query and the hit, in [-1, 1]
  // Hybrid search, convex fusion (FusionMethod::kConvex): the weighted sum
  // of the min-max normalized vector and keyword scores, in [0, 1].
  kFusion,
  // Hybrid search, reciprocal rank fusion (FusionMethod::kRrf): a score of
  // ranks, sum of weight / (60 + rank).
  kRankFusion,
  // Keywords only (keyword weight 1 with convex fusion, or a query with no
  // word the model knows): the BM25 score min-max normalized over the
  // ranking, in [0, 1]; from Collection::KeywordSearch, the BM25 score.
  kKeyword,
};

// "cosine", "fusion score", "rank score", "bm25": what the shell's score
// column and the JSON's "score_kind" say.
const char* ScoreKindName(ScoreKind kind);

struct Hit {
  // The document's id; in a chunked collection, the id of the document the
  // passage belongs to (what Get and Delete take).
  std::string id;
  float score = 0;  // see score_kind; higher is closer
  ScoreKind score_kind = ScoreKind::kCosine;
  std::string text;  // the document's text, or the passage's
  nlohmann::json metadata;  // a passage has its document's metadata
  // Chunked collections only.
  std::optional<PassageInfo> passage;
  std::vector<Passage> neighbors;  // in passage order, without the hit itself
  std::optional<std::string> parent_text;  // SearchOptions::include_parent
};

// The hit's passage and its neighbours joined in document order with their
// overlaps removed: a contiguous stretch of the document, ready for a
// prompt (white space between passages that do not touch becomes one
// space). The hit's text when it has no neighbours.
std::string JoinedContext(const Hit& hit);

}  // namespace semdb

#endif  // SEMDB_DOCUMENT_H_
