#include "src/passage_context.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace semdb {

std::string JoinedContext(const Hit& hit) {
  if (!hit.passage || hit.neighbors.empty()) return hit.text;
  std::vector<Passage> parts = hit.neighbors;
  parts.push_back({*hit.passage, hit.text});
  std::sort(parts.begin(), parts.end(),
            [](const Passage& a, const Passage& b) { return a.info.begin < b.info.begin; });
  std::string out = parts[0].text;
  int64_t end = parts[0].info.end;
  for (size_t i = 1; i < parts.size(); ++i) {
    const Passage& p = parts[i];
    if (p.info.end <= end) continue;  // inside what is there already
    if (p.info.begin >= end) {
      out += ' ';
      out += p.text;
    } else {
      // Byte offsets: the part past `end` starts on a code point boundary,
      // as `end` is a passage end.
      out.append(p.text, static_cast<size_t>(end - p.info.begin));
    }
    end = p.info.end;
  }
  return out;
}

absl::Status AddPassageContext(const Store& store, uint32_t cid, const SearchOptions& options,
                               absl::Span<const uint64_t> labels, std::vector<Hit>* hits) {
  // Several hits often share a document: read each parent once.
  absl::flat_hash_map<std::string, std::optional<ParentRecord>> parents;
  absl::flat_hash_map<std::string, std::optional<std::string>> texts;
  std::vector<Hit> kept;
  for (size_t i = 0; i < hits->size(); ++i) {
    Hit& hit = (*hits)[i];
    if (!hit.passage) {
      kept.push_back(std::move(hit));
      continue;
    }
    auto parent_it = parents.find(hit.id);
    if (parent_it == parents.end()) {
      absl::StatusOr<std::optional<ParentRecord>> parent = store.GetParent(cid, hit.id);
      if (!parent.ok()) return parent.status();
      parent_it = parents.emplace(hit.id, *std::move(parent)).first;
    }
    const std::optional<ParentRecord>& parent = parent_it->second;
    const int index = hit.passage->index;
    if (!parent || index >= static_cast<int>(parent->passage_labels.size()) ||
        parent->passage_labels[index] != labels[i]) {
      continue;  // superseded since the index search
    }
    if (options.neighbors > 0) {
      const int count = static_cast<int>(parent->passage_labels.size());
      const int first = std::max(0, index - options.neighbors);
      const int last = std::min(count - 1, index + options.neighbors);
      std::vector<uint64_t> around;
      for (int p = first; p <= last; ++p) {
        if (p != index) around.push_back(parent->passage_labels[p]);
      }
      std::vector<std::optional<DocumentRecord>> docs;
      std::vector<MetadataValue> metadata;
      if (absl::Status s = store.MultiGetDocuments(cid, around, {}, &docs, &metadata); !s.ok()) {
        return s;
      }
      for (std::optional<DocumentRecord>& doc : docs) {
        if (!doc || !doc->passage) continue;  // deleted meanwhile
        const PassageLocation& p = *doc->passage;
        hit.neighbors.push_back(
            {PassageInfo{static_cast<int>(p.index), static_cast<int>(p.count),
                         static_cast<int64_t>(p.begin), static_cast<int64_t>(p.end)},
             std::move(doc->text)});
      }
    }
    if (options.include_parent) {
      auto text_it = texts.find(hit.id);
      if (text_it == texts.end()) {
        absl::StatusOr<std::optional<std::string>> text = store.GetParentText(cid, hit.id);
        if (!text.ok()) return text.status();
        text_it = texts.emplace(hit.id, *std::move(text)).first;
      }
      if (!text_it->second) continue;  // deleted meanwhile
      hit.parent_text = *text_it->second;
    }
    kept.push_back(std::move(hit));
  }
  *hits = std::move(kept);
  return absl::OkStatus();
}

}  // namespace semdb
