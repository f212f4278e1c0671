#include "shell/table.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <cstdlib>
#include <numeric>

#include "utf8proc.h"

namespace semdb {
namespace {

constexpr char kEllipsis[] = "\xE2\x80\xA6";  // …

// Calls fn(code point, byte length) for each code point; invalid bytes are
// passed as U+FFFD of length 1.
template <typename Fn>
void ForEachCodePoint(std::string_view text, Fn fn) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t pos = 0, n = static_cast<utf8proc_ssize_t>(text.size());
  while (pos < n) {
    utf8proc_int32_t c;
    utf8proc_ssize_t len = utf8proc_iterate(p + pos, n - pos, &c);
    if (len <= 0) {
      c = 0xFFFD;
      len = 1;
    }
    if (!fn(c, static_cast<size_t>(pos), static_cast<size_t>(len))) return;
    pos += len;
  }
}

int Width(utf8proc_int32_t c) { return std::max(0, utf8proc_charwidth(c)); }

std::string SingleLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

}  // namespace

int DisplayWidth(std::string_view text) {
  int width = 0;
  ForEachCodePoint(text, [&](utf8proc_int32_t c, size_t, size_t) {
    width += Width(c);
    return true;
  });
  return width;
}

std::string FitToWidth(std::string_view text, int width) {
  if (DisplayWidth(text) <= width) return std::string(text);
  if (width <= 0) return "";
  size_t cut = 0;
  int used = 0;
  ForEachCodePoint(text, [&](utf8proc_int32_t c, size_t pos, size_t len) {
    if (used + Width(c) > width - 1) return false;
    used += Width(c);
    cut = pos + len;
    return true;
  });
  return std::string(text.substr(0, cut)) + kEllipsis;
}

std::vector<std::string> WrapToWidth(std::string_view text, int width) {
  width = std::max(width, 1);
  std::vector<std::string> lines(1);
  int used = 0;        // columns of lines.back()
  size_t space = std::string::npos;  // byte offset of the last space in lines.back()
  int after_space = 0;  // columns after that space
  ForEachCodePoint(text, [&](utf8proc_int32_t c, size_t pos, size_t len) {
    const int w = Width(c);
    std::string& line = lines.back();
    if (used + w > width && !(c == ' ' && used == width)) {
      if (space != std::string::npos && space > 0) {
        // Break at the last space: the rest of the word moves down.
        std::string rest = line.substr(space + 1);
        line.resize(space);
        lines.push_back(std::move(rest));
        used = after_space;
      } else {
        lines.emplace_back();
        used = 0;
      }
      space = std::string::npos;
      after_space = 0;
      if (c == ' ' && lines.back().empty()) return true;  // no space at a line's start
    }
    std::string& current = lines.back();
    if (c == ' ') {
      space = current.size();
      after_space = 0;
    } else {
      after_space += w;
    }
    current.append(text.substr(pos, len));
    used += w;
    return true;
  });
  for (std::string& line : lines) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
  }
  return lines;
}

int TerminalColumns(int fd) {
  winsize size = {};
  if (ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    const int n = std::atoi(columns);
    if (n > 0) return n;
  }
  return 0;
}

std::string RenderTable(const Table& table, int max_width) {
  const size_t ncols = table.headers.size();
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : table.rows) {
    std::vector<std::string> cells;
    for (size_t c = 0; c < ncols; ++c) cells.push_back(c < row.size() ? SingleLine(row[c]) : "");
    rows.push_back(std::move(cells));
  }
  std::vector<int> widths(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    widths[c] = DisplayWidth(table.headers[c]);
    for (const auto& row : rows) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  // Each column takes " cell " plus a separator.
  const int chrome = static_cast<int>(3 * ncols) - 1;
  while (std::accumulate(widths.begin(), widths.end(), 0) + chrome > max_width) {
    auto widest = std::max_element(widths.begin(), widths.end());
    if (*widest <= 8) break;
    --*widest;
  }
  auto line = [&](const std::vector<std::string>& cells) {
    // A cell's lines: one, cut to the width, or as many as wrapping takes.
    std::vector<std::vector<std::string>> parts(ncols);
    size_t height = 1;
    for (size_t c = 0; c < ncols; ++c) {
      parts[c] = table.wrap ? WrapToWidth(cells[c], widths[c])
                            : std::vector<std::string>{FitToWidth(cells[c], widths[c])};
      height = std::max(height, parts[c].size());
    }
    std::string out;
    for (size_t i = 0; i < height; ++i) {
      std::string text;
      for (size_t c = 0; c < ncols; ++c) {
        const std::string cell = i < parts[c].size() ? parts[c][i] : "";
        std::string pad(std::max(0, widths[c] - DisplayWidth(cell)), ' ');
        const bool right = c < table.right_aligned.size() && table.right_aligned[c];
        text += " " + (right ? pad + cell : cell + pad) + " ";
        if (c + 1 < ncols) text += "|";
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out += text + "\n";
    }
    return out;
  };
  std::string out = line(table.headers);
  for (size_t c = 0; c < ncols; ++c) {
    // A last column ends at its text, like its cells: the chrome computed above.
    out += std::string(widths[c] + (c + 1 < ncols ? 2 : 1), '-');
    if (c + 1 < ncols) out += "+";
  }
  out += "\n";
  for (const auto& row : rows) out += line(row);
  return out;
}

}  // namespace semdb
