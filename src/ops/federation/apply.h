// `federation apply`: a proposal's change submitted to the leader
// (POST /v1/admin/federation-change), which checks the approvals against the
// epoch in force and commits the change in its next block.
//
// Idempotent: when the node's history already holds this change (same
// signing bytes: a run killed after the leader committed it, or a second
// operator), the epoch that carries it is reported, nothing is sent.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "ops/federation/proposal.h"

namespace ailee::ops::federation {

struct ApplyOptions {
  std::string path;         // the proposal file
  std::string node_url;     // the leader
  std::string admin_token;  // its admin token (never on a command line)
};

struct ApplyResult {
  uint64_t height = 0;             // the block that carries the change
  uint64_t activation_height = 0;  // the first block signed under the new epoch
  uint64_t epoch = 0;
  bool already_applied = false;    // found in the node's history; nothing sent
  ProposalStatus status;
};

// kInvalidArgument with the leader's reason when it refuses the change
// (too few approvals, a non-member, a replaced epoch...: nothing changed).
// The leader is the one judge of authorization; `status` says what the file
// held, for the report.
Result<ApplyResult> ApplyProposal(const ApplyOptions& options);

}  // namespace ailee::ops::federation
