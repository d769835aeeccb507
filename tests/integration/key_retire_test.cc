// `ailee-cli keys retire` against a live leader (issue 14, key rotation): the
// leader signing with the key stops producing at its next block, does not
// start again as a leader with it, and says why; the key and its fence stay.
#include <thread>

#include "base/fs.h"
#include "harness_gtest.h"

namespace ailee::it {
namespace {

TEST(KeyRetire, RetiredKeyStopsTheRunningLeaderAndItDoesNotStartAgain) {
  Scenario s("key-retire");
  TestNode leader = s.AddNode(NodeSpec::Leader("leader", 100, 10));
  ASSERT_OK(leader.Start());
  ASSERT_OK(leader.WaitForHeight(3, Millis(20000)));

  // The config's signer is this id: retire finds the key's fence through it.
  CommandResult r = s.Cli(leader, {"keys", "retire", "--id", s.signer().id, "--reason", "replaced by signer-04"});
  ASSERT_EQ(r.exit_code, 0) << r;

  // At most the block in flight still commits; then the height stays.
  std::this_thread::sleep_for(Millis(500));
  ASSIGN_OR_FAIL(uint64_t stopped, leader.Height());
  std::this_thread::sleep_for(Millis(1000));
  ASSIGN_OR_FAIL(uint64_t later, leader.Height());
  EXPECT_EQ(later, stopped) << "a leader with a retired key kept producing; log:\n" << FileTail(leader.log_path());
  leader.Terminate();

  EXPECT_FALSE(leader.Start(Millis(5000)).ok()) << "a leader started on a retired key";
  auto log = fs::ReadFile(leader.log_path());
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("never signs again"), std::string::npos) << FileTail(leader.log_path());
  EXPECT_NE(log->find("replaced by signer-04"), std::string::npos) << FileTail(leader.log_path());
  // Nothing deleted: the key, its fence (history up to `stopped`), and the marker beside them.
  EXPECT_TRUE(fs::Exists(s.signer().key_file));
  EXPECT_TRUE(fs::Exists(s.signer().key_file + ".fence"));
  EXPECT_TRUE(fs::Exists(s.signer().key_file + ".fence.retired"));
}

}  // namespace
}  // namespace ailee::it
