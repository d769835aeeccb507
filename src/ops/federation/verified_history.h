// The federation's epochs as a node reports them (GET /v1/federation),
// believed only once the chain proves them: each later epoch's change record
// is read from the block that carried it (GET /v1/blocks/<change_height>)
// and that block must be signed by a member of the epoch it replaces, hold
// the change in its tx root, and the change must pass the same rules the
// node applies (state::FederationHistory::Append: the chain id, outgoing
// epoch and fingerprint, approvals from the right federation). The genesis is the
// config's, never the node's. So a peer cannot add a signer on its own word:
// a forged change needs the outgoing members' keys.
#pragma once

#include <string>

#include "base/status.h"
#include "state/federation.h"
#include "state/federation_history.h"

namespace ailee::ops::federation {

// kUnavailable when the node does not answer; kFailedPrecondition when its
// genesis is not `genesis` (another network, or an edited config);
// kDataLoss naming the epoch and the check when the node's history does not
// verify. Reads one block per later epoch, and block 1 (the chain id every
// change must name) when there is a later epoch.
Result<state::FederationHistory> VerifiedHistoryFrom(const std::string& node_url, const state::Federation& genesis);

}  // namespace ailee::ops::federation
