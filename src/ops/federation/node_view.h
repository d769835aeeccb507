// What `federation propose|apply|show` read from a node's GET /v1/federation
// (state/federation_history.h FederationHistoryToJson): the epochs, oldest
// first, each with its members' key fingerprints. The keys themselves are
// not in that document: MembersOf finds them where they are authoritative
// and checks them against the epoch's fingerprint.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "crypto/hash.h"
#include "node/client.h"
#include "state/block.h"
#include "state/federation.h"

namespace ailee::ops::federation {

struct EpochView {
  uint64_t number = 0;
  uint64_t start_height = 0;
  int threshold = 0;
  std::string fingerprint;                           // hex FederationFingerprint of its members
  std::map<std::string, std::string> signers;        // id -> key fingerprint (hex)
  std::string authorization;                         // "genesis", "threshold", "break_glass"
  std::string reason, operator_id, change_tx, outgoing_fingerprint;
  uint64_t change_height = 0;                        // 0 for genesis
  std::vector<std::string> approvals;                // signer ids
};

struct FederationView {
  nlohmann::json raw;  // the node's document, as it sent it
  std::string chain_id;  // hex hash of the chain's block 1, as the node reports it ("" before block 1)
  std::vector<EpochView> epochs;
  const EpochView& current() const { return epochs.back(); }
};

// GET /v1/federation on `node_url`; kUnavailable when the node does not answer.
Result<FederationView> FetchFederation(const std::string& node_url);
Result<FederationView> FederationViewFromJson(nlohmann::json doc);

// The block at `height` from GET /v1/blocks/<height>, decoded from its wire
// encoding and checked to be that height and to hold its transactions (tx
// root). kDataLoss when it is not.
Result<state::Block> FetchBlock(node::NodeClient& client, uint64_t height);

// The chain's id: the hash of block 1's header, computed from the block the
// node serves (what a federation change must name). kFailedPrecondition when
// the chain has no block 1 yet.
Result<crypto::Hash256> FetchChainId(const std::string& node_url);

// The members (with their public keys) of `epoch`: genesis from `genesis`
// (the config's federation section), a later epoch from the change record in
// the block that carried it (GET /v1/blocks/<change_height>). Either must
// hash to the epoch's fingerprint: kFailedPrecondition when the config's
// federation is not the node's genesis, kDataLoss when the block's is not.
Result<state::Federation> MembersOf(const EpochView& epoch, const std::string& node_url,
                                    const state::Federation& genesis);

}  // namespace ailee::ops::federation
