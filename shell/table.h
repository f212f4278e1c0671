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
};

// Renders `table` in at most `max_width` columns: when it is too wide, the
// widest columns are narrowed and their cells cut with "…". Cells are made
// single-line (line breaks and tabs become spaces).
std::string RenderTable(const Table& table, int max_width);

// Terminal columns taken by `text`.
int DisplayWidth(std::string_view text);

// The longest prefix of `text` that fits `width` columns, with "…" when cut.
std::string FitToWidth(std::string_view text, int width);

}  // namespace semdb

#endif  // SEMDB_SHELL_TABLE_H_
