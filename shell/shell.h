// The semdb shell: commands over a database, for people (a table per
// result, line editing, history) and for scripts (-c, standard input,
// JSON output, a non-zero exit status on error).
#ifndef SEMDB_SHELL_SHELL_H_
#define SEMDB_SHELL_SHELL_H_

#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "semdb/database.h"
#include "shell/command_line.h"

namespace semdb {

struct ShellSettings {
  bool json = false;         // results as JSON instead of tables
  bool timer = false;        // print each command's wall time
  bool progress = false;     // progress bars on standard error
  int width = 100;           // table width in columns
};

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

  // Command names, for completion.
  static std::vector<std::string> CommandNames();

 private:
  struct Command;
  static const std::vector<Command>& Commands();

  absl::Status Run(const CommandLine& cmd);
  absl::StatusOr<std::shared_ptr<Collection>> Current() const;
  void Print(const std::string& text);
  void PrintJson(const nlohmann::json& j);

  absl::Status Help(const CommandLine& cmd);
  absl::Status ListCollections(const CommandLine& cmd);
  absl::Status Create(const CommandLine& cmd);
  absl::Status Use(const CommandLine& cmd);
  absl::Status Drop(const CommandLine& cmd);
  absl::Status Insert(const CommandLine& cmd);
  absl::Status Upsert(const CommandLine& cmd);
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
  void PrintDocuments(const std::vector<Document>& docs);
  absl::Status Stats(const CommandLine& cmd);
  absl::Status Refit(const CommandLine& cmd);
  absl::Status Similar(const CommandLine& cmd);
  absl::Status Eval(const CommandLine& cmd);
  absl::Status Similarity(const CommandLine& cmd);
  absl::Status Checkpoint(const CommandLine& cmd);
  absl::Status Set(const CommandLine& cmd);
  absl::Status Quit(const CommandLine& cmd);

  std::unique_ptr<Database> db_;
  ShellSettings settings_;
  std::ostream& out_;
  std::ostream& err_;
  std::string current_;  // current collection name, may be empty
  bool quit_ = false;
};

}  // namespace semdb

#endif  // SEMDB_SHELL_SHELL_H_
