#include "embedders/word_tokenizer.h"

#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "text/utf8.h"
#include "utf8proc.h"

namespace semdb {
namespace {

bool IsWordCodePoint(utf8proc_int32_t c) {
  if (c == '_') return true;
  switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

bool IsAscii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

bool IsAsciiWordChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// TokenizeWords for ASCII text, without utf8proc: NFKC leaves ASCII as it
// is, case folding lowers A-Z and nothing else, and the ASCII word code
// points are letters, digits and '_'. Most texts take this path; the
// word_tokenizer tests check both paths give the same words.
std::vector<std::string> TokenizeAscii(std::string_view text, const WordTokenizerOptions& options) {
  std::vector<std::string> words;
  size_t pos = 0;
  const size_t n = text.size();
  while (pos < n) {
    while (pos < n && !IsAsciiWordChar(static_cast<unsigned char>(text[pos]))) ++pos;
    const size_t start = pos;
    while (pos < n && IsAsciiWordChar(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos > start && static_cast<int64_t>(pos - start) >= options.min_length) {
      std::string& w = words.emplace_back(text.substr(start, pos - start));
      if (options.lowercase) {
        for (char& c : w) {
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
      }
    }
  }
  return words;
}

struct FreeDeleter {
  void operator()(utf8proc_uint8_t* p) const { std::free(p); }
};

}  // namespace

absl::Status NormalizeText(std::string_view text, const WordTokenizerOptions& options,
                           std::string* out) {
  int flags = UTF8PROC_STABLE;
  if (options.normalize) flags |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
  if (options.lowercase) flags |= UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE;
  if (flags == UTF8PROC_STABLE) {
    if (absl::Status valid = ValidateUtf8(text); !valid.ok()) return valid;
    out->assign(text);
    return absl::OkStatus();
  }
  utf8proc_uint8_t* mapped = nullptr;
  utf8proc_ssize_t len = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
      static_cast<utf8proc_ssize_t>(text.size()), &mapped,
      static_cast<utf8proc_option_t>(flags));
  if (len < 0) {
    if (absl::Status valid = ValidateUtf8(text); !valid.ok()) return valid;
    return absl::InvalidArgumentError(
        absl::StrCat("cannot normalize text: ", utf8proc_errmsg(len)));
  }
  std::unique_ptr<utf8proc_uint8_t, FreeDeleter> owned(mapped);
  out->assign(reinterpret_cast<const char*>(mapped), static_cast<size_t>(len));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> TokenizeWords(
    std::string_view text, const WordTokenizerOptions& options) {
  if (IsAscii(text)) return TokenizeAscii(text, options);
  std::string normalized;
  if (absl::Status s = NormalizeText(text, options, &normalized); !s.ok()) return s;
  const std::string_view src = normalized;

  std::vector<std::string> words;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(src.data());
  utf8proc_ssize_t n = static_cast<utf8proc_ssize_t>(src.size());
  utf8proc_ssize_t pos = 0, start = -1;
  int length = 0;
  auto flush = [&](utf8proc_ssize_t end) {
    if (start >= 0 && length >= options.min_length) {
      words.emplace_back(src.substr(start, end - start));
    }
    start = -1;
    length = 0;
  };
  while (pos < n) {
    utf8proc_int32_t c;
    utf8proc_ssize_t len = utf8proc_iterate(p + pos, n - pos, &c);
    if (len < 0) return absl::InvalidArgumentError("invalid UTF-8");
    if (IsWordCodePoint(c)) {
      if (start < 0) start = pos;
      ++length;
    } else {
      flush(pos);
    }
    pos += len;
  }
  flush(n);
  return words;
}

}  // namespace semdb
