// When a leader may produce (node/leader_gate.h): never below its fence, not
// while a peer is ahead, not without knowing the network's tip unless the
// operator overrides, and a fresh lone chain starts without ceremony.
#include <gtest/gtest.h>

#include "node/leader_gate.h"

namespace ailee::node {
namespace {

TEST(LeaderGate, FreshLoneChainStarts) {
  EXPECT_TRUE(DecideLeaderStart({0, 0, 0, 0, 0, false}).produce);
}

TEST(LeaderGate, RestartAtOrAboveTheFenceWithoutPeersStarts) {
  EXPECT_TRUE(DecideLeaderStart({0, 0, 0, 50, 50, false}).produce);
}

TEST(LeaderGate, BelowTheFenceNeverProducesEvenWithTheOverride) {
  for (bool override : {false, true}) {
    auto d = DecideLeaderStart({0, 0, 0, 20, 50, override});
    EXPECT_FALSE(d.produce);
    EXPECT_EQ(d.state, "waiting_for_tip");
    EXPECT_NE(d.reason.find("fence is at height 50"), std::string::npos) << d.reason;
  }
}

TEST(LeaderGate, PeerAheadMeansCatchUpFirst) {
  auto d = DecideLeaderStart({2, 1, 90, 60, 60, true});
  EXPECT_FALSE(d.produce);
  EXPECT_EQ(d.state, "catching_up");
}

TEST(LeaderGate, SilentPeersWaitUnlessOverridden) {
  auto d = DecideLeaderStart({1, 0, 0, 60, 60, false});
  EXPECT_FALSE(d.produce);
  EXPECT_EQ(d.state, "waiting_for_tip");
  EXPECT_NE(d.reason.find("--allow-lone-start"), std::string::npos) << d.reason;
  EXPECT_TRUE(DecideLeaderStart({1, 0, 0, 60, 60, true}).produce);
}

TEST(LeaderGate, DataWithoutFenceOrPeersNeedsTheOverride) {
  EXPECT_FALSE(DecideLeaderStart({0, 0, 0, 30, 0, false}).produce);
  EXPECT_TRUE(DecideLeaderStart({0, 0, 0, 30, 0, true}).produce);
}

TEST(LeaderGate, LevelWithAnsweringPeersStarts) {
  EXPECT_TRUE(DecideLeaderStart({2, 1, 60, 60, 55, false}).produce);
}

}  // namespace
}  // namespace ailee::node
