#include "src/search/hit_assembly.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "src/passage_context.h"

namespace semdb {

std::vector<size_t> ChooseHits(absl::Span<const std::optional<LabelDirectory::Entry>> entries,
                               int k, bool one_per_parent) {
  std::vector<size_t> chosen;
  absl::flat_hash_set<std::string> parents;
  for (size_t i = 0; i < entries.size() && static_cast<int>(chosen.size()) < k; ++i) {
    if (!entries[i]) continue;
    const std::optional<PassageLocation>& p = entries[i]->passage;
    if (one_per_parent && p && !parents.insert(p->parent).second) continue;
    chosen.push_back(i);
  }
  return chosen;
}

absl::StatusOr<std::vector<Hit>> AssembleHits(const SearchView& view,
                                              const std::vector<IndexHit>& found, int k,
                                              bool one_per_parent, const HitFields& include,
                                              std::vector<uint64_t>* kept) {
  const uint32_t cid = view.collection_id;
  const size_t n = found.size();
  std::vector<uint64_t> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = found[i].label;
  std::vector<std::optional<LabelDirectory::Entry>> entries = view.label_entries.Find(labels);
  // Labels not in memory yet: their documents give the ids and positions
  // (and the texts, kept for the hits that ask for them). When every hit
  // found is to be kept (no more than k), their metadata comes in the same
  // read, so that a first search after a reopen reads storage once.
  std::vector<std::optional<DocumentRecord>> docs(n);
  std::vector<MetadataValue> metadata_of(n);  // by position in `found`
  std::vector<size_t> missing;
  for (size_t i = 0; i < n; ++i) {
    if (!entries[i]) missing.push_back(i);
  }
  if (!missing.empty()) {
    std::vector<uint64_t> missing_labels;
    for (size_t i : missing) missing_labels.push_back(labels[i]);
    const bool with_metadata = include.metadata && static_cast<int64_t>(n) <= k;
    std::vector<std::optional<DocumentRecord>> read;
    std::vector<MetadataValue> read_metadata;
    if (absl::Status s = view.store.MultiGetDocuments(
            cid, missing_labels,
            with_metadata ? absl::Span<const uint64_t>(missing_labels)
                          : absl::Span<const uint64_t>(),
            &read, &read_metadata);
        !s.ok()) {
      return s;
    }
    std::vector<uint64_t> added;
    std::vector<LabelDirectory::Entry> added_entries;
    for (size_t j = 0; j < missing.size(); ++j) {
      // A document deleted after its batch reached storage but before the
      // index caught up is skipped.
      if (!read[j]) continue;
      entries[missing[j]] = LabelDirectory::Entry{read[j]->id, read[j]->passage};
      added.push_back(missing_labels[j]);
      added_entries.push_back(*entries[missing[j]]);
      docs[missing[j]] = std::move(read[j]);
      if (with_metadata) metadata_of[missing[j]] = std::move(read_metadata[j]);
    }
    view.label_entries.Add(added, added_entries, view.counters.live_docs);
  }
  // The hits kept, by position in `found`.
  const std::vector<size_t> chosen = ChooseHits(entries, k, one_per_parent);
  // Their texts and metadata not read above, in one read.
  std::vector<uint64_t> text_labels, meta_labels;
  for (size_t i : chosen) {
    if (include.text && !docs[i]) text_labels.push_back(labels[i]);
    if (include.metadata && !metadata_of[i]) meta_labels.push_back(labels[i]);
  }
  std::vector<std::optional<DocumentRecord>> texts;
  std::vector<MetadataValue> metadata;
  if (absl::Status s =
          view.store.MultiGetDocuments(cid, text_labels, meta_labels, &texts, &metadata);
      !s.ok()) {
    return s;
  }
  std::vector<Hit> hits;
  kept->clear();
  size_t next_text = 0, next_metadata = 0;
  for (size_t i : chosen) {
    // What was read for this hit, taken in order before any is skipped.
    std::optional<DocumentRecord>* doc =
        !include.text ? nullptr : docs[i] ? &docs[i] : &texts[next_text++];
    MetadataValue* meta =
        !include.metadata ? nullptr
        : metadata_of[i]  ? &metadata_of[i]
                          : &metadata[next_metadata++];
    // A document deleted since the index search (as above) is skipped;
    // every document has its metadata stored.
    if ((doc != nullptr && !*doc) || (meta != nullptr && !*meta)) continue;
    Hit hit;
    if (doc != nullptr) hit.text = std::move((*doc)->text);
    if (meta != nullptr) hit.metadata = std::move(**meta);
    hit.score = found[i].score;
    LabelDirectory::Entry& e = *entries[i];
    if (const std::optional<PassageLocation>& p = e.passage) {
      hit.id = p->parent;
      hit.passage = PassageInfo{static_cast<int>(p->index), static_cast<int>(p->count),
                                static_cast<int64_t>(p->begin), static_cast<int64_t>(p->end)};
    } else {
      hit.id = std::move(e.id);
    }
    hits.push_back(std::move(hit));
    kept->push_back(labels[i]);
  }
  return hits;
}

absl::Status AddRequestedContext(const SearchView& view, const SearchOptions& options,
                                 absl::Span<const uint64_t> labels, std::vector<Hit>* hits) {
  if (!view.chunked || (options.neighbors <= 0 && !options.include_parent)) {
    return absl::OkStatus();
  }
  return AddPassageContext(view.store, view.collection_id, options, labels, hits);
}

}  // namespace semdb
