#include "shell/result.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "fmt/format.h"
#include "shell/json_output.h"
#include "shell/table.h"

namespace semdb {
namespace {

struct FormatName {
  const char* name;
  OutputFormat format;
};

// The canonical names first (OutputFormatName), then the aliases.
constexpr FormatName kFormatNames[] = {
    {"table", OutputFormat::kTable}, {"json", OutputFormat::kJson},
    {"jsonl", OutputFormat::kJsonl}, {"csv", OutputFormat::kCsv},
    {"markdown", OutputFormat::kMarkdown}, {"line", OutputFormat::kLine},
    {"box", OutputFormat::kTable},   {"column", OutputFormat::kTable},
    {"ndjson", OutputFormat::kJsonl}, {"md", OutputFormat::kMarkdown},
};
constexpr int kCanonicalFormats = 6;

std::string CellText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_number_float()) return fmt::format("{:.{}f}", v.get<double>(), kScoreDigits);
  return DumpJson(v);
}

bool NumericColumn(const Result& r, size_t c) {
  bool any = false;
  for (const auto& row : r.rows) {
    if (c >= row.size() || row[c].is_null()) continue;
    if (!row[c].is_number()) return false;
    any = true;
  }
  return any;
}

const nlohmann::json& Cell(const std::vector<nlohmann::json>& row, size_t c) {
  static const nlohmann::json kNull;
  return c < row.size() ? row[c] : kNull;
}

nlohmann::json RowObject(const Result& r, const std::vector<nlohmann::json>& row) {
  nlohmann::json o = nlohmann::json::object();
  for (size_t c = 0; c < r.columns.size(); ++c) o[r.columns[c]] = Cell(row, c);
  return o;
}

std::string Json(const Result& r, bool lines) {
  nlohmann::json value = r.json;
  if (value.is_null()) {
    if (r.columns.empty()) return "";
    value = nlohmann::json::array();
    for (const auto& row : r.rows) value.push_back(RowObject(r, row));
  }
  if (!lines || !value.is_array()) return DumpJson(value) + "\n";
  std::string out;
  for (const nlohmann::json& element : value) absl::StrAppend(&out, DumpJson(element), "\n");
  return out;
}

// RFC 4180: a field with a comma, a quote or a line break is quoted, its
// quotes doubled; records end with CRLF.
std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

std::string Csv(const Result& r) {
  if (r.columns.empty()) return r.message.empty() ? "" : r.message + "\n";
  auto record = [](const std::vector<std::string>& fields) {
    std::string out;
    for (size_t i = 0; i < fields.size(); ++i) {
      absl::StrAppend(&out, i ? "," : "", CsvField(fields[i]));
    }
    return out + "\r\n";
  };
  std::string out = record(r.columns);
  for (const auto& row : r.rows) {
    std::vector<std::string> fields;
    for (size_t c = 0; c < r.columns.size(); ++c) fields.push_back(CellText(Cell(row, c)));
    out += record(fields);
  }
  return out;
}

std::string MarkdownCell(const std::string& text) {
  return absl::StrReplaceAll(text, {{"|", "\\|"}, {"\r\n", "<br>"}, {"\n", "<br>"}, {"\r", " "}});
}

std::string Markdown(const Result& r) {
  std::string out = "|";
  std::string rule = "|";
  for (size_t c = 0; c < r.columns.size(); ++c) {
    absl::StrAppend(&out, " ", MarkdownCell(r.columns[c]), " |");
    absl::StrAppend(&rule, NumericColumn(r, c) ? "---:|" : "---|");
  }
  absl::StrAppend(&out, "\n", rule, "\n");
  for (const auto& row : r.rows) {
    out += "|";
    for (size_t c = 0; c < r.columns.size(); ++c) {
      absl::StrAppend(&out, " ", MarkdownCell(CellText(Cell(row, c))), " |");
    }
    out += "\n";
  }
  return out;
}

// sqlite3's line mode: names right-aligned, " = ", the value uncut.
std::string Lines(const Result& r, const char* separator, bool align_right) {
  int name_width = 0;
  for (const std::string& c : r.columns) name_width = std::max(name_width, DisplayWidth(c));
  std::string out;
  for (size_t i = 0; i < r.rows.size(); ++i) {
    if (i > 0) out += "\n";
    for (size_t c = 0; c < r.columns.size(); ++c) {
      std::string pad(name_width - DisplayWidth(r.columns[c]), ' ');
      absl::StrAppend(&out, align_right ? pad : "", r.columns[c], separator,
                      align_right ? "" : pad, CellText(Cell(r.rows[i], c)), "\n");
    }
  }
  return out;
}

std::string TableText(const Result& r, int width) {
  Table t;
  t.headers = r.columns;
  t.wrap = r.wrap;
  for (size_t c = 0; c < r.columns.size(); ++c) t.right_aligned.push_back(NumericColumn(r, c));
  for (const auto& row : r.rows) {
    std::vector<std::string> cells;
    for (size_t c = 0; c < r.columns.size(); ++c) cells.push_back(CellText(Cell(row, c)));
    t.rows.push_back(std::move(cells));
  }
  return RenderTable(t, width);
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  for (const FormatName& f : kFormatNames) {
    if (lower == f.name) return f.format;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown output format '", std::string(name),
                                                 "' (", OutputFormatNames(), ")"));
}

const char* OutputFormatName(OutputFormat format) {
  for (int i = 0; i < kCanonicalFormats; ++i) {
    if (kFormatNames[i].format == format) return kFormatNames[i].name;
  }
  return "table";
}

std::string OutputFormatNames() {
  std::string out;
  for (int i = 0; i < kCanonicalFormats; ++i) absl::StrAppend(&out, i ? ", " : "", kFormatNames[i].name);
  return out;
}

double RoundScore(double x) {
  const double scale = std::pow(10.0, kScoreDigits);
  return std::round(x * scale) / scale;
}

std::string FormatResult(const Result& r, const OutputSettings& settings) {
  switch (settings.format) {
    case OutputFormat::kJson:
      return Json(r, false);
    case OutputFormat::kJsonl:
      return Json(r, true);
    case OutputFormat::kCsv:
      return Csv(r);
    default:
      break;
  }
  std::string out = r.message;
  if (!out.empty() && out.back() != '\n') out += "\n";
  if (!r.columns.empty()) {
    if (settings.format == OutputFormat::kMarkdown) {
      out += Markdown(r);
    } else if (settings.format == OutputFormat::kLine) {
      out += Lines(r, " = ", true);
    } else if (r.record) {
      out += Lines(r, ": ", false);
    } else {
      out += TableText(r, settings.width);
    }
  }
  for (const std::string& line : r.footer) absl::StrAppend(&out, line, "\n");
  return out;
}

}  // namespace semdb
