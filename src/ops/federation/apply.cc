#include "ops/federation/apply.h"

#include "base/hint.h"
#include "crypto/hash.h"
#include "node/client.h"
#include "ops/federation/node_view.h"

namespace ailee::ops::federation {

namespace {

// The epoch that `change` made, if the node has it: on the chain the change
// names, the one after the epoch it replaces, from that epoch's members to
// the same incoming ones, with the same authorization, reason and operator
// (what the approvals sign).
const EpochView* FindApplied(const FederationView& view, const state::FederationChange& change) {
  const uint64_t n = change.outgoing_epoch + 1;
  if (n >= view.epochs.size() || view.chain_id != crypto::HashToHex(change.chain_id)) return nullptr;
  const EpochView& e = view.epochs[n];
  const bool same = e.outgoing_fingerprint == crypto::HashToHex(change.outgoing_fingerprint) &&
                    e.fingerprint == crypto::HashToHex(state::FederationFingerprint(change.incoming)) &&
                    e.authorization == state::ChangeAuthorizationName(change.authorization) &&
                    e.reason == change.reason && e.operator_id == change.operator_id;
  return same ? &e : nullptr;
}

}  // namespace

Result<ApplyResult> ApplyProposal(const ApplyOptions& o) {
  ASSIGN_OR_RETURN(Proposal p, ReadProposal(o.path));
  ApplyResult r;
  r.status = Assess(p);
  ASSIGN_OR_RETURN(FederationView before, FetchFederation(o.node_url));
  if (const EpochView* e = FindApplied(before, p.change)) {
    r.already_applied = true;
    r.epoch = e->number;
    r.height = e->change_height;
    r.activation_height = e->start_height;
    return r;
  }
  node::NodeClient client(o.node_url, o.admin_token, 30000);
  auto answer = client.PostJson("/v1/admin/federation-change", state::FederationChangeToJson(p.change), /*admin=*/true);
  if (!answer.ok()) {
    Status st = answer.status().WithContext("federation change refused by " + o.node_url);
    if (answer.status().code() == StatusCode::kPermissionDenied)
      return WithHint(st, "the admin token comes from the config's node.admin_token_file; run as a user who may read it");
    return st;
  }
  const auto& a = *answer;
  if (!a.contains("height") || !a.contains("activation_height") || !a.contains("epoch"))
    return Internal("node " + o.node_url + " answered the federation change without height/activation_height/epoch: " +
                    a.dump());
  r.height = a["height"].get<uint64_t>();
  r.activation_height = a["activation_height"].get<uint64_t>();
  r.epoch = a["epoch"].get<uint64_t>();
  return r;
}

}  // namespace ailee::ops::federation
