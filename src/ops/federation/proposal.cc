#include "ops/federation/proposal.h"

#include "base/fs.h"
#include "crypto/hash.h"

namespace ailee::ops::federation {

namespace {

using nlohmann::json;

json OutgoingJson(uint64_t epoch, const state::Federation& f) {
  json signers = json::array();
  for (const auto& [id, key] : f.signers) {
    signers.push_back({{"id", id}, {"public_key_pem", key.Pem()}, {"fingerprint", key.FingerprintHex()}});
  }
  return {{"epoch", epoch}, {"threshold", f.threshold}, {"signers", std::move(signers)}};
}

Result<state::Federation> OutgoingFromJson(const json& o) {
  if (!o.is_object() || !o.contains("signers") || !o["signers"].is_array() || !o.contains("threshold") ||
      !o["threshold"].is_number_integer())
    return InvalidArgument("\"outgoing\" must hold \"threshold\" and \"signers\"");
  state::Federation f;
  f.threshold = o["threshold"].get<int>();
  for (const auto& s : o["signers"]) {
    if (!s.is_object() || !s.contains("id") || !s["id"].is_string() || !s.contains("public_key_pem") ||
        !s["public_key_pem"].is_string())
      return InvalidArgument("\"outgoing.signers\" entries need \"id\" and \"public_key_pem\"");
    const std::string id = s["id"].get<std::string>();
    auto key = crypto::PublicKey::FromPem(s["public_key_pem"].get<std::string>());
    if (!key.ok()) return key.status().WithContext("outgoing signer " + id);
    if (!f.signers.emplace(id, std::move(*key)).second) return InvalidArgument("outgoing signer " + id + " is listed twice");
  }
  return f;
}

}  // namespace

json ProposalToJson(const Proposal& p) {
  return {{"format", kProposalFormat}, {"outgoing", OutgoingJson(p.outgoing_epoch, p.outgoing)},
          {"change", state::FederationChangeToJson(p.change)}};
}

Result<Proposal> ProposalFromJson(const json& doc) {
  if (!doc.is_object() || doc.value("format", "") != kProposalFormat)
    return InvalidArgument("not a federation change proposal (expected \"format\": \"" + std::string(kProposalFormat) +
                           "\", as `ailee-cli federation propose` writes)");
  if (!doc.contains("outgoing") || !doc.contains("change")) return InvalidArgument("proposal lacks \"outgoing\" or \"change\"");
  Proposal p;
  ASSIGN_OR_RETURN(p.outgoing, OutgoingFromJson(doc["outgoing"]));
  if (!doc["outgoing"].contains("epoch") || !doc["outgoing"]["epoch"].is_number_unsigned())
    return InvalidArgument("\"outgoing.epoch\" must be the epoch number");
  p.outgoing_epoch = doc["outgoing"]["epoch"].get<uint64_t>();
  ASSIGN_OR_RETURN(p.change, state::FederationChangeFromJson(doc["change"]));
  // The signed change names the epoch it replaces; the unsigned `outgoing`
  // is believed only when it is that epoch.
  if (p.change.outgoing_epoch != p.outgoing_epoch)
    return InvalidArgument("proposal: \"outgoing\" is epoch " + std::to_string(p.outgoing_epoch) +
                           " but the change replaces epoch " + std::to_string(p.change.outgoing_epoch));
  if (state::FederationFingerprint(p.outgoing) != p.change.outgoing_fingerprint)
    return InvalidArgument("proposal: \"outgoing\" (fingerprint " +
                           crypto::HashToHex(state::FederationFingerprint(p.outgoing)) +
                           ") is not the federation the change replaces (" +
                           crypto::HashToHex(p.change.outgoing_fingerprint) + "): the file was edited");
  return p;
}

Result<Proposal> ReadProposal(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, fs::ReadFile(path));
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("change file " + path + ": not JSON");
  auto p = ProposalFromJson(doc);
  if (!p.ok()) return p.status().WithContext("change file " + path);
  return p;
}

Status WriteProposal(const std::string& path, const Proposal& proposal) {
  return fs::WriteFileAtomic(path, ProposalToJson(proposal).dump(2) + "\n", 0644);
}

const state::Federation& ApprovingFederation(const Proposal& p) {
  return p.change.authorization == state::ChangeAuthorization::kBreakGlass ? p.change.incoming : p.outgoing;
}

std::string_view ApprovingSide(const Proposal& p) {
  return p.change.authorization == state::ChangeAuthorization::kBreakGlass ? "incoming" : "outgoing";
}

ProposalStatus Assess(const Proposal& p) {
  ProposalStatus st;
  for (const auto& [id, key] : p.change.incoming.signers)
    if (!p.outgoing.Find(id)) st.added.push_back(id);
  for (const auto& [id, key] : p.outgoing.signers)
    if (!p.change.incoming.Find(id)) st.removed.push_back(id);
  st.outgoing_threshold = p.outgoing.threshold;
  st.incoming_threshold = p.change.incoming.threshold;
  const state::Federation& approving = ApprovingFederation(p);
  for (const auto& [id, key] : approving.signers) st.approvers.push_back(id);
  st.approvals_needed = approving.threshold;
  const std::string bytes = state::ChangeSigningBytes(p.change);
  for (const auto& a : p.change.approvals) {
    const crypto::PublicKey* key = approving.Find(a.signer_id);
    if (!key) {
      st.bad_approvals.push_back(a.signer_id + ": not a member of the " + std::string(ApprovingSide(p)) + " federation");
    } else if (!key->Verify(bytes, a.signature)) {
      st.bad_approvals.push_back(a.signer_id + ": signature does not verify");
    } else {
      st.approved_by.push_back(a.signer_id);
    }
  }
  return st;
}

json ProposalStatusJson(const ProposalStatus& st) {
  return {{"added", st.added},
          {"removed", st.removed},
          {"outgoing_threshold", st.outgoing_threshold},
          {"incoming_threshold", st.incoming_threshold},
          {"approvers", st.approvers},
          {"approvals_needed", st.approvals_needed},
          {"approved_by", st.approved_by},
          {"bad_approvals", st.bad_approvals},
          {"ready", st.ready()}};
}

std::string DescribeProposal(const Proposal& p, const ProposalStatus& st) {
  std::string d = "chain " + ShortChainId(p.change) + ", epoch " + std::to_string(p.outgoing_epoch) + " -> " +
                  std::to_string(p.outgoing_epoch + 1) + ":";
  for (const auto& id : st.removed) d += " remove " + id + ",";
  for (const auto& id : st.added) d += " add " + id + " (" + p.change.incoming.Find(id)->FingerprintHex() + "),";
  d += " threshold " + std::to_string(st.outgoing_threshold) + " -> " + std::to_string(st.incoming_threshold) + "; " +
       std::string(state::ChangeAuthorizationName(p.change.authorization));
  if (!p.change.reason.empty()) d += " (" + p.change.reason + ")";
  d += "; approvals " + std::to_string(st.approved_by.size()) + " of " + std::to_string(st.approvals_needed) +
       " from the " + std::string(ApprovingSide(p)) + " federation";
  if (!st.approved_by.empty()) {
    d += " (";
    for (size_t i = 0; i < st.approved_by.size(); ++i) d += (i ? ", " : "") + st.approved_by[i];
    d += ")";
  }
  for (const auto& bad : st.bad_approvals) d += "; bad approval " + bad;
  return d;
}

std::string ShortChainId(const state::FederationChange& change) {
  return crypto::HashToHex(change.chain_id).substr(0, 16) + "...";
}

json SignersJson(const state::Federation& f) {
  json out = json::array();
  for (const auto& [id, key] : f.signers) out.push_back({{"id", id}, {"fingerprint", key.FingerprintHex()}});
  return out;
}

}  // namespace ailee::ops::federation
