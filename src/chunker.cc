#include "src/chunker.h"

#include <algorithm>
#include <deque>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "semdb/components.h"
#include "utf8proc.h"

namespace semdb {
namespace {

constexpr int64_t kMaxSize = 1000000;

// --- Code points

struct CodePoint {
  int32_t value;
  int length;  // bytes
};

// The code point at byte `pos`; an invalid byte reads as U+FFFD of length 1.
CodePoint DecodeAt(std::string_view text, size_t pos) {
  const auto byte = static_cast<unsigned char>(text[pos]);
  if (byte < 0x80) return {byte, 1};
  utf8proc_int32_t c;
  const utf8proc_ssize_t n =
      utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data()) + pos,
                       static_cast<utf8proc_ssize_t>(text.size() - pos), &c);
  if (n < 1) return {0xFFFD, 1};
  return {c, static_cast<int>(n)};
}

bool IsSpace(int32_t c) {
  if (c < 0x80) return c == ' ' || (c >= '\t' && c <= '\r');
  if (c == 0x85) return true;
  const utf8proc_category_t cat = utf8proc_category(c);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
         cat == UTF8PROC_CATEGORY_ZP;
}

// East Asian wide characters (CJK ideographs, kana, Hangul, full-width
// forms): words of their own.
bool IsWide(int32_t c) { return c >= 0x1100 && utf8proc_charwidth(c) == 2; }

// Letters, marks, digits and '_': what runs of a token are made of.
bool IsWordChar(int32_t c) {
  if (c < 0x80) return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

bool IsLower(int32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z';
  return utf8proc_category(c) == UTF8PROC_CATEGORY_LL;
}

// Closing quotes and brackets that may follow a sentence terminator.
bool IsCloser(int32_t c) {
  if (c == '"' || c == '\'' || c == ')' || c == ']') return true;
  if (c < 0x80) return false;
  const utf8proc_category_t cat = utf8proc_category(c);
  return cat == UTF8PROC_CATEGORY_PE || cat == UTF8PROC_CATEGORY_PF;
}

bool IsTerminator(int32_t c) { return c == '.' || c == '!' || c == '?' || c == 0x2026; }
// Full-width terminators end a sentence without a following space.
bool IsWideTerminator(int32_t c) {
  return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF0E;
}

// Words after which a period does not end a sentence.
bool IsAbbreviation(std::string_view word) {
  static const char* const kAbbreviations[] = {
      "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "e.g", "i.e",
      "no", "fig", "al", "cf", "approx", "inc", "ltd", "co", "mt", "gen", "col", "lt",
      "sgt", "rev", "vol", "pp", "ca", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
      "sep", "sept", "oct", "nov", "dec"};
  const std::string lower = absl::AsciiStrToLower(std::string(word));
  for (const char* a : kAbbreviations) {
    if (lower == a) return true;
  }
  return false;
}

// --- Units: words, tokens, sentences, paragraphs

// A piece of text with its extent in bytes and in code points (counted from
// the start of the whole text).
struct Unit {
  size_t begin = 0, end = 0;
  int64_t cp_begin = 0, cp_end = 0;
};

// Walks the code points of text[begin, end), counting them.
class Cursor {
 public:
  Cursor(std::string_view text, size_t begin, size_t end, int64_t cp)
      : text_(text), pos_(begin), end_(end), cp_(cp) {}
  bool done() const { return pos_ >= end_; }
  CodePoint Peek() const { return DecodeAt(text_, pos_); }
  void Advance(const CodePoint& c) {
    pos_ += c.length;
    ++cp_;
  }
  // Skips white space; returns the number of line feeds skipped.
  int SkipSpace() {
    int newlines = 0;
    while (!done()) {
      CodePoint c = Peek();
      if (!IsSpace(c.value)) break;
      newlines += c.value == '\n';
      Advance(c);
    }
    return newlines;
  }
  size_t pos() const { return pos_; }
  int64_t cp() const { return cp_; }
  std::string_view text() const { return text_; }

 private:
  std::string_view text_;
  size_t pos_, end_;
  int64_t cp_;
};

class UnitSource {
 public:
  virtual ~UnitSource() = default;
  virtual bool Next(Unit* unit) = 0;
};

bool IsNotSpace(int32_t c) { return !IsSpace(c); }

// Runs of the characters `accepts` takes, at most `max_chars` long; any
// other character is a unit of its own, and so is a wide character.
// Words are runs of non-space characters (cut at the chunk size); tokens,
// as defined in chunker.h, runs of word characters.
class Runs : public UnitSource {
 public:
  Runs(Cursor cursor, bool (*accepts)(int32_t), int64_t max_chars)
      : c_(cursor), accepts_(accepts), max_chars_(max_chars) {}
  bool Next(Unit* u) override {
    c_.SkipSpace();
    if (c_.done()) return false;
    u->begin = c_.pos();
    u->cp_begin = c_.cp();
    CodePoint first = c_.Peek();
    c_.Advance(first);
    if (accepts_(first.value) && !IsWide(first.value)) {
      while (!c_.done() && c_.cp() - u->cp_begin < max_chars_) {
        CodePoint next = c_.Peek();
        if (!accepts_(next.value) || IsWide(next.value)) break;
        c_.Advance(next);
      }
    }
    u->end = c_.pos();
    u->cp_end = c_.cp();
    return true;
  }

 private:
  Cursor c_;
  bool (*accepts_)(int32_t);
  int64_t max_chars_;
};

// Sentences (or, with `paragraphs_only`, paragraphs): trimmed spans ending
// as chunker.h describes.
class Sentences : public UnitSource {
 public:
  Sentences(Cursor cursor, bool paragraphs_only)
      : c_(cursor), paragraphs_only_(paragraphs_only) {}

  bool Next(Unit* u) override {
    c_.SkipSpace();
    if (c_.done()) return false;
    u->begin = c_.pos();
    u->cp_begin = c_.cp();
    while (!c_.done()) {
      CodePoint c = c_.Peek();
      if (IsSpace(c.value)) {
        // The unit ends before a blank line.
        const size_t end = c_.pos();
        const int64_t cp_end = c_.cp();
        if (c_.SkipSpace() >= 2 || c_.done()) return Finish(u, end, cp_end);
        continue;
      }
      const size_t at = c_.pos();
      c_.Advance(c);
      if (paragraphs_only_) continue;
      if (IsWideTerminator(c.value)) {
        SkipClosers();
        return Finish(u, c_.pos(), c_.cp());
      }
      if (IsTerminator(c.value)) {
        SkipClosers();
        if (!c_.done() && !IsSpace(c_.Peek().value)) continue;  // "3.14", "a.b"
        if (c.value == '.' && IsAbbreviation(WordBefore(at, u->begin))) continue;
        if (c.value == '.' && IsInitial(WordBefore(at, u->begin))) continue;  // "J. Smith"
        if (NextWordIsLower()) continue;
        return Finish(u, c_.pos(), c_.cp());
      }
    }
    return Finish(u, c_.pos(), c_.cp());
  }

 private:
  bool Finish(Unit* u, size_t end, int64_t cp_end) {
    u->end = end;
    u->cp_end = cp_end;
    return true;
  }
  // Skips closing quotes and brackets, and reference marks like "[12]"
  // (at most 24 bytes, on one line) that follow a terminator in
  // encyclopedic text.
  void SkipClosers() {
    while (!c_.done()) {
      CodePoint c = c_.Peek();
      if (c.value == '[') {
        const std::string_view rest = c_.text().substr(c_.pos(), 24);
        const size_t close = rest.find(']');
        if (close == std::string_view::npos || rest.substr(0, close).find('\n') != std::string_view::npos) {
          return;
        }
        while (c_.Peek().value != ']') c_.Advance(c_.Peek());
        c_.Advance(c_.Peek());
        continue;
      }
      if (!IsCloser(c.value)) break;
      c_.Advance(c);
    }
  }
  // The word ending at byte `dot` (exclusive), not before `floor`; only
  // short words matter, so at most 8 bytes are looked at.
  std::string_view WordBefore(size_t dot, size_t floor) const {
    size_t start = dot;
    while (start > floor && dot - start < 8 &&
           !IsSpace(static_cast<unsigned char>(c_.text()[start - 1])) &&
           c_.text()[start - 1] != '(') {
      --start;
    }
    if (start > floor && dot - start >= 8 &&
        !IsSpace(static_cast<unsigned char>(c_.text()[start - 1]))) {
      return {};  // longer than any abbreviation
    }
    return c_.text().substr(start, dot - start);
  }
  static bool IsInitial(std::string_view word) {
    return word.size() == 1 && absl::ascii_isalpha(static_cast<unsigned char>(word[0]));
  }
  bool NextWordIsLower() const {
    Cursor look = c_;
    look.SkipSpace();
    return !look.done() && IsLower(look.Peek().value);
  }

  Cursor c_;
  bool paragraphs_only_;
};

// --- Packing units into passages

enum class Cost { kChars, kUnits };

using Emit = std::function<void(size_t begin, size_t end)>;
// Splits one unit too large for a passage, emitting its pieces.
using SplitLarge = std::function<void(const Unit&)>;

// Packs consecutive units into passages of at most `size` (characters from
// the first unit's start to the last one's end, or units), each passage
// after the first repeating at most `overlap` of the previous one and
// always adding at least one new unit. Units larger than `size` go to
// `split_large` (never called for sources whose units all fit).
void Pack(UnitSource& source, Cost cost_kind, int64_t size, int64_t overlap,
          const SplitLarge& split_large, const Emit& emit) {
  std::deque<Unit> window;  // the current passage's units and the next one
  bool exhausted = false;
  auto have = [&](size_t n) {
    while (window.size() < n && !exhausted) {
      Unit u;
      if (source.Next(&u)) {
        window.push_back(u);
      } else {
        exhausted = true;
      }
    }
    return window.size() >= n;
  };
  // The cost of window[i..j], inclusive.
  auto cost = [&](size_t i, size_t j) -> int64_t {
    return cost_kind == Cost::kChars ? window[j].cp_end - window[i].cp_begin
                                     : static_cast<int64_t>(j - i + 1);
  };
  while (have(1)) {
    if (cost(0, 0) > size) {
      split_large(window.front());
      window.pop_front();
      continue;
    }
    size_t j = 1;  // the passage is window[0, j)
    while (have(j + 1) && cost(0, j) <= size) ++j;
    emit(window[0].begin, window[j - 1].end);
    if (!have(j + 1)) return;
    size_t k = j;  // the next passage starts at window[k]
    while (k > 1 && cost(k - 1, j - 1) <= overlap && cost(k - 1, j) <= size) --k;
    window.erase(window.begin(), window.begin() + static_cast<std::ptrdiff_t>(k));
  }
}

}  // namespace

absl::StatusOr<Chunker> Chunker::Create(std::string_view text) {
  absl::StatusOr<Spec> spec = Spec::Parse(text);
  if (!spec.ok()) return spec.status();
  const std::vector<ComponentKind> kinds = ChunkingKinds();
  auto kind = std::find_if(kinds.begin(), kinds.end(),
                           [&](const ComponentKind& k) { return k.name == spec->kind; });
  if (kind == kinds.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown chunking '", spec->kind,
                     "' (none, chars, tokens, sentences, paragraphs)"));
  }
  Chunker c;
  SpecReader r(*spec, *kind);
  if (spec->kind == "none") {
    c.kind_ = Kind::kNone;
  } else if (spec->kind == "chars" || spec->kind == "tokens") {
    const bool chars = spec->kind == "chars";
    c.kind_ = chars ? Kind::kChars : Kind::kTokens;
    c.size_ = r.GetInt("size");
    c.overlap_ = r.GetInt("overlap", c.size_ / 5);
    if (r.Finish().ok() && c.overlap_ >= c.size_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "chunking '", std::string(text), "': overlap must be smaller than size"));
    }
  } else {
    const bool sentences = spec->kind == "sentences";
    c.kind_ = sentences ? Kind::kSentences : Kind::kParagraphs;
    c.size_ = r.GetInt("max_chars");
  }
  if (absl::Status s = r.Finish(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("chunking: ", s.message()));
  }
  Spec canonical{spec->kind, {}};
  if (c.kind_ == Kind::kChars || c.kind_ == Kind::kTokens) {
    canonical.params = {{"size", std::to_string(c.size_)},
                        {"overlap", std::to_string(c.overlap_)}};
  } else if (c.kind_ != Kind::kNone) {
    canonical.params = {{"max_chars", std::to_string(c.size_)}};
  }
  c.spec_ = canonical.ToString();
  return c;
}

std::vector<TextSpan> Chunker::Split(std::string_view text) const {
  std::vector<TextSpan> out;
  const Emit emit = [&](size_t begin, size_t end) { out.push_back({begin, end}); };
  const Cursor all(text, 0, text.size(), 0);
  // A unit too long for a passage is cut into words (then characters).
  const SplitLarge split_words = [&](const Unit& u) {
    Runs words(Cursor(text, u.begin, u.end, u.cp_begin), IsNotSpace, size_);
    Pack(words, Cost::kChars, size_, 0, nullptr, emit);
  };
  switch (kind_) {
    case Kind::kNone: {
      Cursor probe = all;
      probe.SkipSpace();
      if (!probe.done()) out.push_back({0, text.size()});
      break;
    }
    case Kind::kChars: {
      Runs words(all, IsNotSpace, size_);
      Pack(words, Cost::kChars, size_, overlap_, nullptr, emit);
      break;
    }
    case Kind::kTokens: {
      Runs tokens(all, IsWordChar, kMaxTokenChars);
      Pack(tokens, Cost::kUnits, size_, overlap_, nullptr, emit);
      break;
    }
    case Kind::kSentences: {
      Sentences sentences(all, false);
      Pack(sentences, Cost::kChars, size_, 0, split_words, emit);
      break;
    }
    case Kind::kParagraphs: {
      const SplitLarge split_sentences = [&](const Unit& u) {
        Sentences sentences(Cursor(text, u.begin, u.end, u.cp_begin), false);
        Pack(sentences, Cost::kChars, size_, 0, split_words, emit);
      };
      Sentences paragraphs(all, true);
      Pack(paragraphs, Cost::kChars, size_, 0, split_sentences, emit);
      break;
    }
  }
  return out;
}

std::vector<ComponentKind> ChunkingKinds() {
  const auto overlap = [] {
    return IntParameter("overlap", "<size / 5>", 0, kMaxSize,
                        "repeated from the previous passage; less than size");
  };
  return {
      {"none", "each document is one entry (the default)", {}, {}},
      {"chars",
       "passages of at most size characters, overlapping",
       {IntParameter("size", "1000", 1, kMaxSize, "characters per passage"), overlap()},
       {}},
      {"tokens",
       "the same in tokens (words, punctuation, CJK characters)",
       {IntParameter("size", "200", 1, kMaxSize, "tokens per passage"), overlap()},
       {}},
      {"sentences",
       "whole sentences packed up to max_chars",
       {IntParameter("max_chars", "1000", 1, kMaxSize, "characters per passage")},
       {}},
      {"paragraphs",
       "whole paragraphs (blank-line separated) packed up to max_chars",
       {IntParameter("max_chars", "2000", 1, kMaxSize, "characters per passage")},
       {}},
  };
}

}  // namespace semdb
