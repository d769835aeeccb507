// The bulk loader signs like a leader: through the signer's fence
// (keys/signing_fence.h, docs/keys.md "The signing fence"). Without it, bulk
// loading could sign heights the key already signed (equivocation), and a
// leader started afterwards on the loaded data dir would find blocks above
// its fence that it cannot account for.
//
//   ASSIGN_OR_RETURN(auto fence, OpenFenceForBulkLoad(config, *db));
//   db->ProduceBlock(txs, fence->Guard(height, sign), ..., FenceBeforeCommit(*fence));
//
// After a bulk load the fence sits at the data dir's tip, so a leader
// started there with no peers leads at once (no --allow-lone-start).
#pragma once

#include <memory>

#include "base/status.h"
#include "config/config.h"
#include "keys/signing_fence.h"
#include "state/state_db.h"

namespace ailee::loadgen {

// Opens and locks the fence of the config's signer key file (the lock a
// running leader on that key holds: refused while one runs) and checks that
// `db` may be extended by this key, as a leader's start does:
//  - the data dir's tip is below the fence: refused, naming the fence height
//    (this key signed up to there; the blocks are elsewhere);
//  - the data dir's block at the fence height is not the fenced block: refused
//    (the data dir is another chain);
//  - the fence has no history but the data dir is not empty: refused (what
//    this key signed is unknown; docs/keys.md "When the fence is lost").
// First, like a leader's start, a block the fence holds one above the tip
// (signed and fenced, then killed before the commit: a leader's or a bulk
// load's) is applied, verified like any block, instead of signing another
// block at that height.
Result<std::unique_ptr<keys::SigningFence>> OpenFenceForBulkLoad(const config::NodeConfig& config,
                                                                 state::StateDb& db,
                                                                 const state::Federation& federation);

// The before_commit hook of StateDb::ProduceBlock: raises the fence to the
// signed block, durably, before the block is committed.
state::StateDb::BeforeCommitFn FenceBeforeCommit(keys::SigningFence& fence);

}  // namespace ailee::loadgen
