// The records semdb keeps in RocksDB and their byte encodings.
//
// Layout (one column family per kind of record; <cid> is a collection's
// 4-byte id, integers in keys are big-endian so that keys sort numerically):
//   default    "collection/<name>"     -> CollectionRecord (JSON)
//              "counters/<cid>"        -> Counters
//              "next_collection_id"    -> fixed64
//   documents  <cid><label:8>          -> DocumentRecord
//   metadata   <cid><label:8>          -> metadata JSON text (kept apart from
//                                         the text so that filters scan less)
//   ids        <cid><id bytes>         -> label:8
//   vectors    <cid><gen:4><label:8>   -> VectorRecord: the embedding and
//                                         what the embedder saw; in
//                                         vector-file mode (store.h) a
//                                         VectorRef to the values instead
//   log        <cid><seq:8>            -> LogOp: the index operations since
//                                         the last saved index
//   state      <cid><gen:4><chunk:4>   -> embedder state, in chunks
//   parents    <cid><id bytes>         -> ParentRecord (chunked collections: a
//                                         document whose passages are the
//                                         indexed entries)
//   parent_texts <cid><id bytes>       -> the parent's text (apart, so that
//                                         finding neighbours reads little)
//
// In a chunked collection the documents, metadata, ids and vectors families
// hold passages: the id of passage i of document D is PassageId(D, i), which
// no user id can be (user ids hold no control characters).
//   fields     <cid>...                -> secondary indexes of declared
//                                         metadata fields (src/field_index.h)
//   postings   <cid>...                -> keyword (BM25) inverted index
//                                         (src/keyword_index.h)
#ifndef SEMDB_STORAGE_RECORDS_H_
#define SEMDB_STORAGE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace semdb {

// How a collection's stored vectors hold their values.
enum class VectorStorage : uint8_t {
  kFloat32,  // IEEE binary32: the values as given
  kFloat16,  // IEEE binary16 (storage/half_float.h): half the bytes, widened
             // to float32 when read; a value keeps 11 significant bits
};

// "float32", "float16".
const char* VectorStorageName(VectorStorage storage);
// The storage named `name` as VectorStorageName writes it, or nullopt.
std::optional<VectorStorage> ParseVectorStorage(std::string_view name);
// Replaces each value by what `storage` keeps of it (float16: the nearest
// half), so that what is indexed in memory is what is stored.
void RoundToStorage(VectorStorage storage, absl::Span<float> values);

// A collection's configuration: what made its vectors.
struct CollectionRecord {
  uint32_t id = 0;
  std::string name;
  std::string embedder_spec;  // Spec::ToString()
  std::string index_spec;
  // The embedder's fitted state in use; vectors and state are stored under
  // this generation. 0 = a fittable embedder not fitted yet.
  uint32_t generation = 0;
  int32_t dimension = 0;
  int64_t fitted_docs = 0;  // live documents when the current state was fitted
  int64_t created_unix = 0;
  // The embedder's vectors for fixed probe texts when it made the stored
  // vectors; a reopened embedder must reproduce them (see model_probe.h).
  std::vector<float> probe;
  // Chunker spec; "none" (not stored, so that older records read as none).
  std::string chunking = "none";
  // Top-level metadata fields with a secondary index (fixed at creation).
  std::vector<std::string> indexed_fields;
  // Whether texts are kept in a keyword (BM25) index; false for
  // collections created before there was one.
  bool keyword_index = false;
  // ModelState::Fingerprint() of the model in use (set by every refit and
  // install; empty in records written before it existed).
  std::string model_fingerprint;
  // The model was installed from an exported state (Collection::InstallModel):
  // it is never refitted on the collection's own texts.
  bool model_installed = false;
  // The measured recall curve of the collection's index (JSON written and
  // read by src/search/recall_curve_cache.h); empty when none was measured.
  std::string recall_curve;
  // CollectionSpec::vector_storage as resolved at creation: "float32",
  // "float16", or "auto" (each model's vectors as its embedder's precision
  // warrants, EmbedderCapabilities::half_precision). Fixed for the
  // collection's life. Records of format 1 (before there was a choice)
  // read as "float32".
  std::string vector_storage = "float32";
  // How the vectors of `generation` are stored (set with the generation).
  VectorStorage vector_encoding = VectorStorage::kFloat32;

  // JSON of format kCollectionRecordFormat; Decode also reads format 1
  // (no "format" key), and refuses newer formats.
  std::string Encode() const;
  static absl::StatusOr<CollectionRecord> Decode(std::string_view bytes);
};

// Per-collection counters, rewritten by every write batch.
struct Counters {
  uint64_t next_label = 1;
  uint64_t next_seq = 1;  // next index-log sequence number
  int64_t live_docs = 0;
  // Sums of the live documents' VectorRecord token counts.
  int64_t tokens = 0;
  int64_t unknown_tokens = 0;
  // Chunked collections: live parent documents (live_docs counts their
  // passages). Encoded only when non-zero, as older records lack it.
  int64_t documents = 0;
  // The number of the next generated document id (GeneratedId). Encoded
  // only when above 1, as older records lack it.
  uint64_t next_generated_id = 1;

  std::string Encode() const;
  static absl::StatusOr<Counters> Decode(std::string_view bytes);
};

// The id given to the n-th document inserted without one: "_" and n in
// decimal ("_1", "_2", ...). The leading underscore keeps generated ids
// apart from the ids users choose (numbers, names, paths, UUIDs).
std::string GeneratedId(uint64_t n);

// Where a passage of a chunked document lies in it.
struct PassageLocation {
  std::string parent;  // the document's id
  uint32_t index = 0;  // 0-based, in text order
  uint32_t count = 0;  // passages of the document
  uint64_t begin = 0;  // byte offsets [begin, end) into the document's text
  uint64_t end = 0;
  bool operator==(const PassageLocation&) const = default;
};

// The id under which passage `index` of document `parent` is stored.
std::string PassageId(std::string_view parent, uint32_t index);

struct DocumentRecord {
  std::string id;
  std::string text;
  std::optional<PassageLocation> passage;  // set for passages

  std::string Encode() const;
  static absl::StatusOr<DocumentRecord> Decode(std::string_view bytes);
};

// A chunked document: its metadata and the labels of its passages, in
// order (its text is stored apart).
struct ParentRecord {
  std::string metadata_json;
  std::vector<uint64_t> passage_labels;

  std::string Encode() const;
  static absl::StatusOr<ParentRecord> Decode(std::string_view bytes);
};

// A document's vector in one embedder generation, with what the embedder
// reported for its text (TextStats), which changes with the generation.
struct VectorRecord {
  int32_t tokens = 0;
  int32_t unknown_tokens = 0;
  std::vector<float> values;  // as float32, however stored

  // On disk: the header, then the values little-endian as `storage` says
  // (which the record does not say: the collection record does).
  std::string Encode(VectorStorage storage) const;
  // Encode's bytes before the values.
  static std::string EncodeHeader(int32_t tokens, int32_t unknown_tokens);
  // Appends `values` as `storage` stores them.
  static void AppendValues(VectorStorage storage, absl::Span<const float> values,
                           std::string* out);
  static absl::StatusOr<VectorRecord> Decode(std::string_view bytes, VectorStorage storage);
  // The values alone (AppendValues' bytes) into `values`; false when
  // `bytes` is not a whole number of values.
  static bool DecodeValues(std::string_view bytes, VectorStorage storage,
                           std::vector<float>* values);
};

// A vector whose values live in the database's vector file
// (storage/vector_file.h): what a VectorRecord holds besides the values,
// and where they are.
struct VectorRef {
  int32_t tokens = 0;
  int32_t unknown_tokens = 0;
  uint32_t file = 0;    // the vector file's number
  uint64_t offset = 0;  // of the first byte of the values
  uint32_t length = 0;  // bytes: the values as the collection stores them
  uint32_t crc = 0;     // CRC-32C of those bytes

  std::string Encode() const;
  static absl::StatusOr<VectorRef> Decode(std::string_view bytes);
};

// One index operation, in log order.
struct LogOp {
  enum Kind : uint8_t { kAdd = 1, kRemove = 2 };
  Kind kind = kAdd;
  uint64_t label = 0;

  std::string Encode() const;
  static absl::StatusOr<LogOp> Decode(std::string_view bytes);
};

// LEB128 variable-length integers for values. ReadVarint consumes from
// `in` and fails on truncation.
void AppendVarint(std::string* out, uint64_t v);
bool ReadVarint(std::string_view* in, uint64_t* v);

// The smallest key greater than every key that starts with `prefix` (an
// exclusive upper bound for a prefix scan or range delete).
std::string PrefixEnd(std::string prefix);

// Big-endian fixed-width integers for keys.
void AppendBigEndian32(std::string* out, uint32_t v);
void AppendBigEndian64(std::string* out, uint64_t v);
uint32_t ReadBigEndian32(const char* p);
uint64_t ReadBigEndian64(const char* p);

}  // namespace semdb

#endif  // SEMDB_STORAGE_RECORDS_H_
