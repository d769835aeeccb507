// The data dir a restore with the background proof replaces is kept aside,
// not deleted, until the node has proven the new state (state/proof_pending.h,
// docs/recovery.md "Serving before the proof completes"): the defect where a
// restore that failed its proof had already cost the operator a good data
// dir must not come back through the background proof.
#pragma once

#include <string>

#include "base/status.h"

namespace ailee::ops {

// Called before the swap, with `target` stopped (not in use). Returns the
// directory the node will fall back to if the proof fails ("" when `target`
// is absent or empty: nothing to keep):
//   - a target that is itself unproven (it holds a proof-pending marker
//     whose kept-aside dir exists) keeps that older, proven dir;
//   - else a copy of `target` at state::KeptAsideDir(target): table files
//     hard-linked (RocksDB never rewrites them), the others copied, built
//     under a scratch name (".<name>.aside-<owner>-*", removed by the next
//     run when killed), fsynced, then renamed into place durably, replacing
//     an older kept-aside dir (from a state proven since).
// Killed midway: `target` is untouched; at worst a kept-aside copy stays.
Result<std::string> KeepTargetAside(const std::string& target);

}  // namespace ailee::ops
