// ops::ApplyCheckpointDir's contract on real RocksDB state: a staged tree
// that does not prove is never swapped in (the target stays as it was and
// still proves, no staging is left), and create-checkpoint to a store leaves
// no scratch directory behind on any path, removing what a killed run left.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <optional>

#include "ops/state/checkpoint_create.h"
#include "ops/state/checkpoint_transfer.h"
#include "state/checkpoint_apply.h"
#include "state/checkpoint_verify.h"
#include "base/fs.h"
#include "base/scratch.h"
#include "state_tamper.h"
#include "state_test_util.h"
#include "storage/fault_injection_object_store.h"
#include "storage/memory_object_store.h"

namespace ailee::ops {
namespace {

using state::ApplyCheckpointDir;
using state::ApplyOptions;
using state::ApplyReport;
using state::ReadManifest;
using state::VerifyCheckpoint;
using state::kCheckpointManifestName;

using state::testing::TestFederation;
using state::testing::User;

std::map<std::string, std::string> Digest(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    auto h = crypto::Sha256File(it->path().string());
    out[std::filesystem::relative(it->path(), dir).string()] = h.ok() ? crypto::HashToHex(*h) : "?";
  }
  return out;
}

// The staging tree an apply keeps beside `target` (".<name>.apply-<owner>-<random>",
// or the fixed "<name>.apply-partial" older versions used); empty when none.
std::string StagingOf(const std::string& target) {
  auto names = fs::ListDir(fs::Dirname(target));
  if (!names.ok()) return "";
  const std::string base = fs::Basename(target);
  for (const auto& n : *names)
    if (n.rfind("." + base + ".apply-", 0) == 0 || n == base + ".apply-partial") return fs::JoinPath(fs::Dirname(target), n);
  return "";
}

class ApplyCheckpointDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_.Sub("data");
    Grow(4);
    ASSERT_TRUE(Checkpoint(ckpt1_ = tmp_.Sub("ckpt1")).ok());
    Grow(4);
    ASSERT_TRUE(Checkpoint(ckpt2_ = tmp_.Sub("ckpt2")).ok());
    target_ = tmp_.Sub("target");
    ApplyOptions o;
    o.federation = fed_.federation;
    auto r = ApplyCheckpointDir(ckpt1_, target_, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // `blocks` more blocks, each with a peg-in to a new account.
  void Grow(int blocks) {
    auto db = state::testing::OpenDb(data_);
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < blocks; ++i, ++accounts_) {
      auto tx = fed_.PegIn(User(accounts_).public_key, 1000, accounts_, fed_.pegin_nonce++);
      auto b = db->ProduceBlock({tx}, fed_.key, fed_.id, 1000 + accounts_, 3, fed_.federation);
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      ASSERT_TRUE(b->rejected.empty()) << b->rejected.front().reason.ToString();
    }
  }
  Status Checkpoint(const std::string& out) {
    CreateCheckpointOptions o;
    o.output = out;
    o.data_dir = data_;
    o.node_id = "node-1";
    return CreateCheckpoint(o).status();
  }
  void ExpectTargetUntouched(const std::map<std::string, std::string>& before) {
    EXPECT_EQ(Digest(target_), before) << "the target changed after a failed apply";
    EXPECT_EQ(StagingOf(target_), "") << "staging left behind";
    auto v = VerifyCheckpoint(target_, fed_.federation);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_TRUE(v->ok) << (v->problems.empty() ? "" : v->problems.front());
    EXPECT_EQ(v->manifest.height, 4u);
  }

  state::testing::TempDir tmp_{"apply"};
  TestFederation fed_;
  int accounts_ = 0;
  std::string data_, ckpt1_, ckpt2_, target_;
};

TEST_F(ApplyCheckpointDirTest, StagedTreeDamagedAfterTheSourceVerifiedIsNeverSwappedIn) {
  const auto before = Digest(target_);
  // The source verifies; then, once every file is staged, the staged state
  // is changed behind RocksDB's back (what a bad disk or a concurrent writer
  // could do between verification and the swap). Only a proof of the staged
  // tree itself can catch it.
  ApplyOptions o;
  o.federation = fed_.federation;
  auto m2 = ReadManifest(ckpt2_);
  ASSERT_TRUE(m2.ok()) << m2.status().ToString();
  const size_t files = m2->files.size();
  std::atomic<size_t> placed{0};
  bool damaged = false;
  // Called once per file, after it is placed, from the apply's threads: the
  // last call comes when every file is staged.
  o.progress = [&](const std::string& phase, uint64_t, uint64_t) {
    if (phase != "apply" || ++placed != files) return;
    damaged = true;
    Status st = state::tamper::SetAccountBalance(StagingOf(target_), state::AccountIdHex(User(0).public_key), 7);
    EXPECT_TRUE(st.ok()) << st.ToString();
  };
  auto r = ApplyCheckpointDir(ckpt2_, target_, o);
  ASSERT_TRUE(damaged) << "the apply never reported its last staged file";
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  EXPECT_NE(r.status().message().find("does not prove"), std::string::npos) << r.status().ToString();
  ExpectTargetUntouched(before);
}

// Two apply-checkpoint runs into one target (an operator's rerun while a
// cron job applies, two operators): each must own its staging tree. With one
// fixed staging name, the second run removed and rebuilt the first's proven
// tree, and with real processes the first could then swap the second's
// half-built tree into the target and delete the old state.
TEST_F(ApplyCheckpointDirTest, ConcurrentApplyIntoTheSameTargetDoesNotRemoveTheOtherRunsStaging) {
  auto m2 = ReadManifest(ckpt2_);
  ASSERT_TRUE(m2.ok()) << m2.status().ToString();
  const size_t files = m2->files.size();
  std::atomic<size_t> placed{0};
  std::optional<Result<ApplyReport>> second;
  ApplyOptions o;
  o.federation = fed_.federation;
  // Once the first run has staged every file, a second run into the same
  // target starts and completes.
  o.progress = [&](const std::string& phase, uint64_t, uint64_t) {
    if (phase != "apply" || ++placed != files) return;
    ApplyOptions o2;
    o2.federation = fed_.federation;
    second = ApplyCheckpointDir(ckpt2_, target_, o2);
  };
  auto first = ApplyCheckpointDir(ckpt2_, target_, o);
  ASSERT_TRUE(second.has_value()) << "the first run never reported its last staged file";
  EXPECT_TRUE(second->ok()) << second->status().ToString();
  EXPECT_TRUE(first.ok()) << "the first run lost its staging to the second: " << first.status().ToString();
  auto v = VerifyCheckpoint(target_, fed_.federation);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->ok) << (v->problems.empty() ? "" : v->problems.front());
  EXPECT_EQ(v->manifest.height, 8u);
  auto siblings = fs::ListDir(fs::Dirname(target_));
  ASSERT_TRUE(siblings.ok()) << siblings.status().ToString();
  for (const auto& n : *siblings)
    EXPECT_EQ(n.find(".apply"), std::string::npos) << "staging left behind: " << n;
}

TEST_F(ApplyCheckpointDirTest, FederationWithoutTheSignerFailsTheProofAndTheTargetIsUntouched) {
  const auto before = Digest(target_);
  TestFederation stranger;  // another key: the blocks' signer is not in it
  ApplyOptions o;
  o.federation = stranger.federation;
  auto r = ApplyCheckpointDir(ckpt2_, target_, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  ExpectTargetUntouched(before);
}

TEST_F(ApplyCheckpointDirTest, NewerCheckpointAppliesAndOlderNeedsAllowRollback) {
  ApplyOptions o;
  o.federation = fed_.federation;
  auto newer = ApplyCheckpointDir(ckpt2_, target_, o);
  ASSERT_TRUE(newer.ok()) << newer.status().ToString();
  EXPECT_GT(newer->files_reused, 0u);
  auto older = ApplyCheckpointDir(ckpt1_, target_, o);
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.status().code(), StatusCode::kFailedPrecondition) << older.status().ToString();
  EXPECT_NE(older.status().message().find("height 8"), std::string::npos) << older.status().ToString();
  EXPECT_NE(older.status().message().find("height 4"), std::string::npos) << older.status().ToString();
  o.allow_rollback = true;
  auto allowed = ApplyCheckpointDir(ckpt1_, target_, o);
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(allowed->manifest.height, 4u);
}

TEST_F(ApplyCheckpointDirTest, TargetWhoseDatabaseCannotBeReadIsRefusedUnlessAllowRollback) {
  // Its tip is unknown, so it may be ahead: refused, not silently replaced.
  ASSERT_TRUE(fs::WriteFileAtomic(fs::JoinPath(target_, "CURRENT"), "MANIFEST-999999\n").ok());
  const auto before = Digest(target_);
  ApplyOptions o;
  o.federation = fed_.federation;
  auto refused = ApplyCheckpointDir(ckpt2_, target_, o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("--allow-rollback"), std::string::npos) << refused.status().ToString();
  EXPECT_EQ(Digest(target_), before);
  o.allow_rollback = true;
  auto replaced = ApplyCheckpointDir(ckpt2_, target_, o);
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  auto v = VerifyCheckpoint(target_, fed_.federation);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << (v->problems.empty() ? "" : v->problems.front());
}

// A FIFO where the target's database keeps CURRENT (a damaged or tampered
// data dir): the rollback check opened the target's database by name and
// RocksDB blocked forever reading it. It must be refused at once, naming the
// entry, with the target untouched. The child is a hang guard (SIGALRM if
// the apply blocks), not a timing assertion.
TEST_F(ApplyCheckpointDirTest, FifoInTheTargetIsRefusedNotBlockedOn) {
  const std::string current = fs::JoinPath(target_, "CURRENT");
  ASSERT_EQ(::unlink(current.c_str()), 0);
  ASSERT_EQ(::mkfifo(current.c_str(), 0600), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::alarm(120);
    ApplyOptions o;
    o.federation = fed_.federation;
    auto r = ApplyCheckpointDir(ckpt2_, target_, o);
    const bool named = !r.ok() && r.status().message().find("CURRENT") != std::string::npos &&
                       r.status().message().find("FIFO") != std::string::npos;
    ::_exit(named ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_FALSE(WIFSIGNALED(status)) << "apply-checkpoint blocked on the FIFO in the target (signal " << WTERMSIG(status) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the refusal does not name the FIFO";
  struct stat sb {};
  ASSERT_EQ(::lstat(current.c_str(), &sb), 0);
  EXPECT_TRUE(S_ISFIFO(sb.st_mode)) << "the target was changed";
  EXPECT_EQ(StagingOf(target_), "") << "staging left behind";
}

TEST_F(ApplyCheckpointDirTest, TargetFileReplacedWithSameNameSizeAndMtimeIsNotReused) {
  // An unlucky disk or an attacker swaps a target SST for garbage of the
  // same size and mtime: reuse goes by SHA-256, so the file comes from the
  // checkpoint again and the result proves.
  auto m = ReadManifest(target_);
  ASSERT_TRUE(m.ok());
  std::string victim;
  for (const auto& f : m->files) {
    if (f.path.size() > 4 && f.path.substr(f.path.size() - 4) == ".sst") victim = f.path;
  }
  ASSERT_FALSE(victim.empty());
  const std::string path = fs::JoinPath(target_, victim);
  const auto mtime = std::filesystem::last_write_time(path);
  auto size = fs::FileSize(path);
  ASSERT_TRUE(size.ok());
  ASSERT_EQ(::unlink(path.c_str()), 0);  // a hard link shared with the checkpoint: replace, never edit in place
  ASSERT_TRUE(fs::WriteFileAtomic(path, std::string(*size, 'x')).ok());
  std::filesystem::last_write_time(path, mtime);
  ApplyOptions o;
  o.federation = fed_.federation;
  // The damaged target's tip cannot be read: replacing it takes the
  // operator's word.
  EXPECT_EQ(ApplyCheckpointDir(ckpt2_, target_, o).status().code(), StatusCode::kFailedPrecondition);
  o.allow_rollback = true;
  auto r = ApplyCheckpointDir(ckpt2_, target_, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto v = VerifyCheckpoint(target_, fed_.federation);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << (v->problems.empty() ? "" : v->problems.front());
  EXPECT_EQ(v->manifest.height, 8u);
}

// ---- create-checkpoint --output URL: the scratch directory beside the data dir

std::vector<std::string> Siblings(const std::string& dir) {
  auto names = fs::ListDir(dir);
  return names.ok() ? *names : std::vector<std::string>{};
}

pid_t DeadPid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

// What an apply killed with SIGKILL leaves beside the target (its staging
// tree, or the fixed-name one of an older version) is removed by the next
// apply; a staging tree whose owner still runs is left alone.
TEST_F(ApplyCheckpointDirTest, KilledApplysStagingIsRemovedByTheNextApplyALiveOnesIsNot) {
  const std::string parent = fs::Dirname(target_);
  const std::string base = fs::Basename(target_);
  const std::string dead = fs::JoinPath(parent, "." + base + ".apply-" + std::to_string(DeadPid()) + "s1-0123456789ab");
  const std::string old = target_ + ".apply-partial";
  const std::string live = fs::JoinPath(parent, fs::ScratchName("." + base + ".apply-"));
  for (const auto& d : {dead, old, live}) {
    ASSERT_TRUE(fs::MakeDirs(d).ok()) << d;
    ASSERT_TRUE(fs::WriteFileAtomic(fs::JoinPath(d, "CURRENT"), "MANIFEST-000001\n").ok()) << d;
  }
  ApplyOptions o;
  o.federation = fed_.federation;
  auto r = ApplyCheckpointDir(ckpt2_, target_, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(fs::Exists(dead)) << "a killed run's staging was not removed";
  EXPECT_FALSE(fs::Exists(old)) << "an older version's staging was not removed";
  EXPECT_TRUE(fs::Exists(fs::JoinPath(live, "CURRENT"))) << "a live run's staging was removed";
  (void)fs::RemoveAll(live);
  EXPECT_EQ(StagingOf(target_), "");
}

TEST_F(ApplyCheckpointDirTest, CheckpointToAStoreLeavesNoScratchAndRemovesWhatAKilledRunLeft) {
  const std::string parent = fs::Dirname(data_);
  const auto baseline = Siblings(parent);
  // What a run killed during its upload leaves: the checkpoint (hard links to
  // the data dir's SSTs) and a half-built one, both named for a dead pid.
  const std::string dead = std::to_string(DeadPid());
  const std::string left = data_ + ".tmp." + dead + ".0.17";
  ASSERT_TRUE(fs::MakeDirs(left).ok());
  auto m1 = ReadManifest(ckpt1_);
  ASSERT_TRUE(m1.ok()) << m1.status().ToString();
  for (const auto& f : m1->files)
    ASSERT_EQ(::link(fs::JoinPath(ckpt1_, f.path).c_str(), fs::JoinPath(left, f.path).c_str()), 0) << f.path;
  ASSERT_TRUE(fs::MakeDirs(data_ + ".tmp." + dead + ".1.5.partial").ok());
  // A live process's scratch is not ours to remove.
  const std::string live = data_ + ".tmp." + std::to_string(::getppid()) + ".0.1";
  ASSERT_TRUE(fs::MakeDirs(live).ok());

  CreateCheckpointOptions o;
  o.data_dir = data_ + "/";  // a trailing slash must not put the scratch inside the data dir
  o.node_id = "node-1";
  auto store = std::make_shared<storage::MemoryObjectStore>();
  auto m = CreateCheckpointInStore(o, *store);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(*store->Exists(kCheckpointManifestName));
  auto want = baseline;
  want.push_back(fs::Basename(live));
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Siblings(parent), want);
  for (const auto& n : Siblings(data_)) EXPECT_EQ(n.find(".tmp."), std::string::npos) << n;

  // A failed upload leaves nothing beside the data dir either.
  storage::FaultPlan plan;
  plan.fail_put_number = 2;
  auto faulty = std::make_shared<storage::FaultInjectionObjectStore>(std::make_shared<storage::MemoryObjectStore>(), plan);
  auto failed = CreateCheckpointInStore(o, *faulty);
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(Siblings(parent), want);
  (void)fs::RemoveAll(live);
}

}  // namespace
}  // namespace ailee::ops
