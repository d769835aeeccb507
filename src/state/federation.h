// The federation: the set of signer keys that may sign blocks, anchor
// commitments and peg-ins. ONE epoch's members: the config's `federation:`
// section is the genesis epoch (epoch 0) and stays so forever; later epochs
// are carried by the chain (federation_change.h, federation_history.h).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/asymmetric.h"
#include "crypto/hash.h"

namespace ailee::state {

struct Federation {
  // signer id (as configured, e.g. "signer-1") -> public key.
  std::map<std::string, crypto::PublicKey> signers;
  // M of N for Bitcoin-side operations and for authorising the next
  // federation change. The L2 itself accepts one signature per block /
  // anchor / peg-in from any listed signer.
  int threshold = 1;

  const crypto::PublicKey* Find(const std::string& signer_id) const {
    auto it = signers.find(signer_id);
    return it == signers.end() ? nullptr : &it->second;
  }
  // Same ids, same keys (by DER), same threshold.
  bool operator==(const Federation& other) const;
};

inline constexpr size_t kMaxFederationSigners = 100;

// Canonical bytes: u32 threshold, u32 count, then per member sorted by id:
// bytes id, bytes DER SubjectPublicKeyInfo (docs/state-format.md).
std::string EncodeFederation(const Federation& federation);
// Strict inverse of EncodeFederation (kDataLoss on malformed input).
Result<Federation> DecodeFederation(std::string_view bytes);
// SHA-256(EncodeFederation): what a federation change names as the epoch it
// replaces.
crypto::Hash256 FederationFingerprint(const Federation& federation);

}  // namespace ailee::state
