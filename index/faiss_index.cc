#include "index/faiss_index.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "faiss/IndexFlat.h"
#include "faiss/impl/FaissException.h"
#include "faiss/impl/IDSelector.h"
#include "faiss/index_io.h"
#include "index/index_file.h"

namespace semdb {
namespace {

constexpr char kMagic[8] = {'S', 'E', 'M', 'D', 'B', 'I', 'D', 'X'};
constexpr uint32_t kFormatVersion = 1;
// Compact when tombstones exceed this fraction of positions (and a minimum
// count, so that small indexes don't compact on every delete).
constexpr double kCompactFraction = 0.2;
constexpr int64_t kCompactMinimum = 1024;

using FaissId = faiss::Index::idx_t;

// Accepts live positions whose label passes the optional filter.
struct PositionSelector : faiss::IDSelector {
  const std::vector<uint64_t>& labels;
  const std::vector<bool>& deleted;
  const LabelPredicate* filter;

  PositionSelector(const std::vector<uint64_t>& l, const std::vector<bool>& d,
                   const LabelPredicate* f)
      : labels(l), deleted(d), filter(f) {}

  bool is_member(idx_t position) const override {
    return !deleted[position] && (filter == nullptr || (*filter)(labels[position]));
  }
};

absl::StatusOr<std::unique_ptr<faiss::Index>> MakeFaissIndex(const Spec& spec,
                                                             int dimension) {
  SpecReader reader(spec);
  if (spec.kind == "flat") {
    if (absl::Status s = reader.Finish(); !s.ok()) return s;
    return std::unique_ptr<faiss::Index>(new faiss::IndexFlatIP(dimension));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown index '", spec.kind, "'; known: flat"));
}

template <typename T>
void WriteValue(faiss::IOWriter* w, const T& v) {
  (*w)(&v, sizeof(T), 1);
}

template <typename T>
bool ReadValue(faiss::IOReader* r, T* v) {
  return (*r)(v, sizeof(T), 1) == 1;
}

}  // namespace

FaissIndex::FaissIndex(Spec spec, int dimension, std::unique_ptr<faiss::Index> index)
    : spec_(std::move(spec)), dimension_(dimension), index_(std::move(index)) {}

FaissIndex::~FaissIndex() = default;

absl::StatusOr<std::unique_ptr<FaissIndex>> FaissIndex::Create(const Spec& spec,
                                                               int dimension) {
  if (dimension <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("index dimension must be positive, got ", dimension));
  }
  absl::StatusOr<std::unique_ptr<faiss::Index>> index = MakeFaissIndex(spec, dimension);
  if (!index.ok()) return index.status();
  return std::unique_ptr<FaissIndex>(new FaissIndex(spec, dimension, *std::move(index)));
}

absl::Status FaissIndex::Add(absl::Span<const uint64_t> labels,
                             absl::Span<const float> vectors) {
  if (vectors.size() != labels.size() * dimension_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected ", labels.size(), " vectors of dimension ", dimension_, ", got ",
        vectors.size(), " floats"));
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (positions_.contains(labels[i]) ||
        std::find(labels.begin(), labels.begin() + i, labels[i]) != labels.begin() + i) {
      return absl::AlreadyExistsError(
          absl::StrCat("label ", labels[i], " is already in the index"));
    }
  }
  try {
    index_->add(static_cast<FaissId>(labels.size()), vectors.data());
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("FAISS add failed: ", e.what()));
  }
  for (uint64_t label : labels) {
    positions_.emplace(label, static_cast<int64_t>(labels_.size()));
    labels_.push_back(label);
    deleted_.push_back(false);
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> FaissIndex::Remove(absl::Span<const uint64_t> labels) {
  int64_t removed = 0;
  for (uint64_t label : labels) {
    auto it = positions_.find(label);
    if (it == positions_.end()) continue;
    deleted_[it->second] = true;
    positions_.erase(it);
    ++num_deleted_;
    ++removed;
  }
  if (num_deleted_ >= kCompactMinimum &&
      num_deleted_ > kCompactFraction * static_cast<double>(labels_.size())) {
    if (absl::Status s = Compact(); !s.ok()) return s;
  }
  return removed;
}

absl::Status FaissIndex::Compact() {
  std::vector<FaissId> dead_positions;
  for (size_t p = 0; p < deleted_.size(); ++p) {
    if (deleted_[p]) dead_positions.push_back(static_cast<FaissId>(p));
  }
  try {
    faiss::IDSelectorArray selector(dead_positions.size(), dead_positions.data());
    index_->remove_ids(selector);
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("FAISS compaction failed: ", e.what()));
  }
  // remove_ids keeps the survivors in order.
  std::vector<uint64_t> labels;
  labels.reserve(positions_.size());
  for (size_t p = 0; p < labels_.size(); ++p) {
    if (!deleted_[p]) {
      positions_[labels_[p]] = static_cast<int64_t>(labels.size());
      labels.push_back(labels_[p]);
    }
  }
  labels_ = std::move(labels);
  deleted_.assign(labels_.size(), false);
  num_deleted_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<IndexHit>> FaissIndex::Search(
    absl::Span<const float> query, int k, const IndexSearchKnobs& knobs,
    const LabelPredicate* filter) const {
  if (query.size() != static_cast<size_t>(dimension_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "query has dimension ", query.size(), ", the index has ", dimension_));
  }
  if (k <= 0) return absl::InvalidArgumentError("k must be positive");
  const int64_t n = static_cast<int64_t>(labels_.size());
  k = static_cast<int>(std::min<int64_t>(k, size()));
  std::vector<IndexHit> hits;
  if (k == 0) return hits;
  std::vector<float> distances(k);
  std::vector<FaissId> positions(k, -1);
  PositionSelector selector(labels_, deleted_, filter);
  faiss::SearchParameters params;
  params.sel = &selector;
  const bool select = num_deleted_ > 0 || filter != nullptr;
  try {
    index_->search(1, query.data(), k, distances.data(), positions.data(),
                   select ? &params : nullptr);
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("FAISS search failed: ", e.what()));
  }
  for (int i = 0; i < k; ++i) {
    if (positions[i] < 0 || positions[i] >= n) continue;
    hits.push_back({labels_[positions[i]], distances[i]});
  }
  return hits;
}

absl::Status FaissIndex::Save(const std::string& path) const {
  ChecksummedFileWriter w(path);
  w(kMagic, 1, sizeof(kMagic));
  WriteValue(&w, kFormatVersion);
  const std::string spec = spec_.ToString();
  WriteValue(&w, static_cast<uint32_t>(spec.size()));
  w(spec.data(), 1, spec.size());
  WriteValue(&w, static_cast<uint32_t>(dimension_));
  WriteValue(&w, static_cast<uint64_t>(labels_.size()));
  w(labels_.data(), sizeof(uint64_t), labels_.size());
  std::vector<uint8_t> tombstones((labels_.size() + 7) / 8, 0);
  for (size_t p = 0; p < deleted_.size(); ++p) {
    if (deleted_[p]) tombstones[p / 8] |= static_cast<uint8_t>(1u << (p % 8));
  }
  w(tombstones.data(), 1, tombstones.size());
  if (!w.status().ok()) return w.status();
  try {
    faiss::write_index(index_.get(), &w);
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("cannot save index: ", e.what()));
  }
  return w.Close();
}

absl::StatusOr<std::unique_ptr<FaissIndex>> FaissIndex::Load(const std::string& path) {
  ChecksummedFileReader r(path);
  if (!r.status().ok()) return r.status();
  auto corrupt = [&](const char* what) {
    return absl::DataLossError(absl::StrCat("index file ", path, ": ", what));
  };
  char magic[sizeof(kMagic)];
  uint32_t version, spec_size, dimension;
  uint64_t count;
  if (r(magic, 1, sizeof(magic)) != sizeof(magic) ||
      !std::equal(magic, magic + sizeof(magic), kMagic)) {
    return corrupt("not a semdb index file");
  }
  if (!ReadValue(&r, &version) || version != kFormatVersion) {
    return corrupt("unsupported format version");
  }
  if (!ReadValue(&r, &spec_size) || spec_size > 4096) return corrupt("bad spec");
  std::string spec_text(spec_size, '\0');
  if (r(spec_text.data(), 1, spec_size) != spec_size) return corrupt("truncated");
  absl::StatusOr<Spec> spec = Spec::Parse(spec_text);
  if (!spec.ok()) return corrupt("bad spec");
  if (!ReadValue(&r, &dimension) || dimension == 0 || dimension > 65536 ||
      !ReadValue(&r, &count) || count > (uint64_t{1} << 40)) {
    return corrupt("bad header");
  }
  std::vector<uint64_t> labels(count);
  std::vector<uint8_t> tombstones((count + 7) / 8);
  if (r(labels.data(), sizeof(uint64_t), count) != count ||
      r(tombstones.data(), 1, tombstones.size()) != tombstones.size()) {
    return corrupt("truncated");
  }
  std::unique_ptr<faiss::Index> index;
  try {
    index.reset(faiss::read_index(&r));
  } catch (const faiss::FaissException& e) {
    return corrupt("unreadable FAISS data");
  }
  if (absl::Status s = r.VerifyChecksum(); !s.ok()) return s;
  if (index->d != static_cast<int>(dimension) ||
      index->ntotal != static_cast<FaissId>(count)) {
    return corrupt("FAISS data does not match the header");
  }
  auto out = std::unique_ptr<FaissIndex>(
      new FaissIndex(*std::move(spec), static_cast<int>(dimension), std::move(index)));
  out->labels_ = std::move(labels);
  out->deleted_.resize(count);
  for (uint64_t p = 0; p < count; ++p) {
    bool dead = tombstones[p / 8] & (1u << (p % 8));
    out->deleted_[p] = dead;
    if (dead) {
      ++out->num_deleted_;
    } else if (!out->positions_.emplace(out->labels_[p], p).second) {
      return corrupt("duplicate label");
    }
  }
  return out;
}

nlohmann::json FaissIndex::Describe() const {
  return {{"type", spec_.kind},
          {"spec", spec_.ToString()},
          {"dimension", dimension_},
          {"live", size()},
          {"tombstones", num_deleted_},
          {"memory_bytes", static_cast<int64_t>(labels_.size()) *
                               (dimension_ * 4 + 8 + 24)}};
}

}  // namespace semdb
