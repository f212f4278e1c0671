// A command's result, and the one function that prints every result in the
// output format the user chose (`set format`, `.mode`, `--format`). Commands
// build a Result and never format output themselves, so a new command gets
// every format for free.
#ifndef SEMDB_SHELL_RESULT_H_
#define SEMDB_SHELL_RESULT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace semdb {

enum class OutputFormat {
  kTable,     // aligned columns cut to the width (the default)
  kJson,      // one JSON value per result, on one line
  kJsonl,     // JSON Lines: a row (or an array's element) per line
  kCsv,       // RFC 4180: header row, CRLF line ends, quoted when needed
  kMarkdown,  // a GitHub-flavoured Markdown table
  kLine,      // one "column = value" line per field, rows separated by a blank line
};

// table, json, jsonl, csv, markdown, line; and the sqlite3/duckdb spellings
// box, column (table), ndjson (jsonl), md (markdown).
absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name);
const char* OutputFormatName(OutputFormat format);
// "table, json, jsonl, csv, markdown, line", for usage and error messages.
std::string OutputFormatNames();

struct Result {
  // A table: its column names and its rows of JSON values. Cells print as
  // text: strings as they are, numbers in decimal (non-integers with
  // kScoreDigits decimals), null as nothing, objects and arrays as compact
  // JSON. A column whose cells are all numbers is right-aligned.
  std::vector<std::string> columns;
  std::vector<std::vector<nlohmann::json>> rows;
  // One record (get): the table format shows it as "column: value" lines,
  // uncut, instead of a table.
  bool record = false;
  // Cells wrap onto more lines instead of being cut with "…" (help).
  bool wrap = false;
  // What json and jsonl print. Null: the rows, as objects keyed by column
  // name (json: one array; jsonl: an object per line); with no table
  // either, nothing. jsonl prints an array one element per line and any
  // other value on one line.
  nlohmann::json json;
  // For the human formats (table, line, markdown): text before the table,
  // or the whole result when there is no table ("inserted 'x'"); csv prints
  // it only when there is no table.
  std::string message;
  // For the human formats: lines after the table ("(3 results)", notes).
  std::vector<std::string> footer;
};

struct OutputSettings {
  OutputFormat format = OutputFormat::kTable;
  int width = 100;  // terminal columns a table may take (table format only)
};

// Decimal digits of non-integer numbers in tables, and of scores and
// similarities in every format (JSON included: RoundScore).
inline constexpr int kScoreDigits = 4;

// `x` rounded to kScoreDigits decimals, so that JSON shows 0.9743, not
// 0.97430002689361572.
double RoundScore(double x);

// The text that prints `result` in `settings.format`: empty, or ending with
// a line break. Never fails: every result has a form in every format.
std::string FormatResult(const Result& result, const OutputSettings& settings);

}  // namespace semdb

#endif  // SEMDB_SHELL_RESULT_H_
