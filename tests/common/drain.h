// Collecting a child process's output: the pipes and the loop both test harnesses
// (tests/integration/harness.cc, tests/s3/s3_test_env.cc) need after they
// start a process with its stdout and stderr on pipes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

namespace ailee::testing {

struct Drained {
  std::string out;
  std::string err;
  bool timed_out = false;  // the deadline passed: the child was SIGKILLed
  int wait_status = 0;     // as waitpid(2) reports it
};

// Two O_CLOEXEC pipes for a child's stdout and stderr. On failure returns
// false with `error` set, and leaves no pipe open.
bool OpenOutputPipes(int out_pipe[2], int err_pipe[2], std::string* error);

// Reads `out_fd` and `err_fd` until both reach end of file or `timeout`
// passes (then SIGKILLs `pid`), closes both and reaps `pid`. Reading both as
// data arrives keeps a chatty child from blocking on a full pipe.
Drained DrainAndReap(pid_t pid, int out_fd, int err_fd, std::chrono::milliseconds timeout);

// A wait status as a shell reports it: the exit code, or 128 + the signal
// that ended the process; -1 for anything else.
int ExitCodeFromWaitStatus(int wait_status);

}  // namespace ailee::testing
