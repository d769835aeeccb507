#include "state/stored_chain_id.h"

#include "state/block.h"

namespace ailee::state {

std::optional<crypto::Hash256> StoredChainId(const std::optional<std::string>& block1,
                                             const std::optional<std::string>& block2) {
  if (!block1) return std::nullopt;
  auto first = DecodeBlockRecord(*block1);
  if (!first.ok() || first->header.height != 1) return std::nullopt;
  const crypto::Hash256 id = first->header.Hash();
  if (block2) {
    auto second = DecodeBlockRecord(*block2);
    if (!second.ok() || second->header.height != 2 || second->header.prev_hash != id) return std::nullopt;
  }
  return id;
}

}  // namespace ailee::state
