#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "semdb/components.h"

namespace semdb {

std::vector<std::string> KindHelp(const ComponentKind& kind) {
  std::string usage = kind.name;
  size_t width = 0;
  for (const ParameterInfo& p : kind.parameters) {
    width = std::max(width, p.name.size());
    if (p.default_value.empty()) {  // required
      absl::StrAppend(&usage, " ", p.name, "=",
                      p.type == ParameterInfo::Type::kInt ? "N" : absl::AsciiStrToUpper(p.name));
    } else {
      absl::StrAppend(&usage, " [", p.name, "=",
                      p.type == ParameterInfo::Type::kChoice ? p.Accepted() : p.default_value,
                      "]");
    }
  }
  std::vector<std::string> lines = {absl::StrCat(usage, "  ", kind.summary)};
  for (const ParameterInfo& p : kind.parameters) {
    lines.push_back(absl::StrCat(
        "    ", p.name, std::string(width - p.name.size() + 2, ' '),
        p.type == ParameterInfo::Type::kText ? p.help : absl::StrCat(p.Accepted(), ": ", p.help)));
  }
  for (const std::string& note : kind.notes) lines.push_back(note);
  return lines;
}

}  // namespace semdb
