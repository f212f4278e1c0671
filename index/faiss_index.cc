#include "index/faiss_index.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <fstream>
#include <thread>
#include <typeinfo>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "faiss/IndexFlat.h"
#include "faiss/IndexHNSW.h"
#include "faiss/IndexIVFFlat.h"
#include "faiss/IndexIVFPQ.h"
#include "faiss/IndexScalarQuantizer.h"
#include "faiss/impl/DistanceComputer.h"
#include "faiss/impl/FaissException.h"
#include "faiss/impl/IDSelector.h"
#include "faiss/impl/io.h"
#include "faiss/index_io.h"
#include "faiss/utils/distances.h"
#include "faiss/invlists/InvertedLists.h"
#include "index/flat_scan.h"
#include "index/hnsw_file.h"
#include "index/hnsw_packed_index.h"
#include "index/hnsw_search.h"
#include "index/index_file.h"
#include "index/ivf_scan.h"
#include "index/inner_product.h"
#include "zlib.h"

namespace semdb {
namespace {

constexpr char kMagic[8] = {'S', 'E', 'M', 'D', 'B', 'I', 'D', 'X'};
// Version 2 adds the training size, version 3 whether the training was
// installed, version 4 checksums with CRC-32C instead of zlib's CRC-32;
// older files still load.
constexpr uint32_t kFormatVersion = 4;
constexpr uint32_t kFirstCrc32cVersion = 4;
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

// Runs search(q) for q in [0, n), the queries striped over the hardware
// threads (the calling thread is one of them). An exception (FAISS's) is
// caught per thread and the first one rethrown here, after every thread
// has joined.
template <typename Search>
void ForEachQueryOnThreads(int64_t n, const Search& search) {
  static const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t threads = std::min<int64_t>(n, cores);
  std::vector<std::exception_ptr> errors(threads);
  auto run = [&](int64_t t) {
    try {
      for (int64_t q = t; q < n; q += threads) search(q);
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  std::vector<std::thread> workers;
  for (int64_t t = 1; t < threads; ++t) workers.emplace_back(run, t);
  run(0);
  for (std::thread& w : workers) w.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

std::unique_ptr<faiss::Index> MakeFaissIndex(const IndexLayout& l, int dimension) {
  const faiss::MetricType ip = faiss::METRIC_INNER_PRODUCT;
  switch (l.kind) {
    case IndexLayout::Kind::kFlat:
      return std::make_unique<faiss::IndexFlatIP>(dimension);
    case IndexLayout::Kind::kIvf: {
      auto* quantizer = new faiss::IndexFlatIP(dimension);
      std::unique_ptr<faiss::IndexIVF> ivf;
      if (l.codes == IndexLayout::Codes::kFlat) {
        ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer, dimension, l.nlist, ip);
      } else if (l.codes == IndexLayout::Codes::kSq8) {
        ivf = std::make_unique<faiss::IndexIVFScalarQuantizer>(
            quantizer, dimension, l.nlist, faiss::ScalarQuantizer::QT_8bit, ip);
      } else {
        ivf = std::make_unique<faiss::IndexIVFPQ>(quantizer, dimension, l.nlist, l.pq_m, 8, ip);
      }
      ivf->own_fields = true;
      ivf->nprobe = l.nprobe;
      return ivf;
    }
    case IndexLayout::Kind::kHnsw: {
      std::unique_ptr<faiss::IndexHNSW> hnsw;
      if (l.codes == IndexLayout::Codes::kSq8) {
        hnsw = std::make_unique<faiss::IndexHNSWSQ>(dimension, faiss::ScalarQuantizer::QT_8bit,
                                                    l.m, ip);
      } else {
        // One copy of the vectors: in the blocks of the packed level 0.
        hnsw = std::make_unique<PackedHnsw>(dimension, l.m);
      }
      hnsw->hnsw.efConstruction = l.ef_construction;
      hnsw->hnsw.efSearch = l.ef_search;
      return hnsw;
    }
  }
  return nullptr;
}

template <typename T>
void WriteValue(faiss::IOWriter* w, const T& v) {
  (*w)(&v, sizeof(T), 1);
}

template <typename T>
bool ReadValue(faiss::IOReader* r, T* v) {
  return (*r)(v, sizeof(T), 1) == 1;
}

// The format version of the index file at `path`, from its first bytes.
absl::StatusOr<uint32_t> PeekFormatVersion(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  char head[sizeof(kMagic) + sizeof(uint32_t)];
  if (!in.read(head, sizeof(head)) || !std::equal(kMagic, kMagic + sizeof(kMagic), head)) {
    return absl::DataLossError(absl::StrCat("index file ", path, ": not a semdb index file"));
  }
  uint32_t version;
  std::memcpy(&version, head + sizeof(kMagic), sizeof(version));
  return version;
}

// A reader that returns a fourcc already read from `rest`, then the rest.
struct PrefixedReader : faiss::IOReader {
  char prefix[4];
  size_t prefix_left = sizeof(prefix);
  faiss::IOReader* rest;

  PrefixedReader(uint32_t fourcc, faiss::IOReader* r) : rest(r) {
    std::memcpy(prefix, &fourcc, sizeof(prefix));
  }
  size_t operator()(void* ptr, size_t size, size_t nitems) override {
    const size_t bytes = size * nitems;
    const size_t head = std::min(bytes, prefix_left);
    std::memcpy(ptr, prefix + sizeof(prefix) - prefix_left, head);
    prefix_left -= head;
    size_t got = head;
    if (bytes > head) got += (*rest)(static_cast<char*>(ptr) + head, 1, bytes - head);
    return size == 0 ? 0 : got / size;
  }
};

}  // namespace

FaissIndex::FaissIndex(Spec spec, IndexLayout layout, int dimension,
                       std::unique_ptr<faiss::Index> index)
    : spec_(std::move(spec)),
      layout_(layout),
      dimension_(dimension),
      index_(std::move(index)) {
  packed_ = dynamic_cast<PackedHnsw*>(index_.get());
}

FaissIndex::~FaissIndex() = default;

absl::StatusOr<std::unique_ptr<FaissIndex>> FaissIndex::Create(const Spec& spec,
                                                               int dimension) {
  if (dimension <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("index dimension must be positive, got ", dimension));
  }
  absl::StatusOr<IndexLayout> layout = IndexLayout::FromSpec(spec);
  if (!layout.ok()) return layout.status();
  if (absl::Status s = layout->CheckDimension(dimension); !s.ok()) return s;
  std::unique_ptr<faiss::Index> index;
  try {
    index = MakeFaissIndex(*layout, dimension);
  } catch (const faiss::FaissException& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot create index '", spec.ToString(),
                                                   "': ", e.what()));
  }
  return std::unique_ptr<FaissIndex>(
      new FaissIndex(spec, *layout, dimension, std::move(index)));
}

bool FaissIndex::is_trained() const { return index_->is_trained; }

absl::Status FaissIndex::Train(absl::Span<const float> vectors) {
  if (vectors.size() % dimension_ != 0) {
    return absl::InvalidArgumentError("training vectors are not a whole number of rows");
  }
  const int64_t n = static_cast<int64_t>(vectors.size()) / dimension_;
  if (layout_.kind == IndexLayout::Kind::kIvf && n < layout_.nlist) {
    return absl::FailedPreconditionError(absl::StrCat(
        "training ", spec_.ToString(), " needs at least nlist=", layout_.nlist,
        " vectors, got ", n));
  }
  if (size() > 0 || num_deleted_ > 0) {
    return absl::FailedPreconditionError("an index is trained before vectors are added");
  }
  try {
    index_->train(n, vectors.data());
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("FAISS training failed: ", e.what()));
  }
  trained_size_ = n;
  return absl::OkStatus();
}

absl::StatusOr<std::string> FaissIndex::ExportTraining() const {
  if (layout_.kind != IndexLayout::Kind::kIvf) return VectorIndex::ExportTraining();
  if (!is_trained()) {
    return absl::FailedPreconditionError(
        absl::StrCat("index '", spec_.ToString(), "' is not trained yet"));
  }
  if (!labels_.empty()) {
    return absl::FailedPreconditionError("only an empty index exports its training");
  }
  faiss::VectorIOWriter w;
  try {
    faiss::write_index(index_.get(), &w);
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("cannot write the training: ", e.what()));
  }
  return std::string(w.data.begin(), w.data.end());
}

absl::Status FaissIndex::InstallTraining(std::string_view training) {
  if (layout_.kind != IndexLayout::Kind::kIvf) return VectorIndex::InstallTraining(training);
  if (is_trained() || !labels_.empty()) {
    return absl::FailedPreconditionError("training is installed in an empty untrained index");
  }
  faiss::VectorIOReader r;
  r.data.assign(training.begin(), training.end());
  std::unique_ptr<faiss::Index> read;
  try {
    read.reset(faiss::read_index(&r));
  } catch (const faiss::FaissException& e) {
    return absl::InvalidArgumentError("the index training is not FAISS index data");
  }
  // The same FAISS class (IVF-Flat, IVF-SQ, IVF-PQ) with the same lists,
  // metric and code size as this spec would train.
  const auto* ivf = dynamic_cast<const faiss::IndexIVF*>(read.get());
  const auto* pq = dynamic_cast<const faiss::IndexIVFPQ*>(read.get());
  const auto* sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(read.get());
  if (ivf == nullptr || typeid(*read) != typeid(*index_) || ivf->d != dimension_ ||
      ivf->nlist != static_cast<size_t>(layout_.nlist) ||
      ivf->metric_type != faiss::METRIC_INNER_PRODUCT || !ivf->is_trained ||
      ivf->ntotal != 0 || (pq != nullptr && pq->pq.M != static_cast<size_t>(layout_.pq_m)) ||
      (sq != nullptr && sq->sq.qtype != faiss::ScalarQuantizer::QT_8bit)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the index training is not that of an empty trained '", spec_.ToString(),
        "' index of dimension ", dimension_));
  }
  static_cast<faiss::IndexIVF*>(read.get())->nprobe = layout_.nprobe;
  index_ = std::move(read);
  trained_size_ = 0;
  training_installed_ = true;
  return absl::OkStatus();
}

bool FaissIndex::TooManyTombstones() const {
  return num_deleted_ >= kCompactMinimum &&
         num_deleted_ > kCompactFraction * static_cast<double>(labels_.size());
}

bool FaissIndex::needs_rebuild() const {
  return layout_.kind == IndexLayout::Kind::kHnsw && TooManyTombstones();
}

absl::Status FaissIndex::Add(absl::Span<const uint64_t> labels,
                             absl::Span<const float> vectors) {
  if (vectors.size() != labels.size() * dimension_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected ", labels.size(), " vectors of dimension ", dimension_, ", got ",
        vectors.size(), " floats"));
  }
  BuildPositions();
  // Labels repeated within the batch: none when they increase, as the
  // write path allocates them; else found by a set (not by comparing each
  // label with every earlier one: 3-4% of a bulk ingest's CPU).
  const bool increasing =
      std::adjacent_find(labels.begin(), labels.end(), std::greater_equal<>()) == labels.end();
  absl::flat_hash_set<uint64_t> seen;
  if (!increasing) seen.reserve(labels.size());
  for (uint64_t label : labels) {
    if (positions_.contains(label) || (!increasing && !seen.insert(label).second)) {
      return absl::AlreadyExistsError(absl::StrCat("label ", label, " is already in the index"));
    }
  }
  if (!index_->is_trained) {
    return absl::FailedPreconditionError(
        absl::StrCat("index '", spec_.ToString(), "' must be trained before adding vectors"));
  }
  try {
    const FaissId n = static_cast<FaissId>(labels.size());
    if (layout_.kind == IndexLayout::Kind::kIvf) {
      // IVF lists keep the ids they are given (remove_ids does not
      // renumber them): give each vector its position explicitly.
      std::vector<FaissId> ids(labels.size());
      for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<FaissId>(labels_.size() + i);
      index_->add_with_ids(n, vectors.data(), ids.data());
    } else {
      // Flat and HNSW-SQ8 by FAISS's add; HNSW over floats by semdb's
      // builder (PackedHnsw::add).
      index_->add(n, vectors.data());
    }
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

void FaissIndex::Reserve(int64_t count) {
  if (count <= 0) return;
  const size_t total = labels_.size() + static_cast<size_t>(count);
  labels_.reserve(total);
  deleted_.reserve(total);
  if (!positions_pending_) positions_.reserve(total);
  // Growing by copies, each into new memory, was most of the time of a
  // flat collection's open (11,498 vectors of 8,141 dimensions: page
  // faults and copies in 55% of the samples).
  if (auto* flat = dynamic_cast<faiss::IndexFlatCodes*>(index_.get())) {
    flat->codes.reserve(total * flat->code_size);
  }
}

absl::StatusOr<int64_t> FaissIndex::Remove(absl::Span<const uint64_t> labels) {
  BuildPositions();
  int64_t removed = 0;
  for (uint64_t label : labels) {
    auto it = positions_.find(label);
    if (it == positions_.end()) continue;
    deleted_[it->second] = true;
    positions_.erase(it);
    ++num_deleted_;
    ++removed;
  }
  if (layout_.kind != IndexLayout::Kind::kHnsw && TooManyTombstones()) {
    if (absl::Status s = Compact(); !s.ok()) return s;
  }
  return removed;
}

void FaissIndex::BuildPositions() {
  if (!positions_pending_) return;
  positions_.reserve(static_cast<size_t>(size()));
  for (size_t p = 0; p < labels_.size(); ++p) {
    if (!deleted_[p]) positions_.emplace(labels_[p], static_cast<int64_t>(p));
  }
  positions_pending_ = false;
}

absl::Status FaissIndex::Compact() {
  // The tombstones, each test one look at deleted_: FAISS 1.7.3's
  // IDSelectorArray scans its whole array per test, so a compaction of a
  // 100k flat index took seconds (two thirds of a bulk upsert's CPU).
  const PositionSelector live(labels_, deleted_, nullptr);
  const faiss::IDSelectorNot dead(&live);
  try {
    index_->remove_ids(dead);
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("FAISS compaction failed: ", e.what()));
  }
  // Survivors keep their order: flat's remove_ids shifts them down; IVF
  // lists keep their old position ids, renumbered here.
  std::vector<FaissId> new_position(labels_.size(), -1);
  std::vector<uint64_t> labels;
  labels.reserve(positions_.size());
  for (size_t p = 0; p < labels_.size(); ++p) {
    if (!deleted_[p]) {
      new_position[p] = static_cast<FaissId>(labels.size());
      positions_[labels_[p]] = static_cast<int64_t>(labels.size());
      labels.push_back(labels_[p]);
    }
  }
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index_.get())) {
    auto* lists = dynamic_cast<faiss::ArrayInvertedLists*>(ivf->invlists);
    if (lists == nullptr) return absl::InternalError("IVF lists are not in memory");
    for (auto& ids : lists->ids) {
      for (FaissId& id : ids) id = new_position[id];
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
  absl::StatusOr<std::vector<std::vector<IndexHit>>> hits =
      SearchBatch(query, k, knobs, filter);
  if (!hits.ok()) return hits.status();
  return std::move(hits->front());
}

absl::StatusOr<std::vector<std::vector<IndexHit>>> FaissIndex::SearchBatch(
    absl::Span<const float> queries, int k, const IndexSearchKnobs& knobs,
    const LabelPredicate* filter) const {
  if (queries.empty() || queries.size() % dimension_ != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "queries hold ", queries.size(), " floats, not rows of dimension ", dimension_));
  }
  if (k <= 0) return absl::InvalidArgumentError("k must be positive");
  if (knobs.exact && !can_search_exactly()) {
    return absl::UnimplementedError(absl::StrCat(
        "index '", spec_.ToString(), "' keeps compressed codes: it cannot search exactly"));
  }
  const int64_t nq = static_cast<int64_t>(queries.size()) / dimension_;
  std::vector<std::vector<IndexHit>> hits(nq);
  k = static_cast<int>(std::min<int64_t>(k, size()));
  if (k == 0) return hits;
  std::vector<float> scores(nq * k);
  std::vector<FaissId> positions(nq * k, -1);
  if (absl::Status s = SearchPositions(queries.data(), nq, k, knobs, filter, scores.data(),
                                       positions.data());
      !s.ok()) {
    return s;
  }
  const int64_t n = static_cast<int64_t>(labels_.size());
  for (int64_t q = 0; q < nq; ++q) {
    hits[q].reserve(k);
    for (int64_t i = q * k; i < (q + 1) * k; ++i) {
      if (positions[i] < 0 || positions[i] >= n) continue;
      hits[q].push_back({labels_[positions[i]], scores[i]});
    }
  }
  return hits;
}

absl::Status FaissIndex::SearchPositions(const float* queries, int64_t n, int k,
                                         const IndexSearchKnobs& knobs,
                                         const LabelPredicate* filter, float* scores,
                                         int64_t* positions) const {
  PositionSelector selector(labels_, deleted_, filter);
  const bool select = num_deleted_ > 0 || filter != nullptr;
  faiss::IDSelector* sel = select ? &selector : nullptr;
  try {
    if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(index_.get())) {
      // Visiting every list of IVF-Flat is exact.
      const size_t nprobe = knobs.nprobe > 0 ? static_cast<size_t>(knobs.nprobe) : ivf->nprobe;
      const size_t probes = knobs.exact ? ivf->nlist : std::min(nprobe, ivf->nlist);
      const auto* ivf_flat = dynamic_cast<const faiss::IndexIVFFlat*>(ivf);
      if (ivf_flat != nullptr && ivf_flat->metric_type == faiss::METRIC_INNER_PRODUCT) {
        std::vector<float> list_scores(n * probes);
        std::vector<FaissId> lists(n * probes);
        SearchFlatOrFaiss(*ivf_flat->quantizer, queries, n, static_cast<int>(probes), nullptr,
                          list_scores.data(), lists.data());
        ForEachQueryOnThreads(n, [&](int64_t q) {
          ScanIvfLists(*ivf_flat, queries + q * dimension_, lists.data() + q * probes, probes, k,
                       sel, scores + q * k, positions + q * k);
        });
      } else {
        faiss::SearchParametersIVF ivf_params;
        ivf_params.sel = sel;
        ivf_params.nprobe = probes;
        ivf->search(n, queries, k, scores, positions, &ivf_params);
      }
    } else if (auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(index_.get())) {
      if (knobs.exact) {
        // The graph's storage is a flat index (or PackedStorage) over the
        // same positions.
        SearchFlatOrFaiss(*hnsw->storage, queries, n, k, sel, scores, positions);
      } else {
        ForEachQueryOnThreads(n, [&](int64_t q) {
          SearchHnsw(*hnsw, queries + q * dimension_, k, knobs.ef_search, sel, scores + q * k,
                     positions + q * k);
        });
      }
    } else {
      SearchFlatOrFaiss(*index_, queries, n, k, sel, scores, positions);
    }
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("FAISS search failed: ", e.what()));
  }
  return absl::OkStatus();
}

void FaissIndex::SearchHnsw(const faiss::IndexHNSW& hnsw, const float* query, int k, int ef,
                            const faiss::IDSelector* sel, float* scores,
                            int64_t* positions) const {
  HnswQuery q;
  q.vector = query;
  q.k = k;
  q.ef = ef > 0 ? ef : layout_.ef_search;
  q.sel = sel;
  if (packed_ != nullptr) {
    SearchHnswPacked(hnsw.hnsw, packed_->level0(), BestInnerProduct(), q, scores, positions);
    return;
  }
  std::unique_ptr<faiss::DistanceComputer> similarity(hnsw.storage->get_distance_computer());
  similarity->set_query(query);
  SearchHnswCodes(hnsw.hnsw, *similarity, q, scores, positions);
}

absl::Status FaissIndex::Save(const std::string& path) const {
  ChecksummedFileWriter w(path, ChecksumKind::kCrc32c);
  w(kMagic, 1, sizeof(kMagic));
  WriteValue(&w, kFormatVersion);
  const std::string spec = spec_.ToString();
  WriteValue(&w, static_cast<uint32_t>(spec.size()));
  w(spec.data(), 1, spec.size());
  WriteValue(&w, static_cast<uint32_t>(dimension_));
  WriteValue(&w, static_cast<uint64_t>(trained_size_));
  WriteValue(&w, static_cast<uint8_t>(training_installed_));
  WriteValue(&w, static_cast<uint64_t>(labels_.size()));
  w(labels_.data(), sizeof(uint64_t), labels_.size());
  std::vector<uint8_t> tombstones((labels_.size() + 7) / 8, 0);
  for (size_t p = 0; p < deleted_.size(); ++p) {
    if (deleted_[p]) tombstones[p / 8] |= static_cast<uint8_t>(1u << (p % 8));
  }
  w(tombstones.data(), 1, tombstones.size());
  if (!w.status().ok()) return w.status();
  try {
    if (packed_ != nullptr) {
      WriteHnswFlat(*packed_, &w);
    } else {
      faiss::write_index(index_.get(), &w);
    }
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("cannot save index: ", e.what()));
  }
  return w.Close();
}

absl::StatusOr<std::unique_ptr<FaissIndex>> FaissIndex::Load(const std::string& path) {
  auto corrupt = [&](const char* what) {
    return absl::DataLossError(absl::StrCat("index file ", path, ": ", what));
  };
  // The version, read ahead, says which checksum the file has; the reader
  // then checksums the file from its first byte.
  absl::StatusOr<uint32_t> version_ahead = PeekFormatVersion(path);
  if (!version_ahead.ok()) return version_ahead.status();
  ChecksummedFileReader r(path, *version_ahead >= kFirstCrc32cVersion ? ChecksumKind::kCrc32c
                                                                      : ChecksumKind::kCrc32);
  if (!r.status().ok()) return r.status();
  char magic[sizeof(kMagic)];
  uint32_t version, spec_size, dimension;
  uint64_t count, trained_size = 0;
  uint8_t training_installed = 0;
  if (r(magic, 1, sizeof(magic)) != sizeof(magic) ||
      !std::equal(magic, magic + sizeof(magic), kMagic)) {
    return corrupt("not a semdb index file");
  }
  if (!ReadValue(&r, &version) || version != *version_ahead || version < 1 ||
      version > kFormatVersion) {
    return corrupt("unsupported format version");
  }
  if (!ReadValue(&r, &spec_size) || spec_size > 4096) return corrupt("bad spec");
  std::string spec_text(spec_size, '\0');
  if (r(spec_text.data(), 1, spec_size) != spec_size) return corrupt("truncated");
  absl::StatusOr<Spec> spec = Spec::Parse(spec_text);
  if (!spec.ok()) return corrupt("bad spec");
  absl::StatusOr<IndexLayout> layout = IndexLayout::FromSpec(*spec);
  if (!layout.ok()) return corrupt("unknown index spec");
  if (!ReadValue(&r, &dimension) || dimension == 0 || dimension > 65536 ||
      (version >= 2 && !ReadValue(&r, &trained_size)) ||
      (version >= 3 && !ReadValue(&r, &training_installed)) || !ReadValue(&r, &count) ||
      count > (uint64_t{1} << 40)) {
    return corrupt("bad header");
  }
  // The checksum is verified at the end: sizes from the file are checked
  // against what is left of it before anything is allocated by them.
  if (count > r.bytes_left() / sizeof(uint64_t)) return corrupt("truncated");
  std::vector<uint64_t> labels(count);
  std::vector<uint8_t> tombstones((count + 7) / 8);
  if (r(labels.data(), sizeof(uint64_t), count) != count ||
      r(tombstones.data(), 1, tombstones.size()) != tombstones.size()) {
    return corrupt("truncated");
  }
  // HNSW over float vectors is read into packed blocks (index/hnsw_file.h),
  // the other kinds by FAISS (given back the fourcc read here).
  std::unique_ptr<faiss::Index> index;
  uint32_t fourcc;
  if (!ReadValue(&r, &fourcc)) return corrupt("truncated");
  try {
    if (fourcc == HnswFlatFourcc()) {
      index = ReadHnswFlat(&r, static_cast<int64_t>(count));
    } else {
      // FAISS's readers trust the sizes in their data: they only see
      // verified bytes.
      if (absl::Status s = r.VerifyAhead(); !s.ok()) return s;
      PrefixedReader rest(fourcc, &r);
      index.reset(faiss::read_index(&rest));
    }
  } catch (const faiss::FaissException& e) {
    return corrupt("unreadable FAISS data");
  } catch (const std::bad_alloc&) {
    return corrupt("FAISS data too large");
  }
  if (absl::Status s = r.VerifyChecksum(); !s.ok()) return s;
  // IVF's ntotal counts live entries (compaction removes them in place);
  // the other kinds hold every position.
  const bool ivf = layout->kind == IndexLayout::Kind::kIvf;
  if (index->d != static_cast<int>(dimension) ||
      (!ivf && index->ntotal != static_cast<FaissId>(count)) ||
      (ivf && index->ntotal > static_cast<FaissId>(count)) ||
      (layout->kind == IndexLayout::Kind::kHnsw) != (dynamic_cast<faiss::IndexHNSW*>(index.get()) != nullptr) ||
      ivf != (dynamic_cast<faiss::IndexIVF*>(index.get()) != nullptr)) {
    return corrupt("FAISS data does not match the header");
  }
  auto out = std::unique_ptr<FaissIndex>(new FaissIndex(
      *std::move(spec), *layout, static_cast<int>(dimension), std::move(index)));
  out->trained_size_ = static_cast<int64_t>(trained_size);
  out->training_installed_ = training_installed != 0;
  // The spec, not the file, decides the search defaults.
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(out->index_.get())) {
    hnsw->hnsw.efSearch = out->layout_.ef_search;
  }
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(out->index_.get())) {
    ivf->nprobe = out->layout_.nprobe;
  }
  out->labels_ = std::move(labels);
  out->deleted_.resize(count);
  // Increasing live labels have no two alike: the label -> position map is
  // then left to the first Add or Remove (a reopen that only searches
  // never builds it); otherwise it is built here, refusing duplicates.
  bool increasing = true, any_live = false;
  uint64_t last_live = 0;
  for (uint64_t p = 0; p < count; ++p) {
    const bool dead = tombstones[p / 8] & (1u << (p % 8));
    out->deleted_[p] = dead;
    if (dead) {
      ++out->num_deleted_;
    } else {
      increasing = increasing && (!any_live || out->labels_[p] > last_live);
      any_live = true;
      last_live = out->labels_[p];
    }
  }
  if (increasing) {
    out->positions_pending_ = true;
  } else {
    out->positions_.reserve(static_cast<size_t>(out->size()));
    for (uint64_t p = 0; p < count; ++p) {
      if (!out->deleted_[p] && !out->positions_.emplace(out->labels_[p], p).second) {
        return corrupt("duplicate label");
      }
    }
  }
  return out;
}

nlohmann::json FaissIndex::Describe() const {
  const int64_t n = static_cast<int64_t>(labels_.size());
  const int64_t d = dimension_;
  // Bytes per stored vector, plus the label table (8), tombstone bit and
  // hash entry (~24).
  int64_t per_vector = d * 4;
  int64_t fixed = 0;
  if (layout_.codes == IndexLayout::Codes::kSq8) per_vector = d;
  if (layout_.codes == IndexLayout::Codes::kPq) per_vector = layout_.pq_m;
  if (layout_.kind == IndexLayout::Kind::kIvf) {
    per_vector += 8;  // the id beside each code
    fixed = int64_t{layout_.nlist} * d * 4;
  } else if (layout_.kind == IndexLayout::Kind::kHnsw) {
    per_vector += int64_t{layout_.m} * 2 * 4 * 5 / 4;  // level-0 links and upper levels
  }
  nlohmann::json j = {{"type", spec_.kind},
                      {"spec", spec_.ToString()},
                      {"dimension", dimension_},
                      {"live", size()},
                      {"tombstones", num_deleted_},
                      {"memory_bytes", fixed + n * (per_vector + 8 + 24)}};
  // HNSW over floats: the vectors and level 0's links are in the packed
  // blocks, counted by their size in place of per_vector's d * 4 and 2m
  // slots (what is left is the upper levels' estimate, 2m / 4 slots).
  if (packed_ != nullptr) {
    j["memory_bytes"] = j["memory_bytes"].get<int64_t>() - n * (d * 4 + int64_t{layout_.m} * 2 * 4) +
                        static_cast<int64_t>(packed_->level0().memory_bytes());
  }
  if (layout_.kind == IndexLayout::Kind::kIvf) {
    j["trained"] = is_trained();
    j["trained_on"] = trained_size_;
    j["training"] = training_installed_ ? "installed" : "own";
    // The CRC-32 of the coarse centroids (nlist x dimension float32, row
    // major): indexes that share a training show the same.
    const auto* ivf = static_cast<const faiss::IndexIVF*>(index_.get());
    if (const auto* flat = dynamic_cast<const faiss::IndexFlat*>(ivf->quantizer);
        flat != nullptr && is_trained()) {
      j["centroids_crc32"] = crc32(0L, flat->codes.data(), static_cast<uInt>(flat->codes.size()));
    }
    j["nlist"] = layout_.nlist;
    j["nprobe"] = layout_.nprobe;
  } else if (layout_.kind == IndexLayout::Kind::kHnsw) {
    j["m"] = layout_.m;
    j["ef_construction"] = layout_.ef_construction;
    j["ef_search"] = layout_.ef_search;
  }
  return j;
}

}  // namespace semdb
