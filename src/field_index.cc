#include "src/field_index.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "storage/records.h"

namespace semdb {
namespace {

constexpr size_t kMaxFieldBytes = 256;

std::string FieldPrefix(const std::string& field) {
  std::string k = field;
  k.push_back('\0');
  return k;
}

void AppendNumber(std::string* out, double d) {
  if (d == 0) d = 0;  // -0.0 == 0.0 for filters: one encoding
  uint64_t bits = std::bit_cast<uint64_t>(d);
  bits = (bits & (uint64_t{1} << 63)) ? ~bits : bits | (uint64_t{1} << 63);
  AppendBigEndian64(out, bits);
}

void AppendString(std::string* out, const std::string& s) {
  for (char c : s) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  out->push_back('\0');
  out->push_back('\x01');
}

// The tag and encoded value of a scalar, or nullopt for arrays and objects.
std::optional<std::string> EncodeScalar(const nlohmann::json& v, bool element) {
  std::string out;
  auto tag = [&](char t) { out.push_back(element ? static_cast<char>(t - 'a' + 'A') : t); };
  if (v.is_null()) {
    tag('n');
  } else if (v.is_boolean()) {
    tag('b');
    out.push_back(v.get<bool>() ? '\x01' : '\x00');
  } else if (v.is_number()) {
    tag('d');
    AppendNumber(&out, v.get<double>());
  } else if (v.is_string()) {
    tag('s');
    AppendString(&out, v.get_ref<const std::string&>());
  } else {
    return std::nullopt;
  }
  return out;
}


// Every index key of one document.
std::vector<std::string> EntryKeys(const std::vector<std::string>& fields, uint64_t label,
                                   const nlohmann::json& metadata) {
  std::vector<std::string> keys;
  if (!metadata.is_object()) return keys;
  auto add = [&](const std::string& field, const std::string& tail) {
    std::string k = FieldPrefix(field) + tail;
    AppendBigEndian64(&k, label);
    keys.push_back(std::move(k));
  };
  for (const std::string& field : fields) {
    auto it = metadata.find(field);
    if (it == metadata.end()) continue;
    add(field, "x");
    if (std::optional<std::string> v = EncodeScalar(*it, false)) {
      add(field, *v);
    } else if (it->is_array()) {
      for (const nlohmann::json& e : *it) {
        if (std::optional<std::string> ev = EncodeScalar(e, true)) add(field, *ev);
      }
    }
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

std::vector<uint64_t> Intersect(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  std::vector<uint64_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

absl::Status ValidateIndexedFields(const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string& f = fields[i];
    if (f.empty() || f.size() > kMaxFieldBytes || f.find('.') != std::string::npos ||
        f.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "indexed field '", f, "': give a top-level field name of 1 to ", kMaxFieldBytes,
          " bytes without '.'"));
    }
    if (std::find(fields.begin(), fields.begin() + i, f) != fields.begin() + i) {
      return absl::InvalidArgumentError(absl::StrCat("indexed field '", f, "' given twice"));
    }
  }
  return absl::OkStatus();
}

FieldIndex::FieldIndex(const Store* store, uint32_t cid, std::vector<std::string> fields)
    : store_(store), cid_(cid), fields_(std::move(fields)) {}

bool FieldIndex::Indexed(const std::string& field) const {
  return std::find(fields_.begin(), fields_.end(), field) != fields_.end();
}

void FieldIndex::Put(StoreBatch& batch, uint64_t label, const nlohmann::json& metadata) const {
  for (const std::string& k : EntryKeys(fields_, label, metadata)) {
    batch.PutAux(AuxIndex::kFields, cid_, k, "");
  }
}

void FieldIndex::Remove(StoreBatch& batch, uint64_t label,
                        const nlohmann::json& metadata) const {
  for (const std::string& k : EntryKeys(fields_, label, metadata)) {
    batch.DeleteAux(AuxIndex::kFields, cid_, k);
  }
}

std::optional<std::vector<FieldIndex::Range>> FieldIndex::LeafRanges(const Filter& f) const {
  using Op = Filter::Op;
  if (!Indexed(f.field)) return std::nullopt;
  const std::string prefix = FieldPrefix(f.field);
  std::vector<Range> ranges;
  auto equal = [&](const nlohmann::json& v) {
    for (bool element : {false, true}) {
      std::optional<std::string> enc = EncodeScalar(v, element);
      if (!enc) return false;
      ranges.push_back({prefix + *enc, PrefixEnd(prefix + *enc)});
    }
    return true;
  };
  switch (f.op) {
    case Op::kExists:
      ranges.push_back({prefix + "x", prefix + "y"});
      return ranges;
    case Op::kEq:
      if (!equal(f.value)) return std::nullopt;
      return ranges;
    case Op::kIn:
      if (!f.value.is_array()) return std::nullopt;
      for (const nlohmann::json& v : f.value) {
        if (!equal(v)) return std::nullopt;
      }
      return ranges;
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      // Only numbers and strings are ordered; other values match nothing.
      if (!f.value.is_number() && !f.value.is_string()) return ranges;
      const std::string type = prefix + (f.value.is_number() ? "d" : "s");
      const std::string at = prefix + *EncodeScalar(f.value, false);
      if (f.op == Op::kLt) ranges.push_back({type, at});
      if (f.op == Op::kLe) ranges.push_back({type, PrefixEnd(at)});
      if (f.op == Op::kGt) ranges.push_back({PrefixEnd(at), PrefixEnd(type)});
      if (f.op == Op::kGe) ranges.push_back({at, PrefixEnd(type)});
      return ranges;
    }
    default:
      return std::nullopt;
  }
}

bool FieldIndex::Covers(const Filter& f) const {
  if (f.op == Filter::Op::kAnd || f.op == Filter::Op::kOr) {
    for (const Filter& c : f.children) {
      if (!Covers(c)) return false;
    }
    return true;
  }
  return LeafRanges(f).has_value();
}

absl::StatusOr<std::optional<FieldCandidates>> FieldIndex::Resolve(const Filter& f,
                                                                   int64_t cap) const {
  using Result = std::optional<FieldCandidates>;
  if (f.op == Filter::Op::kAnd || f.op == Filter::Op::kOr) {
    const bool is_and = f.op == Filter::Op::kAnd;
    Result out;
    bool all_exact = true;
    for (const Filter& c : f.children) {
      absl::StatusOr<Result> part = Resolve(c, cap);
      if (!part.ok()) return part.status();
      if (!part->has_value()) {
        if (!is_and) return Result();
        all_exact = false;
        continue;
      }
      all_exact = all_exact && (*part)->exact;
      if (!out) {
        out = std::move(*part);
      } else if (is_and) {
        out->labels = Intersect(out->labels, (*part)->labels);
      } else {
        std::vector<uint64_t> merged;
        std::set_union(out->labels.begin(), out->labels.end(), (*part)->labels.begin(),
                       (*part)->labels.end(), std::back_inserter(merged));
        if (static_cast<int64_t>(merged.size()) > cap) return Result();
        out->labels = std::move(merged);
      }
    }
    if (out) out->exact = all_exact;
    return out;
  }
  std::optional<std::vector<Range>> ranges = LeafRanges(f);
  if (!ranges) return Result();
  FieldCandidates found;
  bool too_many = false;
  for (const Range& r : *ranges) {
    absl::Status s = store_->ScanAux(
        AuxIndex::kFields, cid_, r.begin, r.end,
        [&](std::string_view key, std::string_view) -> absl::Status {
          if (key.size() < 8) return absl::DataLossError("corrupt field index key");
          found.labels.push_back(ReadBigEndian64(key.data() + key.size() - 8));
          if (static_cast<int64_t>(found.labels.size()) > cap) {
            too_many = true;
            return absl::CancelledError();
          }
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
    if (too_many) return Result();
  }
  std::sort(found.labels.begin(), found.labels.end());
  found.labels.erase(std::unique(found.labels.begin(), found.labels.end()), found.labels.end());
  return Result(std::move(found));
}

}  // namespace semdb
