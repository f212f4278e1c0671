#include "shell/json_output.h"

namespace semdb {
namespace {

nlohmann::json PassageInfoJson(const PassageInfo& p) {
  return {{"index", p.index}, {"count", p.count}, {"begin", p.begin}, {"end", p.end}};
}

}  // namespace

nlohmann::json CollectionInfoJson(const CollectionInfo& c) {
  return {{"name", c.name},         {"documents", c.documents}, {"passages", c.passages},
          {"dimension", c.dimension}, {"embedder", c.embedder},  {"index", c.index},
          {"chunking", c.chunking},  {"model_version", c.model_version}};
}

nlohmann::json DocumentJson(const Document& doc) {
  nlohmann::json j = {{"id", doc.id},
                      {"text", doc.text},
                      {"metadata", doc.metadata},
                      {"tokens", doc.stats.tokens},
                      {"unknown_tokens", doc.stats.unknown_tokens}};
  if (!doc.vector.empty()) j["vector"] = doc.vector;
  return j;
}

nlohmann::json HitJson(const Hit& hit, const HitFields& include) {
  nlohmann::json j = {
      {"id", hit.id}, {"score", hit.score}, {"score_kind", ScoreKindName(hit.score_kind)}};
  if (include.text) j["text"] = hit.text;
  if (include.metadata) j["metadata"] = hit.metadata;
  if (hit.passage) j["passage"] = PassageInfoJson(*hit.passage);
  if (!hit.neighbors.empty()) {
    nlohmann::json neighbors = nlohmann::json::array();
    for (const Passage& n : hit.neighbors) {
      nlohmann::json p = PassageInfoJson(n.info);
      p["text"] = n.text;
      neighbors.push_back(std::move(p));
    }
    j["neighbors"] = std::move(neighbors);
  }
  if (hit.parent_text) j["parent_text"] = *hit.parent_text;
  return j;
}

std::vector<std::string> MissingIds(const std::vector<std::string>& asked,
                                    const std::vector<Document>& found) {
  std::vector<std::string> missing;
  size_t next = 0;
  for (const std::string& id : asked) {
    if (next < found.size() && found[next].id == id) {
      ++next;
    } else {
      missing.push_back(id);
    }
  }
  return missing;
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace semdb
