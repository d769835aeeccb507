// A follower started from an empty data dir catches up with a leader under
// load, and both report the same state root at the same height; a follower
// killed with SIGKILL in the middle of a fetched page (applied with one WAL
// sync per page) keeps every block it reported and resumes.
#include "harness_gtest.h"

namespace ailee::it {
namespace {

TEST(Follower, CatchesUpFromEmptyAndAgreesOnStateRoot) {
  Scenario s("follower");
  TestNode leader = s.AddNode(NodeSpec::Leader("leader", 100, 10));
  ASSERT_OK(leader.Start());

  // Some history before the follower exists, with anchors (every 10 blocks).
  CommandResult pre = s.Cli(leader, {"-q", "load", "--accounts", "200", "--rate", "2000", "--duration", "3"});
  ASSERT_EQ(pre.exit_code, 0) << pre;
  ASSIGN_OR_FAIL(uint64_t leader_height, leader.Height());
  ASSERT_GE(leader_height, 20u);

  // Keep the leader busy while the follower syncs.
  ASSIGN_OR_FAIL(Process load, s.CliBackground(leader, {"-q", "load", "--accounts", "200", "--rate", "1000",
                                                        "--duration", "8", "--seed", "2"},
                                               s.dir().Join("load.log")));
  TestNode follower = s.AddNode(NodeSpec::Follower("follower", leader.url(), 100, 10));
  ASSERT_OK(follower.Start());

  // A follower refuses transactions and names its leader.
  auto refused = follower.Client().PostJson("/v1/tx", nlohmann::json::object());
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(leader.url()), std::string::npos) << refused.status().ToString();

  CommandResult sync = s.Cli(follower, {"sync-status", "--wait", "30", "--url", follower.url()}, Millis(40000));
  EXPECT_EQ(sync.exit_code, 0) << sync << "\nfollower log:\n" << FileTail(follower.log_path());
  EXPECT_NE(sync.out.find("synced"), std::string::npos) << sync;

  // While both run: the follower's blocks are the leader's blocks.
  ASSIGN_OR_FAIL(uint64_t fh, follower.Height());
  ASSERT_GE(fh, leader_height);
  for (uint64_t h : {uint64_t{1}, leader_height, fh}) {
    ASSIGN_OR_FAIL(auto fb, follower.Client().GetJson("/v1/blocks/" + std::to_string(h)));
    ASSIGN_OR_FAIL(auto lb, leader.Client().GetJson("/v1/blocks/" + std::to_string(h)));
    EXPECT_EQ(fb["header"]["hash"], lb["header"]["hash"]) << "height " << h;
    EXPECT_EQ(fb["header"]["state_root"], lb["header"]["state_root"]) << "height " << h;
  }

  // Once the load ends, the follower reaches the leader's tip while the leader
  // is still serving blocks (a stopped leader cannot hand over its last block).
  auto load_exit = load.Wait(Millis(20000));
  ASSERT_TRUE(load_exit.has_value()) << "load did not finish";
  EXPECT_EQ(*load_exit, 0) << FileTail(s.dir().Join("load.log"));
  ASSIGN_OR_FAIL(uint64_t leader_tip, leader.Height());
  ASSERT_OK(follower.WaitForHeight(leader_tip, Millis(10000)));
  ASSIGN_OR_FAIL(auto fs, follower.StatusJson());
  EXPECT_EQ(fs["role"], "follower");

  // Stop the follower first; its own directory proves from scratch the state
  // the leader committed to at the same height.
  EXPECT_EQ(follower.Terminate(), 0);
  CommandResult fv = s.Cli(follower, {"--json", "verify-state", follower.data_dir()});
  ASSERT_EQ(fv.exit_code, 0) << fv;
  nlohmann::json follower_final = JsonOut(fv);
  const uint64_t follower_height = follower_final["height"].get<uint64_t>();
  EXPECT_GE(follower_height, leader_tip);
  ASSIGN_OR_FAIL(auto lb, leader.Client().GetJson("/v1/blocks/" + std::to_string(follower_height)));
  EXPECT_EQ(follower_final["state_root"], lb["header"]["state_root"]);
  EXPECT_EQ(follower_final["tip_hash"], lb["header"]["hash"]);

  // The leader's directory proves itself too.
  EXPECT_EQ(leader.Terminate(), 0);
  CommandResult lv = s.Cli(leader, {"--json", "verify-state", leader.data_dir()});
  ASSERT_EQ(lv.exit_code, 0) << lv;
  EXPECT_GE(JsonOut(lv)["height"].get<uint64_t>(), follower_height);
}

TEST(Follower, KilledMidPageKeepsWhatItAppliedAndResumes) {
  Scenario s("follower-kill");
  // A leader that does not produce during the test, pre-filled with 3 pages.
  TestNode leader = s.AddNode(NodeSpec::Leader("leader", 600000, 10));
  ASSERT_OK(leader.Start());
  EXPECT_EQ(leader.Terminate(), 0);
  CommandResult fill = s.Cli(leader, {"-q", "load", "--mode", "bulk", "--accounts", "20", "--block-tx", "4",
                                      "--max-tx", "2400", "--duration", "0", "--memo-bytes", "16"},
                             Millis(120000));
  ASSERT_EQ(fill.exit_code, 0) << fill;
  ASSERT_OK(leader.Start());
  ASSIGN_OR_FAIL(uint64_t tip, leader.Height());
  ASSERT_GE(tip, 600u);

  TestNode follower = s.AddNode(NodeSpec::Follower("follower", leader.url(), 100, 10));
  ASSERT_OK(follower.Start());
  // Kill once it has applied part of the chain: at a height that is not a
  // page boundary (200) the page was being applied.
  uint64_t seen = 0;
  ASSERT_TRUE(WaitUntil([&] {
    auto h = follower.Height();
    seen = h.ok() ? *h : 0;
    return seen > 0 && seen % 200 != 0;
  }, Millis(60000), Millis(2)));
  follower.Kill();
  ASSERT_LT(seen, tip) << "caught up before the kill; nothing was mid-page";

  // Its data dir proves itself at or above every height it reported.
  CommandResult killed = s.Cli(follower, {"--json", "verify-state", follower.data_dir()});
  ASSERT_EQ(killed.exit_code, 0) << killed;
  EXPECT_GE(JsonOut(killed)["height"].get<uint64_t>(), seen) << "kill -9 lost applied blocks";

  ASSERT_OK(follower.Start());
  ASSERT_OK(follower.WaitForHeight(tip, Millis(60000)));
  ASSIGN_OR_FAIL(auto fs, follower.StatusJson());
  ASSIGN_OR_FAIL(auto ls, leader.StatusJson());
  EXPECT_EQ(fs["state_root"], ls["state_root"]);
  EXPECT_EQ(fs["tip_hash"], ls["tip_hash"]);
  EXPECT_EQ(follower.Terminate(), 0);
  CommandResult resumed = s.Cli(follower, {"--json", "verify-state", follower.data_dir()});
  ASSERT_EQ(resumed.exit_code, 0) << resumed;
  EXPECT_EQ(JsonOut(resumed)["height"].get<uint64_t>(), tip);
  EXPECT_EQ(leader.Terminate(), 0);
}

}  // namespace
}  // namespace ailee::it
