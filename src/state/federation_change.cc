#include "state/federation_change.h"

#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "base/operator_text.h"
#include "state/encoding.h"
#include "state/internal/json_fields.h"

namespace ailee::state {
namespace {

constexpr std::string_view kChangeDomain = "ailee.fedchange.v2";
// The pre-release format before changes named their chain: recognised only
// to say so (no migration, docs/state-format.md).
constexpr std::string_view kChangeDomainV1 = "ailee.fedchange.v1";
constexpr size_t kMaxSignerIdBytesHere = 128;
constexpr size_t kMaxSignatureBytes = 1024;

// The reason and operator end up in JSON (the admin API, `federation show`,
// the proposal file), whose encoder throws on anything but UTF-8.
bool IsUtf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

std::string Plural(size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

}  // namespace

std::string_view ChangeAuthorizationName(ChangeAuthorization authorization) {
  switch (authorization) {
    case ChangeAuthorization::kThreshold: return "threshold";
    case ChangeAuthorization::kBreakGlass: return "break_glass";
  }
  return "unknown";
}

std::string ChangeSigningBytes(const FederationChange& change) {
  std::string out(kChangeDomain);
  out.append(crypto::HashToString(change.chain_id));
  PutU64(&out, change.outgoing_epoch);
  out.append(crypto::HashToString(change.outgoing_fingerprint));
  PutBytes(&out, EncodeFederation(change.incoming));
  PutU8(&out, static_cast<uint8_t>(change.authorization));
  PutBytes(&out, change.reason);
  PutBytes(&out, change.operator_id);
  return out;
}

std::string EncodeFederationChange(const FederationChange& change) {
  std::string out = ChangeSigningBytes(change);
  PutU64(&out, change.activation_height);
  PutU32(&out, static_cast<uint32_t>(change.approvals.size()));
  for (const auto& a : change.approvals) {
    PutBytes(&out, a.signer_id);
    PutBytes(&out, a.signature);
  }
  return out;
}

Result<FederationChange> DecodeFederationChange(std::string_view bytes) {
  if (bytes.substr(0, kChangeDomainV1.size()) == kChangeDomainV1) {
    return DataLoss(
        "federation change: format v1 (\"ailee.fedchange.v1\", made before a change named its chain) is "
        "no longer read and has no migration (pre-release format): recreate this data dir from a chain "
        "started by this version");
  }
  if (bytes.substr(0, kChangeDomain.size()) != kChangeDomain) return DataLoss("federation change: bad domain prefix");
  Reader r(bytes.substr(kChangeDomain.size()));
  FederationChange c;
  std::string chain_id, fingerprint, incoming;
  uint8_t auth = 0;
  uint32_t approvals = 0;
  if (!r.Fixed(32, &chain_id) || !r.U64(&c.outgoing_epoch) || !r.Fixed(32, &fingerprint) ||
      !r.Bytes(&incoming, 1u << 20) || !r.U8(&auth) || !r.Bytes(&c.reason, kMaxChangeReasonBytes) ||
      !r.Bytes(&c.operator_id, kMaxChangeOperatorBytes) || !r.U64(&c.activation_height) || !r.U32(&approvals) ||
      approvals > kMaxFederationSigners) {
    return DataLoss("federation change: malformed record");
  }
  std::copy(chain_id.begin(), chain_id.end(), c.chain_id.begin());
  std::copy(fingerprint.begin(), fingerprint.end(), c.outgoing_fingerprint.begin());
  if (auth != static_cast<uint8_t>(ChangeAuthorization::kThreshold) &&
      auth != static_cast<uint8_t>(ChangeAuthorization::kBreakGlass)) {
    return DataLoss("federation change: unknown authorization " + std::to_string(auth));
  }
  c.authorization = static_cast<ChangeAuthorization>(auth);
  ASSIGN_OR_RETURN(c.incoming, DecodeFederation(incoming));
  for (uint32_t i = 0; i < approvals; ++i) {
    FederationApproval a;
    if (!r.Bytes(&a.signer_id, kMaxSignerIdBytesHere) || !r.Bytes(&a.signature, kMaxSignatureBytes)) {
      return DataLoss("federation change: truncated approval");
    }
    c.approvals.push_back(std::move(a));
  }
  if (!r.done()) return DataLoss("federation change: trailing bytes");
  return c;
}

Status ApproveChange(FederationChange& change, const std::string& signer_id, const SignFn& sign) {
  if (signer_id.empty() || signer_id.size() > kMaxSignerIdBytesHere) {
    return InvalidArgument("approval: signer id must be 1.." + std::to_string(kMaxSignerIdBytesHere) + " bytes");
  }
  ASSIGN_OR_RETURN(std::string signature, sign(ChangeSigningBytes(change)));
  for (auto& a : change.approvals) {
    if (a.signer_id == signer_id) {
      a.signature = std::move(signature);
      return Status::Ok();
    }
  }
  change.approvals.push_back({signer_id, std::move(signature)});
  return Status::Ok();
}

Status CheckChangeShape(const FederationChange& change) {
  const Federation& in = change.incoming;
  if (in.signers.empty()) return InvalidArgument("federation change: the incoming federation has no signer");
  if (in.signers.size() > kMaxFederationSigners) {
    return InvalidArgument("federation change: " + Plural(in.signers.size(), "signer") + ", more than the limit " +
                           std::to_string(kMaxFederationSigners));
  }
  if (in.threshold < 1) return InvalidArgument("federation change: threshold must be at least 1");
  if (static_cast<size_t>(in.threshold) > in.signers.size()) {
    return InvalidArgument("federation change: leaves " + Plural(in.signers.size(), "signer") +
                           ", fewer than the threshold " + std::to_string(in.threshold));
  }
  std::set<std::string> keys;
  for (const auto& [id, key] : in.signers) {
    if (id.empty() || id.size() > kMaxSignerIdBytesHere) {
      return InvalidArgument("federation change: signer id \"" + id.substr(0, 40) + "\" must be 1.." +
                             std::to_string(kMaxSignerIdBytesHere) + " bytes");
    }
    if (!keys.insert(key.Der()).second) {
      return InvalidArgument("federation change: signer " + id + " has the same public key as another signer");
    }
  }
  if (change.reason.size() > kMaxChangeReasonBytes) {
    return InvalidArgument("federation change: reason is " + std::to_string(change.reason.size()) +
                           " bytes, the limit is " + std::to_string(kMaxChangeReasonBytes));
  }
  if (change.operator_id.size() > kMaxChangeOperatorBytes) {
    return InvalidArgument("federation change: operator is " + std::to_string(change.operator_id.size()) +
                           " bytes, the limit is " + std::to_string(kMaxChangeOperatorBytes));
  }
  // Blank counts as empty: the reason is the audit's only record of why the
  // outgoing keys were overruled.
  if (change.authorization == ChangeAuthorization::kBreakGlass &&
      IsBlankText(change.reason)) {
    return InvalidArgument("federation change: a break_glass change needs a reason: say why, it is audited");
  }
  for (const auto& [field, text] : {std::pair<const char*, const std::string*>{"reason", &change.reason},
                                     {"operator", &change.operator_id}}) {
    if (!IsUtf8(*text)) {
      return InvalidArgument(std::string("federation change: ") + field + " is not valid UTF-8 (write it in UTF-8)");
    }
  }
  if (HasControlCharacter(change.reason)) {
    return InvalidArgument("federation change: reason holds a control character (only tab and newline are kept)");
  }
  if (change.authorization != ChangeAuthorization::kThreshold &&
      change.authorization != ChangeAuthorization::kBreakGlass) {
    return InvalidArgument("federation change: unknown authorization");
  }
  return Status::Ok();
}

Status CheckChangeAuthorized(const FederationChange& change, const Federation& outgoing, uint64_t including_height) {
  RETURN_IF_ERROR(CheckChangeShape(change));
  if (change.outgoing_fingerprint != FederationFingerprint(outgoing)) {
    return InvalidArgument("federation change: outgoing_fingerprint " +
                           crypto::HashToHex(change.outgoing_fingerprint).substr(0, 16) +
                           "... does not name the federation in force at height " + std::to_string(including_height) +
                           " (" + crypto::HashToHex(FederationFingerprint(outgoing)).substr(0, 16) +
                           "...): it was made for another epoch (replayed or stale)");
  }
  if (change.activation_height != including_height + 1) {
    return InvalidArgument("federation change: activation_height " + std::to_string(change.activation_height) +
                           " must be " + std::to_string(including_height + 1) + " (the block after the one at " +
                           std::to_string(including_height) + " that carries it)");
  }
  const bool break_glass = change.authorization == ChangeAuthorization::kBreakGlass;
  const Federation& approvers = break_glass ? change.incoming : outgoing;
  const std::string which = break_glass ? "incoming" : "outgoing";
  const std::string message = ChangeSigningBytes(change);
  std::set<std::string> distinct;
  for (const auto& a : change.approvals) {
    const crypto::PublicKey* key = approvers.Find(a.signer_id);
    if (key == nullptr) {
      return InvalidArgument("federation change: approval by " + a.signer_id + ", which is not a member of the " +
                             which + " federation");
    }
    if (!key->Verify(message, a.signature)) {
      return InvalidArgument("federation change: the approval by " + a.signer_id + " does not verify under its " +
                             which + " key (signed another change, or with another key)");
    }
    distinct.insert(a.signer_id);
  }
  if (distinct.size() < static_cast<size_t>(approvers.threshold)) {
    return InvalidArgument("federation change: " + Plural(distinct.size(), "approval") + " from the " + which +
                           " federation, threshold is " + std::to_string(approvers.threshold));
  }
  return Status::Ok();
}

nlohmann::json FederationChangeToJson(const FederationChange& change) {
  nlohmann::json signers = nlohmann::json::array();
  for (const auto& [id, key] : change.incoming.signers) signers.push_back({{"id", id}, {"public_key", key.Pem()}});
  nlohmann::json approvals = nlohmann::json::array();
  for (const auto& a : change.approvals) approvals.push_back({{"signer", a.signer_id}, {"signature", HexEncode(a.signature)}});
  return {{"chain_id", crypto::HashToHex(change.chain_id)},
          {"outgoing_epoch", change.outgoing_epoch},
          {"activation_height", change.activation_height},
          {"outgoing_fingerprint", crypto::HashToHex(change.outgoing_fingerprint)},
          {"incoming", {{"threshold", change.incoming.threshold}, {"signers", signers}}},
          {"authorization", ChangeAuthorizationName(change.authorization)},
          {"reason", change.reason},
          {"operator", change.operator_id},
          {"approvals", approvals}};
}

Result<FederationChange> FederationChangeFromJson(const nlohmann::json& j) {
  using namespace internal;
  if (!j.is_object()) return InvalidArgument("federation change: must be a JSON object");
  RETURN_IF_ERROR(CheckFields(j, {"chain_id", "outgoing_epoch", "activation_height", "outgoing_fingerprint", "incoming",
                                  "authorization", "reason", "operator", "approvals"}));
  if (!j.contains("chain_id")) {
    return InvalidArgument(
        "federation change: no \"chain_id\" (the hash of block 1 of the chain it is for): it was "
        "made by an older ailee-cli; propose it again with `ailee-cli federation propose` and "
        "have it approved again");
  }
  FederationChange c;
  ASSIGN_OR_RETURN(std::string chain_id, JsonHex(j, "chain_id", 32));
  std::copy(chain_id.begin(), chain_id.end(), c.chain_id.begin());
  ASSIGN_OR_RETURN(c.outgoing_epoch, JsonU64(j, "outgoing_epoch"));
  ASSIGN_OR_RETURN(c.activation_height, JsonU64(j, "activation_height"));
  ASSIGN_OR_RETURN(std::string fingerprint, JsonHex(j, "outgoing_fingerprint", 32));
  std::copy(fingerprint.begin(), fingerprint.end(), c.outgoing_fingerprint.begin());
  ASSIGN_OR_RETURN(std::string auth, JsonString(j, "authorization"));
  if (auth == "threshold") {
    c.authorization = ChangeAuthorization::kThreshold;
  } else if (auth == "break_glass") {
    c.authorization = ChangeAuthorization::kBreakGlass;
  } else {
    return InvalidArgument("field \"authorization\": \"" + auth.substr(0, 40) + "\" is not threshold or break_glass");
  }
  ASSIGN_OR_RETURN(c.reason, JsonString(j, "reason"));
  ASSIGN_OR_RETURN(c.operator_id, JsonString(j, "operator"));

  auto in = j.find("incoming");
  if (in == j.end() || !in->is_object()) return InvalidArgument("field \"incoming\" must be an object");
  RETURN_IF_ERROR(CheckFields(*in, {"threshold", "signers"}).WithContext("incoming"));
  ASSIGN_OR_RETURN(uint64_t threshold, JsonU64(*in, "threshold"));
  if (threshold > kMaxFederationSigners) return InvalidArgument("field \"incoming.threshold\" is too large");
  c.incoming.threshold = static_cast<int>(threshold);
  auto signers = in->find("signers");
  if (signers == in->end() || !signers->is_array()) return InvalidArgument("field \"incoming.signers\" must be an array");
  if (signers->size() > kMaxFederationSigners) return InvalidArgument("field \"incoming.signers\": too many signers");
  for (const auto& s : *signers) {
    if (!s.is_object()) return InvalidArgument("field \"incoming.signers\": each signer must be an object");
    RETURN_IF_ERROR(CheckFields(s, {"public_key"}).WithContext("incoming.signers"));
    ASSIGN_OR_RETURN(std::string id, JsonString(s, "id"));
    ASSIGN_OR_RETURN(std::string pem, JsonString(s, "public_key"));
    auto key = crypto::PublicKey::FromPem(pem);
    if (!key.ok()) return InvalidArgument("incoming signer " + id + ": public_key: " + key.status().message());
    if (!c.incoming.signers.emplace(id, std::move(*key)).second) {
      return InvalidArgument("incoming signer " + id + " is listed twice");
    }
  }
  auto approvals = j.find("approvals");
  if (approvals == j.end() || !approvals->is_array()) return InvalidArgument("field \"approvals\" must be an array");
  if (approvals->size() > kMaxFederationSigners) return InvalidArgument("field \"approvals\": too many approvals");
  for (const auto& a : *approvals) {
    if (!a.is_object()) return InvalidArgument("field \"approvals\": each approval must be an object");
    RETURN_IF_ERROR(CheckFields(a, {"signer", "signature"}).WithContext("approvals"));
    FederationApproval ap;
    ASSIGN_OR_RETURN(ap.signer_id, JsonString(a, "signer"));
    ASSIGN_OR_RETURN(ap.signature, JsonHex(a, "signature", 0));
    if (ap.signature.empty() || ap.signature.size() > kMaxSignatureBytes) {
      return InvalidArgument("approval by " + ap.signer_id + ": signature must be 1.." +
                             std::to_string(kMaxSignatureBytes) + " bytes");
    }
    c.approvals.push_back(std::move(ap));
  }
  RETURN_IF_ERROR(CheckChangeShape(c));
  return c;
}

}  // namespace ailee::state
