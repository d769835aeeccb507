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

Status RecoverInterruptedInstall(const std::string& target, FileSystem* file_system) {
  if (Exists(target)) return Status::Ok();
  const std::string dir = Dirname(target);
  const std::string prefix = InstallAsidePrefix(target);
  auto names = ListDir(dir);
  if (!names.ok()) return Status::Ok();  // no parent: nothing was set aside there
  // Installs into one target are serialized by their callers (see above),
  // so an aside tree while the target is absent is always an interrupted one.
  for (const auto& name : *names) {
    if (name.rfind(prefix, 0) != 0) continue;
    return RenameDurable(JoinPath(dir, name), target, FileSystem::Or(file_system))
        .WithContext("putting back the state an interrupted install set aside for " + target);
  }
  return Status::Ok();
}

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
