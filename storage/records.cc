#include "storage/records.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "storage/bounded_json.h"
#include "storage/half_float.h"

namespace semdb {
namespace {

constexpr uint8_t kDocumentFormat = 1;
constexpr uint8_t kPassageFormat = 2;  // a document record with a PassageLocation
constexpr uint8_t kParentFormat = 1;
// 1: no "format" key, vectors as float32; 2: "vector_storage" and
// "vector_encoding".
constexpr int kCollectionRecordFormat = 2;


void AppendBytes(std::string* out, std::string_view bytes) {
  AppendVarint(out, bytes.size());
  out->append(bytes);
}

bool ReadBytes(std::string_view* in, std::string* out) {
  uint64_t n;
  if (!ReadVarint(in, &n) || n > in->size()) return false;
  out->assign(in->substr(0, n));
  in->remove_prefix(n);
  return true;
}

absl::Status Corrupt(const char* what) {
  return absl::DataLossError(std::string("corrupt ") + what + " record");
}

}  // namespace

void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool ReadVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    uint8_t byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char last = static_cast<unsigned char>(prefix.back());
    if (last != 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(16, '\xff');
}

void AppendBigEndian32(std::string* out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out->push_back(static_cast<char>(v >> s));
}

void AppendBigEndian64(std::string* out, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out->push_back(static_cast<char>(v >> s));
}

uint32_t ReadBigEndian32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

uint64_t ReadBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

const char* VectorStorageName(VectorStorage storage) {
  return storage == VectorStorage::kFloat16 ? "float16" : "float32";
}

std::optional<VectorStorage> ParseVectorStorage(std::string_view name) {
  if (name == "float32") return VectorStorage::kFloat32;
  if (name == "float16") return VectorStorage::kFloat16;
  return std::nullopt;
}

void RoundToStorage(VectorStorage storage, absl::Span<float> values) {
  if (storage == VectorStorage::kFloat16) RoundToHalfPrecision(values);
}

std::string CollectionRecord::Encode() const {
  nlohmann::json j = {{"format", kCollectionRecordFormat},
                      {"id", id},
                      {"name", name},
                      {"embedder", embedder_spec},
                      {"index", index_spec},
                      {"generation", generation},
                      {"dimension", dimension},
                      {"fitted_docs", fitted_docs},
                      {"created", created_unix},
                      {"probe", probe},
                      {"indexed_fields", indexed_fields},
                      {"keyword_index", keyword_index},
                      {"vector_storage", vector_storage},
                      {"vector_encoding", VectorStorageName(vector_encoding)}};
  if (chunking != "none") j["chunking"] = chunking;
  if (!model_fingerprint.empty()) j["model_fingerprint"] = model_fingerprint;
  if (model_installed) j["model_installed"] = true;
  if (!recall_curve.empty()) j["recall_curve"] = recall_curve;
  return j.dump();
}

absl::StatusOr<CollectionRecord> CollectionRecord::Decode(std::string_view bytes) {
  absl::StatusOr<nlohmann::json> parsed = ParseJson(bytes);
  if (!parsed.ok() || !parsed->is_object()) return Corrupt("collection");
  const nlohmann::json& j = *parsed;
  CollectionRecord r;
  try {
    const int format = j.value("format", 1);
    if (format > kCollectionRecordFormat) {
      return absl::FailedPreconditionError(absl::StrCat(
          "collection record of format ", format, ", newer than this semdb reads (up to ",
          kCollectionRecordFormat, "): open the database with a newer semdb"));
    }
    if (format >= 2) {
      r.vector_storage = j.at("vector_storage").get<std::string>();
      std::optional<VectorStorage> encoding =
          ParseVectorStorage(j.at("vector_encoding").get<std::string>());
      if (!encoding || (r.vector_storage != "auto" && !ParseVectorStorage(r.vector_storage))) {
        return Corrupt("collection");
      }
      r.vector_encoding = *encoding;
    }
    r.id = j.at("id").get<uint32_t>();
    r.name = j.at("name").get<std::string>();
    r.embedder_spec = j.at("embedder").get<std::string>();
    r.index_spec = j.at("index").get<std::string>();
    r.generation = j.at("generation").get<uint32_t>();
    r.dimension = j.at("dimension").get<int32_t>();
    r.fitted_docs = j.at("fitted_docs").get<int64_t>();
    r.created_unix = j.at("created").get<int64_t>();
    r.probe = j.value("probe", std::vector<float>{});
    r.chunking = j.value("chunking", std::string("none"));
    // Absent in records written before these existed.
    r.indexed_fields = j.value("indexed_fields", std::vector<std::string>{});
    r.keyword_index = j.value("keyword_index", false);
    r.model_fingerprint = j.value("model_fingerprint", std::string());
    r.model_installed = j.value("model_installed", false);
    r.recall_curve = j.value("recall_curve", std::string());
  } catch (const nlohmann::json::exception&) {
    return Corrupt("collection");
  }
  return r;
}

std::string Counters::Encode() const {
  std::string out;
  AppendVarint(&out, next_label);
  AppendVarint(&out, next_seq);
  AppendVarint(&out, static_cast<uint64_t>(live_docs));
  AppendVarint(&out, static_cast<uint64_t>(tokens));
  AppendVarint(&out, static_cast<uint64_t>(unknown_tokens));
  if (documents != 0 || next_generated_id > 1) {
    AppendVarint(&out, static_cast<uint64_t>(documents));
  }
  if (next_generated_id > 1) AppendVarint(&out, next_generated_id);
  return out;
}

absl::StatusOr<Counters> Counters::Decode(std::string_view bytes) {
  Counters c;
  uint64_t live, tokens, unknown, documents = 0;
  if (!ReadVarint(&bytes, &c.next_label) || !ReadVarint(&bytes, &c.next_seq) ||
      !ReadVarint(&bytes, &live) || !ReadVarint(&bytes, &tokens) ||
      !ReadVarint(&bytes, &unknown) ||
      (!bytes.empty() && !ReadVarint(&bytes, &documents)) ||
      (!bytes.empty() && (!ReadVarint(&bytes, &c.next_generated_id) || !bytes.empty()))) {
    return Corrupt("counters");
  }
  c.documents = static_cast<int64_t>(documents);
  c.live_docs = static_cast<int64_t>(live);
  c.tokens = static_cast<int64_t>(tokens);
  c.unknown_tokens = static_cast<int64_t>(unknown);
  return c;
}

std::string GeneratedId(uint64_t n) { return "_" + std::to_string(n); }

std::string PassageId(std::string_view parent, uint32_t index) {
  std::string id(parent);
  id.push_back('\x1f');
  id.append(std::to_string(index));
  return id;
}

std::string DocumentRecord::Encode() const {
  std::string out;
  out.reserve(text.size() + id.size() + 16 + (passage ? passage->parent.size() + 24 : 0));
  out.push_back(static_cast<char>(passage ? kPassageFormat : kDocumentFormat));
  AppendBytes(&out, id);
  AppendBytes(&out, text);
  if (passage) {
    AppendBytes(&out, passage->parent);
    AppendVarint(&out, passage->index);
    AppendVarint(&out, passage->count);
    AppendVarint(&out, passage->begin);
    AppendVarint(&out, passage->end);
  }
  return out;
}

absl::StatusOr<DocumentRecord> DocumentRecord::Decode(std::string_view bytes) {
  DocumentRecord r;
  const uint8_t format = bytes.empty() ? 0 : static_cast<uint8_t>(bytes[0]);
  if (format != kDocumentFormat && format != kPassageFormat) return Corrupt("document");
  bytes.remove_prefix(1);
  if (!ReadBytes(&bytes, &r.id) || !ReadBytes(&bytes, &r.text)) return Corrupt("document");
  if (format == kPassageFormat) {
    PassageLocation& p = r.passage.emplace();
    uint64_t index, count;
    if (!ReadBytes(&bytes, &p.parent) || !ReadVarint(&bytes, &index) ||
        !ReadVarint(&bytes, &count) || !ReadVarint(&bytes, &p.begin) ||
        !ReadVarint(&bytes, &p.end) || index >= count || count > UINT32_MAX ||
        p.begin > p.end) {
      return Corrupt("passage");
    }
    p.index = static_cast<uint32_t>(index);
    p.count = static_cast<uint32_t>(count);
  }
  if (!bytes.empty()) return Corrupt("document");
  return r;
}

std::string ParentRecord::Encode() const {
  std::string out;
  out.push_back(static_cast<char>(kParentFormat));
  AppendBytes(&out, metadata_json);
  AppendVarint(&out, passage_labels.size());
  for (uint64_t label : passage_labels) AppendVarint(&out, label);
  return out;
}

absl::StatusOr<ParentRecord> ParentRecord::Decode(std::string_view bytes) {
  ParentRecord r;
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kParentFormat) {
    return Corrupt("parent");
  }
  bytes.remove_prefix(1);
  uint64_t n;
  // Each label takes at least one byte: a count beyond the rest is corrupt.
  if (!ReadBytes(&bytes, &r.metadata_json) || !ReadVarint(&bytes, &n) || n > bytes.size()) {
    return Corrupt("parent");
  }
  r.passage_labels.resize(n);
  for (uint64_t& label : r.passage_labels) {
    if (!ReadVarint(&bytes, &label)) return Corrupt("parent");
  }
  if (!bytes.empty()) return Corrupt("parent");
  return r;
}

std::string VectorRecord::EncodeHeader(int32_t tokens, int32_t unknown_tokens) {
  std::string out;
  AppendVarint(&out, static_cast<uint32_t>(tokens));
  AppendVarint(&out, static_cast<uint32_t>(unknown_tokens));
  return out;
}

void VectorRecord::AppendValues(VectorStorage storage, absl::Span<const float> values,
                                std::string* out) {
  const size_t at = out->size();
  if (storage == VectorStorage::kFloat32) {
    out->append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
    return;
  }
  std::vector<uint16_t> halves(values.size());
  FloatsToHalves(values, absl::MakeSpan(halves));
  out->resize(at + halves.size() * sizeof(uint16_t));
  std::memcpy(out->data() + at, halves.data(), halves.size() * sizeof(uint16_t));
}

std::string VectorRecord::Encode(VectorStorage storage) const {
  std::string out = EncodeHeader(tokens, unknown_tokens);
  AppendValues(storage, values, &out);
  return out;
}

absl::StatusOr<VectorRecord> VectorRecord::Decode(std::string_view bytes,
                                                  VectorStorage storage) {
  VectorRecord r;
  uint64_t tokens, unknown;
  if (!ReadVarint(&bytes, &tokens) || !ReadVarint(&bytes, &unknown) ||
      !DecodeValues(bytes, storage, &r.values)) {
    return Corrupt("vector");
  }
  r.tokens = static_cast<int32_t>(tokens);
  r.unknown_tokens = static_cast<int32_t>(unknown);
  return r;
}

bool VectorRecord::DecodeValues(std::string_view bytes, VectorStorage storage,
                                std::vector<float>* values) {
  const size_t width = storage == VectorStorage::kFloat16 ? sizeof(uint16_t) : sizeof(float);
  if (bytes.size() % width != 0) return false;
  values->resize(bytes.size() / width);
  if (storage == VectorStorage::kFloat32) {
    std::memcpy(values->data(), bytes.data(), bytes.size());
  } else {
    std::vector<uint16_t> halves(values->size());
    std::memcpy(halves.data(), bytes.data(), bytes.size());
    HalvesToFloats(halves, absl::MakeSpan(*values));
  }
  return true;
}

std::string VectorRef::Encode() const {
  std::string out;
  AppendVarint(&out, static_cast<uint32_t>(tokens));
  AppendVarint(&out, static_cast<uint32_t>(unknown_tokens));
  AppendVarint(&out, file);
  AppendVarint(&out, offset);
  AppendVarint(&out, length);
  AppendBigEndian32(&out, crc);
  return out;
}

absl::StatusOr<VectorRef> VectorRef::Decode(std::string_view bytes) {
  VectorRef r;
  uint64_t tokens, unknown, file, length;
  if (!ReadVarint(&bytes, &tokens) || !ReadVarint(&bytes, &unknown) ||
      !ReadVarint(&bytes, &file) || !ReadVarint(&bytes, &r.offset) ||
      !ReadVarint(&bytes, &length) || bytes.size() != 4 || file > UINT32_MAX ||
      length > UINT32_MAX) {
    return Corrupt("vector reference");
  }
  r.tokens = static_cast<int32_t>(tokens);
  r.unknown_tokens = static_cast<int32_t>(unknown);
  r.file = static_cast<uint32_t>(file);
  r.length = static_cast<uint32_t>(length);
  r.crc = ReadBigEndian32(bytes.data());
  return r;
}

std::string LogOp::Encode() const {
  std::string out(1, static_cast<char>(kind));
  AppendBigEndian64(&out, label);
  return out;
}

absl::StatusOr<LogOp> LogOp::Decode(std::string_view bytes) {
  if (bytes.size() != 9 || (bytes[0] != kAdd && bytes[0] != kRemove)) {
    return Corrupt("index log");
  }
  LogOp op;
  op.kind = static_cast<Kind>(bytes[0]);
  op.label = ReadBigEndian64(bytes.data() + 1);
  return op;
}

}  // namespace semdb
