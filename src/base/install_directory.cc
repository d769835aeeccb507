#include "base/install_directory.h"

#include "base/file_system.h"
#include "base/fs.h"
#include "base/scratch.h"

namespace ailee::fs {
namespace {

// Two renames, each durable: only where the kernel or the filesystem cannot
// exchange (old kernels, some network and FUSE filesystems).
Status InstallByTwoRenames(const std::string& staged, const std::string& target, FileSystem& files) {
  const std::string aside = JoinPath(Dirname(target), ScratchName(InstallAsidePrefix(target)));
  RETURN_IF_ERROR(RenameDurable(target, aside, &files));
  Status st = RenameDurable(staged, target, &files);
  if (!st.ok()) {
    // Put the old state back: the target must not stay absent.
    Status back = RenameDurable(aside, target, &files);
    if (!back.ok()) {
      return st.WithContext("installing " + staged + " at " + target + " failed and the old state could not be put "
                            "back; it is at " + aside);
    }
    return st;
  }
  (void)files.RemoveAll(aside);
  return Status::Ok();
}

}  // namespace

std::string InstallAsidePrefix(const std::string& target) { return "." + Basename(target) + ".old-"; }

Status InstallDirectory(const std::string& staged, const std::string& target, FileSystem* file_system) {
  FileSystem& files = *FileSystem::Or(file_system);
  if (!IsDirectory(staged)) return NotFound("cannot install " + staged + " at " + target + ": it does not exist");
  RETURN_IF_ERROR(files.SyncDir(staged));
  if (!Exists(target)) return RenameDurable(staged, target, &files);
  // The target exists again: an old tree a killed fallback set aside is garbage now.
  RemoveAbandoned(Dirname(target), InstallAsidePrefix(target), &files);
  // Atomic swap: the target path switches from the old tree to the new one
  // in a single step; `staged` then names the old tree, removed afterwards.
  ASSIGN_OR_RETURN(bool exchanged, files.RenameExchange(staged, target));
  if (!exchanged) return InstallByTwoRenames(staged, target, files);
  // From here the new state is in place: the old tree is only garbage, and
  // a failed sync is reported as such.
  Status synced = files.SyncDir(Dirname(target));
  (void)files.RemoveAll(staged);
  return synced.WithContext("the new state is at " + target + " but its directory could not be synced");
}

}  // namespace ailee::fs
