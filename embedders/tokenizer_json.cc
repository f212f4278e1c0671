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

// Rust's char::to_lowercase: the simple mapping, and U+0130's full one.
void AppendLower(char32_t c, std::u32string* out) {
  if (c == 0x130) {
    out->append(U"i\u0307");
  } else {
    out->push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
  }
}

// A Unicode normal form by utf8proc's flags.
std::u32string NormalForm(std::u32string_view s, int flags) {
  const std::string in = ToUtf8(s);
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(in.data()),
                                          static_cast<utf8proc_ssize_t>(in.size()), &out,
                                          static_cast<utf8proc_option_t>(UTF8PROC_STABLE | flags));
  std::u32string result;
  if (n >= 0) {
    (void)DecodeUtf8(std::string_view(reinterpret_cast<const char*>(out), static_cast<size_t>(n)),
                     &result);
  } else {
    result.assign(s);  // utf8proc refuses only invalid input, which decoding excluded
  }
  std::free(out);
  return result;
}

void Normalize(const TokenizerJson::Normalizer& n, std::u32string* s) {
  using N = TokenizerJson::Normalizer;
  std::u32string out;
  out.reserve(s->size());
  switch (n.kind) {
    case N::kBert: {
      for (char32_t c : *s) {
        if (n.clean_text) {
          const bool keep_ws = c == U'\t' || c == U'\n' || c == U'\r';
          if (c == 0 || c == 0xFFFD || (!keep_ws && IsOther(c))) continue;
          if (IsWhiteSpace(c)) c = U' ';
        }
        if (n.handle_chinese_chars && IsChineseChar(c)) {
          out.push_back(U' ');
          out.push_back(c);
          out.push_back(U' ');
        } else {
          out.push_back(c);
        }
      }
      if (n.strip_accents) {
        out = NormalForm(out, UTF8PROC_DECOMPOSE);
        std::erase_if(out, [](char32_t c) { return Category(c) == UTF8PROC_CATEGORY_MN; });
      }
      if (n.lowercase) {
        std::u32string lower;
        for (char32_t c : out) AppendLower(c, &lower);
        out.swap(lower);
      }
      break;
    }
    case N::kLowercase:
      for (char32_t c : *s) AppendLower(c, &out);
      break;
    case N::kNfc: out = NormalForm(*s, UTF8PROC_COMPOSE); break;
    case N::kNfd: out = NormalForm(*s, UTF8PROC_DECOMPOSE); break;
    case N::kNfkc: out = NormalForm(*s, UTF8PROC_COMPOSE | UTF8PROC_COMPAT); break;
    case N::kNfkd: out = NormalForm(*s, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT); break;
    case N::kStripAccents:
      out = *s;
      std::erase_if(out, IsMark);
      break;
    case N::kStrip: {
      size_t a = 0, b = s->size();
      while (n.strip_left && a < b && IsWhiteSpace((*s)[a])) ++a;
      while (n.strip_right && b > a && IsWhiteSpace((*s)[b - 1])) --b;
      out = s->substr(a, b - a);
      break;
    }
    case N::kPrepend:
      if (!s->empty()) out = n.content + *s;
      break;
    case N::kReplace:
      if (n.regex != nullptr) {
        (void)DecodeUtf8(std::regex_replace(ToUtf8(*s), *n.regex, ToUtf8(n.content)), &out);
      } else {
        for (size_t i = 0; i < s->size();) {
          if (s->compare(i, n.pattern.size(), n.pattern) == 0) {
            out += n.content;
            i += n.pattern.size();
          } else {
            out.push_back((*s)[i++]);
          }
        }
      }
      break;
    case N::kPrecompiled: out = n.charsmap->Normalize(*s); break;
  }
  s->swap(out);
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
void SplitRuns(const std::u32string& word, KindOf&& kind_of, int isolate,
               std::vector<std::u32string>* out) {
  int run = 0;
  for (char32_t c : word) {
    const int k = kind_of(c);
    if (k == 0) {
      run = 0;
      continue;
    }
    if (k != run || k == isolate) out->emplace_back();
    out->back().push_back(c);
    run = k;
  }
}

void PreTokenize(const TokenizerJson::PreTokenizer& p, bool first,
                 std::vector<std::u32string>* words) {
  using P = TokenizerJson::PreTokenizer;
  std::vector<std::u32string> out;
  for (size_t w = 0; w < words->size(); ++w) {
    std::u32string& word = (*words)[w];
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
        if (p.add_prefix_space && !word.empty() && word[0] != U' ') word.insert(word.begin(), U' ');
        std::vector<std::u32string> pieces;
        if (p.use_regex) {
          for (size_t i = 0; i < word.size();) {
            const size_t len = Gpt2Match(word, i);
            pieces.emplace_back(word.substr(i, len));
            i += len;
          }
        } else if (!word.empty()) {
          pieces.push_back(word);
        }
        for (const std::u32string& piece : pieces) {
          std::u32string& mapped = out.emplace_back();
          for (unsigned char b : ToUtf8(piece)) mapped.push_back(ByteChars()[b]);
        }
        break;
      }
      case P::kMetaspace: {
        std::replace(word.begin(), word.end(), U' ', p.replacement);
        const bool prepend = p.prepend == P::kAlways || (p.prepend == P::kFirst && first && w == 0);
        if (prepend && !word.empty() && word[0] != p.replacement) {
          word.insert(word.begin(), p.replacement);
        }
        if (!p.split) {
          if (!word.empty()) out.push_back(word);
          break;
        }
        for (size_t i = 0; i < word.size();) {  // each replacement starts a word
          size_t j = i + 1;
          while (j < word.size() && word[j] != p.replacement) ++j;
          out.push_back(word.substr(i, j - i));
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
// text.
absl::Status ParsePostProcessor(const nlohmann::json& j, const std::string& source,
                                std::vector<int32_t>* prefix, std::vector<int32_t>* suffix) {
  const std::string type = TypeOf(j);
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
absl::Status TokenizerJson::SplitOnAdded(std::u32string_view text, bool normalized, bool first,
                                         std::vector<int32_t>* ids, Piece&& piece) const {
  size_t from = 0, start = 0, end = 0;
  while (const AddedToken* a = FindAdded(added_, normalized, text, from, &start, &end)) {
    if (start > from) {
      if (absl::Status s = piece(text.substr(from, start - from), first && from == 0); !s.ok()) {
        return s;
      }
    }
    ids->push_back(a->id);
    from = end;
  }
  if (from < text.size()) return piece(text.substr(from), first && from == 0);
  return absl::OkStatus();
}

absl::Status TokenizerJson::Tokenize(std::string_view text, std::vector<int32_t>* ids,
                                     int32_t* unknown) const {
  ids->clear();
  *unknown = 0;
  std::u32string cps;
  if (absl::Status s = DecodeUtf8(text, &cps); !s.ok()) return s;
  return SplitOnAdded(cps, false, true, ids, [&](std::u32string_view raw, bool first) {
    std::u32string normalized(raw);
    for (const Normalizer& n : normalizers_) Normalize(n, &normalized);
    return SplitOnAdded(normalized, true, first, ids, [&](std::u32string_view part, bool is_first) {
      std::vector<std::u32string> words{std::u32string(part)};
      for (const PreTokenizer& p : pre_tokenizers_) PreTokenize(p, is_first, &words);
      for (const std::u32string& w : words) {
        const size_t before = ids->size();
        TokenizeWord(model_, ToUtf8(w), ids, unknown);
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

absl::StatusOr<EncodedText> TokenizerJson::Encode(std::string_view text, int max_length) const {
  const int framing = static_cast<int>(prefix_.size() + suffix_.size());
  if (max_length <= framing) {
    return absl::InvalidArgumentError(fmt::format(
        "max_length must leave room for the {} special tokens, got {}", framing, max_length));
  }
  std::vector<int32_t> pieces;
  EncodedText e;
  if (absl::Status s = Tokenize(text, &pieces, &e.unknown_tokens); !s.ok()) return s;
  e.tokens = static_cast<int32_t>(pieces.size());
  const size_t room = static_cast<size_t>(max_length - framing);
  if (pieces.size() > room) {
    e.truncated = true;
    pieces.resize(room);
  }
  e.ids = prefix_;
  e.ids.insert(e.ids.end(), pieces.begin(), pieces.end());
  e.ids.insert(e.ids.end(), suffix_.begin(), suffix_.end());
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
                           return ParsePostProcessor(c, source, &t->prefix_, &t->suffix_);
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
      for (const Normalizer& n : t->normalizers_) Normalize(n, &token.content);
    }
    if (static_cast<size_t>(token.id) >= t->tokens_.size()) t->tokens_.resize(token.id + 1);
    t->tokens_[token.id] = a["content"].get<std::string>();
    t->added_.push_back(std::move(token));
  }
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
