// The federation: the set of signer keys that may sign blocks, anchor
// commitments and peg-ins. Filled by config/; state/ only reads it.
#pragma once

#include <map>
#include <string>

#include "crypto/asymmetric.h"

namespace ailee::state {

struct Federation {
  // signer id (as configured, e.g. "signer-1") -> public key.
  std::map<std::string, crypto::PublicKey> signers;
  // M of N for Bitcoin-side operations. The L2 itself accepts one signature
  // per block / anchor / peg-in from any listed signer; the threshold is
  // carried for the layers above (keys/, node/).
  int threshold = 1;

  const crypto::PublicKey* Find(const std::string& signer_id) const {
    auto it = signers.find(signer_id);
    return it == signers.end() ? nullptr : &it->second;
  }
};

}  // namespace ailee::state
