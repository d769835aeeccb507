// Pulling blocks from another node: the one path by which a follower follows
// its leader and a leader catches up from its peers before it leads. Every
// block is checked to extend this node's own chain (prev hash == our tip's
// hash) before StateDb::ApplyBlock verifies it (signature, tx root,
// re-execution, state root); a block that does not extend our chain is a
// fork, named by the height where the two chains differ and both hashes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "crypto/hash.h"
#include "node/client.h"
#include "state/state_db.h"

namespace ailee::node {

// Two different blocks at one height: ours and the other node's.
struct ForkInfo {
  uint64_t height = 0;
  crypto::Hash256 ours{};
  crypto::Hash256 theirs{};
  std::string peer;  // URL of the other node
  // "forked at height H from URL: this node's block is X, URL's is Y".
  std::string Describe() const;
};

struct PullResult {
  uint64_t peer_tip = 0;            // the other node's height
  uint64_t applied = 0;             // blocks applied in this call
  int64_t last_block_ms = 0;        // time to apply the last one
  std::optional<ForkInfo> fork;     // set: nothing more may be applied from this peer
};

// One round: fetches up to 200 blocks above our tip from `peer` and applies
// them in order. When the peer has nothing new, compares its block at the
// lower of the two tips with ours, so a peer on another chain that is behind
// (or level) is caught too. Errors: the peer unreachable (kUnavailable), a
// block that fails verification (its status, with the height).
Result<PullResult> PullOnce(NodeClient& peer, state::StateDb& db, const state::Federation& federation,
                            uint64_t commitment_interval);

// Our hash at `height` against `peer`'s: a ForkInfo when they differ, nothing
// when they agree or the peer does not have that block.
Result<std::optional<ForkInfo>> CompareAt(NodeClient& peer, const state::StateDb& db, uint64_t height);

}  // namespace ailee::node
