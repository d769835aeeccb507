// A federation change: the record, committed as a transaction in block h,
// that replaces the epoch in force at h with `incoming` from height h + 1.
//
// Authorisation (CheckChangeAuthorized):
//  - threshold:   approvals from >= outgoing.threshold distinct members of
//                 the OUTGOING epoch (the normal rotation);
//  - break_glass: approvals from >= incoming.threshold distinct members of
//                 the INCOMING federation and a non-empty reason (the old
//                 keys cannot be trusted).
// An approval is a signature over ChangeSigningBytes, which cover everything
// except activation_height and the approvals: a change is bound to its chain
// by chain_id (the hash of block 1: a change approved for a staging network
// or a drill's copy run with the same keys is refused here), to the epoch it
// replaces by outgoing_epoch + outgoing_fingerprint (so it cannot be
// replayed, also not after A -> B -> A), and the leader fills
// activation_height when it commits it. Formats: docs/state-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"
#include "crypto/hash.h"
#include "state/federation.h"
#include "state/sign_fn.h"

namespace ailee::state {

enum class ChangeAuthorization : uint8_t { kThreshold = 1, kBreakGlass = 2 };
std::string_view ChangeAuthorizationName(ChangeAuthorization authorization);  // "threshold", "break_glass"

inline constexpr size_t kMaxChangeReasonBytes = 1024;
inline constexpr size_t kMaxChangeOperatorBytes = 128;

struct FederationApproval {
  std::string signer_id;
  std::string signature;  // over ChangeSigningBytes, the signer key's scheme
  bool operator==(const FederationApproval&) const = default;
};

struct FederationChange {
  crypto::Hash256 chain_id{};   // the chain it is for: the hash of its block 1 (FederationHistory::CheckNext)
  uint64_t outgoing_epoch = 0;  // number of the epoch this change replaces
  uint64_t activation_height = 0;  // = the including block's height + 1 (set by the leader)
  crypto::Hash256 outgoing_fingerprint{};  // FederationFingerprint(the epoch replaced)
  Federation incoming;
  ChangeAuthorization authorization = ChangeAuthorization::kThreshold;
  std::string reason;       // required for break_glass, <= kMaxChangeReasonBytes
  std::string operator_id;  // who proposed it, <= kMaxChangeOperatorBytes
  std::vector<FederationApproval> approvals;
  bool operator==(const FederationChange&) const = default;
};

// "ailee.fedchange.v2" || chain_id || outgoing_epoch || outgoing_fingerprint ||
// EncodeFederation(incoming) || authorization || reason || operator.
std::string ChangeSigningBytes(const FederationChange& change);
// The whole record (signing bytes, activation_height, approvals): what a
// federation_change transaction carries. Decode is strict (kDataLoss); a v1
// record (before changes named their chain) is refused, not migrated.
std::string EncodeFederationChange(const FederationChange& change);
Result<FederationChange> DecodeFederationChange(std::string_view bytes);

// Adds or replaces `signer_id`'s approval, signed with `sign`.
Status ApproveChange(FederationChange& change, const std::string& signer_id, const SignFn& sign);

// Shape only: incoming has 1..kMaxFederationSigners signers with distinct
// ids and keys, 1 <= threshold <= signers, reason/operator lengths,
// break_glass has a reason. kInvalidArgument naming what is wrong.
Status CheckChangeShape(const FederationChange& change);
// Shape + every authorisation rule against `outgoing` (the epoch in force
// at `including_height`, the height of the block carrying the change):
// fingerprint, activation_height == including_height + 1, enough distinct
// valid approvals from the right federation. outgoing_epoch is checked by
// FederationHistory::CheckNext, which knows the epoch numbers and the chain.
Status CheckChangeAuthorized(const FederationChange& change, const Federation& outgoing, uint64_t including_height);

// {"chain_id":hex,"outgoing_epoch","activation_height","outgoing_fingerprint":hex,
//  "incoming":{"threshold","signers":[{"id","public_key":PEM}]},
//  "authorization","reason","operator","approvals":[{"signer","signature":hex}]}
nlohmann::json FederationChangeToJson(const FederationChange& change);
Result<FederationChange> FederationChangeFromJson(const nlohmann::json& j);

}  // namespace ailee::state
