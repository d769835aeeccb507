// `federation sign`: one approval added to a proposal file, offline (an
// approver's machine needs no node). The key is checked before it signs:
// `signer_id` must be a member of the approving side (the outgoing
// federation for a threshold change, the incoming one for break_glass) and
// the key's fingerprint must be that member's, so nobody approves under
// another signer's name and a wrong key is named, not silently used.
#pragma once

#include <string>

#include "base/status.h"
#include "keys/signer.h"
#include "ops/federation/proposal.h"

namespace ailee::ops::federation {

struct SignOptions {
  std::string path;       // the proposal file; rewritten atomically with the approval
  std::string signer_id;  // who approves
};

struct SignResult {
  Proposal proposal;      // as written
  ProposalStatus status;  // after this approval
  std::string fingerprint;  // of the key that signed
  bool replaced = false;    // the signer had approved before (its approval was replaced)
};

Result<SignResult> SignProposal(const SignOptions& options, keys::Signer& signer);

}  // namespace ailee::ops::federation
