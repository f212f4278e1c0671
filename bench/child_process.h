// Runs this benchmark binary again as a child process, for benchmarks that
// measure each side in a process of its own (CPU and peak RSS from wait4).
#ifndef SEMDB_BENCH_CHILD_PROCESS_H_
#define SEMDB_BENCH_CHILD_PROCESS_H_

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace semdb::bench {

struct ChildRun {
  bool ok = false;    // exited with status 0
  std::string out;    // its standard output
  double cpu = 0;     // user + system seconds
  double rss_mib = 0; // peak resident set (ru_maxrss)
};

// Runs `self` with `args` (argv[1...]) and waits for it.
inline ChildRun RunChildProcess(const std::string& self, const std::vector<std::string>& args) {
  ChildRun r;
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return r;
  const pid_t pid = ::fork();
  if (pid < 0) return r;
  if (pid == 0) {
    ::dup2(pipe_fds[1], 1);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    std::vector<char*> argv{const_cast<char*>(self.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(self.c_str(), argv.data());
    std::_Exit(127);
  }
  ::close(pipe_fds[1]);
  char buf[256];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0;) r.out.append(buf, n);
  ::close(pipe_fds[0]);
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  r.cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
          ru.ru_stime.tv_usec * 1e-6;
  r.rss_mib = ru.ru_maxrss / 1024.0;
  return r;
}

}  // namespace semdb::bench

#endif  // SEMDB_BENCH_CHILD_PROCESS_H_
