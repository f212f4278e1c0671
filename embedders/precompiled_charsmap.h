// SentencePiece's precompiled normalization rules (the `precompiled_charsmap`
// of a .model file, which Hugging Face's tokenizer.json carries base64-encoded
// in a "Precompiled" normalizer; real XLM-R, T5, ALBERT and mBART files use
// it): a darts-clone double-array trie over UTF-8 byte strings whose values
// point into a blob of NUL-terminated replacement strings.
//
// Normalize applies it as the tokenizers library does: for each extended
// grapheme cluster shorter than 6 bytes, the replacement found for a prefix
// of the cluster replaces the whole cluster; otherwise (and for longer
// clusters) each character found is replaced and the others are kept.
// It reports, with each output character, how the library aligns it to the
// input (its NormalizedString::transform changes, quirks included: a
// replacement shorter than what it replaces takes the difference from the
// last character output so far, even one of an earlier cluster).
#ifndef SEMDB_EMBEDDERS_PRECOMPILED_CHARSMAP_H_
#define SEMDB_EMBEDDERS_PRECOMPILED_CHARSMAP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace semdb {

class PrecompiledCharsmap {
 public:
  // `bytes`: [u32 little-endian trie size in bytes][trie units][strings].
  // InvalidArgument when the sizes do not fit.
  static absl::StatusOr<PrecompiledCharsmap> FromBytes(std::string_view bytes);

  // An output character and its change: 0 stands for the next input
  // character, n > 0 is inserted (aligned as the input character before),
  // -n stands for the next input character and drops n more.
  struct Change {
    char32_t c;
    int change;
  };
  std::vector<Change> Normalize(std::u32string_view text) const;

 private:
  // The replacement of the shortest key that prefixes `utf8`, if any.
  std::optional<std::string_view> Transform(std::string_view utf8) const;

  std::vector<uint32_t> trie_;
  std::string replacements_;
};

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_PRECOMPILED_CHARSMAP_H_
