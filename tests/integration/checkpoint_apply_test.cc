// apply-checkpoint and verify-checkpoint against what an attacker or an
// unlucky operator hands them: a local checkpoint with a symlink, FIFO,
// socket or extra file where only the manifest's regular files belong; a
// manifest recomputed over tampered state; a checkpoint or snapshot older
// than the target, or of another chain. Real node state (bulk loaded),
// real ailee-cli processes, a real repository.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <cstring>
#include <functional>
#include <map>

#include "base/fs.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "state/checkpoint.h"
#include "repo_fixture.h"
#include "state/state_db.h"
#include "state_tamper.h"
#include "state/transaction.h"

namespace ailee::it {
namespace {

// Generous: a liveness guard against a command blocked on a FIFO forever,
// not a performance assertion.
constexpr Millis kHangGuard{120000};

// Every entry under `dir` without following links: regular files by
// SHA-256, anything else by its type. Equal digests = the tree was not touched.
std::map<std::string, std::string> Digest(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const auto rel = std::filesystem::relative(it->path(), dir).string();
    auto type = it->symlink_status(ec).type();
    if (type == std::filesystem::file_type::regular) {
      auto h = crypto::Sha256File(it->path().string());
      out[rel] = h.ok() ? crypto::HashToHex(*h) : "unreadable";
    } else {
      out[rel] = "type " + std::to_string(static_cast<int>(type));
    }
  }
  return out;
}

// The first account the bulk loader (seed 1) funds.
// An apply's staging tree beside `target`: ".<name>.apply-<owner>-<random>"
// (or "<name>.apply-partial", the fixed name older versions used).
bool StagingBeside(const std::string& target) {
  auto names = fs::ListDir(fs::Dirname(target));
  if (!names.ok()) return false;
  const std::string base = fs::Basename(target);
  for (const auto& n : *names)
    if (n.rfind("." + base + ".apply-", 0) == 0 || n == base + ".apply-partial") return true;
  return false;
}

std::string FirstLoadAccount() {
  auto key = crypto::Ed25519PlainFromSeed(crypto::HashToString(crypto::Sha256("ailee-load/1/0")));
  return state::AccountIdHex(key.public_key);
}

std::string FirstSst(const std::string& dir) {
  auto names = fs::ListDir(dir);
  if (!names.ok()) return "";
  for (const auto& n : *names) {
    if (n.size() > 4 && n.substr(n.size() - 4) == ".sst") return n;
  }
  return "";
}

struct Tip {
  uint64_t height = 0;
  std::string hash;
};

// One world for the suite: node-1 loaded, checkpoint A and snapshot A taken,
// then node-1 loaded further (its data dir is ahead of A); node-2 loaded on
// its own (another chain).
class ApplyCheckpointTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new RepoWorld("ckpt-apply");
    RepoWorld& w = *world_;
    TestNode& n1 = w.AddNode("node-1");
    TestNode& n2 = w.AddNode("node-2");
    ASSERT_OK(w.BulkLoad(n1, "", 400));
    ASSERT_OK(w.InitRepo());
    ckpt_a_ = new std::string(w.scenario().dir().Join("ckpt-a"));
    auto made = w.JsonOk(n1, {"create-checkpoint", "--offline", "--output", *ckpt_a_});
    ASSERT_OK(made);
    tip_a_ = new Tip{(*made)["height"].get<uint64_t>(), (*made)["block_hash"].get<std::string>()};
    auto snap = w.JsonOk(n1, {"backup", "state", "--offline"});
    ASSERT_OK(snap);
    snap_a_ = new std::string((*snap)["snapshot"].get<std::string>());
    ASSERT_OK(w.BulkLoad(n1, "", 400));
    ASSERT_OK(w.BulkLoad(n2, "", 1200, /*seed=*/2));
  }
  static void TearDownTestSuite() {
    delete world_;
    delete ckpt_a_;
    delete snap_a_;
    delete tip_a_;
  }
  void SetUp() override {
    ASSERT_NE(world_, nullptr);
    ASSERT_NE(tip_a_, nullptr) << "the suite's world could not be built";
  }

  RepoWorld& w() { return *world_; }
  TestNode& n1() { return w().node(0); }
  TestNode& n2() { return w().node(1); }
  std::string Dir(const std::string& name) { return w().scenario().dir().Join(name); }

  // A target holding checkpoint A, applied and proven.
  std::string GoodTarget(const std::string& name) {
    std::string t = Dir(name);
    CommandResult r = w().Cli(n1(), {"apply-checkpoint", *ckpt_a_, "--target", t});
    EXPECT_EQ(r.exit_code, 0) << r;
    return t;
  }
  // A private copy of checkpoint A to damage.
  std::string CopyOfA(const std::string& name) {
    std::string c = Dir(name);
    EXPECT_OK(CopyTree(*ckpt_a_, c));
    return c;
  }
  Tip TipOf(const std::string& dir) {
    StateProof p = ProveState(w(), n1(), dir);
    EXPECT_TRUE(p.ok) << p.result;
    auto j = nlohmann::json::parse(p.result.out, nullptr, false);
    return {p.height, j.is_object() ? j.value("tip_hash", "") : ""};
  }

  static RepoWorld* world_;
  static std::string* ckpt_a_;
  static std::string* snap_a_;
  static Tip* tip_a_;
};
RepoWorld* ApplyCheckpointTest::world_ = nullptr;
std::string* ApplyCheckpointTest::ckpt_a_ = nullptr;
std::string* ApplyCheckpointTest::snap_a_ = nullptr;
Tip* ApplyCheckpointTest::tip_a_ = nullptr;

TEST_F(ApplyCheckpointTest, HostileEntriesInALocalCheckpointAreRefusedNeverFollowedNeverBlocking) {
  const std::string target = GoodTarget("target-hostile");
  const auto before = Digest(target);
  const std::string sst = FirstSst(*ckpt_a_);
  ASSERT_FALSE(sst.empty()) << "no SST in the checkpoint";
  // The same bytes, outside the checkpoint: a symlink to it hashes right.
  const std::string outside = Dir("outside-copy.sst");
  ASSERT_OK(CopyTree(fs::JoinPath(*ckpt_a_, sst), outside));

  struct Variant {
    std::string name;
    std::function<void(const std::string& c)> damage;
    std::string named;  // what the error must name
  };
  std::vector<Variant> variants = {
      {"symlink-sst", [&](const std::string& c) {
         ASSERT_EQ(::unlink(fs::JoinPath(c, sst).c_str()), 0);
         ASSERT_EQ(::symlink(outside.c_str(), fs::JoinPath(c, sst).c_str()), 0);
       }, sst},
      {"fifo-sst", [&](const std::string& c) {
         ASSERT_EQ(::unlink(fs::JoinPath(c, sst).c_str()), 0);
         ASSERT_EQ(::mkfifo(fs::JoinPath(c, sst).c_str(), 0644), 0);
       }, sst},
      {"fifo-extra", [&](const std::string& c) {
         ASSERT_EQ(::mkfifo(fs::JoinPath(c, "000999.log").c_str(), 0644), 0);
       }, "000999.log"},
      {"extra-file", [&](const std::string& c) {
         ASSERT_OK(WriteFile(fs::JoinPath(c, "000999.log"), "not in the manifest"));
       }, "000999.log"},
      {"symlink-manifest", [&](const std::string& c) {
         const std::string m = fs::JoinPath(c, state::kCheckpointManifestName);
         ASSERT_OK(CopyTree(m, Dir("outside-manifest.json")));
         ASSERT_EQ(::unlink(m.c_str()), 0);
         ASSERT_EQ(::symlink(Dir("outside-manifest.json").c_str(), m.c_str()), 0);
       }, state::kCheckpointManifestName},
      {"fifo-manifest", [&](const std::string& c) {
         const std::string m = fs::JoinPath(c, state::kCheckpointManifestName);
         ASSERT_EQ(::unlink(m.c_str()), 0);
         ASSERT_EQ(::mkfifo(m.c_str(), 0644), 0);
       }, state::kCheckpointManifestName},
      {"socket-extra", [&](const std::string& c) {
         int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
         ASSERT_GE(s, 0);
         sockaddr_un addr{};
         addr.sun_family = AF_UNIX;
         const std::string p = fs::JoinPath(c, "sock");
         ASSERT_LT(p.size(), sizeof(addr.sun_path));
         std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
         ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
         ::close(s);
       }, "sock"},
  };
  for (const auto& v : variants) {
    SCOPED_TRACE(v.name);
    const std::string c = CopyOfA("hostile-" + v.name);
    v.damage(c);
    if (::testing::Test::HasFatalFailure()) return;

    CommandResult verify = w().Cli(n1(), {"verify-checkpoint", c}, kHangGuard);
    ASSERT_FALSE(verify.timed_out) << "verify-checkpoint blocked on the " << v.name << "\n" << verify;
    EXPECT_EQ(verify.exit_code, 3) << verify;
    EXPECT_NE((verify.out + verify.err).find(v.named), std::string::npos) << verify;

    CommandResult apply = w().Cli(n1(), {"apply-checkpoint", c, "--target", target}, kHangGuard);
    ASSERT_FALSE(apply.timed_out) << "apply-checkpoint blocked on the " << v.name << "\n" << apply;
    EXPECT_EQ(apply.exit_code, 3) << apply;
    EXPECT_NE(apply.err.find(v.named), std::string::npos) << apply;
    EXPECT_EQ(Digest(target), before) << "the target changed after a refused apply of " << v.name;
    EXPECT_FALSE(StagingBeside(target)) << "staging left behind";
  }
  EXPECT_EQ(TipOf(target).height, tip_a_->height);
}

TEST_F(ApplyCheckpointTest, ManifestRecomputedOverTamperedStateIsCaughtByTheProofAndTheTargetStillProves) {
  const std::string target = GoodTarget("target-tampered");
  const auto before = Digest(target);
  // Damage the state behind RocksDB's back, then recompute every file's hash
  // into the manifest: the files "match", only the state-root proof can tell.
  const std::string c = CopyOfA("tampered");
  ASSERT_OK(state::tamper::SetAccountBalance(c, FirstLoadAccount(), 999999999));
  ASSERT_OK(state::ReadManifest(c));
  auto m = *state::ReadManifest(c);
  auto files = state::HashTree(c);
  ASSERT_OK(files);
  m.files = *files;
  ASSERT_OK(fs::WriteFileAtomic(fs::JoinPath(c, state::kCheckpointManifestName), state::EncodeManifest(m)));

  CommandResult apply = w().Cli(n1(), {"apply-checkpoint", c, "--target", target});
  EXPECT_EQ(apply.exit_code, 3) << apply;
  EXPECT_NE(apply.err.find(FirstLoadAccount()), std::string::npos) << "the damaged account is named: " << apply;
  EXPECT_EQ(Digest(target), before) << "a checkpoint that does not prove changed the target";
  EXPECT_FALSE(StagingBeside(target)) << "staging left behind";
  Tip after = TipOf(target);
  EXPECT_EQ(after.height, tip_a_->height);
  EXPECT_EQ(after.hash, tip_a_->hash);
}

TEST_F(ApplyCheckpointTest, OlderCheckpointOntoAHigherTargetIsRefusedNamingBothHeightsUnlessAllowRollback) {
  const std::string target = Dir("target-ahead");
  ASSERT_OK(CopyTree(n1().data_dir(), target));
  const Tip ahead = TipOf(target);
  ASSERT_GT(ahead.height, tip_a_->height);
  const auto before = Digest(target);

  CommandResult refused = w().Cli(n1(), {"apply-checkpoint", *ckpt_a_, "--target", target});
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_NE(refused.err.find("height " + std::to_string(ahead.height)), std::string::npos) << refused;
  EXPECT_NE(refused.err.find("height " + std::to_string(tip_a_->height)), std::string::npos) << refused;
  EXPECT_NE(refused.err.find("--allow-rollback"), std::string::npos) << refused;
  EXPECT_EQ(Digest(target), before);

  CommandResult allowed = w().Cli(n1(), {"apply-checkpoint", *ckpt_a_, "--target", target, "--allow-rollback"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed;
  EXPECT_EQ(TipOf(target).height, tip_a_->height);

  // The same height and block again is no rollback; neither is an empty target.
  CommandResult same = w().Cli(n1(), {"apply-checkpoint", *ckpt_a_, "--target", target});
  EXPECT_EQ(same.exit_code, 0) << same;
  ASSERT_OK(fs::MakeDirs(Dir("target-empty")));
  CommandResult empty = w().Cli(n1(), {"apply-checkpoint", *ckpt_a_, "--target", Dir("target-empty")});
  EXPECT_EQ(empty.exit_code, 0) << empty;
}

TEST_F(ApplyCheckpointTest, CheckpointOfAnotherChainIsRefusedNamingBothBlockHashes) {
  const std::string target = Dir("target-other-chain");
  ASSERT_OK(CopyTree(n2().data_dir(), target));
  const Tip other = TipOf(target);
  ASSERT_GE(other.height, tip_a_->height) << "node-2 must be at least as high as checkpoint A for this test";
  std::string theirs;
  {
    auto db = state::StateDb::Open(target, state::OpenOptions{true, false});
    ASSERT_OK(db);
    auto block = (*db)->GetBlock(tip_a_->height);
    ASSERT_OK(block);
    theirs = crypto::HashToHex(block->header.Hash());
  }
  ASSERT_NE(theirs, tip_a_->hash);
  const auto before = Digest(target);

  CommandResult refused = w().Cli(n1(), {"apply-checkpoint", *ckpt_a_, "--target", target});
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_NE(refused.err.find("another chain"), std::string::npos) << refused;
  EXPECT_NE(refused.err.find(theirs), std::string::npos) << refused;
  EXPECT_NE(refused.err.find(tip_a_->hash), std::string::npos) << refused;
  EXPECT_EQ(Digest(target), before);
}

TEST_F(ApplyCheckpointTest, OlderSnapshotOntoAHigherTargetIsRefusedNamingBothHeightsUnlessAllowRollback) {
  const std::string target = Dir("target-ahead-snapshot");
  ASSERT_OK(CopyTree(n1().data_dir(), target));
  const Tip ahead = TipOf(target);
  ASSERT_GT(ahead.height, tip_a_->height);
  const auto before = Digest(target);

  CommandResult refused = w().Cli(n1(), {"apply-checkpoint", *snap_a_, "--target", target});
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_NE(refused.err.find("height " + std::to_string(ahead.height)), std::string::npos) << refused;
  EXPECT_NE(refused.err.find("height " + std::to_string(tip_a_->height)), std::string::npos) << refused;
  EXPECT_EQ(Digest(target), before);

  CommandResult allowed = w().Cli(n1(), {"apply-checkpoint", *snap_a_, "--target", target, "--allow-rollback"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed;
  EXPECT_EQ(TipOf(target).height, tip_a_->height);
}

TEST_F(ApplyCheckpointTest, KilledMidApplyLeavesTheTargetWholeAndTheRerunCompletes) {
  const std::string target = GoodTarget("target-killed");
  const auto before = Digest(target);
  const std::string ckpt_b = Dir("ckpt-b");
  auto made = w().JsonOk(n1(), {"create-checkpoint", "--offline", "--output", ckpt_b});
  ASSERT_OK(made);
  const uint64_t height_b = (*made)["height"].get<uint64_t>();
  ASSERT_GT(height_b, tip_a_->height);

  ASSIGN_OR_FAIL(Process run, w().Background(n1(), {"apply-checkpoint", ckpt_b, "--target", target}, Dir("killed-apply.log")));
  // Staging exists from after the source verified until the swap.
  const bool staging = WaitUntil([&] { return StagingBeside(target) || !run.Running(); }, Millis(120000), Millis(1));
  ASSERT_TRUE(staging);
  if (!run.Running()) GTEST_SKIP() << "the apply finished before it could be killed while staging";
  run.Kill();

  // Old state or new, never a mix: whichever it is proves.
  const Tip after_kill = TipOf(target);
  EXPECT_TRUE(after_kill.height == tip_a_->height || after_kill.height == height_b) << after_kill.height;
  if (after_kill.height == tip_a_->height) {
    EXPECT_EQ(Digest(target), before);
  }

  CommandResult rerun = w().Cli(n1(), {"apply-checkpoint", ckpt_b, "--target", target});
  EXPECT_EQ(rerun.exit_code, 0) << rerun;
  EXPECT_EQ(TipOf(target).height, height_b);
  EXPECT_FALSE(StagingBeside(target)) << "the killed run's staging was not removed";
}

}  // namespace
}  // namespace ailee::it
