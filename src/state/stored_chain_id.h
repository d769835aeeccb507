// The chain id (the hash of block 1, what a federation change names) read
// from a data dir's stored block records. The record stored under height 1
// counts only if it says height 1 and block 2, when stored, links to it: a
// record overwritten by another block's still decodes, and its hash taken as
// the chain id would let the node accept a change its followers refuse.
#pragma once

#include <optional>
#include <string>

#include "crypto/hash.h"

namespace ailee::state {

// `block1`, `block2`: the raw blocks-CF values at heights 1 and 2 (nullopt
// when absent). nullopt when the chain id cannot be trusted from them.
std::optional<crypto::Hash256> StoredChainId(const std::optional<std::string>& block1,
                                             const std::optional<std::string>& block2);

}  // namespace ailee::state
