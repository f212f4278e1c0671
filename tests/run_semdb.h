// Runs the real `semdb` binary for the tests of scripted shell sessions.
#ifndef SEMDB_TESTS_RUN_SEMDB_H_
#define SEMDB_TESTS_RUN_SEMDB_H_

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "catch2/catch.hpp"
#include "test_data.h"

namespace semdb::testing {

struct Run {
  int exit_code;
  std::string out, err;
};

// Runs the semdb binary in `cwd` with `args`, feeding `input` on stdin, as
// if in a terminal `columns` wide. It inherits this process's environment.
inline Run RunSemdb(const std::string& cwd, const std::string& args,
                    const std::string& input = "", int columns = 200) {
  TempDir io;
  std::ofstream(io / "in") << input;
  const std::string cmd = "cd '" + cwd + "' && COLUMNS=" + std::to_string(columns) +
                          " '" SEMDB_BINARY_DIR "/shell/semdb' " +
                          args + " < '" + io / "in" + "' > '" + io / "out" + "' 2> '" +
                          io / "err" + "'";
  int status = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(status));
  return {WEXITSTATUS(status), ReadFile(io / "out"), ReadFile(io / "err")};
}

}  // namespace semdb::testing

#endif  // SEMDB_TESTS_RUN_SEMDB_H_
