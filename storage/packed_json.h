// PackedJson: a JSON value laid out in one contiguous string, for values
// kept in memory and turned back into nlohmann::json many times (the
// document cache's metadata). An nlohmann value is a tree of separate heap
// blocks (an object's map, a node per member, a block per string), so a
// copy of a value that is no longer in the CPU's caches takes a cache miss
// per block, one after the other; unpacking reads one run of bytes, and
// builds the same tree with the same allocations as a copy would.
//
// The format is private to this process (native byte order, never
// stored): a tag byte per value, then: nothing for null, booleans and a
// discarded value; 8 bytes for a number; a 4-byte length and the bytes for
// a string; for binary, the length, the bytes, a subtype flag and the 8-byte
// subtype; a 4-byte count and the elements for an array; a 4-byte count and
// (4-byte key length, key, value) members in key order for an object.
#ifndef SEMDB_STORAGE_PACKED_JSON_H_
#define SEMDB_STORAGE_PACKED_JSON_H_

#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace semdb {

// Appends `value` packed to `out`. Recurses once per level of nesting (the
// values packed come from a depth-limited parse, bounded_json.h).
void AppendPackedJson(const nlohmann::json& value, std::string* out);

// The value packed at the front of `*packed` by AppendPackedJson (equal to
// the value packed, a discarded value included); `*packed` is advanced past
// it. `*packed` must start with a value AppendPackedJson wrote.
nlohmann::json UnpackJson(std::string_view* packed);

}  // namespace semdb

#endif  // SEMDB_STORAGE_PACKED_JSON_H_
