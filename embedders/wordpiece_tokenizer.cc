#include "embedders/wordpiece_tokenizer.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "embedders/python_unicode.h"
#include "text/utf8.h"
#include "fmt/format.h"
#include "utf8proc.h"

namespace semdb {
namespace {

bool IsControl(char32_t c) {
  if (c == U'\t' || c == U'\n' || c == U'\r') return false;
  const utf8proc_category_t cat = python_unicode::Category(c);
  return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF;
}

bool IsWhitespace(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' ||
         python_unicode::Category(c) == UTF8PROC_CATEGORY_ZS;
}

// Every non-alphanumeric ASCII character, and categories P*.
bool IsPunctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126)) {
    return true;
  }
  const utf8proc_category_t cat = python_unicode::Category(c);
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

// The CJK Unified Ideographs blocks the reference splits out (not kana,
// Hangul, radicals, nor Extensions F and G).
bool IsCjkIdeograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// What Python's str.split() separates on once the text is cleaned: cleaning
// turned every other whitespace character into U+0020 or removed it.
bool IsSeparator(char32_t c) { return c == U' ' || c == 0x2028 || c == 0x2029; }

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

absl::StatusOr<WordPieceTokenizer> WordPieceTokenizer::FromFile(
    const std::string& vocab_path, WordPieceOptions options) {
  std::ifstream in(vocab_path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("cannot open vocabulary {}", vocab_path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(fmt::format("cannot read vocabulary {}", vocab_path));
  const std::string data = ss.str();
  std::vector<std::string> tokens;
  for (size_t begin = 0; begin < data.size();) {
    size_t end = data.find('\n', begin);
    if (end == std::string::npos) end = data.size();
    // As the reference: a line's token is the line stripped of whitespace.
    size_t a = begin, b = end;
    while (a < b && IsAsciiSpace(data[a])) ++a;
    while (b > a && IsAsciiSpace(data[b - 1])) --b;
    tokens.emplace_back(data, a, b - a);
    begin = end + 1;
  }
  return FromTokens(std::move(tokens), std::move(options), vocab_path);
}

absl::StatusOr<WordPieceTokenizer> WordPieceTokenizer::FromTokens(
    std::vector<std::string> tokens, WordPieceOptions options, const std::string& source) {
  if (tokens.empty()) return absl::InvalidArgumentError(fmt::format("{}: empty vocabulary", source));
  if (options.max_input_chars_per_word < 1) {
    return absl::InvalidArgumentError("max_input_chars_per_word must be positive");
  }
  WordPieceTokenizer t;
  t.options_ = std::move(options);
  t.vocab_.reserve(tokens.size());
  std::u32string cps;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (absl::Status s = DecodeUtf8(tokens[i], &cps); !s.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("{} line {}: {}", source, i + 1, std::string(s.message())));
    }
    t.max_token_chars_ = std::max(t.max_token_chars_, static_cast<int>(cps.size()));
    // A repeated token maps to its last line, as the reference's dict.
    t.vocab_[tokens[i]] = static_cast<int32_t>(i);
  }
  t.tokens_ = std::move(tokens);
  for (auto [name, id] : {std::pair{&t.options_.unk_token, &t.unk_id_},
                          std::pair{&t.options_.cls_token, &t.cls_id_},
                          std::pair{&t.options_.sep_token, &t.sep_id_},
                          std::pair{&t.options_.pad_token, &t.pad_id_}}) {
    *id = t.Id(*name);
    if (*id < 0) {
      return absl::InvalidArgumentError(
          fmt::format("{}: the special token '{}' is not in the vocabulary", source, *name));
    }
  }
  return t;
}

int32_t WordPieceTokenizer::Id(std::string_view token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

template <typename Emit>
absl::Status WordPieceTokenizer::ForEachWord(std::string_view text, Emit&& emit) const {
  std::u32string cps;
  if (absl::Status s = DecodeUtf8(text, &cps); !s.ok()) return s;
  // Cleaning (controls dropped, whitespace made U+0020) and CJK spacing;
  // each character keeps the bytes it comes from.
  std::u32string clean;
  std::vector<TokenOffsets> clean_from;
  clean.reserve(cps.size() + 16);
  clean_from.reserve(cps.size() + 16);
  auto push = [&](char32_t c, TokenOffsets o) {
    clean.push_back(c);
    clean_from.push_back(o);
  };
  int32_t at = 0;
  for (char32_t c : cps) {
    const TokenOffsets o{at, at + (c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4)};
    at = o.end;
    if (c == 0 || c == 0xFFFD || IsControl(c)) continue;
    if (IsWhitespace(c)) {
      push(U' ', o);
    } else if (options_.split_cjk && IsCjkIdeograph(c)) {
      push(U' ', o);
      push(c, o);
      push(U' ', o);
    } else {
      push(c, o);
    }
  }
  std::u32string lowered, decomposed;
  std::vector<uint32_t> source;
  std::vector<TokenOffsets> from, mapped;
  // The word becomes `changed`, each character from the one `source` names
  // (most often the one at the same place: nothing to move then).
  auto remap = [&](std::u32string_view* word, const std::u32string& changed) {
    bool same = source.size() == from.size();
    for (size_t k = 0; same && k < source.size(); ++k) same = source[k] == k;
    if (!same) {
      mapped.clear();
      for (uint32_t k : source) mapped.push_back(from[k]);
      from.swap(mapped);
    }
    *word = changed;
  };
  for (size_t i = 0; i < clean.size();) {
    if (IsSeparator(clean[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < clean.size() && !IsSeparator(clean[j])) ++j;
    std::u32string_view word(clean.data() + i, j - i);
    from.assign(clean_from.begin() + static_cast<std::ptrdiff_t>(i),
                clean_from.begin() + static_cast<std::ptrdiff_t>(j));
    i = j;
    if (options_.lower_case) {
      lowered.clear();
      source.clear();
      python_unicode::AppendLower(word, &lowered, &source);
      remap(&word, lowered);
    }
    if (options_.strip_accents) {
      decomposed.clear();
      source.clear();
      python_unicode::AppendNfd(word, &decomposed, &source);
      size_t kept = 0;
      for (size_t k = 0; k < decomposed.size(); ++k) {
        if (python_unicode::Category(decomposed[k]) == UTF8PROC_CATEGORY_MN) continue;
        decomposed[kept] = decomposed[k];
        source[kept++] = source[k];
      }
      decomposed.resize(kept);
      source.resize(kept);
      remap(&word, decomposed);
    }
    // Punctuation characters are words of their own.
    size_t start = 0;
    for (size_t k = 0; k < word.size(); ++k) {
      if (IsPunctuation(word[k])) {
        if (k > start) emit(word.substr(start, k - start), from.data() + start);
        emit(word.substr(k, 1), from.data() + k);
        start = k + 1;
      }
    }
    if (start < word.size()) emit(word.substr(start), from.data() + start);
  }
  return absl::OkStatus();
}

void WordPieceTokenizer::WordPieces(std::u32string_view word, const TokenOffsets* from,
                                    std::vector<int32_t>* ids,
                                    std::vector<TokenOffsets>* offsets) const {
  const size_t n = word.size();
  const TokenOffsets whole{from[0].begin, from[n - 1].end};
  if (n > static_cast<size_t>(options_.max_input_chars_per_word)) {
    ids->push_back(unk_id_);
    offsets->push_back(whole);
    return;
  }
  std::string utf8;
  std::vector<size_t> offset(n + 1, 0);  // byte offset of each code point
  for (size_t k = 0; k < n; ++k) {
    AppendUtf8(word[k], &utf8);
    offset[k + 1] = utf8.size();
  }
  const size_t first_piece = ids->size();
  std::string key;
  for (size_t start = 0; start < n;) {
    int32_t id = -1;
    size_t end = std::min(n, start + static_cast<size_t>(max_token_chars_));
    for (; end > start; --end) {
      key.assign(start > 0 ? "##" : "");
      key.append(utf8, offset[start], offset[end] - offset[start]);
      id = Id(key);
      if (id >= 0) break;
    }
    if (id < 0) {  // one unknown piece makes the whole word unknown
      ids->resize(first_piece);
      offsets->resize(first_piece);
      ids->push_back(unk_id_);
      offsets->push_back(whole);
      return;
    }
    ids->push_back(id);
    offsets->push_back({from[start].begin, from[end - 1].end});
    start = end;
  }
}

absl::Status WordPieceTokenizer::Tokenize(std::string_view text, std::vector<int32_t>* ids,
                                          std::vector<TokenOffsets>* offsets) const {
  std::vector<TokenOffsets> unused;
  if (offsets == nullptr) offsets = &unused;
  ids->clear();
  offsets->clear();
  return ForEachWord(text, [&](std::u32string_view word, const TokenOffsets* from) {
    WordPieces(word, from, ids, offsets);
  });
}

absl::StatusOr<std::vector<std::string>> WordPieceTokenizer::BasicTokenize(
    std::string_view text) const {
  std::vector<std::string> words;
  absl::Status s = ForEachWord(text, [&](std::u32string_view word, const TokenOffsets*) {
    std::string& w = words.emplace_back();
    for (char32_t c : word) AppendUtf8(c, &w);
  });
  if (!s.ok()) return s;
  return words;
}

nlohmann::json WordPieceTokenizer::Describe() const {
  return {
      {"tokenizer", "vocab.txt"},
      {"tokenizer_model", "WordPiece"},
      {"vocabulary", vocab_size()},
      {"lower_case", options_.lower_case},
      {"strip_accents", options_.strip_accents},
      {"max_input_chars_per_word", options_.max_input_chars_per_word},
      {"tokenizer_unicode_version", python_unicode::UnicodeVersion()},
  };
}

absl::StatusOr<EncodedText> WordPieceTokenizer::Encode(std::string_view text,
                                                       int max_length) const {
  if (max_length < 2) {
    return absl::InvalidArgumentError(
        fmt::format("max_length must leave room for [CLS] and [SEP], got {}", max_length));
  }
  EncodedText e;
  e.ids.push_back(cls_id_);
  e.offsets.emplace_back();
  std::vector<int32_t> pieces;
  std::vector<TokenOffsets> offsets;
  if (absl::Status s = Tokenize(text, &pieces, &offsets); !s.ok()) return s;
  e.tokens = static_cast<int32_t>(pieces.size());
  e.unknown_tokens = static_cast<int32_t>(std::count(pieces.begin(), pieces.end(), unk_id_));
  const size_t room = static_cast<size_t>(max_length) - 2;
  if (pieces.size() > room) {
    e.truncated = true;
    pieces.resize(room);
    offsets.resize(room);
  }
  e.ids.insert(e.ids.end(), pieces.begin(), pieces.end());
  e.offsets.insert(e.offsets.end(), offsets.begin(), offsets.end());
  e.ids.push_back(sep_id_);
  e.offsets.emplace_back();
  return e;
}

}  // namespace semdb
