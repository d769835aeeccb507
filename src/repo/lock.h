// Repository locks: locks/<random id>, plaintext JSON
//   {"version":1,"host":"...","pid":N,"pid_start":N,"pid_space":"...","user":"...","time_ms":N,"exclusive":bool}
// (pid_start: the holder's start time in clock ticks since boot, see
// base/scratch.h; pid_space: fs::ProcessSpaceId(), boot and pid namespace;
// both absent in locks of older versions, judged by host and pid alone; a
// lock of another pid space is judged by its age only.)
//
// Backup, restore, forget, copy (on the destination) and verify take a
// shared lock, prune an exclusive one.
// Acquire writes the lock object first and then lists the others; on a
// conflict it deletes its own and fails with kAborted. Because both sides
// write before they look, two racing processes can at worst both back off,
// never both proceed.
//
// A lock is stale (ignored, and removable by `repo unlock`) when its time is
// older than stale_after, or when its owner is gone: it names this host and
// a pid that no longer runs (or now belongs to a process with another start
// time). Acquire deletes the locks whose owner is gone, so a killed job's
// lock does not outlive the next job; a lock of another host is only ever
// judged by its age and never deleted by Acquire, and a live holder's lock
// (same pid and start time) is never deleted.
// A holder refreshes its lock every refresh_every from a background thread,
// measured on the same Clock that judges staleness (so a FakeClock drives
// both: the refresher writes once a test advances the clock past the next
// refresh, and never because real time passed).
//
// Verify reads packs that prune deletes and rewrites, so the two never
// overlap: a verify started while prune holds its lock fails at once with
// kAborted (exit 6, "retry later"), as a backup does, and a prune started
// during a verify does the same.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "storage/object_store.h"

namespace ailee::repo {

struct LockOptions {
  int64_t stale_after_ms = 30 * 60 * 1000;
  int64_t refresh_every_ms = 5 * 60 * 1000;
};

struct LockInfo {
  std::string id;
  std::string host;
  int64_t pid = 0;
  uint64_t pid_start = 0;  // 0: not recorded
  std::string pid_space;   // fs::ProcessSpaceId() of the holder; empty: not recorded (older version)
  std::string user;
  int64_t time_ms = 0;
  bool exclusive = false;
  bool stale = false;
  bool owner_gone = false;  // this host's, and its process is gone
  std::string Describe() const;  // "host/pid 123 (user) since <time>"
};

Result<std::vector<LockInfo>> ListLocks(storage::ObjectStore& store, const Clock& clock,
                                        const LockOptions& options = {});
// Deletes stale locks (what `repo unlock` does); returns how many.
Result<size_t> RemoveStaleLocks(storage::ObjectStore& store, const Clock& clock, const LockOptions& options = {});

class RepoLock {
 public:
  static Result<std::unique_ptr<RepoLock>> Acquire(std::shared_ptr<storage::ObjectStore> store, Clock& clock,
                                                   bool exclusive, const LockOptions& options = {});
  ~RepoLock();  // stops refreshing and deletes the lock object (best effort)
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;

  Status Release();
  const std::string& id() const { return id_; }

 private:
  RepoLock(std::shared_ptr<storage::ObjectStore> store, Clock& clock, bool exclusive, LockOptions options);
  Status Write();
  void RefreshLoop();

  std::shared_ptr<storage::ObjectStore> store_;
  Clock& clock_;
  bool exclusive_;
  LockOptions options_;
  std::string id_;
  std::atomic<int64_t> written_ms_{0};  // clock_ time of the last Write
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool released_ = false;
  std::thread refresher_;
};

}  // namespace ailee::repo
