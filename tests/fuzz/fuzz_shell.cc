// The shell's command language on a live database: any line is parsed and
// run (except commands that reach outside the database, like import or
// create with a model path), and the session goes on.
#include <sstream>

#include "shell/command_line.h"
#include "shell/shell.h"
#include "fuzz_util.h"

namespace {

semdb::Shell& TheShell() {
  static semdb::Shell* shell = [] {
    auto db = semdb::Database::Open(semdb::fuzz::ScratchDir() + "/db");
    if (!db.ok()) std::abort();
    static std::ostringstream sink;
    auto* s = new semdb::Shell(*std::move(db), semdb::ShellSettings{}, sink, sink);
    if (!s->ChooseStartCollection().ok()) std::abort();
    for (const char* line : {"insert the first document about fires --id a --meta {\"year\": 2001}",
                             "insert markets fell on monday --id b --meta {\"year\": 1999}",
                             "insert a third text about rivers and water --id c"}) {
      (void)s->Execute(line);
    }
    return s;
  }();
  return *shell;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string line(reinterpret_cast<const char*>(data), size);
  (void)semdb::Unquote(line);
  (void)semdb::SplitWords(line);
  absl::StatusOr<semdb::CommandLine> cmd = semdb::ParseCommandLine(line);
  if (!cmd.ok()) return 0;
  static const char* const kAllowed[] = {"insert", "add",   "upsert", "search", "find", "s",
                                         "get",    "delete", "rm",    "count",  "stats", "help",
                                         "set",    "collections", "use", "similar", "refit"};
  bool allowed = false;
  for (const char* c : kAllowed) allowed |= cmd->command == c;
  if (!allowed) return 0;
  (void)TheShell().Execute(line);
  return 0;
}
