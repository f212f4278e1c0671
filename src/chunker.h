// Chunking: how a chunked collection splits each document into passages.
//
// A policy is a spec string, like an embedder's:
//   none                              the whole document is one entry (default)
//   chars size=1000 overlap=200       at most `size` characters per passage; the
//                                     next passage repeats at most `overlap`
//                                     characters of the previous one
//   tokens size=200 overlap=40        the same, counted in tokens
//   sentences max_chars=1000          whole sentences, packed up to max_chars
//   paragraphs max_chars=2000         whole paragraphs (blank-line separated),
//                                     packed up to max_chars
//
// Units: a character is a Unicode code point. A token is a run of letters,
// digits and marks (a run longer than kMaxTokenChars counts as one token per
// kMaxTokenChars characters), or one other visible character (punctuation,
// symbol), or one wide (CJK) character: a rough stand-in for a language
// model's tokens that needs no vocabulary.
//
// Boundaries: a passage is a byte range [begin, end) of the document's text
// (byte offsets, not code points). It never splits a code point, never
// starts or ends with white space, and breaks between words: a word longer
// than a whole passage, or text without spaces, is cut between characters
// (wide characters count as words of their own, so CJK text breaks between
// characters). Sentences end at . ! ? … (followed by space, closing quotes
// or brackets, and not after a single letter, a common abbreviation or
// before a lower-case word), at 。！？ and at blank lines; a sentence or
// paragraph longer than max_chars is split as `chars` would split it.
//
// Chunking is linear in the text and keeps only one passage's worth of
// bookkeeping, so a 100 MB document is fine. Texts must be valid UTF-8 (the
// collection checks before chunking); any invalid byte counts as one
// character.
#ifndef SEMDB_SRC_CHUNKER_H_
#define SEMDB_SRC_CHUNKER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "semdb/spec.h"

namespace semdb {

struct TextSpan {
  size_t begin = 0;  // byte offsets into the text, [begin, end)
  size_t end = 0;
  bool operator==(const TextSpan&) const = default;
};

inline constexpr int kMaxTokenChars = 16;

class Chunker {
 public:
  enum class Kind { kNone, kChars, kTokens, kSentences, kParagraphs };

  Chunker() = default;  // none

  // Parses a policy; errors name the bad kind or parameter.
  static absl::StatusOr<Chunker> Create(std::string_view spec);

  Kind kind() const { return kind_; }
  bool enabled() const { return kind_ != Kind::kNone; }
  // Canonical spec with every parameter explicit, e.g. "chars overlap=200
  // size=1000": stored with the collection, so that changing a default
  // later never changes how an existing collection chunks.
  const std::string& spec() const { return spec_; }

  // The passages of `text`, in order; none when it is empty or all space.
  // For kNone, the whole text (trimmed of nothing) as one span.
  std::vector<TextSpan> Split(std::string_view text) const;

 private:
  Kind kind_ = Kind::kNone;
  int64_t size_ = 0;     // chars, tokens, or max_chars
  int64_t overlap_ = 0;  // chars or tokens
  std::string spec_ = "none";
};

}  // namespace semdb

#endif  // SEMDB_SRC_CHUNKER_H_
