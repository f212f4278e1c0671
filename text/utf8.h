// UTF-8 checks and conversions (utf8proc), shared by the public Filter, the
// collection's input checks and the tokenizers. The semdb_text library: it
// sits below every other, so that checking text needs no embedder.
#ifndef SEMDB_TEXT_UTF8_H_
#define SEMDB_TEXT_UTF8_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace semdb {

// Returns OK when `text` is valid UTF-8, else an error naming the byte
// offset of the first invalid sequence.
absl::Status ValidateUtf8(std::string_view text);

// The code points of `text` into *out (replaced), or InvalidArgument naming
// the first bad byte.
absl::Status DecodeUtf8(std::string_view text, std::u32string* out);

// Appends the UTF-8 encoding of c.
void AppendUtf8(char32_t c, std::string* out);

// The UTF-8 encoding of `text`.
std::string ToUtf8(std::u32string_view text);

}  // namespace semdb

#endif  // SEMDB_TEXT_UTF8_H_
