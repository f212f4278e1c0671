// The shell's command syntax.
//
//   COMMAND [POSITIONAL TEXT] [--option VALUE TEXT]...
//
// The positional text runs to the first option; an option's value runs to
// the next option. Both are kept as typed (raw), so that a value may be a
// sentence, a JSON object or a filter expression without quoting. Quotes
// ('...' or "...", with backslash escapes) protect text that would
// otherwise look like an option ("--") and are removed when the whole value
// is one quoted string. Option names are words after "--" at the start of
// an unquoted word.
#ifndef SEMDB_SHELL_COMMAND_LINE_H_
#define SEMDB_SHELL_COMMAND_LINE_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace semdb {

struct CommandLine {
  std::string command;     // lower-cased first word
  std::string positional;  // raw text after the command, trimmed
  std::vector<std::pair<std::string, std::string>> options;  // name -> raw value

  // The positional text with enclosing quotes removed (see Unquote).
  std::string Text() const;
  // The raw value of option `name`, if given.
  std::optional<std::string> Option(std::string_view name) const;
};

// Splits a line into command, positional text and options. Errors for an
// unterminated quote.
absl::StatusOr<CommandLine> ParseCommandLine(std::string_view line);

// When `raw` is exactly one quoted string, its content with escapes
// resolved; otherwise `raw` unchanged.
std::string Unquote(std::string_view raw);

// Splits raw text into words, honouring quotes (for commands taking
// several arguments, e.g. an id then text).
absl::StatusOr<std::vector<std::string>> SplitWords(std::string_view raw);

// Values of options, with errors that name the option (`what`, e.g.
// "--k") and what was typed.
// A whole number in [min, max].
absl::StatusOr<int64_t> ParseInt(const std::string& what, const std::string& raw,
                                 int64_t min, int64_t max);
// A JSON object, e.g. --meta {"year": 2001}.
absl::StatusOr<nlohmann::json> ParseMetadata(const std::string& raw,
                                             const std::string& what = "--meta");

// "1 document", "2 documents".
std::string Plural(int64_t n, const char* word);

}  // namespace semdb

#endif  // SEMDB_SHELL_COMMAND_LINE_H_
