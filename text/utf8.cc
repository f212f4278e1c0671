#include "text/utf8.h"

#include "absl/strings/str_cat.h"
#include "fmt/format.h"
#include "utf8proc.h"

namespace semdb {

absl::Status ValidateUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t pos = 0, n = static_cast<utf8proc_ssize_t>(text.size());
  while (pos < n) {
    // ASCII fast path.
    if (p[pos] < 0x80) {
      ++pos;
      continue;
    }
    utf8proc_int32_t c;
    utf8proc_ssize_t len = utf8proc_iterate(p + pos, n - pos, &c);
    if (len < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid UTF-8 at byte ", pos));
    }
    pos += len;
  }
  return absl::OkStatus();
}

absl::Status DecodeUtf8(std::string_view text, std::u32string* out) {
  out->clear();
  out->reserve(text.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    utf8proc_int32_t c;
    const utf8proc_ssize_t n =
        utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(text.size() - i), &c);
    if (n <= 0) {
      return absl::InvalidArgumentError(
          fmt::format("text is not valid UTF-8 (bad byte 0x{:02X} at offset {})",
                      static_cast<unsigned>(p[i]), i));
    }
    out->push_back(static_cast<char32_t>(c));
    i += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

void AppendUtf8(char32_t c, std::string* out) {
  utf8proc_uint8_t buf[4];
  const utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(c), buf);
  out->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

std::string ToUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) AppendUtf8(c, &out);
  return out;
}

}  // namespace semdb
