#include "embedders/torch_checkpoint.h"

#include <zip.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <variant>
#include <vector>

#include "absl/strings/match.h"
#include "fmt/format.h"

namespace semdb {
namespace {

constexpr uint64_t kMaxPickleBytes = uint64_t{256} << 20;
constexpr uint64_t kMaxStorageBytes = uint64_t{64} << 30;
constexpr size_t kMaxStack = 1 << 20;  // values on the stack or in the memo

// A storage named by a persistent id: the file data/<key>.
struct StorageRef {
  std::string key;
  std::string dtype;  // safetensors' dtype name
  int64_t elements = 0;
};

// A tensor rebuilt by _rebuild_tensor_v2.
struct TensorRef {
  StorageRef storage;
  int64_t offset = 0;  // in elements
  std::vector<int64_t> shape, stride;
};

struct Value;
using Ref = std::shared_ptr<Value>;
struct None {};
struct Global {
  std::string name;  // "module.qualname"
};
struct Tuple {
  std::vector<Ref> items;
};
struct List {
  std::vector<Ref> items;
};
struct Dict {
  std::vector<std::pair<Ref, Ref>> items;  // in insertion order
};
struct Value {
  std::variant<None, bool, int64_t, double, std::string, Global, Tuple, List, Dict, StorageRef,
               TensorRef>
      v;
};

Ref Make(auto v) { return std::make_shared<Value>(Value{std::move(v)}); }

// torch's storage class names, as safetensors dtypes.
std::string StorageDtype(const std::string& global) {
  static const std::map<std::string, std::string> kTypes = {
      {"torch.FloatStorage", "F32"},  {"torch.HalfStorage", "F16"},
      {"torch.BFloat16Storage", "BF16"}, {"torch.DoubleStorage", "F64"},
      {"torch.LongStorage", "I64"},   {"torch.IntStorage", "I32"},
      {"torch.ShortStorage", "I16"},  {"torch.CharStorage", "I8"},
      {"torch.ByteStorage", "U8"},    {"torch.BoolStorage", "BOOL"}};
  auto it = kTypes.find(global);
  return it == kTypes.end() ? "" : it->second;
}

int DtypeBytes(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16") return 2;
  return 1;
}

// The restricted unpickler: a stack machine over the opcodes listed in
// torch_checkpoint.h. Errors say what was refused and where.
class Unpickler {
 public:
  explicit Unpickler(std::string_view data) : data_(data) {}

  absl::StatusOr<Ref> Run() {
    while (true) {
      if (pos_ >= data_.size()) return Error("the pickle ends without STOP");
      const size_t at = pos_;
      const unsigned char op = static_cast<unsigned char>(data_[pos_++]);
      absl::Status s = Step(op);
      if (!s.ok()) return s;
      if (op == '.') {
        if (stack_.size() != 1) return Error("STOP with a stack of other than one value");
        return stack_.back();
      }
      if (stack_.size() > kMaxStack || memo_.size() > kMaxStack) {
        return Error(fmt::format("too many values at byte {}", at));
      }
    }
  }

 private:
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(fmt::format("pickle byte {}: {}", pos_, what));
  }

  absl::StatusOr<std::string_view> Take(size_t n) {
    if (n > data_.size() - pos_) return Error("truncated");
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  absl::StatusOr<uint64_t> Le(size_t n) {
    absl::StatusOr<std::string_view> b = Take(n);
    if (!b.ok()) return b.status();
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | static_cast<unsigned char>((*b)[i]);
    return v;
  }
  absl::StatusOr<std::string> Line() {
    const size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos) return Error("truncated");
    std::string s(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  absl::StatusOr<Ref> Pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() == marks_.back())) {
      return Error("pop from an empty stack");
    }
    Ref r = std::move(stack_.back());
    stack_.pop_back();
    return r;
  }
  // The values above the last MARK, which is removed.
  absl::StatusOr<std::vector<Ref>> PopMark() {
    if (marks_.empty()) return Error("no MARK");
    std::vector<Ref> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  absl::Status Push(Ref r) {
    stack_.push_back(std::move(r));
    return absl::OkStatus();
  }
  absl::Status PushString(size_t n) {
    absl::StatusOr<std::string_view> s = Take(n);
    if (!s.ok()) return s.status();
    return Push(Make(std::string(*s)));
  }
  absl::Status PushInt(size_t n, bool is_signed) {
    absl::StatusOr<uint64_t> v = Le(n);
    if (!v.ok()) return v.status();
    int64_t i = static_cast<int64_t>(*v);
    if (is_signed && n < 8 && (*v >> (8 * n - 1)) != 0) i -= int64_t{1} << (8 * n);
    return Push(Make(i));
  }
  absl::Status Memo(uint64_t index) {
    if (stack_.empty()) return Error("PUT with an empty stack");
    if (index > kMaxStack) return Error("memo index out of range");
    memo_[index] = stack_.back();
    return absl::OkStatus();
  }
  absl::Status Get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return Error(fmt::format("GET of unset memo {}", index));
    return Push(it->second);
  }
  absl::Status SetItems(std::vector<Ref> items) {
    if (items.size() % 2 != 0) return Error("SETITEMS with an odd count");
    absl::StatusOr<Ref> target = Pop();
    if (!target.ok()) return target.status();
    Dict* d = std::get_if<Dict>(&(*target)->v);
    if (d == nullptr) return Error("SETITEM on a non-dict");
    for (size_t i = 0; i < items.size(); i += 2) d->items.emplace_back(items[i], items[i + 1]);
    return Push(*target);
  }
  absl::Status Appends(std::vector<Ref> items) {
    absl::StatusOr<Ref> target = Pop();
    if (!target.ok()) return target.status();
    List* l = std::get_if<List>(&(*target)->v);
    if (l == nullptr) return Error("APPEND on a non-list");
    l->items.insert(l->items.end(), items.begin(), items.end());
    return Push(*target);
  }
  absl::Status PushGlobal(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    if (full != "collections.OrderedDict" && full != "torch._utils._rebuild_tensor_v2" &&
        full != "torch._utils._rebuild_parameter" && StorageDtype(full).empty()) {
      return Error(fmt::format("refused global {} (only torch tensors and dicts are read)", full));
    }
    return Push(Make(Global{full}));
  }
  absl::Status Step(unsigned char op);
  absl::Status Reduce();
  absl::Status PersistentLoad();

  std::string_view data_;
  size_t pos_ = 0;
  std::vector<Ref> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, Ref> memo_;
};

absl::StatusOr<std::vector<int64_t>> Ints(const Ref& r) {
  const Tuple* t = std::get_if<Tuple>(&r->v);
  if (t == nullptr) return absl::InvalidArgumentError("a tensor's size or stride is not a tuple");
  std::vector<int64_t> out;
  for (const Ref& x : t->items) {
    const int64_t* i = std::get_if<int64_t>(&x->v);
    if (i == nullptr || *i < 0) return absl::InvalidArgumentError("a tensor's size or stride is not an int");
    out.push_back(*i);
  }
  return out;
}

absl::Status Unpickler::Reduce() {
  absl::StatusOr<Ref> args = Pop();
  if (!args.ok()) return args.status();
  absl::StatusOr<Ref> callable = Pop();
  if (!callable.ok()) return callable.status();
  const Global* g = std::get_if<Global>(&(*callable)->v);
  const Tuple* a = std::get_if<Tuple>(&(*args)->v);
  if (g == nullptr || a == nullptr) return Error("REDUCE of something other than a known global");
  if (g->name == "collections.OrderedDict") {
    if (!a->items.empty()) return Error("OrderedDict with arguments");
    return Push(Make(Dict{}));
  }
  if (g->name == "torch._utils._rebuild_parameter") {  // (data, requires_grad, hooks)
    if (a->items.empty() || !std::holds_alternative<TensorRef>(a->items[0]->v)) {
      return Error("_rebuild_parameter of a non-tensor");
    }
    return Push(a->items[0]);
  }
  if (g->name != "torch._utils._rebuild_tensor_v2") return Error(fmt::format("{} called", g->name));
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  if (a->items.size() < 4) return Error("_rebuild_tensor_v2 with too few arguments");
  const StorageRef* storage = std::get_if<StorageRef>(&a->items[0]->v);
  const int64_t* offset = std::get_if<int64_t>(&a->items[1]->v);
  if (storage == nullptr || offset == nullptr || *offset < 0) {
    return Error("_rebuild_tensor_v2 without a storage and offset");
  }
  TensorRef t{*storage, *offset, {}, {}};
  absl::StatusOr<std::vector<int64_t>> shape = Ints(a->items[2]);
  absl::StatusOr<std::vector<int64_t>> stride = Ints(a->items[3]);
  if (!shape.ok() || !stride.ok() || shape->size() != stride->size()) {
    return Error("_rebuild_tensor_v2 with a bad size or stride");
  }
  t.shape = *std::move(shape);
  t.stride = *std::move(stride);
  return Push(Make(std::move(t)));
}

// BINPERSID with ('storage', storage type, key, location, elements).
absl::Status Unpickler::PersistentLoad() {
  absl::StatusOr<Ref> pid = Pop();
  if (!pid.ok()) return pid.status();
  const Tuple* t = std::get_if<Tuple>(&(*pid)->v);
  if (t == nullptr || t->items.size() != 5) return Error("a persistent id that is not a storage");
  const std::string* tag = std::get_if<std::string>(&t->items[0]->v);
  const Global* type = std::get_if<Global>(&t->items[1]->v);
  const std::string* key = std::get_if<std::string>(&t->items[2]->v);
  const int64_t* elements = std::get_if<int64_t>(&t->items[4]->v);
  if (tag == nullptr || *tag != "storage" || type == nullptr || StorageDtype(type->name).empty() ||
      key == nullptr || elements == nullptr || *elements < 0) {
    return Error("a persistent id that is not a storage");
  }
  return Push(Make(StorageRef{*key, StorageDtype(type->name), *elements}));
}

absl::Status Unpickler::Step(unsigned char op) {
  switch (op) {
    case 0x80: return Take(1).status();  // PROTO
    case 0x95: return Take(8).status();  // FRAME
    case '.': return absl::OkStatus();   // STOP
    case '(': marks_.push_back(stack_.size()); return absl::OkStatus();
    case 'N': return Push(Make(None{}));
    case 0x88: return Push(Make(true));
    case 0x89: return Push(Make(false));
    case 'K': return PushInt(1, false);
    case 'M': return PushInt(2, false);
    case 'J': return PushInt(4, true);
    case 0x8a: {  // LONG1
      absl::StatusOr<uint64_t> n = Le(1);
      if (!n.ok()) return n.status();
      if (*n > 8) return Error("an integer wider than 64 bits");
      if (*n == 0) return Push(Make(int64_t{0}));
      return PushInt(*n, true);
    }
    case 'G': {  // BINFLOAT, big-endian
      absl::StatusOr<std::string_view> b = Take(8);
      if (!b.ok()) return b.status();
      uint64_t bits = 0;
      for (char c : *b) bits = (bits << 8) | static_cast<unsigned char>(c);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return Push(Make(d));
    }
    case 'X': case 'T': {  // BINUNICODE, BINSTRING
      absl::StatusOr<uint64_t> n = Le(4);
      return n.ok() ? PushString(*n) : n.status();
    }
    case 0x8c: case 'U': {  // SHORT_BINUNICODE, SHORT_BINSTRING
      absl::StatusOr<uint64_t> n = Le(1);
      return n.ok() ? PushString(*n) : n.status();
    }
    case 'c': {  // GLOBAL
      absl::StatusOr<std::string> module = Line();
      if (!module.ok()) return module.status();
      absl::StatusOr<std::string> name = Line();
      if (!name.ok()) return name.status();
      return PushGlobal(*module, *name);
    }
    case 0x93: {  // STACK_GLOBAL
      absl::StatusOr<Ref> name = Pop();
      if (!name.ok()) return name.status();
      absl::StatusOr<Ref> module = Pop();
      if (!module.ok()) return module.status();
      const std::string* n = std::get_if<std::string>(&(*name)->v);
      const std::string* m = std::get_if<std::string>(&(*module)->v);
      if (n == nullptr || m == nullptr) return Error("STACK_GLOBAL of non-strings");
      return PushGlobal(*m, *n);
    }
    case ')': return Push(Make(Tuple{}));
    case ']': return Push(Make(List{}));
    case '}': return Push(Make(Dict{}));
    case 't': case 'l': case 'd': {  // TUPLE, LIST, DICT from the mark
      absl::StatusOr<std::vector<Ref>> items = PopMark();
      if (!items.ok()) return items.status();
      if (op == 't') return Push(Make(Tuple{*std::move(items)}));
      if (op == 'l') return Push(Make(List{*std::move(items)}));
      stack_.push_back(Make(Dict{}));
      return SetItems(*std::move(items));
    }
    case 0x85: case 0x86: case 0x87: {  // TUPLE1-3
      const size_t n = op - 0x84;
      if (stack_.size() < n + (marks_.empty() ? 0 : marks_.back())) return Error("TUPLE of too few");
      Tuple t{std::vector<Ref>(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end())};
      stack_.resize(stack_.size() - n);
      return Push(Make(std::move(t)));
    }
    case 's': {  // SETITEM
      absl::StatusOr<Ref> value = Pop();
      if (!value.ok()) return value.status();
      absl::StatusOr<Ref> key = Pop();
      if (!key.ok()) return key.status();
      return SetItems({*key, *value});
    }
    case 'u': {  // SETITEMS
      absl::StatusOr<std::vector<Ref>> items = PopMark();
      return items.ok() ? SetItems(*std::move(items)) : items.status();
    }
    case 'a': {  // APPEND
      absl::StatusOr<Ref> value = Pop();
      return value.ok() ? Appends({*value}) : value.status();
    }
    case 'e': {  // APPENDS
      absl::StatusOr<std::vector<Ref>> items = PopMark();
      return items.ok() ? Appends(*std::move(items)) : items.status();
    }
    case 'q': {  // BINPUT
      absl::StatusOr<uint64_t> i = Le(1);
      return i.ok() ? Memo(*i) : i.status();
    }
    case 'r': {  // LONG_BINPUT
      absl::StatusOr<uint64_t> i = Le(4);
      return i.ok() ? Memo(*i) : i.status();
    }
    case 0x94: return Memo(memo_.size());  // MEMOIZE
    case 'h': {  // BINGET
      absl::StatusOr<uint64_t> i = Le(1);
      return i.ok() ? Get(*i) : i.status();
    }
    case 'j': {  // LONG_BINGET
      absl::StatusOr<uint64_t> i = Le(4);
      return i.ok() ? Get(*i) : i.status();
    }
    case 'Q': return PersistentLoad();
    case 'R': return Reduce();
    case 'b': {  // BUILD: a state dict's _metadata attribute, not needed
      absl::StatusOr<Ref> state = Pop();
      if (!state.ok()) return state.status();
      if (stack_.empty() || !std::holds_alternative<Dict>(stack_.back()->v)) {
        return Error("BUILD of something other than a dict");
      }
      return absl::OkStatus();
    }
    default:
      return Error(fmt::format("opcode 0x{:02x} is not supported", op));
  }
}

// An open zip archive, closed (never written) on destruction.
struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using Zip = std::unique_ptr<zip_t, ZipCloser>;

absl::StatusOr<std::string> ReadEntry(zip_t* z, const std::string& name, const std::string& path,
                                      uint64_t max_bytes) {
  zip_stat_t st;
  if (zip_stat(z, name.c_str(), 0, &st) != 0 || (st.valid & ZIP_STAT_SIZE) == 0) {
    return absl::InvalidArgumentError(fmt::format("{}: no {} in the archive", path, name));
  }
  if (st.size > max_bytes) {
    return absl::InvalidArgumentError(fmt::format("{}: {} is too large", path, name));
  }
  std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> f(zip_fopen(z, name.c_str(), 0), zip_fclose);
  std::string bytes(st.size, '\0');
  if (f == nullptr || zip_fread(f.get(), bytes.data(), st.size) != static_cast<zip_int64_t>(st.size)) {
    return absl::InvalidArgumentError(fmt::format("{}: cannot read {} ({})", path, name, zip_strerror(z)));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SafeTensorsFile>> ReadTorchCheckpoint(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(fmt::format("cannot open {}", path));
  }
  int error = 0;
  Zip z(zip_open(path.c_str(), ZIP_RDONLY, &error));
  if (z == nullptr) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: not a zip archive, so not a torch checkpoint of torch 1.6 or later (save it again "
        "with torch.save, or as safetensors)",
        path));
  }
  // <name>/data.pkl, <name> being any one folder.
  std::string prefix;
  const zip_int64_t entries = zip_get_num_entries(z.get(), 0);
  for (zip_int64_t i = 0; i < entries; ++i) {
    const char* name = zip_get_name(z.get(), static_cast<zip_uint64_t>(i), 0);
    if (name == nullptr) continue;
    const std::string_view n(name);
    const size_t slash = n.find('/');
    if (slash != std::string_view::npos && n.substr(slash) == "/data.pkl") {
      prefix = std::string(n.substr(0, slash + 1));
      break;
    }
  }
  if (prefix.empty()) {
    return absl::InvalidArgumentError(fmt::format("{}: a zip archive without data.pkl, not a torch checkpoint", path));
  }
  if (zip_name_locate(z.get(), (prefix + "byteorder").c_str(), 0) >= 0) {
    absl::StatusOr<std::string> order = ReadEntry(z.get(), prefix + "byteorder", path, 64);
    if (!order.ok()) return order.status();
    if (*order != "little") {
      return absl::InvalidArgumentError(fmt::format("{}: a {}-endian checkpoint", path, *order));
    }
  }
  absl::StatusOr<std::string> pickle = ReadEntry(z.get(), prefix + "data.pkl", path, kMaxPickleBytes);
  if (!pickle.ok()) return pickle.status();
  absl::StatusOr<Ref> root = Unpickler(*pickle).Run();
  if (!root.ok()) {
    return absl::InvalidArgumentError(fmt::format("{}: {}", path, std::string(root.status().message())));
  }
  const Dict* dict = std::get_if<Dict>(&(*root)->v);
  if (dict == nullptr) {
    return absl::InvalidArgumentError(fmt::format("{}: the checkpoint is not a state dict", path));
  }
  std::map<std::string, std::string> storage;
  std::map<std::string, SafeTensor> tensors;
  for (const auto& [key, value] : dict->items) {
    const std::string* name = std::get_if<std::string>(&key->v);
    const TensorRef* t = std::get_if<TensorRef>(&value->v);
    if (name == nullptr || t == nullptr) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: the state dict holds something other than named tensors", path));
    }
    const int64_t size = DtypeBytes(t->storage.dtype);
    if (!storage.contains(t->storage.key)) {
      absl::StatusOr<std::string> bytes = ReadEntry(z.get(), prefix + "data/" + t->storage.key, path,
                                                       kMaxStorageBytes);
      if (!bytes.ok()) return bytes.status();
      if (static_cast<int64_t>(bytes->size()) < t->storage.elements * size) {
        return absl::InvalidArgumentError(fmt::format(
            "{}: storage {} has {} bytes, fewer than its {} elements", path, t->storage.key,
            bytes->size(), t->storage.elements));
      }
      storage[t->storage.key] = *std::move(bytes);
    }
    // Contiguous (row-major) strides; dimensions of size 1 may have any.
    int64_t elements = 1;
    for (size_t d = t->shape.size(); d-- > 0;) {
      if (t->shape[d] != 1 && t->stride[d] != elements) {
        return absl::InvalidArgumentError(fmt::format(
            "{}: tensor '{}' is not contiguous (save it after .contiguous())", path, *name));
      }
      if (t->shape[d] != 0 && elements > (int64_t{1} << 40) / t->shape[d]) {
        return absl::InvalidArgumentError(fmt::format("{}: tensor '{}' is too large", path, *name));
      }
      elements *= t->shape[d];
    }
    const std::string& bytes = storage[t->storage.key];
    if (t->offset > t->storage.elements || elements > t->storage.elements - t->offset) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: tensor '{}' lies outside its storage {}", path, *name, t->storage.key));
    }
    tensors[*name] = SafeTensor{t->storage.dtype, t->shape,
                                reinterpret_cast<const uint8_t*>(bytes.data()) + t->offset * size,
                                static_cast<size_t>(elements * size)};
  }
  return SafeTensorsFile::FromMemory(path, std::move(tensors), std::move(storage));
}

absl::StatusOr<std::unique_ptr<SafeTensorsFile>> OpenModelWeights(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir + "/model.safetensors", ec)) {
    return SafeTensorsFile::Open(dir + "/model.safetensors");
  }
  if (std::filesystem::exists(dir + "/pytorch_model.bin", ec)) {
    return ReadTorchCheckpoint(dir + "/pytorch_model.bin");
  }
  return absl::NotFoundError(
      fmt::format("{}: no model.safetensors nor pytorch_model.bin", dir));
}

}  // namespace semdb
