// The chunker on real prose and on edge cases: limits, overlaps, UTF-8 and
// word boundaries, sentences and paragraphs, CJK, one huge word, 100 MB.
#include "src/chunker.h"


#include "catch2/catch.hpp"
#include "test_data.h"
#include "text/utf8.h"
#include "utf8proc.h"

namespace semdb {
namespace {

Chunker Make(const std::string& spec) {
  absl::StatusOr<Chunker> c = Chunker::Create(spec);
  INFO(spec << ": " << c.status().message());
  REQUIRE(c.ok());
  return *c;
}

int64_t CodePoints(std::string_view s) {
  return utf8proc_decompose(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                            static_cast<utf8proc_ssize_t>(s.size()), nullptr, 0, UTF8PROC_STABLE);
}

bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string_view Slice(std::string_view text, const TextSpan& s) {
  return text.substr(s.begin, s.end - s.begin);
}

// Properties every policy guarantees: passages in order, valid UTF-8,
// trimmed, and together covering every non-space byte of the text.
void CheckWellFormed(std::string_view text, const std::vector<TextSpan>& spans) {
  REQUIRE_FALSE(spans.empty());
  size_t covered = 0;  // every byte before this is covered or space
  for (size_t i = 0; i < spans.size(); ++i) {
    const TextSpan& s = spans[i];
    INFO("passage " << i << " [" << s.begin << ", " << s.end << ")");
    REQUIRE(s.begin < s.end);
    REQUIRE(s.end <= text.size());
    if (i > 0) REQUIRE(s.begin > spans[i - 1].begin);
    REQUIRE(ValidateUtf8(Slice(text, s)).ok());
    REQUIRE_FALSE(IsAsciiSpace(text[s.begin]));
    REQUIRE_FALSE(IsAsciiSpace(text[s.end - 1]));
    for (size_t b = covered; b < s.begin; ++b) REQUIRE(IsAsciiSpace(text[b]));
    covered = std::max(covered, s.end);
  }
  for (size_t b = covered; b < text.size(); ++b) REQUIRE(IsAsciiSpace(text[b]));
}

TEST_CASE("chunking specs are canonical and errors are clear", "[chunker]") {
  REQUIRE(Make("none").spec() == "none");
  REQUIRE_FALSE(Make("none").enabled());
  REQUIRE(Make("chars").spec() == "chars overlap=200 size=1000");
  REQUIRE(Make("chars size=500").spec() == "chars overlap=100 size=500");
  REQUIRE(Make("tokens").spec() == "tokens overlap=40 size=200");
  REQUIRE(Make("tokens size=64 overlap=0").spec() == "tokens overlap=0 size=64");
  REQUIRE(Make("sentences").spec() == "sentences max_chars=1000");
  REQUIRE(Make("paragraphs max_chars=300").spec() == "paragraphs max_chars=300");
  auto error = [](const std::string& spec) {
    absl::StatusOr<Chunker> c = Chunker::Create(spec);
    REQUIRE(c.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(c.status().message());
  };
  REQUIRE(error("words") == "unknown chunking 'words' (none, chars, tokens, sentences, paragraphs)");
  REQUIRE(error("chars size=100 overlap=100") ==
          "chunking 'chars size=100 overlap=100': overlap must be smaller than size");
  REQUIRE(error("chars size=0").find("'size' of 'chars' must be an integer in [1, 1000000]") !=
          std::string::npos);
  REQUIRE(error("sentences size=5") ==
          "chunking: unknown parameter 'size' for 'sentences' (accepted: max_chars)");
  REQUIRE(error("") == "empty spec");
}

TEST_CASE("chars: passages of real prose respect size, overlap and word boundaries",
          "[chunker]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/para2para_text1.txt");
  const std::string text = testing::ReadFile(testing::SharedData("gensim/para2para_text1.txt"));
  const std::vector<TextSpan> spans = Make("chars size=500 overlap=100").Split(text);
  CheckWellFormed(text, spans);
  REQUIRE(spans.size() >= text.size() / 500);
  for (size_t i = 0; i < spans.size(); ++i) {
    REQUIRE(CodePoints(Slice(text, spans[i])) <= 500);
    // Starts at a word: after a space (or at the start of the text).
    REQUIRE((spans[i].begin == 0 || IsAsciiSpace(text[spans[i].begin - 1])));
    REQUIRE((spans[i].end == text.size() || IsAsciiSpace(text[spans[i].end])));
    if (i > 0) {
      // Overlap with the previous passage: some, at most 100 characters.
      REQUIRE(spans[i].begin < spans[i - 1].end);
      REQUIRE(CodePoints(text.substr(spans[i].begin, spans[i - 1].end - spans[i].begin)) <= 100);
    }
    // Every passage but the last is nearly full: words are short.
    if (i + 1 < spans.size()) REQUIRE(CodePoints(Slice(text, spans[i])) > 400);
  }
  // Without overlap, passages tile the text.
  const std::vector<TextSpan> tiles = Make("chars size=500 overlap=0").Split(text);
  CheckWellFormed(text, tiles);
  for (size_t i = 1; i < tiles.size(); ++i) REQUIRE(tiles[i].begin > tiles[i - 1].end);
}

// Tokens as chunker.h defines them, for ASCII text: runs of letters, digits
// and '_' (one token per 16 characters), and single punctuation characters.
int CountAsciiTokens(std::string_view s) {
  int tokens = 0;
  for (size_t i = 0; i < s.size();) {
    const auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    if (IsAsciiSpace(s[i])) {
      ++i;
    } else if (word(s[i])) {
      size_t j = i;
      while (j < s.size() && word(s[j])) ++j;
      tokens += static_cast<int>((j - i + kMaxTokenChars - 1) / kMaxTokenChars);
      i = j;
    } else {
      ++tokens;
      ++i;
    }
  }
  return tokens;
}

TEST_CASE("tokens: passages hold at most size tokens and overlap by at most overlap",
          "[chunker]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/para2para_text2.txt");
  std::string text = testing::ReadFile(testing::SharedData("gensim/para2para_text2.txt"));
  // The tokens definition is checked on ASCII text.
  text.erase(std::remove_if(text.begin(), text.end(),
                            [](char c) { return static_cast<unsigned char>(c) >= 0x80; }),
             text.end());
  const std::vector<TextSpan> spans = Make("tokens size=120 overlap=30").Split(text);
  CheckWellFormed(text, spans);
  for (size_t i = 0; i < spans.size(); ++i) {
    const int tokens = CountAsciiTokens(Slice(text, spans[i]));
    REQUIRE(tokens <= 120);
    if (i + 1 < spans.size()) REQUIRE(tokens == 120);  // full: every token fits
    if (i > 0) {
      REQUIRE(spans[i].begin < spans[i - 1].end);
      REQUIRE(CountAsciiTokens(text.substr(spans[i].begin, spans[i - 1].end - spans[i].begin)) ==
              30);
    }
  }
}

std::vector<std::string> Texts(std::string_view text, const std::vector<TextSpan>& spans) {
  std::vector<std::string> out;
  for (const TextSpan& s : spans) out.emplace_back(Slice(text, s));
  return out;
}

TEST_CASE("sentences: abbreviations, decimals and lower-case continuations do not split",
          "[chunker]") {
  const std::string text =
      "Dr. Smith went to Washington.  He arrived at 3.30 p.m. on Monday! Did he? Yes.";
  REQUIRE(Texts(text, Make("sentences max_chars=35").Split(text)) ==
          std::vector<std::string>{"Dr. Smith went to Washington.",
                                   "He arrived at 3.30 p.m. on Monday!", "Did he? Yes."});
  // Quotes after the terminator stay with the sentence; J. is an initial.
  const std::string quoted = "She said \"stop.\" Then J. Doe left (quietly.) The end.";
  REQUIRE(Texts(quoted, Make("sentences max_chars=20").Split(quoted)) ==
          std::vector<std::string>{"She said \"stop.\"", "Then J. Doe left", "(quietly.)",
                                   "The end."});
  // A sentence longer than max_chars is cut between words.
  const std::string longer = "one two three four five six seven eight nine ten.";
  for (const std::string& piece : Texts(longer, Make("sentences max_chars=12").Split(longer))) {
    REQUIRE(piece.size() <= 12);
  }
}

TEST_CASE("sentences on real prose end at sentence ends", "[chunker]") {
  SEMDB_REQUIRE_SHARED_DATA("gensim/para2para_text1.txt");
  const std::string text = testing::ReadFile(testing::SharedData("gensim/para2para_text1.txt"));
  const std::vector<TextSpan> spans = Make("sentences max_chars=600").Split(text);
  CheckWellFormed(text, spans);
  int ends_sentence = 0;
  for (const TextSpan& s : spans) {
    REQUIRE(CodePoints(Slice(text, s)) <= 600);
    // Closing quotes, brackets and reference marks ("[12]") may follow.
    std::string_view end = Slice(text, s);
    while (end.back() == ']' && end.rfind('[') != std::string_view::npos) {
      end = end.substr(0, end.rfind('['));
    }
    while (end.back() == '"' || end.back() == ')') end.remove_suffix(1);
    ends_sentence += end.back() == '.' || end.back() == '?' || end.back() == '!';
  }
  REQUIRE(ends_sentence == static_cast<int>(spans.size()));
}

TEST_CASE("paragraphs: blank lines separate, short ones are packed, long ones split",
          "[chunker]") {
  const std::string text =
      "Para one line one.\nline two.\n\n  Para two.\r\n\r\n\nPara three.\n\n" +
      std::string("A long paragraph. ") + "It has two sentences that are long enough.";
  REQUIRE(Texts(text, Make("paragraphs max_chars=30").Split(text)) ==
          std::vector<std::string>{"Para one line one.\nline two.",
                                   "Para two.\r\n\r\n\nPara three.", "A long paragraph.",
                                   "It has two sentences that are", "long enough."});
}

TEST_CASE("CJK without spaces is cut between characters and at 。", "[chunker]") {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "東京は日本の首都です。";
  const std::vector<TextSpan> spans = Make("chars size=100 overlap=10").Split(text);
  CheckWellFormed(text, spans);
  for (const TextSpan& s : spans) REQUIRE(CodePoints(Slice(text, s)) <= 100);
  REQUIRE(spans.size() >= 33);
  REQUIRE(Texts(text.substr(0, 99), Make("sentences max_chars=12").Split(text.substr(0, 99))) ==
          std::vector<std::string>{"東京は日本の首都です。", "東京は日本の首都です。",
                                   "東京は日本の首都です。"});
  // Each CJK character is a token.
  REQUIRE(Make("tokens size=11 overlap=0").Split(text).size() == 300);
}

TEST_CASE("edge cases: empty, spaces only, one huge word, invalid bytes", "[chunker]") {
  for (const char* spec : {"none", "chars", "tokens", "sentences", "paragraphs"}) {
    REQUIRE(Make(spec).Split("").empty());
    REQUIRE(Make(spec).Split(" \n\t\u3000 ").empty());
  }
  REQUIRE(Make("none").Split(" a b ") == std::vector<TextSpan>{{0, 5}});
  const std::string word(10000, 'a');
  const std::vector<TextSpan> chars = Make("chars size=1000 overlap=200").Split(word);
  CheckWellFormed(word, chars);
  REQUIRE(chars.size() == 10);
  // 625 tokens of 16 characters.
  REQUIRE(Make("tokens size=200 overlap=0").Split(word).size() == 4);
  REQUIRE(Make("sentences max_chars=3000").Split(word).size() == 4);
  // Invalid UTF-8 (which collections reject before chunking) does not crash.
  const std::string bad = "ab\xff\xfe cd \xc3";
  REQUIRE(Make("chars size=2 overlap=1").Split(bad).size() >= 3);
}

TEST_CASE("a 100 MB document is chunked whole and in order", "[chunker][slow]") {
  std::string text;
  text.reserve(100 << 20);
  const std::string sentence =
      "The quick brown fox jumps over the lazy dog near the riverbank at dawn. ";
  while (text.size() + sentence.size() <= (100u << 20)) {
    text += sentence;
    if (text.size() % 7 == 0) text += "\n\n";
  }
  // (Its speed is measured by hand, not asserted: README, "Chunking".)
  const std::vector<TextSpan> spans = Make("chars size=1000 overlap=200").Split(text);
  REQUIRE(spans.size() > text.size() / 1000);
  REQUIRE(spans.front().begin == 0);
  REQUIRE(spans.back().end == text.find_last_not_of(" \n") + 1);  // trailing space is not
  for (size_t i = 1; i < spans.size(); ++i) REQUIRE(spans[i].begin > spans[i - 1].begin);
}

}  // namespace
}  // namespace semdb
