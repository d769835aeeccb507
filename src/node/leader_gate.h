// When a leader may produce: the rule that keeps a restored or restarted
// leader from signing heights the network (or its own signer) already has.
// Pure: the node gathers the facts (after trying to catch up from its peers)
// and asks; tests call it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ailee::node {

struct LeaderGateFacts {
  size_t peers_configured = 0;
  size_t peers_answered = 0;
  uint64_t best_peer_height = 0;   // highest tip among the peers that answered
  uint64_t tip_height = 0;         // this node's data dir
  uint64_t fence_height = 0;       // the signer's fence; 0 = it never signed
  bool allow_lone_start = false;   // ailee-node --allow-lone-start (audited)
};

struct LeaderGateDecision {
  bool produce = false;
  std::string state;   // "leader", "catching_up" or "waiting_for_tip"
  std::string reason;  // why not producing (empty when producing)
};

// In order:
//  1. below the fence: wait (never overridden: the fence is not signed below);
//  2. a peer is ahead: catch up;
//  3. peers configured, none answered: wait, unless allow_lone_start;
//  4. no peers and no fence history on a non-empty data dir: wait, unless
//     allow_lone_start (a fresh chain at height 0 starts alone);
//  5. otherwise produce.
LeaderGateDecision DecideLeaderStart(const LeaderGateFacts& facts);

}  // namespace ailee::node
