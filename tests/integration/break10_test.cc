// Attacks on issue 10's signing fence and leader gate, as an unlucky operator
// or an attacker would try them. Each test failed before its fix:
// - the fence's lock file deleted while a leader runs (an operator "cleaning
//   stale locks"): a second node with the same key locked a new lock file,
//   caught up from the first and both signed the same heights;
// - a peers list naming the leader itself: its own /v1/status "answered" the
//   tip question, so a leader whose fence was lost led from an old data dir.
// - a peer lying about its height (garbage blocks) stalled the leader with
//   a status that did not say the catch-up fails;
// - two archivers for one node with one buffer dir at once wrote overlapping
//   segments (each sealing its own ranges from the tail it read at start);
//   with two buffer dirs (or hosts) the buffer lock cannot see the other, so
//   the segment writer re-lists the archive right before each write.
#include <httplib.h>

#include <filesystem>
#include <map>
#include <thread>

#include "harness_gtest.h"

namespace ailee::it {
namespace {

namespace stdfs = std::filesystem;

// The number of heights both nodes hold; a failure for every height where
// their blocks differ (one key signed two blocks there).
size_t ExpectNoEquivocation(const TestNode& a, const TestNode& b) {
  auto ab = a.BlocksByHeight();
  auto bb = b.BlocksByHeight();
  EXPECT_TRUE(ab.ok() && bb.ok());
  if (!ab.ok() || !bb.ok()) return 0;
  size_t common = 0, differ = 0;
  for (const auto& [h, enc] : *bb) {
    auto it = ab->find(h);
    if (it == ab->end()) continue;
    ++common;
    if (it->second != enc) ++differ;
  }
  EXPECT_EQ(differ, 0u) << differ << " of " << common << " common heights hold two different signed blocks ("
                        << a.spec().id << " vs " << b.spec().id << ")";
  return common;
}

TEST(Break10, DeletedFenceLockDoesNotLetASecondNodeSignTheSameHeights) {
  Scenario s("break10-lock");
  TestNode a = s.AddNode(NodeSpec::Leader("leader-a", 100, 10));
  ASSERT_OK(a.Start());
  ASSERT_OK(a.WaitForHeight(5, Millis(20000)));
  // The operator removes the "stale" lock; a second machine config with the
  // same key file and the first node as its peer is started.
  const std::string lock = s.signer().key_file + ".fence.lock";
  ASSERT_TRUE(stdfs::remove(lock)) << lock;
  NodeSpec b_spec = NodeSpec::Leader("leader-b", 100, 10);
  b_spec.extra_yaml = "peers: [" + a.url() + "]\n";
  TestNode b = s.AddNode(b_spec);
  ASSERT_OK(b.Start());
  std::this_thread::sleep_for(Millis(3000));
  EXPECT_GE(ExpectNoEquivocation(a, b), 5u) << FileTail(a.log_path()) << FileTail(b.log_path());
  // The node that provably holds the key (b) leads; a stopped signing.
  ASSIGN_OR_FAIL(uint64_t a_height, a.Height());
  EXPECT_OK(b.WaitForHeight(a_height + 3, Millis(20000)));
  EXPECT_NE(FileTail(a.log_path()).find("was deleted or replaced"), std::string::npos) << FileTail(a.log_path());
  EXPECT_EQ(b.Terminate(), 0);
  EXPECT_EQ(a.Terminate(), 0);
}

TEST(Break10, PeersListNamingTheLeaderItselfDoesNotVouchForAnOldTip) {
  Scenario s("break10-self");
  NodeSpec spec = NodeSpec::Leader("leader", 100, 10);
  TestNode leader = s.AddNode(spec);
  ASSERT_OK(leader.Start());
  ASSERT_OK(leader.WaitForHeight(5, Millis(20000)));
  EXPECT_EQ(leader.Terminate(), 0);
  const std::string old_copy = s.dir().Join("data-old");
  stdfs::copy(leader.data_dir(), old_copy, stdfs::copy_options::recursive);
  ASSERT_OK(leader.Start());
  ASSIGN_OR_FAIL(uint64_t restored, leader.Height());
  ASSERT_OK(leader.WaitForHeight(restored + 15, Millis(30000)));
  EXPECT_EQ(leader.Terminate(), 0);

  // Old data dir back, the fence lost with the machine, peers: itself.
  stdfs::remove_all(leader.data_dir());
  stdfs::copy(old_copy, leader.data_dir(), stdfs::copy_options::recursive);
  ASSERT_TRUE(stdfs::remove(s.signer().key_file + ".fence"));
  spec.extra_yaml = "peers: [" + leader.url() + "]\n";
  ASSERT_OK(leader.Reconfigure(spec));
  ASSERT_OK(leader.Start());
  std::this_thread::sleep_for(Millis(1500));
  ASSIGN_OR_FAIL(uint64_t now, leader.Height());
  EXPECT_EQ(now, restored) << "the leader vouched for its own old tip and produced; log:\n"
                           << FileTail(leader.log_path());
  ASSIGN_OR_FAIL(auto st, leader.StatusJson());
  EXPECT_EQ(st["sync"]["state"], "waiting_for_tip") << st.dump(2);
  EXPECT_NE(st["sync"].value("reason", "").find("this node itself"), std::string::npos) << st.dump(2);
  EXPECT_EQ(leader.Terminate(), 0);
}

TEST(Break10, LeaderKilledWithSigkillRestartsDespiteItsLeftoverLockAndNeverResignsAHeight) {
  Scenario s("break10-kill");
  TestNode leader = s.AddNode(NodeSpec::Leader("leader", 50, 10));
  ASSERT_OK(leader.Start());
  TestNode follower = s.AddNode(NodeSpec::Follower("follower", leader.url(), 50, 10));
  ASSERT_OK(follower.Start());
  ASSERT_OK(s.FundAccount(leader, 1000).status());
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(Millis(150 + 97 * i));
    leader.Kill();
    ASSERT_TRUE(stdfs::exists(s.signer().key_file + ".fence.lock"));
    ASSERT_OK(leader.Reconfigure(NodeSpec::Leader("leader", 50, 10)));
    Status started = leader.Start();
    ASSERT_TRUE(started.ok()) << "restart " << i << " after kill -9: " << started.ToString() << "\n"
                              << FileTail(leader.log_path());
  }
  ASSIGN_OR_FAIL(uint64_t h, leader.Height());
  ASSERT_OK(leader.WaitForHeight(h + 3, Millis(20000)));
  ASSERT_OK(follower.WaitForHeight(h + 3, Millis(20000)));
  EXPECT_GE(ExpectNoEquivocation(leader, follower), h);
  ASSIGN_OR_FAIL(auto fs, follower.StatusJson());
  EXPECT_NE(fs["sync"]["state"], "forked") << fs.dump(2);
  EXPECT_EQ(follower.Terminate(), 0);
  EXPECT_EQ(leader.Terminate(), 0);
}

// Two archivers for one node at once (a systemd unit plus an operator's
// manual run): each appends from the tail it read at start, sealing at its
// own cadence, so their segments overlap; verify must stay clean.
TEST(Break10, TwoArchiversAtOnceLeaveNoOverlappingSegments) {
  Scenario s("break10-archivers");
  const std::string repo_dir = s.dir().Join("repo"), pass = s.dir().Join("repo.pass");
  ASSERT_OK(WriteFile(pass, "break10 passphrase\n", 0600));
  NodeSpec spec = NodeSpec::Leader("node-1", 100, 10);
  spec.extra_yaml = "backup:\n  repository: file://" + repo_dir + "\n  passphrase_file: " + pass + "\n";
  TestNode leader = s.AddNode(spec);
  ASSERT_OK(leader.Start());
  CommandResult init = s.Cli(leader, {"repo", "init", "--kdf-memory-mib", "8", "--kdf-iterations", "1"});
  ASSERT_EQ(init.exit_code, 0) << init;
  auto run = [&](const std::string& seal_blocks) {
    return std::vector<std::string>{"-q", "archive", "run", "--node-url", leader.url(), "--buffer-dir",
                                    s.dir().Join("buffer"), "--seal-interval-ms", "60000", "--seal-blocks",
                                    seal_blocks};
  };
  ASSIGN_OR_FAIL(Process a, s.CliBackground(leader, run("3"), s.dir().Join("a.log")));
  ASSIGN_OR_FAIL(Process b, s.CliBackground(leader, run("7"), s.dir().Join("b.log")));
  std::this_thread::sleep_for(Millis(4000));
  EXPECT_NE(a.Running(), b.Running()) << "exactly one archiver runs";
  const std::string refused = FileTail(s.dir().Join(a.Running() ? "b.log" : "a.log"));
  EXPECT_NE(refused.find("another archiver for node node-1"), std::string::npos) << refused;
  a.Kill();
  b.Kill();
  CommandResult verify = s.Cli(leader, {"verify", "--read-data"}, Millis(120000));
  EXPECT_EQ(verify.exit_code, 0) << verify << FileTail(s.dir().Join("a.log")) << FileTail(s.dir().Join("b.log"));
  EXPECT_EQ(verify.out.find("overlap"), std::string::npos) << verify;
  EXPECT_EQ(leader.Terminate(), 0);
}

// The same with a buffer dir each (two hosts, or a unit and a manual run
// with another --buffer-dir): the buffer lock does not see the other, so the
// repository must. The one writing second is refused, naming both ranges.
TEST(Break10, TwoArchiversWithTheirOwnBufferDirsLeaveNoOverlappingSegments) {
  Scenario s("break10-archivers-2");
  const std::string repo_dir = s.dir().Join("repo"), pass = s.dir().Join("repo.pass");
  ASSERT_OK(WriteFile(pass, "break10 passphrase\n", 0600));
  NodeSpec spec = NodeSpec::Leader("node-1", 100, 10);
  spec.extra_yaml = "backup:\n  repository: file://" + repo_dir + "\n  passphrase_file: " + pass + "\n";
  TestNode leader = s.AddNode(spec);
  ASSERT_OK(leader.Start());
  CommandResult init = s.Cli(leader, {"repo", "init", "--kdf-memory-mib", "8", "--kdf-iterations", "1"});
  ASSERT_EQ(init.exit_code, 0) << init;
  auto run = [&](const std::string& buffer, const std::string& seal_blocks) {
    return std::vector<std::string>{"-q", "archive", "run", "--node-url", leader.url(), "--buffer-dir",
                                    s.dir().Join(buffer), "--seal-interval-ms", "60000", "--seal-blocks",
                                    seal_blocks};
  };
  ASSIGN_OR_FAIL(Process a, s.CliBackground(leader, run("buffer-a", "3"), s.dir().Join("a.log")));
  ASSIGN_OR_FAIL(Process b, s.CliBackground(leader, run("buffer-b", "7"), s.dir().Join("b.log")));
  for (int i = 0; i < 50 && a.Running() && b.Running(); ++i) std::this_thread::sleep_for(Millis(100));
  std::this_thread::sleep_for(Millis(2000));
  EXPECT_NE(a.Running(), b.Running()) << "exactly one archiver runs";
  const std::string refused = FileTail(s.dir().Join(a.Running() ? "b.log" : "a.log"));
  EXPECT_NE(refused.find("of node node-1 overlaps segment"), std::string::npos) << refused;
  EXPECT_NE(refused.find("another writer archives this node"), std::string::npos) << refused;
  a.Kill();
  b.Kill();
  CommandResult verify = s.Cli(leader, {"verify", "--read-data"}, Millis(120000));
  EXPECT_EQ(verify.exit_code, 0) << verify << FileTail(s.dir().Join("a.log")) << FileTail(s.dir().Join("b.log"));
  EXPECT_EQ(verify.out.find("overlap"), std::string::npos) << verify;
  EXPECT_EQ(leader.Terminate(), 0);
}

// A peer that lies: /v1/status claims a huge height, /v1/blocks serves
// garbage. The leader must apply nothing and produce nothing, and its status
// must say why it is stuck (it said only "a peer is at height N").
TEST(Break10, PeerLyingAboutItsHeightStallsTheLeaderVisiblyWithoutForking) {
  httplib::Server liar;
  liar.Get("/v1/status", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"node_id":"liar","height":1000000000,"tip_hash":"00"})", "application/json");
  });
  liar.Get("/v1/blocks", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"tip":1000000000,"blocks":[{"height":1,"encoded":"deadbeef"}]})", "application/json");
  });
  const int port = liar.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { liar.listen_after_bind(); });
  Scenario s("break10-liar");
  NodeSpec spec = NodeSpec::Leader("leader", 100, 10);
  spec.extra_yaml = "peers: [http://127.0.0.1:" + std::to_string(port) + "]\n";
  TestNode leader = s.AddNode(spec);
  Status started = leader.Start();
  EXPECT_TRUE(started.ok()) << started.ToString();
  if (started.ok()) {
    std::this_thread::sleep_for(Millis(2500));
    ASSIGN_OR_FAIL(uint64_t h, leader.Height());
    EXPECT_EQ(h, 0u) << FileTail(leader.log_path());
    ASSIGN_OR_FAIL(auto st, leader.StatusJson());
    EXPECT_EQ(st["sync"]["state"], "catching_up") << st.dump(2);
    EXPECT_NE(st["sync"].value("reason", "").find("fails"), std::string::npos) << st.dump(2);
    EXPECT_EQ(leader.Terminate(), 0);
  }
  liar.stop();
  serving.join();
}

}  // namespace
}  // namespace ailee::it
