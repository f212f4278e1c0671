#include "embedders/precompiled_charsmap.h"

#include <cstring>

#include "fmt/format.h"
#include "text/utf8.h"
#include "utf8proc.h"

namespace semdb {

namespace {

// darts-clone's unit layout.
bool HasLeaf(uint32_t unit) { return ((unit >> 8) & 1) != 0; }
uint32_t Value(uint32_t unit) { return unit & 0x7FFFFFFFu; }
uint32_t Label(uint32_t unit) { return unit & 0x800000FFu; }
size_t Offset(uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }

}  // namespace

absl::StatusOr<PrecompiledCharsmap> PrecompiledCharsmap::FromBytes(std::string_view bytes) {
  uint32_t trie_bytes = 0;
  if (bytes.size() < 4) {
    return absl::InvalidArgumentError("precompiled_charsmap is shorter than its header");
  }
  for (int i = 3; i >= 0; --i) trie_bytes = (trie_bytes << 8) | static_cast<unsigned char>(bytes[i]);
  if (trie_bytes % 4 != 0 || trie_bytes == 0 || trie_bytes > bytes.size() - 4) {
    return absl::InvalidArgumentError(fmt::format(
        "precompiled_charsmap declares a trie of {} bytes in {} bytes", trie_bytes, bytes.size()));
  }
  PrecompiledCharsmap m;
  m.trie_.resize(trie_bytes / 4);
  for (size_t u = 0; u < m.trie_.size(); ++u) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data()) + 4 + 4 * u;
    m.trie_[u] = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
  }
  m.replacements_.assign(bytes.substr(4 + trie_bytes));
  return m;
}

std::optional<std::string_view> PrecompiledCharsmap::Transform(std::string_view utf8) const {
  // darts-clone's common prefix search, stopped at the first key found; a
  // position outside the array (a damaged file) ends the search.
  size_t node = Offset(trie_[0]);
  for (unsigned char c : utf8) {
    if (c == 0) break;
    node ^= c;
    if (node >= trie_.size()) return std::nullopt;
    const uint32_t unit = trie_[node];
    if (Label(unit) != c) return std::nullopt;
    node ^= Offset(unit);
    if (node >= trie_.size()) return std::nullopt;
    if (HasLeaf(unit)) {
      const size_t at = Value(trie_[node]);
      if (at >= replacements_.size()) return std::nullopt;
      const size_t end = replacements_.find('\0', at);
      return std::string_view(replacements_).substr(at, end == std::string::npos ? end : end - at);
    }
  }
  return std::nullopt;
}

std::vector<PrecompiledCharsmap::Change> PrecompiledCharsmap::Normalize(
    std::u32string_view text) const {
  std::vector<Change> out;
  out.reserve(text.size());
  // `replacement` (UTF-8) for `replaced` characters, as the library's
  // replace(): inserted characters are the last ones, a shrink is charged to
  // the last change output.
  auto replace = [&out](std::string_view replacement, size_t replaced) {
    std::u32string cps;
    // The replacements come from the file: invalid UTF-8 in them is dropped.
    if (!DecodeUtf8(replacement, &cps).ok()) cps.clear();
    for (char32_t c : cps) out.push_back({c, 0});
    if (cps.size() > replaced) {
      for (size_t i = out.size() - (cps.size() - replaced); i < out.size(); ++i) out[i].change = 1;
    } else if (cps.size() < replaced && !out.empty()) {
      out.back().change -= static_cast<int>(replaced - cps.size());
    }
  };
  utf8proc_int32_t state = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = start + 1;
    while (end < text.size() &&
           !utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(text[end - 1]),
                                             static_cast<utf8proc_int32_t>(text[end]), &state)) {
      ++end;
    }
    const std::u32string_view cluster = text.substr(start, end - start);
    const std::string utf8 = ToUtf8(cluster);
    std::optional<std::string_view> whole;
    if (utf8.size() < 6) whole = Transform(utf8);
    if (whole.has_value()) {
      replace(*whole, cluster.size());
    } else {
      for (char32_t c : cluster) {
        const std::string one = ToUtf8(std::u32string_view(&c, 1));
        if (std::optional<std::string_view> r = Transform(one)) {
          replace(*r, 1);
        } else {
          out.push_back({c, 0});
        }
      }
    }
    start = end;
  }
  return out;
}

}  // namespace semdb
