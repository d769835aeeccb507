#include "ops/state/backup.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "base/fs.h"
#include "base/scratch.h"
#include "repo/snapshot.h"
#include "state/database_file_facts.h"
#include "state/table_compression.h"

namespace ailee::ops {
namespace {

nlohmann::json StateMeta(const state::CheckpointManifest& m, const std::string& audit_head) {
  return {{"node_id", m.node_id},
          {"height", m.height},
          {"block_hash", crypto::HashToHex(m.block_hash)},
          {"state_root", crypto::HashToHex(m.state_root)},
          {"source", m.source},
          {"audit_head", audit_head}};
}

// Table files say themselves whether zstd can pay on them (state/table_compression.h):
// the node's bottommost level is zstd-compressed already, the levels above
// are LZ4 that zstd shrinks by a fifth. Other files: each chunk's sample decides.
Result<repo::CompressionChoice> ChoiceFor(const Result<state::TableCompressionAdvice>& table_advice) {
  ASSIGN_OR_RETURN(state::TableCompressionAdvice advice, table_advice);
  switch (advice) {
    case state::TableCompressionAdvice::kStoreRaw: return repo::CompressionChoice::kStoreRaw;
    case state::TableCompressionAdvice::kCompress: return repo::CompressionChoice::kCompress;
    case state::TableCompressionAdvice::kNotATable: break;
  }
  return repo::CompressionChoice::kBySample;
}

// At most one read of each table file's properties per backup
// (state/database_file_facts.h): the backup asks every file's identity, and
// then, for each file it reads, how to compress it; that answer is kept from
// the first question instead of opening the table again. An offline
// checkpoint's open database answers both for its table files
// (state::CheckpointInfo::table_facts), which are then not opened at all.
// Both callbacks of one backup share it; it lives as long as they do.
class DatabaseFileAnswers {
 public:
  // `known`: answers for the table files directly in `dir`, by name.
  DatabaseFileAnswers(std::string dir, std::map<std::string, state::DatabaseFileFacts> known)
      : dir_(std::move(dir)), known_(std::move(known)) {}

  Result<std::string> Identity(const std::string& path) {
    state::DatabaseFileFacts facts = Facts(path);
    std::lock_guard lock(mu_);
    compression_.erase(path);
    compression_.emplace(path, std::move(facts.compression));
    return std::move(facts.identity);
  }
  Result<repo::CompressionChoice> Compression(const std::string& path) {
    std::optional<Result<state::TableCompressionAdvice>> known;
    {
      std::lock_guard lock(mu_);
      auto it = compression_.find(path);
      if (it != compression_.end()) {
        known.emplace(std::move(it->second));
        compression_.erase(it);
      }
    }
    return ChoiceFor(known ? *known : state::TableFileCompression(path));
  }

 private:
  // The database's answers for a table file of the checkpoint (by name),
  // else the file's own.
  state::DatabaseFileFacts Facts(const std::string& path) {
    if (fs::Dirname(path) == dir_) {
      std::lock_guard lock(mu_);
      auto it = known_.find(fs::Basename(path));
      if (it != known_.end()) {
        state::DatabaseFileFacts facts = std::move(it->second);
        known_.erase(it);
        return facts;
      }
    }
    return state::ReadDatabaseFileFacts(path);
  }

  const std::string dir_;
  std::mutex mu_;
  std::map<std::string, state::DatabaseFileFacts> known_;  // from the checkpoint's database, not yet asked for
  std::map<std::string, Result<state::TableCompressionAdvice>> compression_;  // asked for, not yet used
};

// Each backup takes its checkpoint under an owner-named scratch name
// (base/scratch.h); older versions named it "<prefix><pid>-<ms>", which the
// same prefix and RemoveAbandoned also cover.
constexpr char kCheckpointScratchPrefix[] = "ailee-backup-checkpoint-";

}  // namespace

Result<StateBackupResult> BackupState(repo::Repository& repo, const StateBackupOptions& options) {
  StateBackupOptions o = options;
  if (o.resolve_source) {
    ASSIGN_OR_RETURN(StateSource source, ResolveStateSource(*o.resolve_source));
    o.source = CheckpointOptionsFor(source);
    o.scratch_dir = source.scratch_parent;
  }
  StateBackupResult result;
  // Checkpoints of killed backups hold hard links that would pin
  // compacted-away SST files forever.
  fs::RemoveAbandoned(o.scratch_dir, kCheckpointScratchPrefix);
  const std::string scratch = fs::JoinPath(o.scratch_dir, fs::ScratchName(kCheckpointScratchPrefix));
  RETURN_IF_ERROR(fs::MakeDirs(o.scratch_dir));
  std::map<std::string, state::DatabaseFileFacts> table_facts;
  ASSIGN_OR_RETURN(result.checkpoint, TakeCheckpoint(o.source, scratch, &table_facts));
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
  auto answers = std::make_shared<DatabaseFileAnswers>(scratch, std::move(table_facts));
  bo.file_identity = [answers](const std::string& path) { return answers->Identity(path); };
  bo.file_compression = [answers](const std::string& path) { return answers->Compression(path); };
  auto listing = repo::ListSnapshots(repo);
  if (!listing.ok()) return cleanup(listing.status());
  repo::Snapshot* latest = nullptr;
  for (auto& s : listing->snapshots) {
    if (s.kind == "state" && s.meta.value("node_id", "") == result.checkpoint.node_id &&
        (!latest || s.time_ms > latest->time_ms))
      latest = &s;
  }
  if (latest) {
    bo.parent = latest->id_hex();
    result.parent = bo.parent;
    // Listed, so already read and decrypted: not looked up again.
    bo.parent_snapshot = std::make_shared<const repo::Snapshot>(std::move(*latest));
  }
  auto backup = repo::BackupTree(repo, scratch, bo);
  if (!backup.ok()) return cleanup(backup.status().WithContext("backing up checkpoint at height " + std::to_string(result.checkpoint.height)));
  result.backup = std::move(*backup);
  RETURN_IF_ERROR(cleanup(Status::Ok()));
  return result;
}

}  // namespace ailee::ops
