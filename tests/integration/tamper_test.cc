// An account's stored value changed behind the node's back (disk damage, a
// manual edit) is caught by verify-state, which names the account, and by
// the node's own deep health check.
#include "harness_gtest.h"
#include "state/transaction.h"
#include "state_tamper.h"

namespace ailee::it {
namespace {

TEST(Tamper, ChangedAccountBalanceFailsVerifyStateNamingTheAccount) {
  Scenario s("tamper");
  TestNode node = s.AddNode(NodeSpec::Leader("node-1", 100, 5));
  ASSERT_OK(node.Start());
  CommandResult load = s.Cli(node, {"-q", "load", "--accounts", "100", "--rate", "1000", "--duration", "2"});
  ASSERT_EQ(load.exit_code, 0) << load;
  ASSIGN_OR_FAIL(auto victim, s.FundAccount(node, 5000));
  const std::string victim_id = state::AccountIdHex(victim.public_key);
  ASSIGN_OR_FAIL(auto before, node.Client().GetJson("/v1/accounts/" + victim_id));
  ASSERT_EQ(before["balance"].get<uint64_t>(), 5000u);

  EXPECT_EQ(node.Terminate(), 0) << "SIGTERM must be a clean shutdown; log:\n" << FileTail(node.log_path());
  CommandResult clean = s.Cli(node, {"verify-state", node.data_dir()});
  ASSERT_EQ(clean.exit_code, 0) << "verify-state must pass before tampering\n" << clean;

  ASSERT_OK(state::tamper::SetAccountBalance(node.data_dir(), victim_id, 5001));

  CommandResult bad = s.Cli(node, {"verify-state", node.data_dir()});
  EXPECT_EQ(bad.exit_code, 3) << bad;
  EXPECT_NE((bad.out + bad.err).find(victim_id), std::string::npos) << "output does not name " << victim_id << "\n" << bad;

  CommandResult bad_json = s.Cli(node, {"--json", "verify-state", node.data_dir()});
  EXPECT_EQ(bad_json.exit_code, 3) << bad_json;
  nlohmann::json report = JsonOut(bad_json);
  EXPECT_EQ(report["ok"], false);
  ASSERT_TRUE(report["problems"].is_array() && !report["problems"].empty()) << bad_json;
  bool named = false;
  for (const auto& p : report["problems"]) named |= p.get<std::string>().find(victim_id) != std::string::npos;
  EXPECT_TRUE(named) << report["problems"].dump(2);

  // A node started on the damaged directory serves the tampered value, but
  // its deep health check (state root from scratch) reports the damage.
  ASSERT_OK(node.Start());
  CommandResult health = s.Cli(node, {"health-check", "--deep"});
  EXPECT_EQ(health.exit_code, 3) << health;
  EXPECT_EQ(node.Terminate(), 0);
}

}  // namespace
}  // namespace ailee::it
