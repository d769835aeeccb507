// Phases 4 and 5 of recover-node: start the node, wait until it has caught
// up, and the deep health check.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hint.h"
#include "node/client.h"
#include "node/health_checks.h"
#include "ops/recover/phases.h"
#include "state/proof_pending.h"

extern char** environ;

namespace ailee::ops::recover {

namespace {

constexpr const char* kUnit = "ailee-node.service";

// Runs argv (looked up in PATH) with its output discarded; its exit code.
Result<int> RunQuiet(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Unavailable("cannot run " + argv[0] + ": " + std::string(strerror(rc)));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The unit counts only where systemd manages this machine: in a container
// or a chroot `systemctl` may exist and still start nothing.
bool SystemdUnitInstalled() {
  if (!fs::IsDirectory("/run/systemd/system")) return false;
  auto rc = RunQuiet({"systemctl", "cat", kUnit});
  return rc.ok() && *rc == 0;
}

// ailee-node in its own session (it outlives this run and its terminal),
// stdin from /dev/null, output appended to `log`.
Result<int> SpawnDetached(const std::string& binary, const std::string& config_path, const std::string& log) {
  std::vector<std::string> argv = {binary, "--config", config_path};
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  // Nothing of this run (audit log, repository files) stays open in a
  // process that outlives it.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    return WithHint(Unavailable("cannot start " + binary + ": " + std::string(strerror(rc))),
                    "install ailee-node or pass --node-binary PATH");
  return static_cast<int>(pid);
}

bool NodeAnswers(const std::string& url) {
  auto h = node::NodeClient(url, "", 2000).GetJson("/v1/health");
  return h.ok() || h.status().code() != StatusCode::kUnavailable ||
         h.status().message().find("HTTP 503") != std::string::npos;
}

// A node started on a proof-pending data dir: waits until it answers with
// its proof running (c.serving_at_ms), then until the proof passed
// (c.proven_at_ms). A failed proof stops the node and leaves its reason in
// the marker: kDataLoss with it. No marker: nothing to wait for.
Status WaitForBackgroundProof(Context& c) {
  const std::string& dir = c.config->node.data_dir;
  ASSIGN_OR_RETURN(auto marker, state::ReadProofPending(dir));
  if (!marker) return Status::Ok();
  const int64_t deadline = Clock::Real().NowMillis() + c.options.sync_wait_ms;
  const int64_t since_s = Clock::Real().NowMillis() / 1000 - 1;
  node::NodeClient client(c.NodeUrl(), "", 2000);
  c.Progress("start", "the node proves the restored state in the background");
  for (;;) {
    auto st = client.GetJson("/v1/status");
    const int64_t now = Clock::Real().NowMillis();
    if (st.ok()) {
      const auto proof = st->value("proof", nlohmann::json::object());
      if (!c.serving_at_ms) c.serving_at_ms = now;
      const std::string state = proof.value("state", "proven");
      if (state == "proven") {
        c.proven_at_ms = now;
        return Status::Ok();
      }
      if (state == "failed")
        return DataLoss("the node's background proof failed: " + proof.value("problem", std::string("?")));
    } else {
      auto again = state::ReadProofPending(dir);
      if (again.ok() && *again && !(*again)->last_failure.empty() && (*again)->failed_unix >= since_s) {
        return WithHint(DataLoss("the node's background proof failed and the node stopped: " + (*again)->last_failure),
                        (*again)->previous_dir.empty()
                            ? "rerun recover-node without --prove-in-background (or after forgetting the bad snapshot)"
                            : "the replaced data dir is kept at " + (*again)->previous_dir +
                                  "; rerun recover-node, or move it back in place");
      }
    }
    if (now >= deadline) {
      return Unavailable("the node's background proof has not passed within " +
                         std::to_string(c.options.sync_wait_ms / 1000) + " s; rerun later or with --wait");
    }
    ::usleep(100000);
  }
}

}  // namespace

std::string StartCommand(const Context& c) {
  const std::string path = c.config ? c.config->config_path : c.options.config_path;
  return "ailee-node --config " + path;
}

RecoverStep PlanStart(const Context& c) {
  RecoverStep s{"start", "", "", 0, 30000, "", c.journal.Finished("start")};
  const std::string wait = "; wait until it has caught up (a leader: fenced and caught up)";
  if (SystemdUnitInstalled()) s.action = "systemctl start ailee-node" + wait;
  else if (c.options.start) s.action = "start `" + StartCommand(c) + "` detached" + wait;
  else s.action = "not started here (no systemd unit, no --start): run `" + StartCommand(c) + "`, then rerun";
  return s;
}

Result<PhaseOutcome> RunStart(Context& c) {
  PhaseOutcome out;
  const std::string url = c.NodeUrl();
  if (NodeAnswers(url)) {
    out.outcome = "already running";
  } else if (SystemdUnitInstalled()) {
    c.Progress("start", "systemctl start ailee-node");
    ASSIGN_OR_RETURN(int rc, RunQuiet({"systemctl", "start", kUnit}));
    if (rc != 0)
      return WithHint(Unavailable("`systemctl start " + std::string(kUnit) + "` exited " + std::to_string(rc)),
                      "see `journalctl -u ailee-node`, fix the cause, then rerun recover-node");
    out.outcome = "started by systemd";
  } else if (c.options.start) {
    const std::string log = c.config->node.data_dir + ".recover-node.log";
    c.Progress("start", StartCommand(c) + " (output: " + log + ")");
    ASSIGN_OR_RETURN(c.node_pid, SpawnDetached(c.options.node_binary, c.config->config_path, log));
    out.outcome = "started";
    out.detail["pid"] = c.node_pid;
    out.detail["log"] = log;
  } else {
    out.outcome = "not started";
    out.detail["command"] = StartCommand(c);
    out.stop = true;
    return out;
  }
  if (c.options.prove_in_background) RETURN_IF_ERROR(WaitForBackgroundProof(c));
  c.Progress("start", "waiting until the node has caught up");
  ASSIGN_OR_RETURN(node::SyncReport sync, node::WaitForSync(url, c.options.sync_wait_ms));
  if (!sync.verdict.ok() && sync.verdict.code() == StatusCode::kUnavailable && c.config->peers.empty() &&
      c.config->follow.empty() && sync.status.contains("sync") && sync.status["sync"].value("state", "") == "waiting_for_tip") {
    // A leader below its signing fence catches up only from a peer, and this
    // config names none: waiting longer, or rerunning, cannot help.
    return WithHint(sync.verdict.WithContext("node " + c.options.node_id + " after recovery"),
                    "name a follower in the config's `peers:` and restart ailee-node (it catches up from it), or "
                    "stop the node and rerun recover-node with --peer-admin-token-file FILE to take the follower's "
                    "checkpoint (docs/recovery.md, \"The leader is lost\")");
  }
  RETURN_IF_ERROR(sync.verdict.WithContext("node " + c.options.node_id + " after recovery"));
  out.detail["height"] = sync.status.value("height", uint64_t{0});
  out.detail["sync"] = sync.status["sync"];
  return out;
}

RecoverStep PlanHealth(const Context& c) {
  return RecoverStep{"health", "health-check --deep against " + c.NodeUrl() + " (state root recomputed by the node)",
                     "", 0, 10000, "", false};
}

Result<PhaseOutcome> RunHealth(Context& c) {
  c.Progress("health", "deep health check");
  ASSIGN_OR_RETURN(nlohmann::json h, node::CheckHealth(c.NodeUrl(), true));
  return PhaseOutcome{"healthy", {{"health", h}}};
}

}  // namespace ailee::ops::recover
