// `federation propose`: a federation change built against the epoch in force
// on the node (GET /v1/federation) and for its chain (the hash of its block
// 1, GET /v1/blocks/1), written as a proposal file for the approvers
// (ops/federation/proposal.h). Nothing is signed or sent.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "ops/federation/proposal.h"
#include "state/federation.h"

namespace ailee::ops::federation {

struct ProposeOptions {
  std::string node_url;                       // where the epoch in force is read
  state::Federation genesis;                  // the config's federation section (epoch 0's keys)
  std::string out;                            // the proposal file to create (must not exist)
  std::map<std::string, std::string> add;     // signer id -> public key PEM file
  std::vector<std::string> remove;            // signer ids
  int threshold = 0;                          // of the incoming federation
  bool break_glass = false;                   // approved by the incoming signers (the old keys are not trusted)
  std::string reason;                         // required with break_glass
  std::string operator_id;
};

struct ProposeResult {
  Proposal proposal;
  ProposalStatus status;  // no approval yet: who must approve, and how many
};

// The change's checks that need no signature run here (an added id already
// a member, a removed one that is not, then state::CheckChangeShape: an
// empty federation, a threshold above its size, the same key twice, a
// break-glass change without a reason) so a bad proposal fails before anyone
// signs it. The outgoing members' keys are checked against the node's epoch
// (node_view.h MembersOf). kAlreadyExists when `out` exists (a proposal may
// carry approvals: never overwritten); kFailedPrecondition when the chain has
// no block 1 yet (a change cannot name its chain before it).
Result<ProposeResult> Propose(const ProposeOptions& options);

}  // namespace ailee::ops::federation
