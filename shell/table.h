// Aligned text tables for the shell, measured in terminal columns (UTF-8
// aware: wide CJK characters count two, combining marks zero).
#ifndef SEMDB_SHELL_TABLE_H_
#define SEMDB_SHELL_TABLE_H_

#include <string>
#include <string_view>
#include <vector>

namespace semdb {

struct Table {
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> right_aligned;  // per column; missing means left
  // What happens to a cell wider than its column: cut with "…", or wrapped
  // onto more lines (at spaces when it can, else inside a word), so that
  // nothing is lost.
  bool wrap = false;
};

// Renders `table` in at most `max_width` columns: when it is too wide, the
// widest columns are narrowed (to no less than 8 columns each) and their
// cells cut or wrapped (Table::wrap). Line breaks and tabs in cells become
// spaces.
std::string RenderTable(const Table& table, int max_width);

// The width of the terminal on `fd` (ioctl TIOCGWINSZ), else $COLUMNS, else
// 0 when neither is known.
int TerminalColumns(int fd);

// Terminal columns taken by `text`.
int DisplayWidth(std::string_view text);

// The longest prefix of `text` that fits `width` columns, with "…" when cut.
std::string FitToWidth(std::string_view text, int width);

// `text` in lines of at most `width` columns, broken at spaces, or inside a
// word longer than a line. At least one line (empty for empty text).
std::vector<std::string> WrapToWidth(std::string_view text, int width);

}  // namespace semdb

#endif  // SEMDB_SHELL_TABLE_H_
