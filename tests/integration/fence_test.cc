// Never sign a height twice (issue 10): a leader restored from an old data
// dir catches up from its follower before it produces (every block both
// nodes hold and every block its archiver archived across the rollback is
// one block per height); with its peers
// unreachable it produces nothing until the operator overrides, and even then
// only above its signing fence; a follower fed another chain stops and says
// where the chains part (sync-status and health-check exit 3).
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <sstream>

#include "base/hex.h"
#include "harness_gtest.h"
#include "repo/block_archive.h"
#include "state/encoding.h"
#include "storage/object_store.h"

namespace ailee::it {
namespace {

namespace stdfs = std::filesystem;

void CopyDir(const std::string& from, const std::string& to) {
  stdfs::remove_all(to);
  stdfs::copy(from, to, stdfs::copy_options::recursive);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

// The height does not move for `ms` (a leader that must not produce).
void ExpectHeightStays(const TestNode& n, uint64_t height, int ms) {
  std::this_thread::sleep_for(Millis(ms));
  auto now = n.Height();
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_EQ(*now, height) << "the leader produced although it must not; log:\n" << FileTail(n.log_path());
}

NodeSpec WithPeers(NodeSpec spec, const std::string& peer, std::vector<std::string> args = {}) {
  spec.extra_yaml += "peers: [" + peer + "]\n";
  spec.node_args = std::move(args);
  return spec;
}

constexpr const char* kPassphrase = "fence test passphrase";

// Every block the archive holds of `node_id`, each compared with the block
// both nodes hold at its height (`a` must hold all of them): one block per
// height across the archive and the two chains. Returns how many.
uint64_t ExpectArchiveAgreesWithNodes(const std::string& repo_url, const std::string& node_id,
                                      const std::map<uint64_t, std::string>& a,
                                      const std::map<uint64_t, std::string>& b) {
  auto store = storage::OpenObjectStore(repo_url);
  EXPECT_TRUE(store.ok());
  if (!store.ok()) return 0;
  auto repo = repo::Repository::Open(*store, kPassphrase);
  EXPECT_TRUE(repo.ok()) << repo.status().ToString();
  if (!repo.ok()) return 0;
  auto segments = repo::ListBlockSegments(**store, node_id);
  EXPECT_TRUE(segments.ok() && !segments->empty());
  if (!segments.ok() || segments->empty()) return 0;
  for (const auto& p : repo::FindRangeProblems(*segments)) ADD_FAILURE() << p.object << ": " << p.message;
  auto tail = repo::ReadBlockArchiveTail(**repo, node_id);
  EXPECT_TRUE(tail.ok());
  if (!tail.ok()) return 0;
  uint64_t compared = 0;
  Status st = repo::ForEachArchivedBlock(**repo, node_id, 1, tail->height, [&](const state::Block& block) {
    const uint64_t h = block.header.height;
    const std::string enc = HexEncode(state::EncodeBlock(block));
    auto in_a = a.find(h);
    if (in_a == a.end()) {
      ADD_FAILURE() << "archived block " << h << " is not on the leader";
    } else {
      EXPECT_EQ(in_a->second, enc) << "the archive and the leader hold two different blocks at height " << h;
    }
    auto in_b = b.find(h);
    if (in_b != b.end()) {
      EXPECT_EQ(in_b->second, enc) << "the archive and the follower differ at height " << h;
    }
    ++compared;
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return compared;
}

TEST(Fence, RestoredLeaderCatchesUpFromItsFollowerBeforeProducing) {
  Scenario s("fence-catchup");
  const std::string repo_dir = s.dir().Join("repo"), pass = s.dir().Join("repo.pass");
  ASSERT_OK(WriteFile(pass, std::string(kPassphrase) + "\n", 0600));
  NodeSpec spec = NodeSpec::Leader("leader", 200, 10);
  spec.extra_yaml = "backup:\n  repository: file://" + repo_dir + "\n  passphrase_file: " + pass + "\n";
  TestNode leader = s.AddNode(spec);
  ASSERT_OK(leader.Start());
  CommandResult init = s.Cli(leader, {"repo", "init", "--kdf-memory-mib", "8", "--kdf-iterations", "1"});
  ASSERT_EQ(init.exit_code, 0) << init;
  // The archiver follows the leader through its stop, the rollback of its
  // data dir and its restart: a block it signed twice would also be a block
  // the archive refuses or holds differently.
  const std::string archiver_log = s.dir().Join("archiver.log");
  ASSIGN_OR_FAIL(Process archiver, s.CliBackground(leader, {"-q", "archive", "run", "--node-url", leader.url(),
                                                            "--buffer-dir", s.dir().Join("buffer")}, archiver_log));
  ASSERT_OK(leader.WaitForHeight(5, Millis(20000)));
  EXPECT_EQ(leader.Terminate(), 0);
  const std::string old_copy = s.dir().Join("leader-data-old");
  CopyDir(leader.data_dir(), old_copy);

  ASSERT_OK(leader.Start());
  TestNode follower = s.AddNode(NodeSpec::Follower("follower", leader.url(), 200, 10));
  ASSERT_OK(follower.Start());
  ASSERT_OK(s.FundAccount(leader, 1000).status());
  ASSERT_OK(leader.WaitForHeight(40, Millis(60000)));
  // Stop the leader right after the follower has everything it has; at most
  // the block in progress is left only in the leader's fence.
  ASSERT_TRUE(WaitUntil([&] {
    auto l = leader.Height();
    auto f = follower.Height();
    return l.ok() && f.ok() && *l == *f;
  }, Millis(20000), Millis(10)));
  EXPECT_EQ(leader.Terminate(), 0);
  ASSIGN_OR_FAIL(uint64_t follower_height, follower.Height());

  // The leader's data dir goes back in time; its peers name the follower.
  CopyDir(old_copy, leader.data_dir());
  ASSERT_OK(leader.Reconfigure(WithPeers(spec, follower.url())));
  ASSERT_OK(leader.Start());
  ASSERT_OK(leader.WaitForHeight(follower_height + 10, Millis(60000)));
  ASSERT_OK(follower.WaitForHeight(follower_height + 10, Millis(60000)));
  ASSIGN_OR_FAIL(auto ls, leader.StatusJson());
  EXPECT_EQ(ls["sync"]["state"], "leader") << ls.dump(2);

  // The archiver kept going (it stops on a block that does not link).
  archiver.Signal(SIGTERM);
  std::optional<int> archiver_exit = archiver.Wait(Millis(15000));
  ASSERT_TRUE(archiver_exit.has_value());
  EXPECT_EQ(*archiver_exit, 0) << FileTail(archiver_log);

  // No height has two different blocks between the two nodes.
  ASSIGN_OR_FAIL(auto lb, leader.BlocksByHeight());
  ASSIGN_OR_FAIL(auto fb, follower.BlocksByHeight());
  size_t compared = 0;
  for (const auto& [h, enc] : fb) {
    auto it = lb.find(h);
    if (it == lb.end()) continue;
    EXPECT_EQ(it->second, enc) << "two different blocks at height " << h;
    ++compared;
  }
  EXPECT_GE(compared, follower_height + 10);
  // Nor between the archive and either node, over every archived block:
  // those archived before the rollback and those after.
  EXPECT_GE(ExpectArchiveAgreesWithNodes("file://" + repo_dir, "leader", lb, fb), follower_height + 5)
      << FileTail(archiver_log);
  CommandResult sync = s.Cli(follower, {"sync-status", "--wait", "20", "--url", follower.url()}, Millis(30000));
  EXPECT_EQ(sync.exit_code, 0) << sync << FileTail(follower.log_path());
  EXPECT_EQ(follower.Terminate(), 0);
  EXPECT_EQ(leader.Terminate(), 0);
}

TEST(Fence, RestoredLeaderWithUnreachablePeersProducesNothingAndOverrideStaysAboveTheFence) {
  Scenario s("fence-lone");
  const NodeSpec spec = NodeSpec::Leader("leader", 100, 10);
  TestNode leader = s.AddNode(spec);
  ASSERT_OK(leader.Start());
  ASSERT_OK(leader.WaitForHeight(5, Millis(20000)));
  EXPECT_EQ(leader.Terminate(), 0);
  const std::string old_copy = s.dir().Join("data-old");
  CopyDir(leader.data_dir(), old_copy);
  ASSERT_OK(leader.Start());
  ASSIGN_OR_FAIL(uint64_t old_height, leader.Height());
  ASSERT_OK(leader.WaitForHeight(old_height + 20, Millis(30000)));
  EXPECT_EQ(leader.Terminate(), 0);
  const std::string new_copy = s.dir().Join("data-new");
  CopyDir(leader.data_dir(), new_copy);
  const std::string fence_text = Slurp(s.signer().key_file + ".fence");
  ASSERT_NE(fence_text.find("ailee-signing-fence 1"), std::string::npos) << fence_text;

  const std::string dead_peer = "http://127.0.0.1:" + std::to_string(PickFreePort());
  const std::string audit_log = leader.dir() + "/audit.log";

  // 1. Old data dir, peers unreachable: nothing is produced, and it says why.
  CopyDir(old_copy, leader.data_dir());
  ASSERT_OK(leader.Reconfigure(WithPeers(spec, dead_peer)));
  ASSERT_OK(leader.Start());
  ASSIGN_OR_FAIL(uint64_t restored, leader.Height());
  ExpectHeightStays(leader, restored, 1000);
  ASSIGN_OR_FAIL(auto st, leader.StatusJson());
  EXPECT_EQ(st["sync"]["state"], "waiting_for_tip") << st.dump(2);
  EXPECT_NE(st["sync"].value("reason", "").find("fence"), std::string::npos) << st.dump(2);
  CommandResult sync = s.Cli(leader, {"sync-status", "--url", leader.url()});
  EXPECT_EQ(sync.exit_code, 6) << sync;
  EXPECT_EQ(leader.Terminate(), 0);
  EXPECT_EQ(Count(Slurp(audit_log), "node.allow_lone_start"), 0u);

  // 2. The override on the old data dir: audited, still nothing at or below the fence.
  ASSERT_OK(leader.Reconfigure(WithPeers(spec, dead_peer, {"--allow-lone-start"})));
  ASSERT_OK(leader.Start());
  ExpectHeightStays(leader, restored, 1000);
  ASSIGN_OR_FAIL(st, leader.StatusJson());
  EXPECT_EQ(st["sync"]["state"], "waiting_for_tip") << st.dump(2);
  EXPECT_EQ(leader.Terminate(), 0);
  EXPECT_EQ(Count(Slurp(audit_log), "node.allow_lone_start"), 1u) << Slurp(audit_log);

  // 3. The newest data dir, peers unreachable: the network's tip is unknown.
  CopyDir(new_copy, leader.data_dir());
  ASSERT_OK(leader.Reconfigure(WithPeers(spec, dead_peer)));
  ASSERT_OK(leader.Start());
  ASSIGN_OR_FAIL(uint64_t fence_height, leader.Height());
  ExpectHeightStays(leader, fence_height, 1000);
  ASSIGN_OR_FAIL(st, leader.StatusJson());
  EXPECT_NE(st["sync"].value("reason", "").find("peers answered"), std::string::npos) << st.dump(2);
  ASSIGN_OR_FAIL(auto at_fence, leader.Client().GetJson("/v1/blocks/" + std::to_string(fence_height)));
  EXPECT_EQ(leader.Terminate(), 0);

  // 4. The override there: it produces, above the fence only, and it is audited.
  ASSERT_OK(leader.Reconfigure(WithPeers(spec, dead_peer, {"--allow-lone-start"})));
  ASSERT_OK(leader.Start());
  ASSERT_OK(leader.WaitForHeight(fence_height + 3, Millis(20000)));
  ASSIGN_OR_FAIL(auto still, leader.Client().GetJson("/v1/blocks/" + std::to_string(fence_height)));
  EXPECT_EQ(still["header"]["hash"], at_fence["header"]["hash"]);
  EXPECT_EQ(leader.Terminate(), 0);
  EXPECT_EQ(Count(Slurp(audit_log), "node.allow_lone_start"), 2u) << Slurp(audit_log);
  CommandResult verify = s.Cli(leader, {"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify;
}

TEST(Fence, FollowerFedAnotherChainStopsAndNamesTheHeight) {
  Scenario s("fence-fork");
  // Two machines with the federation key and their own fences: two histories.
  NodeSpec a_spec = NodeSpec::Leader("leader-a", 100, 10);
  NodeSpec b_spec = NodeSpec::Leader("leader-b", 100, 10);
  a_spec.signer_key_file = s.dir().Join("a.key");
  b_spec.signer_key_file = s.dir().Join("b.key");
  ASSERT_TRUE(stdfs::copy_file(s.signer().key_file, a_spec.signer_key_file));
  ASSERT_TRUE(stdfs::copy_file(s.signer().key_file, b_spec.signer_key_file));
  TestNode a = s.AddNode(a_spec);
  TestNode b = s.AddNode(b_spec);
  ASSERT_OK(a.Start());
  TestNode f = s.AddNode(NodeSpec::Follower("follower", a.url(), 100, 10));
  ASSERT_OK(f.Start());
  ASSERT_OK(f.WaitForHeight(5, Millis(20000)));
  EXPECT_EQ(f.Terminate(), 0);
  EXPECT_EQ(a.Terminate(), 0);
  CommandResult fv = s.Cli(f, {"--json", "verify-state", f.data_dir()});
  ASSERT_EQ(fv.exit_code, 0) << fv;
  const uint64_t fork_height = JsonOut(fv)["height"].get<uint64_t>();

  ASSERT_OK(b.Start());
  ASSERT_OK(b.WaitForHeight(fork_height + 5, Millis(20000)));
  // The same follower, now pointed at leader-b.
  TestNode g = s.AddNode(NodeSpec::Follower("follower-b", b.url(), 100, 10));
  stdfs::create_directories(g.dir());
  CopyDir(f.data_dir(), g.data_dir());
  ASSERT_OK(g.Start());
  ASSERT_TRUE(WaitUntil([&] {
    auto st = g.StatusJson();
    return st.ok() && (*st)["sync"]["state"] == "forked";
  }, Millis(20000))) << FileTail(g.log_path());
  ASSIGN_OR_FAIL(auto st, g.StatusJson());
  EXPECT_EQ(st["sync"]["fork"]["height"].get<uint64_t>(), fork_height) << st.dump(2);
  EXPECT_EQ(st["height"].get<uint64_t>(), fork_height) << "a forked follower applies nothing more";
  const std::string named = "forked at height " + std::to_string(fork_height);

  CommandResult sync = s.Cli(g, {"sync-status", "--url", g.url()});
  EXPECT_EQ(sync.exit_code, 3) << sync;
  EXPECT_NE(sync.err.find(named), std::string::npos) << sync;
  CommandResult health = s.Cli(g, {"health-check", "--url", g.url()});
  EXPECT_EQ(health.exit_code, 3) << health;
  EXPECT_NE(health.err.find(named), std::string::npos) << health;
  auto raw = g.Client().GetJson("/v1/health");
  EXPECT_EQ(raw.status().code(), StatusCode::kUnavailable) << "HTTP 503 expected";
  EXPECT_EQ(g.Terminate(), 0);
  EXPECT_EQ(b.Terminate(), 0);
}

}  // namespace
}  // namespace ailee::it
