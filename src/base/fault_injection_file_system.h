// FaultInjectionFileSystem: a FileSystem over a real one (POSIX by default)
// that can lose power, fail calls and run out of space, for crash tests
// (after LevelDB's FaultInjectionTestEnv).
//
// Power loss. It remembers what is not yet durable (POSIX rules, see
// base/file_system.h): per file written through it, the size at its last
// Sync; per directory, the entry changes (create, link, symlink, mkdir,
// rename, exchange, unlink, remove tree) made since the last SyncDir of every
// directory they touch. CutPowerAfter(n) lets the n-th counted call complete
// and fails every later one with EIO (the machine is off; the code under
// test sees its writes fail, as a process would that dies there).
// SimulatePowerLoss() then makes the directory what a filesystem may show
// after the reboot: entry changes undone newest first (a removed file or
// tree comes back with the content that was durable, a renamed one goes back
// to its old name, a created one disappears), then every file cut to its
// last synced size. That is the harshest outcome POSIX allows (ext4 in
// data=ordered mode usually keeps more), so code that survives it survives
// the kinder ones.
//
// Errors. FailCall(n, errno) fails the n-th counted call without doing it;
// FailOp(op, errno) every call of one operation; SetSpaceLimit(bytes) lets
// appends write that many bytes in total, then writes what fits and fails
// with ENOSPC.
//
// Every call of the FileSystem and WritableFile interfaces counts (one per
// call, also when it fails). Thread-safe: calls are serialized. Reads and
// listings do not go through a FileSystem and see the real directory.
// Content that a power loss may bring back is kept in memory: meant for
// test-sized trees.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/file_system.h"

namespace ailee::fs {

class FaultInjectionFileSystem final : public FileSystem {
 public:
  enum class Op {
    kCreate, kAppend, kSync, kSetAttributes, kClose,
    kRename, kRenameExchange, kLink, kSymlink, kUnlink, kMkdir, kSyncDir, kRemoveAll,
  };
  static std::string_view OpName(Op op);

  // `base`: where the calls go (nullptr: POSIX).
  explicit FaultInjectionFileSystem(FileSystem* base = nullptr);
  ~FaultInjectionFileSystem() override;

  // Calls counted so far.
  uint64_t calls() const;
  // The n-th call from now (1: the next one) completes, then the power is
  // out: later calls fail with EIO and change nothing. 0: never.
  void CutPowerAfter(uint64_t n);
  bool power_is_out() const;
  // The reboot: drops everything not durable (see above), forgets what it
  // tracked, clears the power cut. Injected errors stay.
  Status SimulatePowerLoss();
  // The process dies at the power cut but the machine stays up: later calls
  // go through again and nothing is dropped, but what was not durable still
  // is not (a later SimulatePowerLoss drops it).
  void SimulateProcessCrash();
  // Treats everything done so far as durable (as after sync(2)).
  void MarkAllDurable();

  // The n-th call from now fails with `err` and does nothing. 0: none.
  void FailCall(uint64_t n, int err);
  // Every call of `op` fails with `err` and does nothing; err 0 clears.
  // For kRenameExchange, EINVAL or ENOSYS make it report "not supported"
  // (false), as a filesystem without RENAME_EXCHANGE does.
  void FailOp(Op op, int err);
  // Bytes that appends may still write in total; the one that crosses it
  // writes what fits and fails with ENOSPC. UINT64_MAX: unlimited.
  void SetSpaceLimit(uint64_t bytes);
  void ClearFaults();

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, unsigned mode,
                                                        bool exclusive) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Result<bool> RenameExchange(const std::string& a, const std::string& b) override;
  Status Link(const std::string& from, const std::string& to) override;
  Status Symlink(const std::string& target, const std::string& path) override;
  Status Unlink(const std::string& path) override;
  Status Mkdir(const std::string& path, unsigned mode, bool exist_ok) override;
  Status SyncDir(const std::string& dir) override;
  Status RemoveAll(const std::string& path) override;

  // Internals shared with the writable files it hands out.
  struct Saved;
  struct Change;
  class File;

 private:
  // Counts the call; an error when the power is out or a fault applies.
  Status Admit(Op op, const std::string& path);
  // After a call that did its work: the power cut, if this was the call.
  void Done();
  void Record(Change change);
  void Forget(const std::string& path);
  void MoveTracking(const std::string& from, const std::string& to, size_t changes);
  void Swap(const std::string& a, const std::string& b, size_t changes);
  std::unique_ptr<Saved> Save(const std::string& path) const;
  void UndoChange(size_t i);

  FileSystem* base_;
  mutable std::mutex mu_;
  uint64_t calls_ = 0;
  uint64_t cut_at_ = 0;
  bool power_out_ = false;
  uint64_t fail_at_ = 0;
  int fail_at_errno_ = 0;
  std::map<Op, int> failing_ops_;
  uint64_t space_left_ = UINT64_MAX;
  // Files written through this filesystem: path -> size at the last Sync.
  std::map<std::string, uint64_t> synced_size_;
  std::vector<Change> changes_;  // entry changes not yet durable, oldest first
};

}  // namespace ailee::fs
