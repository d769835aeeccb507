// RestoreSnapshot: materializes a snapshot as a directory, all or nothing.
//
//   1. refuses (kAlreadyExists) when `target_dir` exists and is not empty,
//      unless options.force; refuses (kInvalidArgument, naming the entry) a
//      snapshot holding a symlink when !options.allow_symlinks, before
//      anything is written;
//   2. removes what killed restores into the same target left beside it
//      (staging directories whose owner process is gone, see base/scratch.h;
//      a live concurrent restore's staging stays);
//   3. builds the tree in a staging directory next to the target
//      (".<name>.restore-<pid>s<start>-<random>", same filesystem). Files
//      whose size and SHA-256 match a file already in the target are
//      hard-linked (or copied) from there instead of fetched (delta restore);
//      all others are fetched, decrypted and written. Every file's SHA-256 is
//      checked before it counts, then fsynced; modes, mtimes, and uid/gid when
//      running as root, are restored;
//   4. runs options.check_staged on the complete, fsynced staging directory:
//      the caller's proof (and any file it adds, such as a manifest) happens
//      while the target is still the old tree. Its failure is the restore's;
//   5. swaps the staging directory into place atomically with
//      fs::InstallDirectory (base/install_directory.h: RENAME_EXCHANGE when
//      the target exists, rename otherwise), which fsyncs the parent and only
//      then removes the old tree.
//
// On any failure (damaged data: kDataLoss naming snapshot, file and blob;
// disk full: kResourceExhausted; check_staged's error) the staging directory
// is removed and the target is untouched. Killed midway (or on a power loss:
// tests/unit/repo_power_loss_test.cc), the target is either the old tree or
// the new one; the staging directory left next to it is removed by the next
// restore into that target. Except on a filesystem without RENAME_EXCHANGE:
// the swap is then two renames, and between them there is no target, the old
// tree being beside it as ".<name>.old-<owner>-*"; the next restore writes
// the new tree.
// Takes a shared lock (a restore counts as a backup for prune, which will
// not delete anything while it runs); otherwise reads the repository only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/file_system.h"
#include "repo/blob_run_reader.h"
#include "repo/lock.h"
#include "repo/repository.h"
#include "repo/snapshot.h"

namespace ailee::repo {

struct RestoreProgress {
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  uint64_t files_done = 0;
  uint64_t files_total = 0;
};

struct RestoreOptions {
  bool force = false;        // replace a non-empty target
  bool reuse_local = true;   // delta restore from files already in the target
  // Files restored at once, and so ranged reads in flight. Well above the
  // core count: a worker spends about two thirds of each chunk blocked on
  // reading the pack and on the write that bypasses the page cache, a third
  // decrypting and hashing. Each reads a file's adjacent chunks with one
  // request (up to reads.max_bytes) and holds that run plus one decoded
  // chunk: memory about workers x (reads.max_bytes + 2 x chunk size), 8 x
  // 24 MiB with the defaults.
  int workers = 8;
  BlobReadOptions reads;
  // Called from worker threads, serialized; keep it cheap.
  std::function<void(const RestoreProgress&)> progress;
  // Step 4 above: called once with the staging directory's path, after every
  // file is in place and before the swap. A non-OK status abandons the
  // restore (the target stays as it was). May add files to the directory.
  std::function<Status(const std::string& staged_dir)> check_staged;
  // False: a snapshot with any symlink entry is refused (a RocksDB data dir
  // holds only regular files and directories).
  bool allow_symlinks = true;
  LockOptions lock;
  // Where the tree is written (base/file_system.h); nullptr: the default.
  fs::FileSystem* file_system = nullptr;
};

struct RestoreStats {
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t files_reused = 0;   // linked or copied from the existing target
  uint64_t bytes_fetched = 0;  // plaintext bytes read from the repository
  int64_t duration_ms = 0;
};

// `snapshot_ref` is "latest", an id or a unique id prefix.
Result<RestoreStats> RestoreSnapshot(Repository& repo, const std::string& snapshot_ref, const std::string& target_dir,
                                     const RestoreOptions& options);
// The same for a snapshot the caller has already loaded (FindSnapshot,
// ListSnapshots): it is not read again.
Result<RestoreStats> RestoreSnapshot(Repository& repo, const Snapshot& snapshot, const std::string& target_dir,
                                     const RestoreOptions& options);

}  // namespace ailee::repo
