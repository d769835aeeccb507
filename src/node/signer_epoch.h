// A leader's signer against the chain's federation epochs: the config's
// signer.id may name a signer a later epoch added (not in the genesis
// federation), and a signer that was rotated out must stop producing.
// Pure: the node passes the history (StateDb::Federations); tests call it.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "crypto/asymmetric.h"
#include "state/federation_history.h"

namespace ailee::node {

// The key must be the one the chain's newest epoch listing `signer_id` has
// for it (kInvalidArgument naming both fingerprints). A signer no epoch
// lists passes here: CheckMaySign refuses it, and a later epoch pulled from
// the peers may still add it.
Status CheckSignerKeyInChain(const state::FederationHistory& history, const std::string& signer_id,
                             const crypto::PublicKey& key);

// kFailedPrecondition when `signer_id` is not a member of the epoch in force
// at `height`, saying where it stands ("left the federation at height 120
// (epoch 1, break_glass: ...)") and who may sign.
Status CheckMaySign(const state::FederationHistory& history, const std::string& signer_id, uint64_t height);

}  // namespace ailee::node
