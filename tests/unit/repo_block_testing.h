// Unsigned chains of blocks for the block archive tests: heights 1..n, each
// linked to the one before, with a valid (empty) tx root. The repository
// layer checks links and tx roots; signatures are the replay's job.
#pragma once

#include <cstdint>
#include <vector>

#include "state/block.h"

namespace ailee::repo::testing {

// `salt` changes every timestamp, so every hash: another chain.
inline std::vector<state::Block> Chain(uint64_t n, int64_t salt = 0) {
  std::vector<state::Block> blocks;
  crypto::Hash256 prev{};
  for (uint64_t h = 1; h <= n; ++h) {
    state::Block b;
    b.header.height = h;
    b.header.prev_hash = prev;
    b.header.tx_root = state::TxRoot({});
    b.header.timestamp_ms = 1700000000000 + static_cast<int64_t>(h) * 1000 + salt;
    b.header.signer_id = "signer-1";
    b.header.signature = std::string(64, 's');
    prev = b.header.Hash();
    blocks.push_back(b);
  }
  return blocks;
}

}  // namespace ailee::repo::testing
