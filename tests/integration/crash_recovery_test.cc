// kill -9 under load: a node killed by SIGKILL while clients submit
// transactions restarts on the same data dir with every block it had
// committed, unchanged; verify-state proves the directory; the chain goes on.
#include <signal.h>

#include "harness_gtest.h"

namespace ailee::it {
namespace {

struct SeenBlock {
  uint64_t height = 0;
  std::string hash;
  std::string state_root;
};

Result<SeenBlock> TipBlock(const TestNode& node) {
  auto client = node.Client();
  ASSIGN_OR_RETURN(auto status, client.GetJson("/v1/status"));
  uint64_t h = status["height"].get<uint64_t>();
  ASSIGN_OR_RETURN(auto block, client.GetJson("/v1/blocks/" + std::to_string(h)));
  return SeenBlock{h, block["header"]["hash"].get<std::string>(), block["header"]["state_root"].get<std::string>()};
}

uint64_t Transactions(const TestNode& node) {
  auto s = node.StatusJson();
  return s.ok() ? (*s)["transactions"].get<uint64_t>() : 0;
}

TEST(CrashRecovery, SigkillMidLoadKeepsCommittedBlocksAndVerifies) {
  Scenario s("crash");
  TestNode node = s.AddNode(NodeSpec::Leader("node-1", 100, 10));
  ASSERT_OK(node.Start());

  constexpr int kCycles = 3;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE("kill cycle " + std::to_string(cycle));
    const uint64_t txs_before = Transactions(node);
    ASSIGN_OR_FAIL(Process load, s.CliBackground(node,
                                                 {"-q", "load", "--accounts", "200", "--rate", "3000", "--duration", "60",
                                                  "--seed", std::to_string(cycle + 1)},
                                                 s.dir().Join("load-" + std::to_string(cycle) + ".log")));
    // Kill only once transfers are flowing into blocks.
    ASSERT_TRUE(WaitUntil([&] { return Transactions(node) >= txs_before + 2000; }, Millis(30000)))
        << "load did not get going; load log:\n" << FileTail(s.dir().Join("load-" + std::to_string(cycle) + ".log"))
        << "\nnode log:\n" << FileTail(node.log_path());
    ASSERT_TRUE(load.Running()) << "the load generator ended before the kill";

    // The last block the node reported as committed before dying.
    ASSIGN_OR_FAIL(SeenBlock seen, TipBlock(node));
    EXPECT_EQ(node.Kill(), 128 + SIGKILL);
    // The load generator notices the node is gone and exits (unavailable).
    auto load_exit = load.Wait(Millis(20000));
    if (!load_exit) load.Kill();
    EXPECT_TRUE(load_exit.has_value()) << "load generator kept running after its node died";

    // The killed node's directory verifies as it is (read-only open).
    CommandResult v = s.Cli(node, {"verify-state", node.data_dir()});
    EXPECT_EQ(v.exit_code, 0) << v;

    ASSERT_OK(node.Start());
    ASSIGN_OR_FAIL(uint64_t restarted_at, node.Height());
    EXPECT_GE(restarted_at, seen.height) << "committed blocks lost by the kill";
    ASSIGN_OR_FAIL(auto block, node.Client().GetJson("/v1/blocks/" + std::to_string(seen.height)));
    EXPECT_EQ(block["header"]["hash"], seen.hash) << "block " << seen.height << " changed across the kill";
    EXPECT_EQ(block["header"]["state_root"], seen.state_root);
    // The chain continues after the restart.
    EXPECT_OK(node.WaitForHeight(restarted_at + 3, Millis(10000)));
  }

  // The restarted node's state root, recomputed from scratch, matches its tip.
  CommandResult health = s.Cli(node, {"health-check", "--deep"});
  EXPECT_EQ(health.exit_code, 0) << health;

  ASSIGN_OR_FAIL(uint64_t final_height, node.Height());
  EXPECT_EQ(node.Terminate(), 0) << "SIGTERM must be a clean shutdown; log:\n" << FileTail(node.log_path());
  CommandResult v = s.Cli(node, {"--json", "verify-state", node.data_dir()});
  ASSERT_EQ(v.exit_code, 0) << v;
  nlohmann::json report = JsonOut(v);
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["signatures_checked"], true);
  EXPECT_GE(report["height"].get<uint64_t>(), final_height);
  EXPECT_GT(report["transactions_checked"].get<uint64_t>(), 6000u);
}

}  // namespace
}  // namespace ailee::it
