#include "ops/state/restore.h"

#include <filesystem>

#include "base/clock.h"
#include "base/fs.h"
#include "base/scratch.h"
#include "ops/blocks/replay.h"
#include "ops/recovery_point/backup_all.h"
#include "state/checkpoint.h"
#include "state/checkpoint_manifest.h"
#include "state/checkpoint_verify.h"
#include "state/data_dir.h"
#include "state/proof_pending.h"
#include "state/verify.h"

namespace ailee::ops {

namespace {

Status ReadMeta(const repo::Snapshot& snap, state::CheckpointManifest* m) {
  const auto& meta = snap.meta;
  if (snap.kind != "state" || !meta.contains("height") || !meta.contains("state_root") || !meta.contains("block_hash"))
    return InvalidArgument("snapshot " + snap.id_hex() + " is a '" + snap.kind + "' snapshot, not a node state backup");
  m->node_id = meta.value("node_id", "");
  m->height = meta["height"].get<uint64_t>();
  if (!crypto::HashFromHex(meta["state_root"].get<std::string>(), &m->state_root) ||
      !crypto::HashFromHex(meta["block_hash"].get<std::string>(), &m->block_hash))
    return DataLoss("snapshot " + snap.id_hex() + ": malformed state root or block hash in its metadata");
  m->source = "snapshot:" + snap.id_hex();
  m->created_unix = snap.time_ms / 1000;
  for (const auto& f : snap.files) {
    if (f.type != repo::FileEntry::Type::kFile) continue;
    state::CheckpointFile cf{f.path, f.size, {}};
    crypto::HashFromHex(f.sha256, &cf.sha256);
    m->files.push_back(std::move(cf));
  }
  return Status::Ok();
}

std::string RestoreCommandFor(const std::string& kind, const std::string& id) {
  const std::string short_id = id.substr(0, 12);
  if (kind == "logs") return "`ailee-cli logs restore " + short_id + " --target DIR`";
  if (kind == "config") return "`ailee-cli restore config " + short_id + " --target DIR`";
  return "`ailee-cli restore " + short_id + " --kind " + kind + " --target DIR`";
}

// A state snapshot is a node's by meta.node_id (what BackupState records and
// picks its parent by); a config or logs snapshot by that or by its host.
bool OfNode(const repo::Snapshot& s, const std::string& id) {
  const std::string node = s.meta.is_object() ? s.meta.value("node_id", "") : "";
  return node == id || (s.kind != "state" && s.host == id);
}

// Replays archived blocks into the staged tree and re-seals it: the
// manifest then lists the replayed files and names the replayed tip, which
// the proof that follows expects.
Status RollStagedForward(const repo::Repository& repo, const std::string& staged, const std::string& target,
                         const RollForward& rf, state::CheckpointManifest* m, StateRestoreResult* r) {
  ReplayOptions ro;
  ro.data_dir = staged;
  ro.node_id = rf.node_id;
  ro.to_height = rf.to_height;
  ro.federation = rf.federation;
  ro.commitment_interval = rf.commitment_interval;
  ro.progress = rf.progress;
  auto replayed = ReplayBlocks(repo, ro);
  if (!replayed.ok()) {
    return replayed.status().WithContext("rolling snapshot " + r->snapshot_id.substr(0, 12) + " forward to height " +
                                         std::to_string(rf.to_height) + " (the restore was abandoned; " + target +
                                         " is untouched)");
  }
  r->blocks_replayed = replayed->blocks;
  r->transactions_replayed = replayed->transactions;
  r->height = replayed->to_height;
  r->state_root = replayed->state_root;
  m->height = replayed->to_height;
  m->block_hash = replayed->block_hash;
  m->state_root = replayed->state_root;
  m->source += "+blocks:" + std::to_string(replayed->from_height + 1) + ".." + std::to_string(replayed->to_height);
  m->files.clear();
  return state::SealCheckpoint(staged, m);
}

// Instead of the proof: the marker that makes ailee-node prove the tree
// before it signs or serves, written into the staged tree so that it is
// swapped in with it; the target it replaces is kept aside first.
Status MarkProofPending(const std::string& staged, const std::string& target, const state::CheckpointManifest& m,
                        StateRestoreResult* r) {
  ASSIGN_OR_RETURN(r->kept_aside, KeepTargetAside(target));
  state::ProofPending p;
  p.height = m.height;
  p.block_hash = m.block_hash;
  p.state_root = m.state_root;
  p.source = m.source;
  p.written_unix = Clock::Real().NowMillis() / 1000;
  p.previous_dir = r->kept_aside.dir;
  p.previous_kept_unix = r->kept_aside.since_unix;
  RETURN_IF_ERROR(state::WriteProofPending(staged, p));
  r->proof_pending = true;
  return Status::Ok();
}

}  // namespace

Result<repo::Snapshot> ChooseRestoreSnapshot(repo::Repository& repo, const std::string& ref, const RestoreChoice& c) {
  const std::string kind = c.kind.empty() ? "state" : c.kind;
  if (kind != "state" && kind != "config" && kind != "logs")
    return InvalidArgument("--kind " + c.kind + ": expected state, config or logs");
  if (ref == "latest") {
    if (kind == "state" && c.node_id.empty()) {
      return InvalidArgument("'latest' state snapshot of which node? No node id was given: use a config with "
                             "node.id (--config), `restore latest --host NODE_ID`, or a snapshot id from "
                             "`ailee-cli snapshots --kind state`");
    }
    ASSIGN_OR_RETURN(auto listing, repo::ListSnapshots(repo));
    const repo::Snapshot* newest = nullptr;
    for (const auto& s : listing.snapshots) {
      if (s.kind != kind || (!c.node_id.empty() && !OfNode(s, c.node_id))) continue;
      if (!newest || s.time_ms >= newest->time_ms) newest = &s;
    }
    if (!newest) {
      return NotFound("no " + kind + " snapshot" + (c.node_id.empty() ? "" : " of node " + c.node_id) + " in " +
                      repo.Location() + " (snapshots of other nodes or kinds are never taken for it): `ailee-cli " +
                      "snapshots --kind " + kind + "` lists what exists; pass --host ID for another node's");
    }
    return *newest;
  }
  ASSIGN_OR_RETURN(repo::Snapshot snap, repo::FindSnapshot(repo, ref));
  if (snap.kind == kind) return snap;
  if (snap.kind == kRecoveryPointKind && kind == "state") {
    // A recovery point (`backup all`) restores as its state snapshot.
    ASSIGN_OR_RETURN(RecoveryPoint point, ReadRecoveryPoint(repo, snap));
    auto state = repo::FindSnapshot(repo, point.state_snapshot);
    if (state.ok()) return state;
    return state.status().WithContext("state snapshot " + point.state_snapshot.substr(0, 12) + " of recovery point " +
                                      point.id.substr(0, 12) + " (forgotten since?)");
  }
  if (c.kind.empty()) {
    return InvalidArgument("snapshot " + snap.id_hex().substr(0, 12) + " is a '" + snap.kind +
                           "' snapshot, not node state: nothing was restored; use " +
                           RestoreCommandFor(snap.kind, snap.id_hex()) + (snap.kind == "state" ? "" :
                           ", or `--kind " + snap.kind + "` to write its tree into the target as it is"));
  }
  return InvalidArgument("snapshot " + snap.id_hex().substr(0, 12) + " is a '" + snap.kind + "' snapshot, not '" +
                         kind + "' (--kind): nothing was restored; use " + RestoreCommandFor(snap.kind, snap.id_hex()));
}

Result<StateRestoreResult> RestoreState(repo::Repository& repo, const std::string& ref, const std::string& target,
                                        const StateRestoreOptions& o) {
  ASSIGN_OR_RETURN(repo::Snapshot snap, ChooseRestoreSnapshot(repo, ref, RestoreChoice{"state", o.node_id}));
  return RestoreStateSnapshot(repo, snap, target, o);
}

Result<StateRestoreResult> RestoreStateSnapshot(repo::Repository& repo, const repo::Snapshot& snap,
                                                const std::string& target_in, const StateRestoreOptions& o) {
  std::string target = std::filesystem::absolute(target_in).lexically_normal().string();
  if (!target.empty() && target.back() == '/') target.pop_back();
  state::CheckpointManifest m;
  RETURN_IF_ERROR(ReadMeta(snap, &m));
  RETURN_IF_ERROR(state::EnsureNotInUse(target));
  if (o.refuse_rollback) RETURN_IF_ERROR(state::CheckNotRollingBack(target, m.height, m.block_hash, /*allow_rollback=*/false));

  StateRestoreResult r;
  r.snapshot_id = snap.id_hex();
  r.snapshot_height = m.height;
  r.height = m.height;
  r.state_root = m.state_root;
  repo::RestoreOptions ro;
  ro.force = o.force;
  ro.reuse_local = true;
  ro.progress = o.progress;
  ro.allow_symlinks = false;  // a RocksDB data dir holds only files and directories
  // Runs on the complete staging tree: nothing unproven replaces the target.
  ro.check_staged = [&](const std::string& staged) -> Status {
    // The manifest makes the restored directory a checkpoint that
    // verify-checkpoint and apply-checkpoint accept.
    if (o.roll_forward && o.roll_forward->to_height > m.height) {
      RETURN_IF_ERROR(RollStagedForward(repo, staged, target, *o.roll_forward, &m, &r));
    } else {
      RETURN_IF_ERROR(fs::WriteFileAtomic(fs::JoinPath(staged, state::kCheckpointManifestName), state::EncodeManifest(m)));
    }
    if (o.prove_in_background) return MarkProofPending(staged, target, m, &r);
    if (!o.verify) return Status::Ok();
    state::VerifyOptions vo;
    vo.federation = o.federation;
    vo.expected_state_root = m.state_root;
    auto verified = state::VerifyState(staged, vo);
    if (!verified.ok()) {
      return verified.status().WithContext("proving snapshot " + r.snapshot_id + " before the swap (the restore was "
                                           "abandoned; " + target + " is untouched)");
    }
    const auto& report = *verified;
    r.problems = report.problems;
    if (report.tip_height != m.height)
      r.problems.push_back("restored tip is height " + std::to_string(report.tip_height) + ", snapshot says " + std::to_string(m.height));
    if (report.tip_block_hash != m.block_hash) r.problems.push_back("restored tip block hash differs from the snapshot's");
    r.verified = report.ok && r.problems.empty();
    if (r.verified) return Status::Ok();
    return DataLoss("snapshot " + r.snapshot_id + " does not prove out: " +
                    (r.problems.empty() ? std::string("verification failed") : r.problems.front()) +
                    "; the restore was abandoned before the swap and " + target +
                    " is untouched (check that the config's federation is the one that signed this state, or "
                    "restore another snapshot)");
  };
  ASSIGN_OR_RETURN(r.stats, repo::RestoreSnapshot(repo, snap, target, ro));
  return r;
}

Result<StateRestoreResult> RestoreTest(repo::Repository& repo, const std::string& scratch_parent,
                                       const std::optional<state::Federation>& federation) {
  RETURN_IF_ERROR(fs::MakeDirs(scratch_parent));
  // A killed test's restored tree, and its staging.
  fs::RemoveAbandoned(scratch_parent, "ailee-restore-test-");
  fs::RemoveAbandoned(scratch_parent, ".ailee-restore-test-");
  std::string scratch = fs::JoinPath(scratch_parent, fs::ScratchName("ailee-restore-test-"));
  ASSIGN_OR_RETURN(repo::Snapshot latest, repo::FindSnapshot(repo, "latest", repo::SnapshotFilter{"state", ""}));
  StateRestoreOptions o;
  o.federation = federation;
  auto r = RestoreStateSnapshot(repo, latest, scratch, o);
  (void)fs::RemoveAll(scratch);
  return r;
}

}  // namespace ailee::ops
