// The bulk loader signs through the signer's fence like a leader (issue 10,
// tools/loadgen/bulk_fence.h): a leader started on a bulk-loaded data dir
// with no peers leads at once; a data dir below the fence (or on another
// chain, or with the fence lost) is refused, naming the fence; a bulk load
// and a running node on one key exclude each other, and a bulk load killed
// mid-block leaves a fence the next one continues from.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "repo_fixture.h"

namespace ailee::it {
namespace {

namespace stdfs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string FencePath(const TestNode& n) { return n.spec().signer_key_file + ".fence"; }

// The "height N" line of the node's key's fence; 0 when there is no fence.
uint64_t FenceHeight(const TestNode& n) {
  const std::string text = Slurp(FencePath(n));
  const size_t at = text.find("\nheight ");
  return at == std::string::npos ? 0 : std::stoull(text.substr(at + 8));
}

// `load --mode bulk`, small blocks (many heights for few transactions).
CommandResult BulkLoadCmd(const RepoWorld& w, const TestNode& n, uint64_t max_tx, uint64_t seed = 1) {
  return w.Cli(n, {"-q", "load", "--mode", "bulk", "--duration", "0", "--memo-bytes", "64", "--accounts", "200",
                   "--block-tx", "100", "--max-tx", std::to_string(max_tx), "--seed", std::to_string(seed)});
}

void BulkLoadOk(const RepoWorld& w, const TestNode& n, uint64_t max_tx, uint64_t seed = 1) {
  CommandResult r = BulkLoadCmd(w, n, max_tx, seed);
  ASSERT_EQ(r.exit_code, 0) << r;
}

uint64_t TipOf(const RepoWorld& w, const TestNode& n) {
  StateProof p = ProveState(w, n, n.data_dir());
  EXPECT_TRUE(p.ok) << p.result;
  return p.height;
}

// A leader's height reaches what `grew` waited for; its log otherwise.
void ExpectProduces(const TestNode& n, const Status& grew) {
  EXPECT_TRUE(grew.ok()) << grew.ToString() << "\n" << FileTail(n.log_path());
}

void ReplaceDir(const std::string& from, const std::string& to) {
  stdfs::remove_all(to);
  ASSERT_OK(CopyTree(from, to));
}

TEST(FenceBulkLoad, LeaderStartedOnABulkLoadedDataDirWithoutPeersProduces) {
  RepoWorld w("fence-bulk-start");
  TestNode& n = w.AddNode("node-1");
  // A fresh data dir, no node ever ran: the fence comes from the bulk load.
  ASSERT_OK(w.BulkLoad(n, "", 300));
  const uint64_t loaded = TipOf(w, n);
  ASSERT_GT(loaded, 0u);
  EXPECT_EQ(FenceHeight(n), loaded) << Slurp(FencePath(n));
  ASSERT_OK(n.Start());
  ExpectProduces(n, n.WaitForHeight(loaded + 3, Millis(20000)));
  ASSIGN_OR_FAIL(auto st, n.StatusJson());
  EXPECT_EQ(st["sync"]["state"], "leader") << st.dump(2);
  EXPECT_EQ(n.Terminate(), 0);

  // The stopped leader's data dir, loaded again: the leader leads on.
  const uint64_t led = TipOf(w, n);
  ASSERT_OK(w.BulkLoad(n, "", 300));
  const uint64_t reloaded = TipOf(w, n);
  ASSERT_GT(reloaded, led);
  EXPECT_EQ(FenceHeight(n), reloaded) << Slurp(FencePath(n));
  ASSERT_OK(n.Start());
  ExpectProduces(n, n.WaitForHeight(reloaded + 3, Millis(20000)));
  ASSIGN_OR_FAIL(st, n.StatusJson());
  EXPECT_EQ(st["sync"]["state"], "leader") << st.dump(2);
  EXPECT_EQ(n.Terminate(), 0);
  EXPECT_TRUE(ProveState(w, n, n.data_dir()).ok);
}

TEST(FenceBulkLoad, DataDirBelowTheFenceOnAnotherChainOrWithoutAFenceIsRefused) {
  RepoWorld w("fence-bulk-refuse");
  TestNode& n = w.AddNode("node-1");
  BulkLoadOk(w, n, 200);
  const std::string old_copy = w.scenario().dir().Join("node-1-old");
  ASSERT_OK(CopyTree(n.data_dir(), old_copy));
  const uint64_t old_tip = TipOf(w, n);
  BulkLoadOk(w, n, 200);
  const uint64_t fence = FenceHeight(n);
  ASSERT_GT(fence, old_tip);
  const std::string fence_text = Slurp(FencePath(n));

  // 1. The data dir rolled back below the fence (a restore, a copy).
  ReplaceDir(old_copy, n.data_dir());
  CommandResult r = BulkLoadCmd(w, n, 100);
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_NE(r.err.find("signing fence " + FencePath(n) + " is at height " + std::to_string(fence)), std::string::npos)
      << r;
  EXPECT_EQ(TipOf(w, n), old_tip) << "a refused bulk load signed blocks";
  EXPECT_TRUE(Slurp(FencePath(n)) == fence_text) << "a refused bulk load changed the fence";

  // 2. Another chain of the federation, higher than the fence.
  TestNode& other = w.AddNode("node-2");
  BulkLoadOk(w, other, 600, 2);
  ASSERT_GT(TipOf(w, other), fence);
  ReplaceDir(other.data_dir(), n.data_dir());
  r = BulkLoadCmd(w, n, 100);
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_NE(r.err.find("on another chain"), std::string::npos) << r;
  EXPECT_TRUE(Slurp(FencePath(n)) == fence_text) << "a refused bulk load changed the fence";

  // 3. The fence lost (moved aside) under a non-empty data dir.
  ReplaceDir(old_copy, n.data_dir());
  stdfs::rename(FencePath(n), FencePath(n) + ".damaged");
  r = BulkLoadCmd(w, n, 100);
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_NE(r.err.find("no signing fence"), std::string::npos) << r;
  EXPECT_FALSE(Exists(FencePath(n))) << "a refused bulk load wrote a fence";
  EXPECT_EQ(TipOf(w, n), old_tip);
}

TEST(FenceBulkLoad, BulkLoadAndARunningNodeOnOneKeyExcludeEachOther) {
  RepoWorld w("fence-bulk-lock");
  TestNode& n = w.AddNode("node-1");
  // Another data dir, the same key file: a second signer on one key.
  NodeSpec other_spec = NodeSpec::Leader("other", 100, 10);
  other_spec.signer_key_file = n.spec().signer_key_file;
  TestNode other = w.scenario().AddNode(other_spec);

  // 1. A bulk load runs: the node on its key does not start.
  ASSIGN_OR_FAIL(Process load, w.Background(n, {"-q", "load", "--mode", "bulk", "--duration", "60", "--memo-bytes", "64",
                                                "--accounts", "200", "--block-tx", "100"},
                                            w.scenario().dir().Join("load.log")));
  ASSERT_TRUE(WaitUntil([&] { return FenceHeight(n) >= 3; }, Millis(60000))) << FileTail(w.scenario().dir().Join("load.log"));
  Status started = other.Start(Millis(10000));
  EXPECT_FALSE(started.ok()) << "a node started on a key a bulk load signs with";
  EXPECT_NE(FileTail(other.log_path()).find("held by another process"), std::string::npos) << FileTail(other.log_path());
  // Killed mid-load (maybe between the fence write and the commit).
  load.Kill();

  // 2. The node runs (below the fence, so waiting, but holding the key): no bulk load.
  ASSERT_OK(other.Start());
  CommandResult r = BulkLoadCmd(w, n, 100);
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_NE(r.err.find("held by another process"), std::string::npos) << r;
  EXPECT_EQ(other.Terminate(), 0);

  // 3. Alone again, the bulk load continues from the killed one's fence.
  ASSERT_OK(w.BulkLoad(n, "", 200));
  const uint64_t tip = TipOf(w, n);
  EXPECT_EQ(FenceHeight(n), tip);
  ASSERT_OK(n.Start());
  ExpectProduces(n, n.WaitForHeight(tip + 2, Millis(20000)));
  EXPECT_EQ(n.Terminate(), 0);
}

}  // namespace
}  // namespace ailee::it
