// A drill's sandbox node: an ailee-node process started on a sandbox
// config, owned by this object. The destructor stops it (SIGTERM, then
// SIGKILL) and reaps it, so no return path leaves it running; the child
// also gets PR_SET_PDEATHSIG(SIGKILL), so a drill killed with -9 takes its
// node with it. Not thread-safe; create and destroy on one thread (the
// death signal follows the spawning thread).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"

namespace ailee::ops {

// A loopback TCP port that was free a moment ago (bind 127.0.0.1:0).
Result<int> PickFreeLoopbackPort();

class SandboxNode {
 public:
  SandboxNode() = default;
  ~SandboxNode() { (void)Stop(); }
  SandboxNode(const SandboxNode&) = delete;
  SandboxNode& operator=(const SandboxNode&) = delete;

  // Spawns `binary --config config_path`, stdout and stderr appended to
  // `log_path`, and waits up to `timeout_ms` until GET `url`/v1/health
  // answers (200, or 503 from a node that runs but reports a problem) and
  // /v1/status names `node_id`: the port was only free when it was picked,
  // and a process that took it since (answering for another node) is never
  // taken for the sandbox node. kUnavailable with the log's tail when the
  // process exits first or never answers, or when another node answers at
  // `url` (it is stopped then). `cancelled` is polled while waiting.
  Status Start(const std::string& binary, const std::string& config_path, const std::string& log_path,
               const std::string& url, const std::string& node_id, int64_t timeout_ms,
               const std::function<bool()>& cancelled);
  // SIGTERM, up to 15 s, then SIGKILL; reaps. Ok when nothing runs.
  // kInternal when the node exited with a failure code.
  Status Stop();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

}  // namespace ailee::ops
