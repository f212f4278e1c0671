// UTF-8 to code points and back, with the error the tokenizers report.
#ifndef SEMDB_EMBEDDERS_UTF8_H_
#define SEMDB_EMBEDDERS_UTF8_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace semdb {

// The code points of `text` into *out (replaced), or InvalidArgument naming
// the first bad byte.
absl::Status DecodeUtf8(std::string_view text, std::u32string* out);

// Appends the UTF-8 encoding of c.
void AppendUtf8(char32_t c, std::string* out);

// The UTF-8 encoding of `text`.
std::string ToUtf8(std::u32string_view text);

}  // namespace semdb

#endif  // SEMDB_EMBEDDERS_UTF8_H_
