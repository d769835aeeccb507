#include "node/leader_gate.h"

namespace ailee::node {

LeaderGateDecision DecideLeaderStart(const LeaderGateFacts& f) {
  const std::string tip = std::to_string(f.tip_height);
  if (f.tip_height < f.fence_height) {
    return {false, "waiting_for_tip",
            "the signing fence is at height " + std::to_string(f.fence_height) + " (this key signed up to there) but "
            "the data dir's tip is " + tip + ": catching up to at least the fence from the peers before producing "
            "(no override: a height at or below the fence is never signed again)"};
  }
  if (f.peers_answered > 0 && f.best_peer_height > f.tip_height) {
    return {false, "catching_up",
            "a peer is at height " + std::to_string(f.best_peer_height) + ", this node at " + tip};
  }
  if (f.peers_configured > 0 && f.peers_answered == 0 && !f.allow_lone_start) {
    return {false, "waiting_for_tip",
            "none of the " + std::to_string(f.peers_configured) + " configured peers answered, so the network's tip "
            "is unknown; retrying (for a lone first start: ailee-node --allow-lone-start, audited)"};
  }
  if (f.peers_configured == 0 && f.fence_height == 0 && f.tip_height > 0 && !f.allow_lone_start) {
    return {false, "waiting_for_tip",
            "no peers are configured and the signer has no fence, yet the data dir is at height " + tip +
            ": it may be behind what this key signed; configure peers, or re-create the fence "
            "(docs/keys.md), or start with --allow-lone-start (audited)"};
  }
  return {true, "leader", ""};
}

}  // namespace ailee::node
