#include "ops/federation/propose.h"

#include <set>

#include "base/fs.h"
#include "base/hint.h"
#include "ops/federation/node_view.h"

namespace ailee::ops::federation {

namespace {

std::string MemberIds(const state::Federation& f) {
  std::string out;
  for (const auto& [id, key] : f.signers) out += (out.empty() ? "" : ", ") + id;
  return out;
}

// The incoming federation: the outgoing one with `remove` taken out and `add`
// put in, each edit naming a member that exists (remove) or does not (add).
// The rest of the shape (threshold, distinct keys) is CheckChangeShape's.
Result<state::Federation> Incoming(const ProposeOptions& o, const state::Federation& outgoing) {
  state::Federation f = outgoing;
  f.threshold = o.threshold;
  for (const auto& id : o.remove) {
    if (f.signers.erase(id) == 0)
      return InvalidArgument("--remove " + id + ": not a member of the federation in force (members: " +
                             MemberIds(outgoing) + ")");
  }
  for (const auto& [id, pem_file] : o.add) {
    if (f.signers.count(id))
      return InvalidArgument("--add " + id + ": already a member; to replace its key, --remove " + id +
                             " and --add the new key under a new id");
    ASSIGN_OR_RETURN(std::string pem, fs::ReadFile(pem_file));
    auto key = crypto::PublicKey::FromPem(pem);
    if (!key.ok()) return key.status().WithContext("--add " + id + "=" + pem_file);
    f.signers.emplace(id, std::move(*key));
  }
  return f;
}

}  // namespace

Result<ProposeResult> Propose(const ProposeOptions& o) {
  if (o.out.empty()) return InvalidArgument("--out is required: the proposal file to write");
  if (fs::Exists(o.out))
    return WithHint(AlreadyExists("proposal file " + o.out + " exists"),
                    "a proposal may already carry approvals: pick another --out, or remove it if it is abandoned");
  if (o.break_glass && o.reason.empty())
    return InvalidArgument("a break-glass change needs --reason: say why the outgoing keys cannot approve it");
  ASSIGN_OR_RETURN(FederationView view, FetchFederation(o.node_url));
  const EpochView& current = view.current();
  ASSIGN_OR_RETURN(state::Federation outgoing, MembersOf(current, o.node_url, o.genesis));
  ASSIGN_OR_RETURN(crypto::Hash256 chain_id, FetchChainId(o.node_url));

  ProposeResult r;
  Proposal& p = r.proposal;
  p.outgoing_epoch = current.number;
  p.outgoing = outgoing;
  p.change.chain_id = chain_id;
  p.change.outgoing_epoch = current.number;
  p.change.outgoing_fingerprint = state::FederationFingerprint(outgoing);
  ASSIGN_OR_RETURN(p.change.incoming, Incoming(o, outgoing));
  p.change.authorization = o.break_glass ? state::ChangeAuthorization::kBreakGlass : state::ChangeAuthorization::kThreshold;
  p.change.reason = o.reason;
  p.change.operator_id = o.operator_id;
  if (p.change.incoming == outgoing) return InvalidArgument("nothing to change: the incoming federation is the one in force");
  RETURN_IF_ERROR(state::CheckChangeShape(p.change));
  r.status = Assess(p);
  // Exclusive: two operators proposing into one file do not overwrite each other.
  RETURN_IF_ERROR(fs::WriteFileExclusive(o.out, ProposalToJson(p).dump(2) + "\n", 0644));
  return r;
}

}  // namespace ailee::ops::federation
