// `semdb serve PATH [options]`: runs the HTTP/JSON service on a database
// until SIGINT or SIGTERM, then saves the indexes and exits 0.
#ifndef SEMDB_SHELL_SERVE_COMMAND_H_
#define SEMDB_SHELL_SERVE_COMMAND_H_

namespace semdb {

// argv[0] is "serve". Returns the process exit status: 0 after a clean
// stop, 1 when the server fails, 2 when the database cannot be opened or
// the port cannot be bound.
int ServeMain(int argc, char** argv);

}  // namespace semdb

#endif  // SEMDB_SHELL_SERVE_COMMAND_H_
