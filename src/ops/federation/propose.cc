#include "ops/federation/propose.h"

#include <algorithm>
#include <set>

#include "base/fs.h"
#include "base/hint.h"
#include "ops/federation/node_view.h"

namespace ailee::ops::federation {

namespace {

std::vector<std::string> Ids(const state::Federation& f) {
  std::vector<std::string> ids;
  for (const auto& [id, key] : f.signers) ids.push_back(id);
  return ids;
}

std::string Joined(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

// The incoming federation: the outgoing one with `remove` taken out and `add`
// put in, each edit naming a member that exists (remove) or does not (add).
Result<state::Federation> Incoming(const ProposeOptions& o, const state::Federation& outgoing) {
  state::Federation f = outgoing;
  f.threshold = o.threshold;
  for (const auto& id : o.remove) {
    if (f.signers.erase(id) == 0)
      return InvalidArgument("--remove " + id + ": not a member of the federation in force (members: " +
                             Joined(Ids(outgoing)) + ")");
  }
  std::set<std::string> fingerprints;
  for (const auto& [id, key] : f.signers) fingerprints.insert(key.FingerprintHex());
  for (const auto& [id, pem_file] : o.add) {
    if (f.signers.count(id))
      return InvalidArgument("--add " + id + ": already a member; to replace its key, --remove " + id +
                             " and --add it under a new id");
    ASSIGN_OR_RETURN(std::string pem, fs::ReadFile(pem_file));
    auto key = crypto::PublicKey::FromPem(pem);
    if (!key.ok()) return key.status().WithContext("--add " + id + "=" + pem_file);
    if (!fingerprints.insert(key->FingerprintHex()).second)
      return InvalidArgument("--add " + id + ": its public key " + key->FingerprintHex() +
                             " is already another member's; every signer needs its own key");
    f.signers.emplace(id, std::move(*key));
  }
  if (f.signers.empty()) return InvalidArgument("the change leaves no signer in the federation");
  if (o.threshold < 1 || static_cast<size_t>(o.threshold) > f.signers.size())
    return InvalidArgument("leaves " + std::to_string(f.signers.size()) + " signer" + (f.signers.size() == 1 ? "" : "s") +
                           ", fewer than the threshold " + std::to_string(o.threshold));
  return f;
}

}  // namespace

Result<ProposeResult> Propose(const ProposeOptions& o) {
  if (o.out.empty()) return InvalidArgument("--out is required: the proposal file to write");
  if (fs::Exists(o.out))
    return WithHint(AlreadyExists("proposal file " + o.out + " exists"),
                    "a proposal may already carry approvals: pick another --out, or remove it if it is abandoned");
  if (o.add.empty() && o.remove.empty() && o.threshold == 0)
    return InvalidArgument("nothing to change: give --add, --remove or --threshold");
  if (o.break_glass && o.reason.empty())
    return InvalidArgument("a break-glass change needs --reason: say why the outgoing keys cannot approve it");
  if (o.reason.size() > 1024) return InvalidArgument("--reason is longer than 1024 bytes");
  if (o.operator_id.size() > 128) return InvalidArgument("--operator is longer than 128 bytes");
  ASSIGN_OR_RETURN(FederationView view, FetchFederation(o.node_url));
  const EpochView& current = view.current();

  ProposeResult r;
  ProposeOptions opts = o;
  if (opts.threshold == 0) opts.threshold = current.federation.threshold;
  ASSIGN_OR_RETURN(state::Federation incoming, Incoming(opts, current.federation));
  Proposal& p = r.proposal;
  p.outgoing_epoch = current.number;
  p.outgoing = current.federation;
  p.change.outgoing_epoch = current.number;
  p.change.outgoing_fingerprint = state::FederationFingerprint(current.federation);
  p.change.incoming = incoming;
  p.change.authorization = o.break_glass ? state::ChangeAuthorization::kBreakGlass : state::ChangeAuthorization::kThreshold;
  p.change.reason = o.reason;
  p.change.operator_id = o.operator_id;
  r.status = Assess(p);
  // Exclusive: two operators proposing into one file do not overwrite each other.
  RETURN_IF_ERROR(fs::WriteFileExclusive(o.out, ProposalToJson(p).dump(2) + "\n", 0644));
  return r;
}

}  // namespace ailee::ops::federation
