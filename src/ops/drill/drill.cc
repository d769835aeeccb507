#include "ops/drill/drill.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "base/fs.h"
#include "base/hint.h"
#include "base/scratch.h"
#include "crypto/hash.h"
#include "node/client.h"
#include "ops/drill/sandbox_node.h"
#include "ops/state/point_in_time.h"

namespace ailee::ops {
namespace {

using nlohmann::json;

constexpr const char* kSandboxPrefix = "ailee-drill-";

// Milliseconds on the drill's monotonic clock.
int64_t Mono(const Clock& c) { return c.MonotonicNanos() / 1000000; }

// The drill in progress: its report, its clock (drill time: milliseconds
// since it started, monotonic) and its first failure.
class DrillRun {
 public:
  explicit DrillRun(const DrillOptions& o) : o_(o), t0_(Mono(*o.clock)) {
    r_.started_ms = o.clock->NowMillis();
    r_.targets = o.targets;
    r_.node_id = o.sandbox.node_id;
    r_.seed = o.seed;
  }
  DrillReport& report() { return r_; }
  int64_t Now() const { return Mono(*o_.clock) - t0_; }

  // Records a phase from `start_ms` to `end_ms` (drill time).
  void Phase(const std::string& name, int64_t start_ms, int64_t end_ms) {
    r_.phases.push_back({name, start_ms, std::max<int64_t>(0, end_ms - start_ms)});
  }
  void Announce(const std::string& name) const {
    if (o_.on_phase) o_.on_phase(name);
  }
  // Adds a check; false when it failed (the first failure names the drill's).
  bool Check(const std::string& name, bool ok, std::string detail, StatusCode code = StatusCode::kDataLoss) {
    r_.checks.push_back({name, ok, std::move(detail)});
    if (!ok && r_.failed_check.empty()) {
      r_.failed_check = name;
      failure_ = Status(code, "drill check '" + name + "' failed: " + r_.checks.back().detail);
    }
    return ok;
  }
  bool Check(const std::string& name, const Status& st, std::string ok_detail) {
    return st.ok() ? Check(name, true, std::move(ok_detail)) : Check(name, false, st.message(), st.code());
  }
  bool cancelled() const { return o_.cancelled && o_.cancelled(); }
  const Status& failure() const { return failure_; }

 private:
  const DrillOptions& o_;
  int64_t t0_;
  DrillReport r_;
  Status failure_ = Status::Ok();
};

Result<json> Block(node::NodeClient& c, uint64_t h) { return c.GetJson("/v1/blocks/" + std::to_string(h)); }

Result<uint64_t> Height(node::NodeClient& c) {
  ASSIGN_OR_RETURN(json st, c.GetJson("/v1/status"));
  if (!st.contains("height") || !st["height"].is_number_unsigned()) return Internal(c.url() + " answered without a height");
  return st["height"].get<uint64_t>();
}

// The sandbox node's node.id.
std::string SandboxNodeId(const DrillOptions& o) { return o.sandbox.node_id.substr(0, 58) + "-drill"; }

std::string SandboxConfig(const DrillOptions& o, const std::string& sandbox, int port) {
  const std::string id = SandboxNodeId(o);
  return "# A drill's sandbox node (ailee-cli drill): a follower holding no key: it can never sign.\n"
         "node:\n"
         "  id: " + id + "\n"
         "  data_dir: " + fs::JoinPath(sandbox, "data") + "\n"
         "  listen: 127.0.0.1:" + std::to_string(port) + "\n"
         "  block_interval_ms: " + std::to_string(o.sandbox.block_interval_ms) + "\n"
         "  commitment_interval: " + std::to_string(o.sandbox.commitment_interval) + "\n" +
         o.sandbox.federation_yaml +
         "follow: " + o.sandbox.leader_url + "\n"
         "logging:\n"
         "  log_file: " + fs::JoinPath(sandbox, "node.log") + "\n"
         "  audit_log: " + fs::JoinPath(sandbox, "audit.log") + "\n";
}

// 1. The recovery point into <sandbox>/data; fetch, replay and proof timed
// from the restore's own progress events.
bool RestorePhase(repo::Repository& repo, const DrillOptions& o, DrillRun& run, const std::string& sandbox) {
  DrillReport& r = run.report();
  auto window = GetRecoveryWindow(repo, o.sandbox.node_id);
  if (window.ok() && window->has_snapshot && window->latest_height == 0) {
    // No block archive: only snapshots are restorable, and the drill takes
    // the newest (a height between two snapshots could not be reached).
    auto all = ListRecoveryWindows(repo);
    if (!all.ok()) window = all.status();
    for (const auto& w : all.ok() ? *all : std::vector<RecoveryWindow>{}) {
      if (w.node_id != o.sandbox.node_id) continue;
      window->earliest_height = window->latest_height = w.latest_height;
      window->earliest_time_ms = window->latest_time_ms = w.latest_time_ms;
    }
  }
  std::mt19937_64 rng(o.seed);
  HeightAtTime at_time = [&](int64_t t) {
    return ResolveReplayTarget(repo, o.sandbox.node_id, ReplayTarget{std::nullopt, t, std::nullopt},
                               static_cast<uint64_t>(o.sandbox.commitment_interval));
  };
  auto point = window.ok() ? ChooseDrillPoint(*window, o.point, o.clock->NowMillis(), at_time, rng)
                           : Result<DrillPoint>(window.status());
  if (!run.Check("recovery-point", point.status(), point.ok() ? point->how : "")) return false;
  r.point = point->how;

  run.Announce("fetch");
  const int64_t start = run.Now();
  int64_t fetch_end = start, replay_first = -1, replay_last = -1;
  PointInTimeOptions p;
  p.node_id = o.sandbox.node_id;
  if (point->height) p.target = ReplayTarget{point->height, std::nullopt, std::nullopt};
  p.federation = o.federation;
  p.commitment_interval = static_cast<uint64_t>(o.sandbox.commitment_interval);
  p.progress = [&](const repo::RestoreProgress&) { fetch_end = run.Now(); };
  p.replay_progress = [&](uint64_t, uint64_t) {
    if (replay_first < 0) run.Announce("replay"), replay_first = run.Now();
    replay_last = run.Now();
  };
  auto restored = RestoreToPoint(repo, fs::JoinPath(sandbox, "data"), p);
  const int64_t end = run.Now();
  // Contiguous phases, so that they add up to the restore: the fetch (and
  // staging) runs until the first block is replayed, the replay until the
  // last, the proof after it.
  const int64_t replay_start = replay_first < 0 ? fetch_end : replay_first;
  const int64_t replay_end = replay_last < 0 ? replay_start : replay_last;
  run.Phase("fetch", start, replay_start);
  run.Phase("replay", replay_start, replay_end);
  run.Phase("proof", replay_end, end);
  if (!run.Check("restore-proof", restored.status(), "")) return false;
  r.snapshot_id = restored->snapshot_id;
  r.snapshot_height = restored->snapshot_height;
  r.restored_height = restored->height;
  r.blocks_replayed = restored->blocks_replayed;
  r.restored_state_root = crypto::HashToHex(restored->state_root);
  // RestoreToPoint proves the staged tree before it lands (an unproven one
  // is an error above); the detail says what was proven.
  r.checks.back().detail = "snapshot " + r.snapshot_id.substr(0, 12) + " at height " + std::to_string(r.snapshot_height) +
                           " + " + std::to_string(r.blocks_replayed) + " archived blocks replayed; state root " +
                           r.restored_state_root.substr(0, 16) + "... recomputed from scratch matches";
  return true;
}

// Both nodes' block at `h`, or a failed check `name` saying which read failed.
bool BothBlocks(DrillRun& run, const std::string& name, uint64_t h, node::NodeClient& sandbox, node::NodeClient& prod,
                json* ours, json* theirs) {
  auto a = Block(sandbox, h);
  if (!a.ok()) return run.Check(name, false, "the sandbox's block " + std::to_string(h) + ": " + a.status().message());
  auto b = Block(prod, h);
  if (!b.ok()) return run.Check(name, false, "production's block " + std::to_string(h) + ": " + b.status().message(),
                                b.status().code());
  *ours = std::move(a).value();
  *theirs = std::move(b).value();
  return true;
}

// 4. The sandbox's block at the proven height equals production's, and so
// does the anchor commitment at or below it; its state root recomputed
// from scratch agrees with its tip.
void ComparePhase(const DrillOptions& o, DrillRun& run, node::NodeClient& prod, node::NodeClient& sandbox) {
  DrillReport& r = run.report();
  const uint64_t h = r.network_tip;
  r.proven_height = h;
  json ours, theirs;
  if (BothBlocks(run, "state-root", h, sandbox, prod, &ours, &theirs)) {
    const std::string root = ours["header"].value("state_root", "");
    const bool same = !root.empty() && ours["header"] == theirs["header"];
    run.Check("state-root", same,
              same ? "height " + std::to_string(h) + ": state root " + root.substr(0, 16) + "... and block hash equal production's"
                   : "height " + std::to_string(h) + ": the sandbox's block (state root " + root + ") differs from "
                     "production's (state root " + theirs["header"].value("state_root", "") + ")");
  }

  const uint64_t interval = static_cast<uint64_t>(o.sandbox.commitment_interval);
  r.anchor_height = interval > 0 ? h - h % interval : 0;
  if (r.anchor_height == 0) {
    run.Check("anchor", true, "no anchor commitment at or below height " + std::to_string(h));
  } else if (BothBlocks(run, "anchor", r.anchor_height, sandbox, prod, &ours, &theirs)) {
    const json x = ours.value("anchor", json());
    const bool match = !x.is_null() && x == theirs.value("anchor", json()) &&
                       x.value("state_root", "") == ours["header"].value("state_root", "");
    const std::string at = "anchor commitment at height " + std::to_string(r.anchor_height);
    run.Check("anchor", match, match ? at + " equals production's and commits to the block's state root"
                                     : at + " is missing, differs from production's or does not commit to its block");
  }
  auto deep = sandbox.GetJson("/v1/health?deep=1");
  run.Check("deep-health", deep.status(),
            deep.ok() ? "state root recomputed from scratch over the sandbox's state: " +
                            deep->value("recomputed_state_root", "").substr(0, 16) + "..." : "");
}

// 2 and 3. Starts the sandbox node and waits until it holds the network's
// tip at drill start; then 4.
void NodePhases(const DrillOptions& o, DrillRun& run, const std::string& sandbox, node::NodeClient& prod) {
  DrillReport& r = run.report();
  run.Announce("start");
  const int64_t start = run.Now();
  const int64_t deadline = start + o.timeout_ms;
  SandboxNode node;
  Status started = Status::Ok();
  std::string url;
  for (int attempt = 0; attempt < 3; ++attempt) {  // another process may take the port first
    auto port = PickFreeLoopbackPort();
    if (!port.ok()) { started = port.status(); break; }
    url = "http://127.0.0.1:" + std::to_string(*port);
    const std::string config = fs::JoinPath(sandbox, "config.yaml");
    started = fs::WriteFileAtomic(config, SandboxConfig(o, sandbox, *port));
    if (!started.ok()) break;
    started = node.Start(o.node_binary, config, fs::JoinPath(sandbox, "node.log"), url, SandboxNodeId(o),
                         std::max<int64_t>(1000, deadline - run.Now()), o.cancelled);
    if (started.ok() || started.code() == StatusCode::kAborted) break;
  }
  run.Phase("start", start, run.Now());
  if (!run.Check("start", started, "sandbox node answers at " + url)) return;

  node::NodeClient client(url, "", 5000);
  auto status = client.GetJson("/v1/status");
  const bool follower = status.ok() && status->value("role", "") == "follower";
  run.Check("never-signs", follower,
            follower ? "a follower of " + o.sandbox.leader_url + " with no signer key in its config"
                     : "the sandbox node does not report itself a follower: " +
                           (status.ok() ? status->dump() : status.status().message()));
  if (!follower) return;

  run.Announce("catch-up");
  const int64_t catch_start = run.Now();
  uint64_t height = 0;
  std::string state;
  while (run.Now() < deadline && !run.cancelled()) {
    auto st = client.GetJson("/v1/status");
    if (st.ok()) {
      height = st->value("height", uint64_t{0});
      state = (*st)["sync"].value("state", "");
      if (height >= r.network_tip || state == "forked") break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  run.Phase("catch-up", catch_start, run.Now());
  if (run.cancelled()) {
    run.Check("catch-up", false, "interrupted (SIGINT/SIGTERM) at height " + std::to_string(height), StatusCode::kAborted);
  } else if (state == "forked") {
    run.Check("catch-up", false, "the sandbox node forked from the leader at height " + std::to_string(height));
  } else if (height < r.network_tip) {
    run.Check("catch-up", false, "reached height " + std::to_string(height) + " of " + std::to_string(r.network_tip) +
                                     " within the " + std::to_string(o.timeout_ms / 1000) + " s timeout",
              StatusCode::kUnavailable);
  } else {
    run.Check("catch-up", true, "reached the network's tip at drill start (" + std::to_string(r.network_tip) +
                                    ") from " + std::to_string(r.restored_height));
  }
  if (r.failed_check.empty()) {
    run.Announce("compare");
    const int64_t cmp = run.Now();
    ComparePhase(o, run, prod, client);
    run.Phase("compare", cmp, run.Now());
  }
  Status stopped = node.Stop();
  run.Check("stop", stopped, "sandbox node stopped cleanly");
}

}  // namespace

Result<DrillReport> RunDrill(repo::Repository& repo, const DrillOptions& o) {
  if (o.sandbox.node_id.empty()) return InvalidArgument("drill: which node? (node.id from the config)");
  if (o.sandbox.leader_url.empty()) return InvalidArgument("drill: the sandbox node needs a leader to follow");
  if (!fs::Exists(o.node_binary) || fs::IsDirectory(o.node_binary)) {
    return NotFound("drill: no ailee-node at " + o.node_binary + " (install it beside ailee-cli, or --node-binary)");
  }
  if (Status made = fs::MakeDirs(o.sandbox_parent); !made.ok()) {
    return WithHint(made.WithContext("drill: making the sandbox's parent directory " + o.sandbox_parent),
                    "pass --sandbox-dir DIR, a directory this user may write on a disk with room for the state");
  }
  fs::RemoveAbandoned(o.sandbox_parent, kSandboxPrefix);  // a killed drill's

  DrillRun run(o);
  DrillReport& r = run.report();
  node::NodeClient prod(o.production_url, "", 10000);
  auto tip = Height(prod);
  if (!tip.ok()) return tip.status().WithContext("drill: asking the production node " + o.production_url + " for its tip");
  r.network_tip = *tip;
  ASSIGN_OR_RETURN(json tip_block, Block(prod, r.network_tip));
  r.network_tip_time_ms = tip_block["header"].value("timestamp_ms", int64_t{0});

  const std::string sandbox = fs::JoinPath(o.sandbox_parent, fs::ScratchName(kSandboxPrefix));
  RETURN_IF_ERROR(fs::MakeDirs(sandbox));
  r.sandbox = sandbox;
  if (RestorePhase(repo, o, run, sandbox)) {
    // RPO against the network's tip at drill start, from production's copy
    // of the restored block (the sandbox's own equals it, or a check fails).
    r.rpo_blocks = r.network_tip > r.restored_height ? r.network_tip - r.restored_height : 0;
    auto restored_block = Block(prod, r.restored_height);
    if (restored_block.ok()) r.restored_time_ms = (*restored_block)["header"].value("timestamp_ms", int64_t{0});
    r.rpo_ms = std::max<int64_t>(0, r.network_tip_time_ms - r.restored_time_ms);
    if (run.cancelled()) {
      run.Check("start", false, "interrupted (SIGINT/SIGTERM) before the sandbox node started", StatusCode::kAborted);
    } else {
      NodePhases(o, run, sandbox, prod);
    }
  }
  for (const auto& p : r.phases) {
    if (p.name != "compare") r.rto_ms += p.duration_ms;
  }
  if (!o.keep) {
    Status removed = fs::RemoveAll(sandbox);
    run.Check("cleanup", removed, "sandbox " + sandbox + " removed");
  }
  r.ok = r.failed_check.empty();
  r.verdict = run.failure();
  return r;
}

}  // namespace ailee::ops
