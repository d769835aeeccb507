#include "ops/repo_state.h"

#include <unistd.h>

#include <filesystem>

#include "base/clock.h"
#include "base/fs.h"
#include "base/scratch.h"
#include "repo/snapshot.h"
#include "state/file_identity.h"
#include "state/verify.h"

namespace ailee::ops {
namespace {

nlohmann::json StateMeta(const CheckpointManifest& m, const std::string& audit_head) {
  return {{"node_id", m.node_id},
          {"height", m.height},
          {"block_hash", crypto::HashToHex(m.block_hash)},
          {"state_root", crypto::HashToHex(m.state_root)},
          {"source", m.source},
          {"audit_head", audit_head}};
}

Status ReadMeta(const repo::Snapshot& snap, CheckpointManifest* m) {
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
    CheckpointFile cf{f.path, f.size, {}};
    crypto::HashFromHex(f.sha256, &cf.sha256);
    m->files.push_back(std::move(cf));
  }
  return Status::Ok();
}

}  // namespace

// Checkpoints left by backups that were killed: "ailee-backup-checkpoint-<pid>-<ms>"
// whose process is gone. They hold hard links that would pin compacted-away
// SST files forever.
void RemoveAbandonedCheckpoints(const std::string& scratch_dir) {
  fs::RemoveAbandoned(scratch_dir, "ailee-backup-checkpoint-");
}

Result<StateBackupResult> BackupState(repo::Repository& repo, const StateBackupOptions& o) {
  StateBackupResult result;
  RemoveAbandonedCheckpoints(o.scratch_dir);
  std::string scratch = fs::JoinPath(o.scratch_dir, "ailee-backup-checkpoint-" + std::to_string(::getpid()) + "-" +
                                                        std::to_string(Clock::Real().NowMillis()));
  RETURN_IF_ERROR(fs::MakeDirs(o.scratch_dir));
  ASSIGN_OR_RETURN(result.checkpoint, TakeCheckpoint(o.source, scratch));
  auto cleanup = [&](Status st) {
    (void)fs::RemoveAll(scratch);
    return st;
  };

  repo::BackupOptions bo;
  bo.kind = "state";
  bo.tags = o.tags;
  bo.tags.push_back(o.full ? "full" : "incremental");
  bo.meta = StateMeta(result.checkpoint, o.audit_head);
  bo.full = o.full;
  bo.zstd_level = o.zstd_level;
  bo.progress = o.progress;
  // The parent is this node's latest state snapshot. Its files are reused
  // without being read only when the file here is provably the same one
  // (repo/backup.h): a data dir rebuilt under the same node id has table
  // files with the same names, sizes and maybe mtimes but other bytes. The
  // checkpoint hard-links table files anew for every backup, which changes
  // their ctime, so ctime proves nothing here; a table file's unique id
  // (which the MANIFEST checks on open) stands in. Other files are copies
  // made by the checkpoint: new inodes, always read.
  bo.compare_ctime = false;
  bo.file_identity = state::DatabaseFileIdentity;
  auto listing = repo::ListSnapshots(repo);
  if (!listing.ok()) return cleanup(listing.status());
  const repo::Snapshot* latest = nullptr;
  for (const auto& s : listing->snapshots) {
    if (s.kind == "state" && s.meta.value("node_id", "") == result.checkpoint.node_id &&
        (!latest || s.time_ms > latest->time_ms))
      latest = &s;
  }
  if (latest) {
    bo.parent = latest->id_hex();
    result.parent = bo.parent;
  }
  auto backup = repo::BackupTree(repo, scratch, bo);
  if (!backup.ok()) return cleanup(backup.status().WithContext("backing up checkpoint at height " + std::to_string(result.checkpoint.height)));
  result.backup = std::move(*backup);
  RETURN_IF_ERROR(cleanup(Status::Ok()));
  return result;
}

namespace {

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
  if (c.kind.empty()) {
    return InvalidArgument("snapshot " + snap.id_hex().substr(0, 12) + " is a '" + snap.kind +
                           "' snapshot, not node state: nothing was restored; use " +
                           RestoreCommandFor(snap.kind, snap.id_hex()) + (snap.kind == "state" ? "" :
                           ", or `--kind " + snap.kind + "` to write its tree into the target as it is"));
  }
  return InvalidArgument("snapshot " + snap.id_hex().substr(0, 12) + " is a '" + snap.kind + "' snapshot, not '" +
                         kind + "' (--kind): nothing was restored; use " + RestoreCommandFor(snap.kind, snap.id_hex()));
}

Result<StateRestoreResult> RestoreState(repo::Repository& repo, const std::string& ref, const std::string& target_in,
                                        const StateRestoreOptions& o) {
  std::string target = std::filesystem::absolute(target_in).lexically_normal().string();
  if (!target.empty() && target.back() == '/') target.pop_back();
  ASSIGN_OR_RETURN(repo::Snapshot snap, ChooseRestoreSnapshot(repo, ref, RestoreChoice{"state", o.node_id}));
  CheckpointManifest m;
  RETURN_IF_ERROR(ReadMeta(snap, &m));
  RETURN_IF_ERROR(EnsureNotInUse(target));
  if (o.refuse_rollback) RETURN_IF_ERROR(CheckNotRollingBack(target, m.height, m.block_hash, /*allow_rollback=*/false));

  StateRestoreResult r;
  r.snapshot_id = snap.id_hex();
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
    RETURN_IF_ERROR(fs::WriteFileAtomic(fs::JoinPath(staged, kCheckpointManifestName), EncodeManifest(m)));
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
  ASSIGN_OR_RETURN(r.stats, repo::RestoreSnapshot(repo, snap.id_hex(), target, ro));
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
  auto r = RestoreState(repo, latest.id_hex(), scratch, o);
  (void)fs::RemoveAll(scratch);
  return r;
}

}  // namespace ailee::ops
