#include "shell/command_line.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "storage/bounded_json.h"

namespace semdb {
namespace {

struct Word {
  size_t begin = 0, end = 0;  // raw extent in the line
  std::string text;           // with quotes and escapes resolved
  bool quoted = false;        // the word is exactly one quoted string
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

absl::StatusOr<std::vector<Word>> Lex(std::string_view line) {
  std::vector<Word> words;
  size_t i = 0;
  while (true) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    if (i == line.size()) return words;
    Word w;
    w.begin = i;
    bool any_unquoted = false, any_quoted = false;
    while (i < line.size() && !IsSpace(line[i])) {
      char c = line[i];
      if (c == '"' || c == '\'') {
        const char quote = c;
        const size_t open = i++;
        any_quoted = true;
        while (i < line.size() && line[i] != quote) {
          if (line[i] == '\\' && i + 1 < line.size() &&
              (line[i + 1] == quote || line[i + 1] == '\\')) {
            ++i;
          }
          w.text += line[i++];
        }
        if (i == line.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("unterminated quote starting at column ", open + 1));
        }
        ++i;
      } else {
        any_unquoted = true;
        w.text += c;
        ++i;
      }
    }
    w.end = i;
    w.quoted = any_quoted && !any_unquoted;
    words.push_back(std::move(w));
  }
}

bool IsOption(const Word& w) {
  return !w.quoted && w.text.size() > 2 && w.text[0] == '-' && w.text[1] == '-' &&
         std::isalpha(static_cast<unsigned char>(w.text[2]));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string Unquote(std::string_view raw) {
  absl::StatusOr<std::vector<Word>> words = Lex(raw);
  if (words.ok() && words->size() == 1 && (*words)[0].quoted) return (*words)[0].text;
  return std::string(raw);
}

absl::StatusOr<std::vector<std::string>> SplitWords(std::string_view raw) {
  absl::StatusOr<std::vector<Word>> words = Lex(raw);
  if (!words.ok()) return words.status();
  std::vector<std::string> out;
  for (Word& w : *words) out.push_back(std::move(w.text));
  return out;
}

std::string CommandLine::Text() const { return Unquote(positional); }

std::optional<std::string> CommandLine::Option(std::string_view name) const {
  for (const auto& [n, v] : options) {
    if (n == name) return v;
  }
  return std::nullopt;
}

absl::StatusOr<CommandLine> ParseCommandLine(std::string_view line) {
  absl::StatusOr<std::vector<Word>> words = Lex(line);
  if (!words.ok()) return words.status();
  CommandLine cmd;
  if (words->empty()) return cmd;
  cmd.command = absl::AsciiStrToLower((*words)[0].text);
  size_t i = 1;
  // The raw text of words [from, to).
  auto raw = [&](size_t from, size_t to) -> std::string {
    if (from >= to) return "";
    return std::string(
        Trim(line.substr((*words)[from].begin, (*words)[to - 1].end - (*words)[from].begin)));
  };
  size_t start = i;
  while (i < words->size() && !IsOption((*words)[i])) ++i;
  cmd.positional = raw(start, i);
  while (i < words->size()) {
    std::string name = (*words)[i].text.substr(2);
    size_t value_start = ++i;
    while (i < words->size() && !IsOption((*words)[i])) ++i;
    cmd.options.emplace_back(std::move(name), raw(value_start, i));
  }
  return cmd;
}

absl::StatusOr<int64_t> ParseInt(const std::string& what, const std::string& raw,
                                 int64_t min, int64_t max) {
  int64_t v;
  std::string text = Unquote(raw);
  if (!absl::SimpleAtoi(text, &v) || v < min || v > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a whole number from ", min, " to ", max, ", got '",
                     text, "'"));
  }
  return v;
}

absl::StatusOr<nlohmann::json> ParseMetadata(const std::string& raw, const std::string& what) {
  absl::StatusOr<nlohmann::json> parsed = ParseJson(Unquote(raw));
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid JSON: ", raw));
  }
  nlohmann::json meta = *std::move(parsed);
  if (!meta.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a JSON object, like {\"year\": 2001}"));
  }
  return meta;
}

std::string Plural(int64_t n, const char* word) {
  return absl::StrCat(n, " ", word, n == 1 ? "" : "s");
}

}  // namespace semdb
