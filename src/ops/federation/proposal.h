// The proposal file that `federation propose` writes and `sign` / `apply`
// read: one federation_change record (state/federation_change.h) and the
// outgoing federation it replaces, as the node reported it when the change
// was proposed (docs/emergency.md, "The change file").
//
// `outgoing` lets an approver's key be checked offline against the member it
// claims to be; it is trusted only because FederationFingerprint(outgoing)
// must equal the signed change.outgoing_fingerprint (ReadProposal checks it).
// The file holds no secret; WriteProposal replaces it atomically, so a crash
// leaves the old version or the new one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "state/federation.h"
#include "state/federation_change.h"

namespace ailee::ops::federation {

inline constexpr std::string_view kProposalFormat = "ailee.federation-proposal.v1";

struct Proposal {
  uint64_t outgoing_epoch = 0;
  state::Federation outgoing;
  state::FederationChange change;
};

nlohmann::json ProposalToJson(const Proposal& proposal);
// Parses and checks the document: its format, the change's own shape, and
// that `outgoing` is the federation the change names by fingerprint and epoch.
Result<Proposal> ProposalFromJson(const nlohmann::json& doc);

Result<Proposal> ReadProposal(const std::string& path);
// Atomic replace (temporary sibling, fsync, rename, fsync of the directory).
Status WriteProposal(const std::string& path, const Proposal& proposal);

// What a proposal changes and how far its approval has come.
struct ProposalStatus {
  std::vector<std::string> added, removed;  // signer ids, sorted
  int outgoing_threshold = 0, incoming_threshold = 0;
  // Who may approve: the outgoing members (threshold) or the incoming ones
  // (break_glass); how many must; who did, with a signature that verifies.
  std::vector<std::string> approvers;
  int approvals_needed = 0;
  std::vector<std::string> approved_by;
  std::vector<std::string> bad_approvals;  // "signer-09: not a member", "signer-02: signature does not verify"
  bool ready() const { return bad_approvals.empty() && static_cast<int>(approved_by.size()) >= approvals_needed; }
};
ProposalStatus Assess(const Proposal& proposal);
// The approving side: the outgoing federation or the incoming one.
const state::Federation& ApprovingFederation(const Proposal& proposal);
std::string_view ApprovingSide(const Proposal& proposal);  // "outgoing" / "incoming"
nlohmann::json ProposalStatusJson(const ProposalStatus& status);
// "chain 1a2b3c4d5e6f7a8b..., epoch 0 -> 1: remove signer-01, add signer-04 (...), threshold 2 -> 2;
//  break_glass (reason); approvals 1 of 2 from the incoming federation (signer-02)"
std::string DescribeProposal(const Proposal& proposal, const ProposalStatus& status);
// The first 16 hex digits of the chain id the change names, then "...".
std::string ShortChainId(const state::FederationChange& change);

// JSON of one federation's members for reports: [{"id","fingerprint"}...].
nlohmann::json SignersJson(const state::Federation& federation);

}  // namespace ailee::ops::federation
