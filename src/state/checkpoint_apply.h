// apply-checkpoint from a directory: make a data dir an exact copy of a
// checkpoint, writing only the files that differ, all or nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "state/checkpoint_manifest.h"
#include "state/federation.h"

namespace ailee::fs {
class FileSystem;
}  // namespace ailee::fs

namespace ailee::state {

struct ApplyReport {
  uint64_t files = 0;
  uint64_t files_reused = 0;   // already identical in the target: linked, not copied
  uint64_t bytes_written = 0;
  uint64_t bytes_reused = 0;
  CheckpointManifest manifest;
};

struct ApplyOptions {
  std::optional<Federation> federation;  // block and anchor signatures checked when set
  bool allow_rollback = false;           // see CheckNotRollingBack (state/checkpoint_verify.h)
  // `src` is a private copy (a download) that the caller made on the
  // target's filesystem, hashed file by file as it was written, and removes
  // afterwards: its files are hard-linked into place rather than copied, and
  // not hashed again.
  bool consume_src = false;
  CheckpointProgressFn progress;
  int threads = kCheckpointThreads;  // files placed in parallel (base/parallel.h)
  // Every create, write, sync, link, rename and removal of the staged tree
  // and the swap (nullptr: the default); a crash test passes a
  // fault-injecting one.
  fs::FileSystem* file_system = nullptr;
};

// Makes `target` an exact copy of the checkpoint at `src`, writing only
// files that differ (delta restore). In order, stopping at the first failure
// with the target untouched and nothing left beside it:
//   1. refuses a target a running node holds (EnsureNotInUse), and a
//      rollback (CheckNotRollingBack);
//   2. verifies `src` exactly as VerifyCheckpoint does (kDataLoss naming the
//      first problem): a hostile entry is refused, never followed or read
//      (with `consume_src`, whose files were hashed as they were downloaded,
//      the entries and sizes are checked and the database is proven in 4);
//   3. assembles the new state in a staging dir beside the target named for
//      this run (".<name>.apply-<owner>-<random>", base/scratch.h; killed
//      runs' are removed, a concurrent run's never), reusing target files
//      with the same size and SHA-256 (immutable ones by hard link,
//      state/data_dir.h), every file opened without following links, checked
//      regular and of the manifest's size, copies hashed as written;
//   4. writes the manifest and proves the staged tree (ProveCheckpointDatabase);
//   5. installs it with fs::InstallDirectory (base/install_directory.h, the
//      swap restores use too): a crash leaves the old state or the new one at
//      `target`, never a mix.
Result<ApplyReport> ApplyCheckpointDir(const std::string& src, const std::string& target, const ApplyOptions& options);

}  // namespace ailee::state
