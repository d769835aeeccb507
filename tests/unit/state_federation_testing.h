// Fixtures for the federation epoch tests: named signer keys and changes
// approved by chosen signers.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "crypto/asymmetric.h"
#include "crypto/hash.h"
#include "state/federation.h"
#include "state/federation_change.h"

namespace ailee::state::testing {

// Keys made on first use, one per signer id, for the whole test program.
inline const crypto::PrivateKey& SignerKey(const std::string& id) {
  static std::map<std::string, crypto::PrivateKey> keys;
  auto it = keys.find(id);
  if (it == keys.end()) {
    auto k = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
    EXPECT_TRUE(k.ok());
    it = keys.emplace(id, std::move(*k)).first;
  }
  return it->second;
}

inline Federation MakeFederation(const std::vector<std::string>& ids, int threshold) {
  Federation f;
  for (const auto& id : ids) f.signers.emplace(id, SignerKey(id).public_key());
  f.threshold = threshold;
  return f;
}

inline SignFn SignAs(const std::string& id) {
  return [id](std::string_view m) { return SignerKey(id).Sign(m); };
}

// The chain id of the tests that check changes without a chain (a
// FederationHistory built by hand is given it with SetChainId).
inline crypto::Hash256 TestChainId() { return crypto::Sha256("a test chain's block 1"); }

// A change for chain `chain_id` replacing `outgoing` (epoch `outgoing_epoch`)
// in the block at `including_height`, approved by `approvers`.
inline FederationChange MakeChange(const crypto::Hash256& chain_id, const Federation& outgoing, uint64_t outgoing_epoch,
                                   Federation incoming, uint64_t including_height,
                                   const std::vector<std::string>& approvers,
                                   ChangeAuthorization authorization = ChangeAuthorization::kThreshold,
                                   std::string reason = {}) {
  FederationChange c;
  c.chain_id = chain_id;
  c.outgoing_epoch = outgoing_epoch;
  c.activation_height = including_height + 1;
  c.outgoing_fingerprint = FederationFingerprint(outgoing);
  c.incoming = std::move(incoming);
  c.authorization = authorization;
  c.reason = std::move(reason);
  c.operator_id = "alice";
  for (const auto& id : approvers) EXPECT_TRUE(ApproveChange(c, id, SignAs(id)).ok());
  return c;
}

}  // namespace ailee::state::testing
