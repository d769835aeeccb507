// The data dir a restore with the background proof replaces is kept aside,
// not deleted, until the node has proven the new state (state/proof_pending.h,
// docs/recovery.md "Serving before the proof completes"): the defect where a
// restore that failed its proof had already cost the operator a good data
// dir must not come back through the background proof.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace ailee::ops {

// The data dir a restore leaves to fall back on, and what it says about it.
struct KeptAside {
  std::string dir;  // "" when nothing was kept (the target was absent or empty)
  // True when `dir` is an older kept-aside dir rather than a copy of the
  // target: the target was itself unproven, so its state is discarded by
  // the restore and the fallback stays the dir kept before it.
  bool stale = false;
  int64_t since_unix = 0;  // when `dir` was kept aside (0: not known)
  // stale: what the discarded target held, from its marker ("" and 0 when
  // the marker was unreadable).
  std::string discarded_source;
  uint64_t discarded_height = 0;
};

// Called before the swap, with `target` stopped (not in use). Returns the
// directory the node will fall back to if the proof fails (dir "" when
// `target` is absent or empty: nothing to keep):
//   - a target that is itself unproven keeps the older kept-aside dir, stale:
//     the one its marker names (previous_dir, when it exists), or, when its
//     marker is unreadable (damaged, planted, a symlink: fail closed),
//     state::KeptAsideDir(target) when that exists; never replaced by a
//     copy of the unproven target;
//   - else a copy of `target` at state::KeptAsideDir(target): table files
//     hard-linked (RocksDB never rewrites them), the others copied (the
//     marker of an unproven target too, so the copy stays unproven), built
//     under a scratch name (".<name>.aside-<owner>-*", removed by the next
//     run when killed), fsynced, then renamed into place durably, replacing
//     an older kept-aside dir (from a state proven since).
// Killed midway: `target` is untouched; at worst a kept-aside copy stays.
Result<KeptAside> KeepTargetAside(const std::string& target);

}  // namespace ailee::ops
