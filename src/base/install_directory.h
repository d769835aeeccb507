// InstallDirectory: putting a fully built directory tree in place of another,
// atomically. The one directory swap of the code base: restores
// (repo/restore.cc) and apply-checkpoint (state/checkpoint_apply.cc) use it.
//
// Contract:
//   - `staged` is complete and its files are fsynced by the caller; it lies in
//     the same directory as `target` (one filesystem, so renames work).
//   - Order: fsync `staged` (its entries), then
//       target absent:  rename(staged, target), fsync the parent;
//       target present: renameat2(RENAME_EXCHANGE), fsync the parent, then
//                       remove the old tree (now named `staged`).
//     On filesystems without RENAME_EXCHANGE (EINVAL, ENOSYS) the old tree is
//     first renamed aside (".<target name>.old-<owner>-<random>", base/scratch.h),
//     then `staged` to `target`, each rename made durable, then the aside
//     tree removed; a failure of the second rename puts the old tree back.
//   - What a crash leaves: `target` is the old tree or the new one, never a
//     mix. With the exchange, the other tree is left under the staged name
//     (the caller's scratch prefix: its next run removes it). In the
//     fallback a crash between the two renames leaves no `target` and the
//     old tree aside: InstallDirectory removes abandoned aside trees only
//     when `target` exists again, so the old state is never lost that way.
//   - Errors: kNotFound when `staged` is missing (nothing changed). A failure
//     before the swap leaves `target` as it was and `staged` in place (the
//     caller removes it). A failure to sync after the swap is returned with
//     context saying the new state is at `target`.
// Not thread-safe for one target: callers serialize installs into the same
// target (a lock, or a pid-owned staged name plus the LOCK probe).
#pragma once

#include <string>

#include "base/status.h"

namespace ailee::fs {

class FileSystem;

// Every rename, sync and removal goes through `file_system` (nullptr: the
// default), so power-loss tests see the order above.
Status InstallDirectory(const std::string& staged, const std::string& target, FileSystem* file_system = nullptr);

// The prefix of the names the fallback sets old trees aside under.
std::string InstallAsidePrefix(const std::string& target);

// Undoes a fallback install a crash cut between its two renames: when
// `target` is absent and a tree set aside for it lies beside it, that tree is
// renamed back (durably). apply-checkpoint runs it before it judges the
// target: a missing target would look like "nothing to lose" and let an
// older state in without --allow-rollback.
Status RecoverInterruptedInstall(const std::string& target, FileSystem* file_system = nullptr);

}  // namespace ailee::fs
