#include "ops/federation/sign.h"

#include <algorithm>

#include "base/hint.h"

namespace ailee::ops::federation {

Result<SignResult> SignProposal(const SignOptions& o, keys::Signer& signer) {
  if (o.signer_id.empty()) return InvalidArgument("--id is required: the signer who approves");
  ASSIGN_OR_RETURN(Proposal p, ReadProposal(o.path));
  const state::Federation& approving = ApprovingFederation(p);
  const crypto::PublicKey* member = approving.Find(o.signer_id);
  if (!member) {
    std::string ids;
    for (const auto& [id, key] : approving.signers) ids += (ids.empty() ? "" : ", ") + id;
    return WithHint(InvalidArgument("approval by " + o.signer_id + ", which is not a member of the " +
                                    std::string(ApprovingSide(p)) + " federation"),
                    std::string(state::ChangeAuthorizationName(p.change.authorization)) + " changes are approved by " +
                        ids);
  }
  SignResult r;
  r.fingerprint = signer.public_key().FingerprintHex();
  if (r.fingerprint != member->FingerprintHex())
    return WithHint(InvalidArgument("the key " + signer.Describe() + " (fingerprint " + r.fingerprint + ") is not " +
                                    o.signer_id + "'s (fingerprint " + member->FingerprintHex() + ")"),
                    "sign with " + o.signer_id + "'s own key, or pass the --id the key belongs to");
  r.replaced = std::any_of(p.change.approvals.begin(), p.change.approvals.end(),
                           [&](const state::FederationApproval& a) { return a.signer_id == o.signer_id; });
  RETURN_IF_ERROR(state::ApproveChange(p.change, o.signer_id,
                                       [&](std::string_view message) { return signer.Sign(message); }));
  RETURN_IF_ERROR(WriteProposal(o.path, p));
  r.status = Assess(p);
  r.proposal = std::move(p);
  return r;
}

}  // namespace ailee::ops::federation
