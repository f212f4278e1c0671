// semdb: the interactive shell and script runner.
//
//   semdb [PATH] [-c COMMAND]... [--format F] [--json] [--timer] [--bail] [--sync]
//         [--read-only] [--log-level L]
//   semdb serve PATH [--host H] [--port N] [--api-key KEY] ...  (serve_command.h)
//
// Without PATH the database is ./semdb_data. Commands come from -c, else
// from standard input when it is not a terminal, else interactively with
// line editing and history (libedit). The exit status is 1 when a command
// failed, 2 when the database cannot be opened.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "editline/readline.h"
#include "shell/progress_bar.h"
#include "shell/serve_command.h"
#include "shell/shell.h"

namespace {

// Tab completion through Shell::Completions, of the line up to the cursor.
const semdb::Shell* completing_shell = nullptr;
std::vector<std::string> completions;

char* NextCompletion(const char*, int state) {
  static size_t index;
  if (state == 0) index = 0;
  return index < completions.size() ? strdup(completions[index++].c_str()) : nullptr;
}

char** Complete(const char* text, int, int end) {
  rl_attempted_completion_over = 1;  // no fallback to file names of libedit's own
  completions = completing_shell->Completions(std::string_view(rl_line_buffer, end));
  if (completions.empty()) return nullptr;
  // A directory is completed further, not ended with a space.
  rl_completion_append_character =
      completions.size() == 1 && completions[0].back() == '/' ? '\0' : ' ';
  return rl_completion_matches(text, NextCompletion);
}

std::string HistoryPath() {
  if (const char* p = std::getenv("SEMDB_HISTORY")) return p;
  if (const char* home = std::getenv("HOME")) return std::string(home) + "/.semdb_history";
  return "";
}

// Ctrl-C at the prompt abandons the line being typed and shows a new
// prompt; Ctrl-C while a command runs does not end the shell. The handler
// records the interrupt and writes to a pipe that the key reader polls
// beside the terminal, so readline returns even when the signal came
// between two reads (no race, no longjmp out of libedit).
volatile sig_atomic_t interrupted = 0;
int interrupt_pipe[2] = {-1, -1};

void OnInterrupt(int) {
  interrupted = 1;
  const char byte = 0;
  (void)!write(interrupt_pipe[1], &byte, 1);
}

// readline's key reader: a key, or EOF when interrupted or at end of input.
int ReadKey(FILE* in) {
  while (!interrupted) {
    pollfd fds[2] = {{fileno(in), POLLIN, 0}, {interrupt_pipe[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return EOF;
    }
    if (fds[1].revents & POLLIN) break;
    unsigned char key;
    const ssize_t n = read(fileno(in), &key, 1);
    if (n == 1) return key;
    if (n < 0 && errno == EINTR) continue;
    return EOF;
  }
  return EOF;
}

void InstallInterruptHandler() {
  if (pipe2(interrupt_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return;  // Ctrl-C then ends the shell
  rl_catch_signals = 0;
  rl_getc_function = ReadKey;
  rl_initialize();
  struct sigaction action = {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
}

// Forgets an interrupt that has been answered.
void ClearInterrupt() {
  char drain[64];
  while (read(interrupt_pipe[0], drain, sizeof drain) > 0) {
  }
  interrupted = 0;
}

constexpr int kHistoryLines = 2000;

int RunInteractive(semdb::Shell& shell) {
  const std::string history = HistoryPath();
  InstallInterruptHandler();  // before libedit initializes: it reads rl_getc_function then
  using_history();
  stifle_history(kHistoryLines);
  if (!history.empty()) read_history(history.c_str());
  completing_shell = &shell;
  rl_completer_word_break_characters = const_cast<char*>(" \t");
  rl_attempted_completion_function = Complete;
  std::cout << "semdb shell: type 'help' for commands, 'quit' to leave.\n";
  while (!shell.quit_requested()) {
    ClearInterrupt();
    char* line = readline(shell.Prompt().c_str());
    if (interrupted) {
      std::cout << std::endl;
      std::free(line);
      continue;
    }
    if (line == nullptr) {
      std::cout << "\n";
      break;
    }
    std::string text(line);
    std::free(line);
    if (text.find_first_not_of(" \t") != std::string::npos) {
      add_history(text.c_str());
      // Saved as each line is entered, so that no way of leaving loses the
      // session's history. (The whole file is rewritten: at most
      // kHistoryLines lines; libedit's append_history repeats entries.)
      if (!history.empty()) write_history(history.c_str());
      // Ctrl-C from here on interrupts the command (an import stops at a
      // batch boundary), not the shell.
      ClearInterrupt();
      (void)shell.Execute(text);
    }
  }
  return 0;
}

int RunScript(semdb::Shell& shell, std::istream& in, bool bail) {
  int status = 0;
  for (std::string line; !shell.quit_requested() && std::getline(in, line);) {
    if (!shell.Execute(line).ok()) {
      status = 1;
      if (bail) break;
    }
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "serve") == 0) return semdb::ServeMain(argc - 1, argv + 1);
  CLI::App app{"semdb: an embedded vector database with semantic search"};
  app.set_version_flag("--version", "semdb " SEMDB_VERSION);
  app.footer("Also: semdb serve PATH [options]   serve the database over HTTP/JSON"
             " (semdb serve --help)");
  std::string path = "semdb_data";
  std::vector<std::string> commands;
  bool json = false, timer = false, bail = false, sync = false;
  std::string format = "table";
  app.add_option("path", path, "database directory (created if missing)")
      ->capture_default_str();
  app.add_option("-c,--command", commands, "run this command (repeatable) and exit");
  app.add_option("--format", format,
                 "output format: " + semdb::OutputFormatNames() + " (also: set format F)")
      ->capture_default_str();
  app.add_flag("--json", json, "print results as JSON (--format json)");
  app.add_flag("--timer", timer, "print each command's time");
  app.add_flag("--bail", bail, "stop at the first failing command");
  app.add_flag("--sync", sync, "make every write durable before it returns");
  bool read_only = false;
  app.add_flag("--read-only", read_only,
               "open an existing database without writing (a full disk, a read-only mount); "
               "writes are refused");
  std::string log_level = "warn";
  app.add_option("--log-level", log_level,
                 "what the library logs on standard error: off, error, warn, info (long "
                 "operations), debug (their progress)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  absl::StatusOr<semdb::OutputFormat> output_format = semdb::ParseOutputFormat(format);
  if (!output_format.ok()) {
    std::cerr << "error: --format: " << output_format.status().message() << std::endl;
    return 2;
  }

  semdb::Options options;
  options.sync = sync;
  options.read_only = read_only;
  options.log_level = log_level;
  // Long operations (index rebuilds, refits, the log replay of an open)
  // draw a progress bar on a terminal rather than look hung.
  semdb::ProgressBar operation_bar(stderr, isatty(STDERR_FILENO));
  options.progress = [&operation_bar](const semdb::OperationProgress& p) {
    if (p.finished) {
      operation_bar.Finish();
    } else {
      operation_bar.Update(p.done, p.total,
                           p.operation + " of '" + p.collection + "': " +
                               std::to_string(p.done) + " of " + std::to_string(p.total));
    }
  };
  absl::StatusOr<std::unique_ptr<semdb::Database>> db = semdb::Database::Open(path, options);
  if (!db.ok()) {
    std::cerr << "error: " << db.status().message() << std::endl;
    return 2;
  }
  const bool interactive = commands.empty() && isatty(STDIN_FILENO);
  semdb::ShellSettings settings;
  settings.format = json ? semdb::OutputFormat::kJson : *output_format;
  settings.timer = timer;
  settings.progress = isatty(STDERR_FILENO);
  if (interactive) settings.interrupted = [] { return interrupted != 0; };
  semdb::Shell shell(*std::move(db), settings, std::cout, std::cerr);
  if (absl::Status s = shell.ChooseStartCollection(); !s.ok()) {
    std::cerr << "error: " << s.message() << std::endl;
    return 2;
  }
  if (!commands.empty()) {
    int status = 0;
    for (const std::string& c : commands) {
      if (!shell.Execute(c).ok()) {
        status = 1;
        if (bail) break;
      }
    }
    return status;
  }
  return interactive ? RunInteractive(shell) : RunScript(shell, std::cin, bail);
}
