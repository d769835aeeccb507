#include "state/checkpoint_verify.h"

#include <sys/stat.h>

#include <atomic>

#include "base/fs.h"
#include "state/checkpoint_files.h"
#include "state/data_dir.h"
#include "base/parallel.h"
#include "state/state_db.h"
#include "state/verify.h"

namespace ailee::state {

void ProveCheckpointDatabase(const std::string& dir, const CheckpointManifest& m,
                             const std::optional<Federation>& federation, const CheckpointProgressFn& progress,
                             CheckpointVerifyReport* r) {
  VerifyOptions vo;
  vo.federation = federation;
  vo.expected_state_root = m.state_root;
  if (progress) vo.progress = [&](const VerifyProgress& p) { progress(p.phase, p.done, p.total); };
  auto vr = VerifyState(dir, vo);
  if (!vr.ok()) {
    r->problems.push_back("database: " + vr.status().message());
    return;
  }
  r->recomputed_state_root = vr->state_root;
  r->entries_checked = vr->entries_checked;
  for (const auto& p : vr->problems) r->problems.push_back("database: " + p);
  if (vr->tip_height != m.height)
    r->problems.push_back("database tip is height " + std::to_string(vr->tip_height) + ", manifest says " + std::to_string(m.height));
  if (vr->tip_block_hash != m.block_hash)
    r->problems.push_back("database tip hash " + crypto::HashToHex(vr->tip_block_hash) + " differs from the manifest's " + crypto::HashToHex(m.block_hash));
}

Result<CheckpointVerifyReport> VerifyCheckpoint(const std::string& dir, const std::optional<Federation>& federation,
                                                const CheckpointProgressFn& progress, bool files_hashed) {
  CheckpointVerifyReport r;
  ASSIGN_OR_RETURN(r.manifest, ReadManifest(dir));
  // 1. The tree holds the manifest's regular files and nothing else; an
  // entry of any other kind is named, never followed or opened.
  ASSIGN_OR_RETURN(auto unlisted, UnlistedEntries(dir, r.manifest));
  const bool tree_clean = unlisted.empty();
  for (auto& p : unlisted) r.problems.push_back(std::move(p));
  // 2. Each file against the manifest, read through a descriptor that is
  // known to be a regular file of the manifest's size, never past it.
  std::vector<std::string> problems(r.manifest.files.size());
  std::atomic<uint64_t> bytes{0};
  RETURN_IF_ERROR(ParallelFor(r.manifest.files.size(), kCheckpointThreads, [&](size_t i, int) -> Status {
    const auto& f = r.manifest.files[i];
    auto opened = OpenedFile::Open(dir, f.path, f.size);
    if (!opened.ok()) {
      problems[i] = opened.status().code() == StatusCode::kNotFound ? "file " + f.path + ": missing"
                                                                     : opened.status().message();
      return Status::Ok();
    }
    if (!files_hashed) {
      auto hash = opened->Hash();
      if (!hash.ok()) { problems[i] = "file " + f.path + ": " + hash.status().message(); return Status::Ok(); }
      if (*hash != f.sha256) {
        problems[i] = "file " + f.path + ": SHA-256 " + crypto::HashToHex(*hash) + " differs from the manifest's " + crypto::HashToHex(f.sha256);
        return Status::Ok();
      }
    }
    bytes += f.size;
    return Status::Ok();
  }));
  for (auto& p : problems) if (!p.empty()) r.problems.push_back(std::move(p));
  r.files_checked = r.manifest.files.size();
  r.bytes_checked = bytes;
  if (progress) progress("files", r.bytes_checked, r.bytes_checked);

  // 3. The database itself: chain, signatures, anchors, state root from
  // scratch. RocksDB opens files by name and would follow a symlink, block
  // on a FIFO or replay an extra WAL file: not opened unless the tree is clean.
  if (tree_clean) {
    ProveCheckpointDatabase(dir, r.manifest, federation, progress, &r);
  } else {
    r.problems.push_back("database: not opened, because the directory holds entries its manifest does not list (named above)");
  }
  r.ok = r.problems.empty();
  return r;
}

Status CheckNotRollingBack(const std::string& target, uint64_t height, const crypto::Hash256& block_hash,
                           bool allow_rollback) {
  // No database (state/data_dir.h): nothing to lose. One that is there but does not open may be
  // ahead: refused like one that is.
  if (allow_rollback || !HoldsDatabase(target)) return Status::Ok();
  // RocksDB opens the database's files by name: it would block forever on a
  // FIFO, and follow a symlink. A RocksDB data dir holds only regular files
  // and directories; anything else is refused before the database is opened.
  auto names = fs::ListDir(target);
  if (!names.ok()) return names.status().WithContext("reading the target " + target);
  for (const auto& name : *names) {
    const std::string path = fs::JoinPath(target, name);
    struct stat sb {};
    if (::lstat(path.c_str(), &sb) != 0 || S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode)) continue;
    const char* kind = S_ISLNK(sb.st_mode)    ? "a symbolic link"
                       : S_ISFIFO(sb.st_mode) ? "a FIFO"
                       : S_ISSOCK(sb.st_mode) ? "a socket"
                       : S_ISCHR(sb.st_mode)  ? "a character device"
                       : S_ISBLK(sb.st_mode)  ? "a block device"
                                              : "an entry of unknown type";
    return FailedPrecondition("cannot read the chain tip of the target " + target + ": " + path + " is " + kind +
                              ", not a regular file (a data dir holds only files and directories; its database was "
                              "not opened), so it is not known whether applying would lose blocks; remove that "
                              "entry, or, to replace the target's state, rerun with --allow-rollback");
  }
  auto db = StateDb::Open(target, OpenOptions{true, false});
  if (!db.ok()) {
    return FailedPrecondition("cannot read the chain tip of the target " + target + " (" + db.status().message() +
                              "), so it is not known whether applying would lose blocks; if its state is damaged and "
                              "you mean to replace it, rerun with --allow-rollback");
  }
  const ChainTip tip = (*db)->Tip();
  if (tip.height < height) return Status::Ok();
  // Height 0 is the empty genesis state: no block, a hash of zeros.
  std::optional<crypto::Hash256> at_height;
  if (height == 0) {
    at_height = crypto::Hash256{};
  } else if (auto block = (*db)->GetBlock(height); block.ok()) {
    at_height = block->header.Hash();
  }
  const bool other_chain = !at_height || *at_height != block_hash;
  if (tip.height == height && !other_chain) return Status::Ok();  // the same state
  std::string what = "the target " + target + " is at height " + std::to_string(tip.height) + ", the source at height " +
                     std::to_string(height);
  if (other_chain) {
    what += "; the target is on another chain (its block at height " + std::to_string(height) + " is " +
            (at_height ? crypto::HashToHex(*at_height) : std::string("unreadable")) + ", the source's is " +
            crypto::HashToHex(block_hash) + ")";
  }
  return FailedPrecondition("refusing to roll back: " + what + "; applying would discard the target's blocks" +
                            (tip.height > height ? " above height " + std::to_string(height) : std::string()) +
                            ". Check that SRC and --target are the ones you mean; to replace the target anyway, rerun "
                            "with --allow-rollback");
}

}  // namespace ailee::state
