#include "embedders/tokenizer_json.h"

#include <algorithm>
#include <array>
#include <regex>

#include "absl/strings/escaping.h"
#include "embedders/precompiled_charsmap.h"
#include "fmt/format.h"
#include "text/utf8.h"
#include "utf8proc.h"
#include "storage/bounded_json.h"

namespace semdb {

struct TokenizerJson::Normalizer {
  enum Kind {
    kBert, kLowercase, kNfc, kNfd, kNfkc, kNfkd, kStripAccents, kStrip, kPrepend, kReplace,
    kPrecompiled
  };
  Kind kind;
  bool clean_text = true, handle_chinese_chars = true, strip_accents = true, lowercase = true;
  bool strip_left = true, strip_right = true;
  std::u32string content;                // Prepend's and Replace's text
  std::u32string pattern;                // Replace's literal pattern
  std::shared_ptr<const std::regex> regex;  // or Replace's regular expression
  std::shared_ptr<const PrecompiledCharsmap> charsmap;  // Precompiled's rules
};

struct TokenizerJson::PreTokenizer {
  enum Kind { kBert, kByteLevel, kMetaspace, kWhitespace, kWhitespaceSplit, kPunctuation, kDigits };
  enum Prepend { kAlways, kFirst, kNever };
  Kind kind;
  bool add_prefix_space = false, use_regex = true;  // ByteLevel
  char32_t replacement = U'\u2581';                  // Metaspace
  Prepend prepend = kAlways;
  bool split = true;
  bool individual_digits = false;  // Digits
};

struct TokenizerJson::AddedToken {
  std::u32string content;
  int32_t id = 0;
  bool single_word = false, lstrip = false, rstrip = false, normalized = false;
};

// Text on its way through the pipeline, as the library's NormalizedString:
// each character with the bytes [begin, end) of the original text it stands
// for.
struct TokenizerJson::AlignedText {
  std::u32string chars;
  std::vector<TokenOffsets> from;  // by character
  // Where the text starts in the original: the alignment of a character
  // inserted before all others.
  int32_t base = 0;

  size_t size() const { return chars.size(); }
  void Push(char32_t c, TokenOffsets o) {
    chars.push_back(c);
    from.push_back(o);
  }
  // Characters [start, end), start < end.
  AlignedText Slice(size_t start, size_t end) const {
    AlignedText t;
    t.chars.assign(chars, start, end - start);
    t.from.assign(from.begin() + static_cast<std::ptrdiff_t>(start),
                  from.begin() + static_cast<std::ptrdiff_t>(end));
    t.base = t.from[0].begin;
    return t;
  }
  // The original bytes of characters [start, end), start < end: from the
  // first one's start to the last one's end, as the library.
  TokenOffsets Span(size_t start, size_t end) const { return {from[start].begin, from[end - 1].end}; }
};

TokenizerJson::TokenizerJson() = default;
TokenizerJson::~TokenizerJson() = default;

namespace {

// Rust's char::is_whitespace: the White_Space property.
bool IsWhiteSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

utf8proc_category_t Category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

bool IsLetter(char32_t c) {
  const auto k = Category(c);
  return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}
bool IsNumber(char32_t c) {
  const auto k = Category(c);
  return k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO;
}
bool IsMark(char32_t c) {
  const auto k = Category(c);
  return k >= UTF8PROC_CATEGORY_MN && k <= UTF8PROC_CATEGORY_ME;
}
// Cc, Cf, Cs and Co (not unassigned code points, as the library's
// unicode_categories tables): what BertNormalizer's cleaning removes.
bool IsOther(char32_t c) { return Category(c) >= UTF8PROC_CATEGORY_CC; }
// ASCII punctuation or categories P*.
bool IsPunctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126)) {
    return true;
  }
  const auto k = Category(c);
  return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}
// The regex crate's \w: Alphabetic, marks, decimal digits, connector
// punctuation and joiners (Other_Alphabetic symbols: the circled and
// squared letters).
bool IsWordChar(char32_t c) {
  const auto k = Category(c);
  return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_ND) || k == UTF8PROC_CATEGORY_NL ||
         k == UTF8PROC_CATEGORY_PC || c == 0x200C || c == 0x200D || (c >= 0x24B6 && c <= 0x24E9) ||
         (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
         (c >= 0x1F170 && c <= 0x1F189);
}
// BertNormalizer's CJK ranges.
bool IsChineseChar(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

using AlignedText = TokenizerJson::AlignedText;

// Rust's char::to_lowercase: the simple mapping, and U+0130's full one; the
// characters of a mapping stand for the character mapped.
void AppendLower(char32_t c, TokenOffsets o, AlignedText* out) {
  if (c == 0x130) {
    out->Push(U'i', o);
    out->Push(U'\u0307', o);
  } else {
    out->Push(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))), o);
  }
}

template <typename Drop>
void EraseIf(AlignedText* t, Drop&& drop) {
  size_t kept = 0;
  for (size_t i = 0; i < t->size(); ++i) {
    if (drop(t->chars[i])) continue;
    t->chars[kept] = t->chars[i];
    t->from[kept++] = t->from[i];
  }
  t->chars.resize(kept);
  t->from.resize(kept);
}

int CombiningClass(char32_t c) {
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
}

// The canonical (or compatibility) decomposition, each character's
// decomposition standing for it, then the canonical ordering of marks.
AlignedText Decompose(const AlignedText& in, bool compat) {
  AlignedText out;
  out.base = in.base;
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | (compat ? UTF8PROC_COMPAT : 0));
  for (size_t i = 0; i < in.size(); ++i) {
    utf8proc_int32_t buf[32];
    int boundclass = 0;
    const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(in.chars[i]),
                                                       buf, 32, options, &boundclass);
    if (n <= 0 || n > 32) {  // not a valid code point: kept as it is
      out.Push(in.chars[i], in.from[i]);
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) out.Push(static_cast<char32_t>(buf[k]), in.from[i]);
  }
  std::vector<std::pair<char32_t, TokenOffsets>> run;
  for (size_t i = 0; i < out.size();) {
    if (CombiningClass(out.chars[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    run.clear();
    for (; j < out.size() && CombiningClass(out.chars[j]) != 0; ++j) run.emplace_back(out.chars[j], out.from[j]);
    std::stable_sort(run.begin(), run.end(), [](const auto& a, const auto& b) {
      return CombiningClass(a.first) < CombiningClass(b.first);
    });
    for (size_t k = 0; k < run.size(); ++k) std::tie(out.chars[i + k], out.from[i + k]) = run[k];
    i = j;
  }
  return out;
}

// The primary composite of starter `a` and `b`, or 0.
char32_t ComposePair(char32_t a, char32_t b) {
  if (b < 0x300) return 0;  // no character below U+0300 composes as the second
  utf8proc_int32_t buf[2] = {static_cast<utf8proc_int32_t>(a), static_cast<utf8proc_int32_t>(b)};
  return utf8proc_normalize_utf32(buf, 2, UTF8PROC_COMPOSE) == 1 ? static_cast<char32_t>(buf[0]) : 0;
}

// Canonical composition of decomposed text: a composite stands for its
// starter, the characters composed into it vanish.
void Compose(AlignedText* t) {
  size_t kept = 0;
  std::ptrdiff_t starter = -1;
  int last_class = -1;  // of the last character kept after the starter; -1: none
  for (size_t i = 0; i < t->size(); ++i) {
    const char32_t c = t->chars[i];
    const int cc = CombiningClass(c);
    if (starter >= 0 && (last_class == -1 || (last_class != 0 && last_class < cc))) {
      if (const char32_t composite = ComposePair(t->chars[starter], c); composite != 0) {
        t->chars[starter] = composite;
        continue;
      }
    }
    if (cc == 0) {
      starter = static_cast<std::ptrdiff_t>(kept);
      last_class = -1;
    } else {
      last_class = cc;
    }
    t->chars[kept] = c;
    t->from[kept++] = t->from[i];
  }
  t->chars.resize(kept);
  t->from.resize(kept);
}

// Applies the library's transformation list (precompiled_charsmap.h) to
// `in`, as NormalizedString::transform aligns it.
AlignedText ApplyChanges(const AlignedText& in, const std::vector<PrecompiledCharsmap::Change>& changes) {
  AlignedText out;
  out.base = in.base;
  size_t next = 0;  // the next input character
  for (const PrecompiledCharsmap::Change& ch : changes) {
    TokenOffsets o{in.base, in.base};
    if (ch.change > 0) {
      if (next > 0) o = in.from[std::min(next, in.size()) - 1];
    } else {
      if (next < in.size()) o = in.from[next];
      else if (!in.from.empty()) o = in.from.back();
      next += 1 + static_cast<size_t>(-ch.change);
    }
    out.Push(ch.c, o);
  }
  return out;
}

// `content` standing for the last character of each match of [start, end).
void ReplaceSpans(const AlignedText& in, const std::vector<std::pair<size_t, size_t>>& matches,
                  const std::u32string& content, AlignedText* out) {
  size_t at = 0;
  for (auto [start, end] : matches) {
    for (; at < start; ++at) out->Push(in.chars[at], in.from[at]);
    for (char32_t c : content) out->Push(c, in.from[end - 1]);
    at = end;
  }
  for (; at < in.size(); ++at) out->Push(in.chars[at], in.from[at]);
}

void Normalize(const TokenizerJson::Normalizer& n, AlignedText* s) {
  using N = TokenizerJson::Normalizer;
  AlignedText out;
  out.base = s->base;
  out.chars.reserve(s->size());
  out.from.reserve(s->size());
  switch (n.kind) {
    case N::kBert: {
      for (size_t i = 0; i < s->size(); ++i) {
        char32_t c = s->chars[i];
        if (n.clean_text) {
          const bool keep_ws = c == U'\t' || c == U'\n' || c == U'\r';
          if (c == 0 || c == 0xFFFD || (!keep_ws && IsOther(c))) continue;
          if (IsWhiteSpace(c)) c = U' ';
        }
        if (n.handle_chinese_chars && IsChineseChar(c)) {
          out.Push(U' ', s->from[i]);
          out.Push(c, s->from[i]);
          out.Push(U' ', s->from[i]);
        } else {
          out.Push(c, s->from[i]);
        }
      }
      if (n.strip_accents) {
        out = Decompose(out, false);
        EraseIf(&out, [](char32_t c) { return Category(c) == UTF8PROC_CATEGORY_MN; });
      }
      if (n.lowercase) {
        AlignedText lower;
        lower.base = out.base;
        for (size_t i = 0; i < out.size(); ++i) AppendLower(out.chars[i], out.from[i], &lower);
        out = std::move(lower);
      }
      break;
    }
    case N::kLowercase:
      for (size_t i = 0; i < s->size(); ++i) AppendLower(s->chars[i], s->from[i], &out);
      break;
    case N::kNfc:
    case N::kNfkc:
      out = Decompose(*s, n.kind == N::kNfkc);
      Compose(&out);
      break;
    case N::kNfd:
    case N::kNfkd:
      out = Decompose(*s, n.kind == N::kNfkd);
      break;
    case N::kStripAccents:
      out = *s;
      EraseIf(&out, IsMark);
      break;
    case N::kStrip: {
      size_t a = 0, b = s->size();
      while (n.strip_left && a < b && IsWhiteSpace(s->chars[a])) ++a;
      while (n.strip_right && b > a && IsWhiteSpace(s->chars[b - 1])) --b;
      if (a < b) out = s->Slice(a, b);
      out.base = s->base;
      break;
    }
    case N::kPrepend:
      // The prepended text stands for the first character, as it does.
      if (s->size() > 0) {
        for (char32_t c : n.content) out.Push(c, s->from[0]);
      }
      out.chars += s->chars;
      out.from.insert(out.from.end(), s->from.begin(), s->from.end());
      break;
    case N::kReplace: {
      std::vector<std::pair<size_t, size_t>> matches;  // in characters
      if (n.regex != nullptr) {
        std::string utf8;
        std::vector<size_t> char_at;  // of each byte, and one past the end
        for (size_t i = 0; i < s->size(); ++i) {
          AppendUtf8(s->chars[i], &utf8);
          char_at.resize(utf8.size(), i);
        }
        char_at.push_back(s->size());
        for (std::sregex_iterator it(utf8.begin(), utf8.end(), *n.regex), end; it != end; ++it) {
          if (it->length(0) == 0) continue;
          const auto begin = static_cast<size_t>(it->position(0));
          matches.emplace_back(char_at[begin], char_at[begin + static_cast<size_t>(it->length(0))]);
        }
      } else {
        for (size_t i = 0; i < s->size();) {
          if (s->chars.compare(i, n.pattern.size(), n.pattern) == 0) {
            matches.emplace_back(i, i + n.pattern.size());
            i += n.pattern.size();
          } else {
            ++i;
          }
        }
      }
      ReplaceSpans(*s, matches, n.content, &out);
      break;
    }
    case N::kPrecompiled: out = ApplyChanges(*s, n.charsmap->Normalize(s->chars)); break;
  }
  *s = std::move(out);
}

// GPT-2's pattern, 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+,
// as the length of the match at `i`.
size_t Gpt2Match(std::u32string_view s, size_t i) {
  const size_t n = s.size();
  if (s[i] == U'\'' && i + 1 < n) {
    const char32_t a = s[i + 1], b = i + 2 < n ? s[i + 2] : 0;
    if (a == U's' || a == U't' || a == U'm' || a == U'd') return 2;
    if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return 3;
  }
  size_t j = i + (s[i] == U' ' && i + 1 < n && !IsWhiteSpace(s[i + 1]) ? 1 : 0);
  if (!IsWhiteSpace(s[j])) {
    bool (*same)(char32_t) = IsLetter(s[j])   ? IsLetter
                             : IsNumber(s[j]) ? IsNumber
                                              : nullptr;
    size_t k = j;
    if (same != nullptr) {
      while (k < n && same(s[k])) ++k;
    } else {
      while (k < n && !IsWhiteSpace(s[k]) && !IsLetter(s[k]) && !IsNumber(s[k])) ++k;
    }
    return k - i;
  }
  size_t k = i;
  while (k < n && IsWhiteSpace(s[k])) ++k;
  if (k == n || k - i == 1) return k - i;  // to the end, or \s+ alone
  return k - 1 - i;                        // leave the last to precede the word
}

// bytes_to_unicode(): printable bytes stand for themselves, the others for
// 256 upwards.
const std::array<char32_t, 256>& ByteChars() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      t[b] = printable ? static_cast<char32_t>(b) : next++;
    }
    return t;
  }();
  return table;
}

// Splits `word` into the runs that `kind_of` (0: drop, other values: a
// class) assigns; `isolate` classes make one piece per character.
template <typename KindOf>
void SplitRuns(const AlignedText& word, KindOf&& kind_of, int isolate, std::vector<AlignedText>* out) {
  int run = 0;
  for (size_t i = 0; i < word.size(); ++i) {
    const int k = kind_of(word.chars[i]);
    if (k == 0) {
      run = 0;
      continue;
    }
    if (k != run || k == isolate) out->emplace_back().base = word.from[i].begin;
    out->back().Push(word.chars[i], word.from[i]);
    run = k;
  }
}

// The library's prepend(): `c` stands for the first character.
void PrependChar(char32_t c, AlignedText* word) {
  word->chars.insert(word->chars.begin(), c);
  word->from.insert(word->from.begin(), word->from.front());
}

void PreTokenize(const TokenizerJson::PreTokenizer& p, bool first, std::vector<AlignedText>* words) {
  using P = TokenizerJson::PreTokenizer;
  std::vector<AlignedText> out;
  for (size_t w = 0; w < words->size(); ++w) {
    AlignedText& word = (*words)[w];
    switch (p.kind) {
      case P::kBert:
        // Whitespace separates; each punctuation character is a word.
        SplitRuns(word, [](char32_t c) { return IsWhiteSpace(c) ? 0 : IsPunctuation(c) ? 2 : 1; },
                  2, &out);
        break;
      case P::kWhitespace:
        SplitRuns(word, [](char32_t c) { return IsWordChar(c) ? 1 : IsWhiteSpace(c) ? 0 : 2; },
                  -1, &out);
        break;
      case P::kWhitespaceSplit:
        SplitRuns(word, [](char32_t c) { return IsWhiteSpace(c) ? 0 : 1; }, -1, &out);
        break;
      case P::kPunctuation:
        SplitRuns(word, [](char32_t c) { return IsPunctuation(c) ? 2 : 1; }, 2, &out);
        break;
      case P::kDigits: {
        const int isolate = p.individual_digits ? 2 : -1;
        SplitRuns(word, [](char32_t c) { return IsNumber(c) ? 2 : 1; }, isolate, &out);
        break;
      }
      case P::kByteLevel: {
        if (word.size() == 0) break;
        if (p.add_prefix_space && word.chars[0] != U' ') PrependChar(U' ', &word);
        std::string bytes;
        // Each piece's characters become one character per UTF-8 byte, all
        // standing for the character.
        for (size_t i = 0; i < word.size();) {
          const size_t len = p.use_regex ? Gpt2Match(word.chars, i) : word.size();
          AlignedText& mapped = out.emplace_back();
          mapped.base = word.from[i].begin;
          for (size_t k = i; k < i + len; ++k) {
            bytes.clear();
            AppendUtf8(word.chars[k], &bytes);
            for (unsigned char b : bytes) mapped.Push(ByteChars()[b], word.from[k]);
          }
          i += len;
        }
        break;
      }
      case P::kMetaspace: {
        std::replace(word.chars.begin(), word.chars.end(), U' ', p.replacement);
        if (word.size() == 0) break;
        const bool prepend = p.prepend == P::kAlways || (p.prepend == P::kFirst && first && w == 0);
        if (prepend && word.chars[0] != p.replacement) PrependChar(p.replacement, &word);
        if (!p.split) {
          out.push_back(std::move(word));
          break;
        }
        for (size_t i = 0; i < word.size();) {  // each replacement starts a word
          size_t j = i + 1;
          while (j < word.size() && word.chars[j] != p.replacement) ++j;
          out.push_back(word.Slice(i, j));
          i = j;
        }
        break;
      }
    }
  }
  words->swap(out);
}

absl::Status Unsupported(const std::string& source, const std::string& what,
                         const std::string& type) {
  return absl::UnimplementedError(
      fmt::format("{}: {} '{}' is not supported (see tokenizer_json.h for those that are)", source,
                  what, type));
}

std::string TypeOf(const nlohmann::json& j) {
  return j.is_object() && j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>()
                                                                       : "";
}

bool BoolOr(const nlohmann::json& j, const char* key, bool fallback) {
  return j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : fallback;
}

absl::StatusOr<std::u32string> Text32(const nlohmann::json& j, const char* key,
                                      const std::string& source) {
  std::u32string out;
  if (!j.contains(key) || !j[key].is_string()) {
    return absl::InvalidArgumentError(fmt::format("{}: \"{}\" must be a string", source, key));
  }
  if (absl::Status s = DecodeUtf8(j[key].get<std::string>(), &out); !s.ok()) return s;
  return out;
}

// Calls one(c) for the component `j` (nothing when null), or for each of a
// "Sequence" of them listed under `list_key`, in order.
template <typename One>
absl::Status ForEachComponent(const nlohmann::json& j, const char* list_key,
                              const std::string& source, One&& one) {
  if (j.is_null()) return absl::OkStatus();
  if (TypeOf(j) != "Sequence") return one(j);
  if (!j.contains(list_key) || !j[list_key].is_array()) {
    return absl::InvalidArgumentError(fmt::format("{}: Sequence needs \"{}\"", source, list_key));
  }
  for (const nlohmann::json& c : j[list_key]) {
    if (absl::Status s = ForEachComponent(c, list_key, source, one); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ParseNormalizer(const nlohmann::json& j, const std::string& source,
                             std::vector<TokenizerJson::Normalizer>* out) {
  using N = TokenizerJson::Normalizer;
  const std::string type = TypeOf(j);
  N n{};
  if (type == "BertNormalizer") {
    n.kind = N::kBert;
    n.clean_text = BoolOr(j, "clean_text", true);
    n.handle_chinese_chars = BoolOr(j, "handle_chinese_chars", true);
    n.lowercase = BoolOr(j, "lowercase", true);
    n.strip_accents = BoolOr(j, "strip_accents", n.lowercase);  // null: as lowercase
  } else if (type == "Lowercase") {
    n.kind = N::kLowercase;
  } else if (type == "NFC") {
    n.kind = N::kNfc;
  } else if (type == "NFD") {
    n.kind = N::kNfd;
  } else if (type == "NFKC") {
    n.kind = N::kNfkc;
  } else if (type == "NFKD") {
    n.kind = N::kNfkd;
  } else if (type == "StripAccents") {
    n.kind = N::kStripAccents;
  } else if (type == "Strip") {
    n.kind = N::kStrip;
    n.strip_left = BoolOr(j, "strip_left", true);
    n.strip_right = BoolOr(j, "strip_right", true);
  } else if (type == "Prepend") {
    n.kind = N::kPrepend;
    absl::StatusOr<std::u32string> p = Text32(j, "prepend", source);
    if (!p.ok()) return p.status();
    n.content = *std::move(p);
  } else if (type == "Replace") {
    n.kind = N::kReplace;
    absl::StatusOr<std::u32string> c = Text32(j, "content", source);
    if (!c.ok()) return c.status();
    n.content = *std::move(c);
    const nlohmann::json pattern = j.value("pattern", nlohmann::json());
    if (pattern.contains("String") && pattern["String"].is_string()) {
      absl::StatusOr<std::u32string> p = Text32(pattern, "String", source);
      if (!p.ok()) return p.status();
      if (p->empty()) return absl::InvalidArgumentError(fmt::format("{}: empty Replace pattern", source));
      n.pattern = *std::move(p);
    } else if (pattern.contains("Regex") && pattern["Regex"].is_string()) {
      try {
        n.regex = std::make_shared<const std::regex>(pattern["Regex"].get<std::string>());
      } catch (const std::regex_error&) {
        return Unsupported(source, "Replace regular expression", pattern["Regex"]);
      }
    } else {
      return absl::InvalidArgumentError(fmt::format("{}: Replace needs a pattern", source));
    }
  } else if (type == "Precompiled") {
    n.kind = N::kPrecompiled;
    std::string bytes;
    const nlohmann::json map = j.value("precompiled_charsmap", nlohmann::json());
    if (!map.is_string() || !absl::Base64Unescape(map.get<std::string>(), &bytes)) {
      return absl::InvalidArgumentError(
          fmt::format("{}: Precompiled needs a base64 \"precompiled_charsmap\"", source));
    }
    absl::StatusOr<PrecompiledCharsmap> charsmap = PrecompiledCharsmap::FromBytes(bytes);
    if (!charsmap.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: {}", source, std::string(charsmap.status().message())));
    }
    n.charsmap = std::make_shared<const PrecompiledCharsmap>(*std::move(charsmap));
  } else {
    return Unsupported(source, "normalizer", type);
  }
  out->push_back(std::move(n));
  return absl::OkStatus();
}

absl::Status ParsePreTokenizer(const nlohmann::json& j, const std::string& source,
                               std::vector<TokenizerJson::PreTokenizer>* out) {
  using P = TokenizerJson::PreTokenizer;
  const std::string type = TypeOf(j);
  P p{};
  if (type == "BertPreTokenizer") {
    p.kind = P::kBert;
  } else if (type == "Whitespace") {
    p.kind = P::kWhitespace;
  } else if (type == "WhitespaceSplit") {
    p.kind = P::kWhitespaceSplit;
  } else if (type == "Punctuation") {
    p.kind = P::kPunctuation;
    if (j.value("behavior", std::string("Isolated")) != "Isolated") {
      return Unsupported(source, "Punctuation behavior", j["behavior"].dump());
    }
  } else if (type == "Digits") {
    p.kind = P::kDigits;
    p.individual_digits = BoolOr(j, "individual_digits", false);
  } else if (type == "ByteLevel") {
    p.kind = P::kByteLevel;
    p.add_prefix_space = BoolOr(j, "add_prefix_space", true);
    p.use_regex = BoolOr(j, "use_regex", true);
  } else if (type == "Metaspace") {
    p.kind = P::kMetaspace;
    absl::StatusOr<std::u32string> r = Text32(j, "replacement", source);
    if (!r.ok()) return r.status();
    if (r->size() != 1) {
      return absl::InvalidArgumentError(fmt::format("{}: Metaspace replacement must be one character", source));
    }
    p.replacement = (*r)[0];
    p.split = BoolOr(j, "split", true);
    const std::string scheme = j.value("prepend_scheme", std::string());
    if (scheme.empty()) {  // files before prepend_scheme
      p.prepend = BoolOr(j, "add_prefix_space", true) ? P::kAlways : P::kNever;
    } else if (scheme == "always") {
      p.prepend = P::kAlways;
    } else if (scheme == "first") {
      p.prepend = P::kFirst;
    } else if (scheme == "never") {
      p.prepend = P::kNever;
    } else {
      return Unsupported(source, "Metaspace prepend_scheme", scheme);
    }
  } else {
    return Unsupported(source, "pre-tokenizer", type);
  }
  out->push_back(p);
  return absl::OkStatus();
}

// The framing ids a post-processor (not a Sequence) adds around a single
// text, and whether it trims offsets (RobertaProcessing's and ByteLevel's
// trim_offsets, with their add_prefix_space).
absl::Status ParsePostProcessor(const nlohmann::json& j, const std::string& source,
                                std::vector<int32_t>* prefix, std::vector<int32_t>* suffix,
                                bool* trim_offsets, bool* trim_keeps_prefix_space) {
  const std::string type = TypeOf(j);
  if ((type == "RobertaProcessing" || type == "ByteLevel") && BoolOr(j, "trim_offsets", true)) {
    *trim_offsets = true;
    *trim_keeps_prefix_space = BoolOr(j, "add_prefix_space", true);
  }
  auto pair_id = [&](const char* key, std::vector<int32_t>* to) -> absl::Status {
    if (!j.contains(key) || !j[key].is_array() || j[key].size() != 2 || !j[key][1].is_number_unsigned()) {
      return absl::InvalidArgumentError(fmt::format("{}: {} needs \"{}\": [token, id]", source, type, key));
    }
    to->push_back(j[key][1].get<int32_t>());
    return absl::OkStatus();
  };
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    if (absl::Status s = pair_id("cls", prefix); !s.ok()) return s;
    return pair_id("sep", suffix);
  }
  if (type == "ByteLevel") return absl::OkStatus();  // offsets only
  if (type != "TemplateProcessing") return Unsupported(source, "post-processor", type);
  if (!j.contains("single") || !j["single"].is_array()) {
    return absl::InvalidArgumentError(fmt::format("{}: TemplateProcessing needs \"single\"", source));
  }
  const nlohmann::json specials = j.value("special_tokens", nlohmann::json::object());
  bool seen_sequence = false;
  for (const nlohmann::json& piece : j["single"]) {
    if (piece.contains("Sequence")) {
      seen_sequence = true;
      continue;
    }
    const std::string name = piece.contains("SpecialToken") ? piece["SpecialToken"].value("id", "") : "";
    if (name.empty() || !specials.contains(name) || !specials[name].contains("ids") ||
        !specials[name]["ids"].is_array()) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: TemplateProcessing piece {} is not a Sequence nor a known special token", source,
          piece.dump()));
    }
    for (const nlohmann::json& id : specials[name]["ids"]) {
      if (!id.is_number_unsigned()) {
        return absl::InvalidArgumentError(fmt::format("{}: special token {} has a bad id", source, name));
      }
      (seen_sequence ? suffix : prefix)->push_back(id.get<int32_t>());
    }
  }
  return absl::OkStatus();
}

// The first of `text`'s matches among `added` with the given `normalized`
// flag, leftmost then longest, from `from`: [start, end) with lstrip/rstrip
// applied, and the token; nullptr when none.
const TokenizerJson::AddedToken* FindAdded(const std::vector<TokenizerJson::AddedToken>& added,
                                           bool normalized, std::u32string_view text, size_t from,
                                           size_t* start, size_t* end) {
  for (size_t i = from; i < text.size(); ++i) {
    const TokenizerJson::AddedToken* best = nullptr;
    for (const TokenizerJson::AddedToken& a : added) {
      if (a.normalized != normalized || a.content.empty()) continue;
      if (text.substr(i, a.content.size()) != a.content) continue;
      if (best != nullptr && best->content.size() >= a.content.size()) continue;
      if (a.single_word) {
        const size_t e = i + a.content.size();
        auto alnum = [](char32_t c) { return IsLetter(c) || IsNumber(c); };
        if ((i > 0 && alnum(text[i - 1])) || (e < text.size() && alnum(text[e]))) continue;
      }
      best = &a;
    }
    if (best == nullptr) continue;
    *start = i;
    *end = i + best->content.size();
    if (best->lstrip) {
      while (*start > from && IsWhiteSpace(text[*start - 1])) --*start;
    }
    if (best->rstrip) {
      while (*end < text.size() && IsWhiteSpace(text[*end])) ++*end;
    }
    return best;
  }
  return nullptr;
}

}  // namespace

template <typename Piece>
absl::Status TokenizerJson::SplitOnAdded(const AlignedText& text, bool normalized, bool first,
                                         std::vector<int32_t>* ids,
                                         std::vector<TokenOffsets>* offsets, Piece&& piece) const {
  size_t from = 0, start = 0, end = 0;
  while (const AddedToken* a = FindAdded(added_, normalized, text.chars, from, &start, &end)) {
    if (start > from) {
      if (absl::Status s = piece(text.Slice(from, start), first && from == 0); !s.ok()) return s;
    }
    ids->push_back(a->id);
    offsets->push_back(text.Span(start, end));
    from = end;
  }
  if (from < text.size()) return piece(text.Slice(from, text.size()), first && from == 0);
  return absl::OkStatus();
}

absl::Status TokenizerJson::Tokenize(std::string_view text, std::vector<int32_t>* ids,
                                     std::vector<TokenOffsets>* offsets, int32_t* unknown) const {
  ids->clear();
  offsets->clear();
  *unknown = 0;
  AlignedText original;
  if (absl::Status s = DecodeUtf8(text, &original.chars); !s.ok()) return s;
  original.from.reserve(original.size());
  int32_t at = 0;
  for (char32_t c : original.chars) {
    const int32_t bytes = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    original.from.push_back({at, at + bytes});
    at += bytes;
  }
  std::string utf8;
  std::vector<uint32_t> char_at;  // the character of each byte of utf8
  return SplitOnAdded(original, false, true, ids, offsets, [&](AlignedText normalized, bool first) {
    for (const Normalizer& n : normalizers_) Normalize(n, &normalized);
    return SplitOnAdded(normalized, true, first, ids, offsets, [&](AlignedText part, bool is_first) {
      std::vector<AlignedText> words;
      words.push_back(std::move(part));
      for (const PreTokenizer& p : pre_tokenizers_) PreTokenize(p, is_first, &words);
      for (const AlignedText& w : words) {
        utf8.clear();
        char_at.clear();
        for (size_t k = 0; k < w.size(); ++k) {
          AppendUtf8(w.chars[k], &utf8);
          char_at.resize(utf8.size(), static_cast<uint32_t>(k));
        }
        const size_t before = ids->size();
        // The model's spans are bytes of the word: mapped to the original.
        TokenizeWord(model_, utf8, ids, offsets, unknown);
        for (size_t i = before; i < offsets->size(); ++i) {
          TokenOffsets& o = (*offsets)[i];
          o = w.Span(char_at[o.begin], char_at[o.end - 1] + 1);
        }
        if (std::find(ids->begin() + static_cast<std::ptrdiff_t>(before), ids->end(), -1) != ids->end()) {
          return absl::InvalidArgumentError(fmt::format(
              "{}: the text has characters the Unigram model cannot spell and it has no unk_id",
              source_));
        }
      }
      return absl::OkStatus();
    });
  });
}

void TokenizerJson::TrimOffsets(std::string_view text, const std::vector<int32_t>& ids,
                                std::vector<TokenOffsets>* offsets) const {
  constexpr char32_t kByteLevelSpace = 0x120;  // 'Ġ', the byte-level character of ' '
  auto space = [](char32_t c) { return c == kByteLevelSpace || IsWhiteSpace(c); };
  std::u32string token;
  for (size_t i = 0; i < ids.size(); ++i) {
    TokenOffsets& o = (*offsets)[i];
    // An added token is the text it matched, the whitespace lstrip and
    // rstrip took included; a model's token is its vocabulary entry.
    const std::string_view spelled =
        added_ids_[ids[i]] ? text.substr(o.begin, o.end - o.begin) : std::string_view(tokens_[ids[i]]);
    if (!DecodeUtf8(spelled, &token).ok()) continue;
    int32_t leading = 0, trailing = 0;
    while (static_cast<size_t>(leading) < token.size() && space(token[leading])) ++leading;
    while (static_cast<size_t>(trailing) < token.size() && space(token[token.size() - 1 - trailing])) {
      ++trailing;
    }
    if (leading > 0) {
      // A single leading space of the first token is the one the
      // pre-tokenizer added, when it adds one: not trimmed.
      if ((i == 0 || o.begin == 0) && trim_keeps_prefix_space_ && leading == 1) leading = 0;
      o.begin = std::min(o.begin + leading, o.end);
    }
    if (trailing > 0 && o.end >= trailing) o.end = std::max(o.end - trailing, o.begin);
  }
}

absl::StatusOr<EncodedText> TokenizerJson::Encode(std::string_view text, int max_length) const {
  const int framing = static_cast<int>(prefix_.size() + suffix_.size());
  if (max_length <= framing) {
    return absl::InvalidArgumentError(fmt::format(
        "max_length must leave room for the {} special tokens, got {}", framing, max_length));
  }
  std::vector<int32_t> pieces;
  std::vector<TokenOffsets> offsets;
  EncodedText e;
  if (absl::Status s = Tokenize(text, &pieces, &offsets, &e.unknown_tokens); !s.ok()) return s;
  e.tokens = static_cast<int32_t>(pieces.size());
  const size_t room = static_cast<size_t>(max_length - framing);
  if (pieces.size() > room) {
    e.truncated = true;
    pieces.resize(room);
    offsets.resize(room);
  }
  if (trim_offsets_) TrimOffsets(text, pieces, &offsets);
  e.ids = prefix_;
  e.ids.insert(e.ids.end(), pieces.begin(), pieces.end());
  e.ids.insert(e.ids.end(), suffix_.begin(), suffix_.end());
  e.offsets.assign(prefix_.size(), TokenOffsets{});
  e.offsets.insert(e.offsets.end(), offsets.begin(), offsets.end());
  e.offsets.resize(e.ids.size());
  return e;
}

nlohmann::json TokenizerJson::Describe() const { return description_; }

absl::StatusOr<std::unique_ptr<TokenizerJson>> TokenizerJson::FromFile(const std::string& path) {
  absl::StatusOr<nlohmann::json> j = ParseJsonFile(path);
  if (!j.ok()) return j.status();
  return FromJson(*j, path);
}

absl::StatusOr<std::unique_ptr<TokenizerJson>> TokenizerJson::FromJson(const nlohmann::json& j,
                                                                       const std::string& source) {
  if (!j.is_object() || !j.contains("model")) {
    return absl::InvalidArgumentError(fmt::format("{}: not a tokenizer description (no \"model\")", source));
  }
  std::unique_ptr<TokenizerJson> t(new TokenizerJson());
  t->source_ = source;
  absl::StatusOr<SubwordModel> model = ParseSubwordModel(j["model"], source, &t->tokens_);
  if (!model.ok()) return model.status();
  t->model_ = *std::move(model);
  absl::Status s = ForEachComponent(
      j.value("normalizer", nlohmann::json()), "normalizers", source,
      [&](const nlohmann::json& c) { return ParseNormalizer(c, source, &t->normalizers_); });
  if (s.ok()) {
    s = ForEachComponent(
        j.value("pre_tokenizer", nlohmann::json()), "pretokenizers", source,
        [&](const nlohmann::json& c) { return ParsePreTokenizer(c, source, &t->pre_tokenizers_); });
  }
  if (s.ok()) {
    s = ForEachComponent(j.value("post_processor", nlohmann::json()), "processors", source,
                         [&](const nlohmann::json& c) {
                           return ParsePostProcessor(c, source, &t->prefix_, &t->suffix_,
                                                     &t->trim_offsets_, &t->trim_keeps_prefix_space_);
                         });
  }
  if (!s.ok()) return s;
  const nlohmann::json added = j.value("added_tokens", nlohmann::json::array());
  if (!added.is_array()) {
    return absl::InvalidArgumentError(fmt::format("{}: \"added_tokens\" must be a list", source));
  }
  for (const nlohmann::json& a : added) {
    AddedToken token;
    absl::StatusOr<std::u32string> content = Text32(a, "content", source);
    if (!content.ok()) return content.status();
    if (!a.contains("id") || !a["id"].is_number_unsigned() || a["id"].get<uint64_t>() >= (1u << 30)) {
      return absl::InvalidArgumentError(fmt::format("{}: added token {} has no valid id", source, a.dump()));
    }
    token.id = a["id"].get<int32_t>();
    token.single_word = BoolOr(a, "single_word", false);
    token.lstrip = BoolOr(a, "lstrip", false);
    token.rstrip = BoolOr(a, "rstrip", false);
    token.normalized = BoolOr(a, "normalized", !BoolOr(a, "special", false));
    token.content = *std::move(content);
    // A normalized token is looked for in normalized text, so normalized too.
    if (token.normalized) {
      AlignedText text;
      text.chars = token.content;
      text.from.resize(text.size());
      for (const Normalizer& n : t->normalizers_) Normalize(n, &text);
      token.content = std::move(text.chars);
    }
    if (static_cast<size_t>(token.id) >= t->tokens_.size()) t->tokens_.resize(token.id + 1);
    t->tokens_[token.id] = a["content"].get<std::string>();
    t->added_.push_back(std::move(token));
  }
  t->added_ids_.resize(t->tokens_.size());
  for (const AddedToken& a : t->added_) t->added_ids_[a.id] = true;
  std::vector<int32_t> framing = t->prefix_;
  framing.insert(framing.end(), t->suffix_.begin(), t->suffix_.end());
  for (int32_t id : framing) {
    if (static_cast<size_t>(id) >= t->tokens_.size()) {
      return absl::InvalidArgumentError(fmt::format("{}: special token id {} is not in the vocabulary", source, id));
    }
  }
  t->description_ = {
      {"tokenizer", source},
      {"tokenizer_model", SubwordModelType(t->model_)},
      {"normalizer", j.value("normalizer", nlohmann::json())},
      {"pre_tokenizer", j.value("pre_tokenizer", nlohmann::json())},
      {"vocabulary", t->tokens_.size()},
      {"added_tokens", t->added_.size()},
      {"tokenizer_unicode_version", utf8proc_unicode_version()},
  };
  return t;
}

}  // namespace semdb
