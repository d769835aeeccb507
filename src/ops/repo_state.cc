#include "ops/repo_state.h"

#include <unistd.h>

#include <filesystem>

#include "base/clock.h"
#include "base/fs.h"
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

Result<StateRestoreResult> RestoreState(repo::Repository& repo, const std::string& ref, const std::string& target_in,
                                        const StateRestoreOptions& o) {
  std::string target = std::filesystem::absolute(target_in).lexically_normal().string();
  if (!target.empty() && target.back() == '/') target.pop_back();
  ASSIGN_OR_RETURN(repo::Snapshot snap, repo::FindSnapshot(repo, ref, repo::SnapshotFilter{"state", ""}));
  CheckpointManifest m;
  RETURN_IF_ERROR(ReadMeta(snap, &m));
  RETURN_IF_ERROR(EnsureNotInUse(target));

  StateRestoreResult r;
  r.snapshot_id = snap.id_hex();
  r.height = m.height;
  r.state_root = m.state_root;
  repo::RestoreOptions ro;
  ro.force = o.force;
  ro.reuse_local = true;
  ro.progress = o.progress;
  ASSIGN_OR_RETURN(r.stats, repo::RestoreSnapshot(repo, snap.id_hex(), target, ro));
  // The manifest makes the restored directory a checkpoint that
  // verify-checkpoint and apply-checkpoint accept.
  RETURN_IF_ERROR(fs::WriteFileAtomic(fs::JoinPath(target, kCheckpointManifestName), EncodeManifest(m)));
  if (!o.verify) return r;

  state::VerifyOptions vo;
  vo.federation = o.federation;
  vo.expected_state_root = m.state_root;
  ASSIGN_OR_RETURN(auto report, state::VerifyState(target, vo));
  r.problems = report.problems;
  if (report.tip_height != m.height)
    r.problems.push_back("restored tip is height " + std::to_string(report.tip_height) + ", snapshot says " + std::to_string(m.height));
  if (report.tip_block_hash != m.block_hash) r.problems.push_back("restored tip block hash differs from the snapshot's");
  r.verified = report.ok && r.problems.empty();
  if (!r.verified) {
    return DataLoss("restored state at " + target + " does not prove out against snapshot " + r.snapshot_id + ": " +
                    (r.problems.empty() ? std::string("verification failed") : r.problems.front()));
  }
  return r;
}

Result<StateRestoreResult> RestoreTest(repo::Repository& repo, const std::string& scratch_parent,
                                       const std::optional<state::Federation>& federation) {
  RETURN_IF_ERROR(fs::MakeDirs(scratch_parent));
  std::string scratch = fs::JoinPath(scratch_parent, "ailee-restore-test-" + std::to_string(::getpid()) + "-" +
                                                         std::to_string(Clock::Real().NowMillis()));
  StateRestoreOptions o;
  o.federation = federation;
  auto r = RestoreState(repo, "latest", scratch, o);
  (void)fs::RemoveAll(scratch);
  return r;
}

}  // namespace ailee::ops
