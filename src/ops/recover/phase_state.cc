// Phase 3 of recover-node: the state, from the freshest trustworthy source.
#include <algorithm>
#include <chrono>
#include <thread>

#include "base/fs.h"
#include "base/install_directory.h"
#include "base/hint.h"
#include "crypto/hash.h"
#include "node/client.h"
#include "ops/blocks/replay.h"
#include "ops/recover/phases.h"
#include "ops/state/checkpoint_apply.h"
#include "ops/state/checkpoint_create.h"
#include "ops/state/point_in_time.h"
#include "ops/state/restore.h"
#include "state/data_dir.h"
#include "state/state_db.h"

namespace ailee::ops::recover {

namespace {

// Rough rates for the plan's expected times, measured on the 2-core CI
// machine under load (restore with proof, checkpoint copy with proof).
constexpr uint64_t kRestoreBytesPerSecond = 40ull << 20;
constexpr uint64_t kReplayBlocksPerSecond = 200;

struct PeerTip {
  std::string url;
  uint64_t height = 0;
  int64_t time_ms = 0;
};

std::vector<std::string> PeerUrls(const config::NodeConfig& cfg) {
  std::vector<std::string> urls = cfg.peers;
  if (!cfg.follow.empty() && std::find(urls.begin(), urls.end(), cfg.follow) == urls.end()) urls.push_back(cfg.follow);
  return urls;
}

// The peer with the highest tip among those that answer; nullopt when none does.
std::optional<PeerTip> HighestPeer(const config::NodeConfig& cfg) {
  std::optional<PeerTip> best;
  for (const auto& url : PeerUrls(cfg)) {
    auto st = node::NodeClient(url, "", 3000).GetJson("/v1/status");
    if (!st.ok()) continue;
    PeerTip t{url, st->value("height", uint64_t{0}), st->value("timestamp_ms", int64_t{0})};
    if (!best || t.height > best->height) best = t;
  }
  return best;
}

// The tip of a stopped data dir; nullopt when it holds no database.
Result<std::optional<state::ChainTip>> DataDirTip(const std::string& dir) {
  if (!state::HoldsDatabase(dir)) return std::optional<state::ChainTip>();
  state::OpenOptions o;
  o.read_only = true;
  o.create_if_missing = false;
  ASSIGN_OR_RETURN(auto db, state::StateDb::Open(dir, o));
  return std::optional<state::ChainTip>(db->Tip());
}

// The node's height: from its API when it answers, else from its stopped
// data dir (nullopt: no database there).
// A node that holds its data dir but does not answer yet is given a few
// seconds: it may be starting (spawned by a run killed right after). Bounded
// by time, not by polls: a stopped process's port accepts and never answers,
// so each poll can take the client's whole timeout. The plan passes no grace:
// it only describes, and the run that follows refuses a held data dir anyway
// (EnsureNodeStopped) or asks again with the grace.
Result<std::optional<uint64_t>> CurrentHeight(const Context& c,
                                              std::chrono::milliseconds grace = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (;;) {
    auto st = node::NodeClient(c.NodeUrl(), "", 2000).GetJson("/v1/status");
    if (st.ok()) return std::optional<uint64_t>(st->value("height", uint64_t{0}));
    Status held = state::EnsureNotInUse(c.config->node.data_dir);
    if (held.ok()) break;
    if (std::chrono::steady_clock::now() >= deadline)
      return held.WithContext("its API at " + c.NodeUrl() + " does not answer");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSIGN_OR_RETURN(auto tip, DataDirTip(c.config->node.data_dir));
  return tip ? std::optional<uint64_t>(tip->height) : std::nullopt;
}

struct StateChoice {
  bool from_peer = false;
  std::string peer_url;
  uint64_t height = 0;
  uint64_t bytes = 0;
  std::string snapshot;  // from the repository: the snapshot the restore starts from
  uint64_t snapshot_height = 0;
  std::string snapshot_block_hash;  // hex, its meta
};

Result<std::string> PeerAdminToken(const std::string& file) {
  ASSIGN_OR_RETURN(std::string token, fs::ReadFile(file));
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) return InvalidArgument("--peer-admin-token-file " + file + " is empty");
  return token;
}

// A peer's live checkpoint when its admin token is given and it is at least
// as fresh as the repository (archive included); else the repository.
Result<StateChoice> ChooseSource(Context& c) {
  auto window = GetRecoveryWindow(c.repo, c.options.node_id);
  const bool repo_usable = window.ok() && window->has_snapshot;
  StateChoice choice;
  if (!c.options.peer_admin_token_file.empty() && c.config) {
    auto peer = HighestPeer(*c.config);
    if (peer && (!repo_usable || peer->height >= window->latest_height)) {
      choice.from_peer = true;
      choice.peer_url = peer->url;
      choice.height = peer->height;
      return choice;
    }
  }
  if (!repo_usable) {
    Status why = window.ok() ? NotFound("the repository holds no state snapshot of node " + c.options.node_id)
                             : window.status();
    return WithHint(why, "restore from a copy that holds one (--repo URL), or give a live peer's admin token "
                         "(--peer-admin-token-file) to take its checkpoint");
  }
  // Point-in-time recovery starts from the newest snapshot and ends at the
  // last archived block (or at that snapshot without an archive).
  ASSIGN_OR_RETURN(repo::Snapshot snap, ChooseRestoreSnapshot(c.repo, "latest", RestoreChoice{"state", c.options.node_id}));
  choice.snapshot = snap.id_hex();
  choice.bytes = snap.total_bytes;
  choice.snapshot_height = snap.meta.value("height", uint64_t{0});
  choice.snapshot_block_hash = snap.meta.value("block_hash", "");
  choice.height = std::max(window->latest_height, choice.snapshot_height);
  return choice;
}

std::string DescribeChoice(const StateChoice& s) {
  if (s.from_peer) return "live checkpoint of peer " + s.peer_url + " (height " + std::to_string(s.height) + ")";
  return "state snapshot " + s.snapshot.substr(0, 12) + " (height " + std::to_string(s.snapshot_height) +
         ") rolled forward with the block archive to height " + std::to_string(s.height);
}

Result<PhaseOutcome> FromPeer(Context& c, const StateChoice& s, const state::Federation& fed) {
  const std::string& data_dir = c.config->node.data_dir;
  const std::string dir = data_dir + ".peer-checkpoint";
  RETURN_IF_ERROR(fs::RemoveAll(dir));  // a killed run's
  ASSIGN_OR_RETURN(std::string token, PeerAdminToken(c.options.peer_admin_token_file));
  CreateCheckpointOptions co;
  co.output = dir;
  co.node_url = s.peer_url;
  co.admin_token = token;
  c.Progress("state", "taking a checkpoint of " + s.peer_url);
  ASSIGN_OR_RETURN(state::CheckpointManifest m, CreateCheckpoint(co));
  CheckpointApplyOptions ao;
  ao.source = dir;
  ao.target = data_dir;
  ao.federation = fed;
  c.Progress("state", "applying the checkpoint at height " + std::to_string(m.height));
  auto applied = ApplyCheckpoint(ao);
  Status removed = fs::RemoveAll(dir);
  RETURN_IF_ERROR(applied.status());
  RETURN_IF_ERROR(removed);
  PhaseOutcome out{"restored", {{"source", "peer " + s.peer_url}, {"height", m.height},
                                {"state_root", crypto::HashToHex(m.state_root)}, {"files", applied->files}}};
  return out;
}

// A data dir that reaches the snapshot's height must hold the snapshot's
// block there: else it is another chain (a fork), which a restore would
// silently erase. (A peer checkpoint's apply checks the same itself.)
Status CheckSameChain(const std::string& dir, const StateChoice& s) {
  if (!state::HoldsDatabase(dir) || s.snapshot_block_hash.empty()) return Status::Ok();
  state::OpenOptions o;
  o.read_only = true;
  o.create_if_missing = false;
  ASSIGN_OR_RETURN(auto db, state::StateDb::Open(dir, o));
  if (db->Tip().height < s.snapshot_height) return Status::Ok();
  ASSIGN_OR_RETURN(state::Block block, db->GetBlock(s.snapshot_height));
  const std::string ours = crypto::HashToHex(block.header.Hash());
  if (ours == s.snapshot_block_hash) return Status::Ok();
  return WithHint(DataLoss("fork: the data dir " + dir + " holds block " + ours.substr(0, 16) + " at height " +
                           std::to_string(s.snapshot_height) + ", snapshot " + s.snapshot.substr(0, 12) + " holds " +
                           s.snapshot_block_hash.substr(0, 16)),
                  "the data dir is on another chain: move it aside (keep it as evidence), find which chain the network "
                  "follows (`ailee-cli sync-status` on a follower), then rerun recover-node");
}

Result<PhaseOutcome> FromRepository(Context& c, const state::Federation& fed) {
  PointInTimeOptions o;
  o.node_id = c.options.node_id;
  o.federation = fed;
  o.commitment_interval = static_cast<uint64_t>(c.config->node.commitment_interval);
  o.force = true;  // the data dir is stopped, and below every source (checked by the caller)
  o.prove_in_background = c.options.prove_in_background;
  c.Progress("state", "restoring the newest state snapshot, rolled forward with the block archive");
  ASSIGN_OR_RETURN(StateRestoreResult r, RestoreToPoint(c.repo, c.config->node.data_dir, o));
  PhaseOutcome out{"restored", {{"source", "repository snapshot " + r.snapshot_id.substr(0, 12) + " + " +
                                               std::to_string(r.blocks_replayed) + " archived blocks"},
                                {"snapshot", r.snapshot_id}, {"blocks_replayed", r.blocks_replayed},
                                {"height", r.height}, {"state_root", crypto::HashToHex(r.state_root)},
                                {"bytes_fetched", r.stats.bytes_fetched}}};
  if (r.proof_pending) out.detail["proof"] = "pending: the node proves it when it starts";
  if (!r.kept_aside.dir.empty()) out.detail["kept_aside"] = r.kept_aside.dir;
  if (r.kept_aside.stale) out.detail["stale_kept_aside"] = true;
  return out;
}

// What a killed run left beside the stopped data dir, removed before the
// data dir is judged (a state already swapped in is then kept, and nothing
// would remove them later): a fallback swap cut between its renames (the
// old tree put back first), the old tree an exchange left under its staging
// name, staging trees, and the peer's checkpoint. Only trees whose owner is
// gone (base/scratch.h); the prefixes are those of repo/restore.cc and
// state/checkpoint_apply.cc.
Status RemoveKilledRunsLeftovers(const std::string& data_dir) {
  RETURN_IF_ERROR(fs::RecoverInterruptedInstall(data_dir));
  const std::string parent = fs::Dirname(data_dir);
  const std::string base = fs::Basename(data_dir);
  if (!fs::IsDirectory(parent)) return Status::Ok();
  for (const std::string& prefix : {"." + base + ".restore-", "." + base + ".apply-", fs::InstallAsidePrefix(data_dir)})
    fs::RemoveAbandoned(parent, prefix);
  return fs::RemoveAll(data_dir + ".peer-checkpoint");
}

}  // namespace

Status EnsureNodeStopped(const Context& c) {
  const std::string url = c.NodeUrl();
  auto health = node::NodeClient(url, "", 2000).GetJson("/v1/health");
  const bool answers = health.ok() || health.status().code() != StatusCode::kUnavailable ||
                       health.status().message().find("HTTP 503") != std::string::npos;
  if (answers)
    return WithHint(FailedPrecondition("node " + c.options.node_id + " still runs: its API answers at " + url),
                    "stop it first (`systemctl stop ailee-node`, or end the ailee-node process), then rerun "
                    "recover-node; a node that runs needs no recovery (check it with `ailee-cli health-check`)");
  Status held = state::EnsureNotInUse(c.config->node.data_dir);
  if (!held.ok()) return held.WithContext("recover-node: the data dir " + c.config->node.data_dir + " is held");
  return Status::Ok();
}

void AskNetworkTip(Context& c) {
  if (!c.config) return;
  if (auto peer = HighestPeer(*c.config)) {
    c.network_tip = peer->height;
    c.network_tip_time_ms = peer->time_ms;
  }
}

RecoverStep PlanState(Context& c) {
  RecoverStep s{"state", "", "", 0, 0, "", c.journal.Finished("state")};
  AskNetworkTip(c);
  auto choice = ChooseSource(c);
  if (!choice.ok()) {
    s.action = "cannot recover the state: " + std::string(MessageWithoutHint(choice.status()));
    return s;
  }
  s.source = DescribeChoice(*choice);
  s.bytes = choice->bytes;
  s.expected_ms = static_cast<int64_t>(choice->bytes * 1000 / kRestoreBytesPerSecond +
                                       (choice->height - choice->snapshot_height) * 1000 / kReplayBlocksPerSecond);
  s.action = c.options.prove_in_background && !choice->from_peer
                 ? "restore the state and swap it in unproven (the data dir replaced kept aside); the node proves it "
                   "in the background and signs and serves nothing until it passes"
                 : "restore the state, prove it on a staged tree, then swap it in";
  if (c.config) {
    auto height = CurrentHeight(c, std::chrono::milliseconds(0));  // never opens a data dir a running node holds
    if (height.ok() && *height && **height >= choice->height) {
      s.action = "keep the data dir: it holds height " + std::to_string(**height) + ", at or above every source";
    } else if (height.ok() && *height) {
      s.replaces = c.config->node.data_dir + " (height " + std::to_string(**height) + ")";
    }
  }
  return s;
}

Result<PhaseOutcome> RunState(Context& c) {
  const std::string& data_dir = c.config->node.data_dir;
  if (c.journal.Finished("state")) {
    const auto& done = c.journal.finished.at("state");
    // Restored in an earlier run: the node may have run and advanced since
    // (and may run now: then its API says its height, and its data dir is
    // not opened under it while it compacts).
    ASSIGN_OR_RETURN(std::optional<uint64_t> now, CurrentHeight(c));
    if (now && *now >= done.value("height", uint64_t{0})) {
      PhaseOutcome out{"skipped: finished in an earlier run", done};
      out.detail["height_now"] = *now;
      return out;
    }
    RETURN_IF_ERROR(EnsureNodeStopped(c));  // below what was restored: restored again, on a stopped node only
  }
  RETURN_IF_ERROR(RemoveKilledRunsLeftovers(data_dir));
  ASSIGN_OR_RETURN(auto tip, DataDirTip(data_dir));
  ASSIGN_OR_RETURN(StateChoice choice, ChooseSource(c));
  ASSIGN_OR_RETURN(state::Federation fed, c.Federation());
  if (!choice.from_peer) RETURN_IF_ERROR(CheckSameChain(data_dir, choice));
  PhaseOutcome out;
  if (tip && tip->height >= choice.height) {
    out = PhaseOutcome{"kept", {{"source", "the data dir itself"}, {"height", tip->height},
                                {"state_root", crypto::HashToHex(tip->state_root)}}};
  } else if (choice.from_peer) {
    ASSIGN_OR_RETURN(out, FromPeer(c, choice, fed));
  } else {
    ASSIGN_OR_RETURN(out, FromRepository(c, fed));
  }
  ASSIGN_OR_RETURN(auto now, DataDirTip(data_dir));
  if (now) out.detail["timestamp_ms"] = now->timestamp_ms;
  return out;
}

}  // namespace ailee::ops::recover
