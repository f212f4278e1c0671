// The semdb shell: commands over a database, for people (a table per
// result, line editing, history) and for scripts (-c, standard input,
// JSON output, a non-zero exit status on error).
#ifndef SEMDB_SHELL_SHELL_H_
#define SEMDB_SHELL_SHELL_H_

#include <cstdio>
#include <functional>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "semdb/database.h"
#include "shell/command_line.h"
#include "shell/result.h"

namespace semdb {

struct ShellSettings {
  OutputFormat format = OutputFormat::kTable;
  bool timer = false;     // print each command's wall time
  bool progress = false;  // progress bars on standard error
  // Table width in columns; 0: the terminal's width at each command
  // (TerminalColumns of standard output), kDefaultWidth when unknown.
  int width = 0;
  // Asked between the batches of a long command (import): true when the
  // user pressed Ctrl-C, and the command then stops and says what it kept.
  std::function<bool()> interrupted;
  static constexpr int kDefaultWidth = 100;
};

// The filter of a command's --where option, if given (quotes around the
// whole expression removed, as for every option value: see Unquote).
absl::StatusOr<std::optional<Filter>> WhereOption(const CommandLine& cmd);

class Shell {
 public:
  Shell(std::unique_ptr<Database> db, ShellSettings settings, std::ostream& out,
        std::ostream& err);

  // Selects the collection to start in: "default" (created with the
  // default embedder when the database has no collection), or the only one.
  absl::Status ChooseStartCollection();

  // Runs one line. Errors are printed as one line on the error stream and
  // returned; the shell stays usable.
  absl::Status Execute(std::string_view line);

  bool quit_requested() const { return quit_; }
  std::string Prompt() const;

  // Every command name and alias, sqlite3's dot commands included (for
  // completion and "did you mean").
  static std::vector<std::string> CommandNames();

  // Tab completion: the candidates for the word that ends `line` (the text
  // before the cursor). The first word completes to command names (and
  // aliases), a word starting with "--" to the options of the command being
  // typed, the argument of use/drop to collection names, and the arguments
  // of commands that take a file (import, eval, read, output) to paths (a
  // directory with a trailing '/'). Sorted, without duplicates.
  std::vector<std::string> Completions(std::string_view line) const;

 private:
  struct Command;
  static const std::vector<Command>& Commands();
  // The command named or aliased `name`; null when none is.
  static const Command* Find(std::string_view name);

  absl::Status Run(const CommandLine& cmd);
  absl::StatusOr<std::shared_ptr<Collection>> Current() const;
  // Prints a command's result in the current format (FormatResult): the only
  // way commands write to the output.
  // `format` overrides the user's format (eval --json).
  void Emit(const Result& result, std::optional<OutputFormat> format = std::nullopt);
  int Width() const;

  absl::Status Help(const CommandLine& cmd);
  absl::Status ListCollections(const CommandLine& cmd);
  absl::Status Create(const CommandLine& cmd);
  absl::Status Use(const CommandLine& cmd);
  absl::Status Drop(const CommandLine& cmd);
  absl::Status Insert(const CommandLine& cmd) { return WriteDocument(cmd, false); }
  absl::Status Upsert(const CommandLine& cmd) { return WriteDocument(cmd, true); }
  // insert and upsert: TEXT, --id (required by upsert) and --meta.
  absl::Status WriteDocument(const CommandLine& cmd, bool upsert);
  absl::Status Import(const CommandLine& cmd);
  absl::Status Search(const CommandLine& cmd);
  absl::Status Explain(const CommandLine& cmd);
  absl::Status Reindex(const CommandLine& cmd);
  // The options shared by search and explain.
  static absl::StatusOr<SearchOptions> ParseSearchOptions(const CommandLine& cmd);
  // Documents (document_commands.cc).
  absl::Status Get(const CommandLine& cmd);
  absl::Status Scan(const CommandLine& cmd);
  absl::Status Delete(const CommandLine& cmd);
  absl::Status Count(const CommandLine& cmd);
  absl::Status Update(const CommandLine& cmd);
  absl::Status Export(const CommandLine& cmd);
  // search --file: one query per line, answered by one SearchBatch.
  absl::Status SearchFile(const CommandLine& cmd, const SearchOptions& options);
  absl::Status Stats(const CommandLine& cmd);
  absl::Status Refit(const CommandLine& cmd);
  absl::Status Similar(const CommandLine& cmd);
  absl::Status Eval(const CommandLine& cmd);
  absl::Status Similarity(const CommandLine& cmd);
  absl::Status Checkpoint(const CommandLine& cmd);
  absl::Status Set(const CommandLine& cmd);
  absl::Status Read(const CommandLine& cmd);
  absl::Status Output(const CommandLine& cmd);
  absl::Status Quit(const CommandLine& cmd);

  std::unique_ptr<Database> db_;
  ShellSettings settings_;
  std::ostream& stdout_;
  std::ostream* out_;  // stdout_, or output_file_ after `output FILE`
  std::unique_ptr<std::ofstream> output_file_;
  std::ostream& err_;
  int read_depth_ = 0;  // nested `read FILE`s
  std::string current_;  // current collection name, may be empty
  bool quit_ = false;
};

}  // namespace semdb

#endif  // SEMDB_SHELL_SHELL_H_
