// Power loss under a local repository and a restore target: for every k, the
// power goes out right after the k-th filesystem call of a backup, a restore
// or a prune (FaultInjectionFileSystem drops every write and directory entry
// that was not synced); after the reboot the repository opens and verifies
// with --read-data, the restore target is the old tree or the complete new
// one, and the next run completes.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/fault_injection_file_system.h"
#include "repo/prune.h"
#include "repo/restore.h"
#include "repo/retention.h"
#include "repo/snapshot.h"
#include "repo/verify.h"
#include "repo_test_util.h"
#include "storage/local_object_store.h"

namespace ailee::repo::testing {
namespace {

constexpr int64_t kDay = 24 * 3600 * 1000LL;

class PowerLossTest : public RepoTest {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    root_ = dir_ + "/repo";
    baseline_ = dir_ + "/repo.baseline";
    auto repo = InitRepo(Store());
    ASSERT_NE(repo, nullptr);
    repo_ = std::move(repo);
  }

  std::shared_ptr<storage::LocalObjectStore> Store() {
    return std::make_shared<storage::LocalObjectStore>(root_, &faulty_);
  }

  // The machine as it comes back: a new process (its locks are stale by
  // then, on the injected clock) opening the repository afresh.
  std::unique_ptr<Repository> Reboot() {
    EXPECT_TRUE(faulty_.SimulatePowerLoss().ok());
    clock_.Advance(kDay);
    auto r = Repository::Open(Store(), "correct horse", {&clock_});
    EXPECT_TRUE(r.ok()) << "the repository does not open after the power loss: " << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  // repo verify --read-data: every referenced object present and authentic.
  void ExpectVerifies(Repository& repo) {
    VerifyOptions o;
    o.read_data = true;
    o.workers = 1;
    auto report = Verify(repo, o);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    for (const auto& p : report->problems) ADD_FAILURE() << p.ToString();
  }

  size_t Snapshots(Repository& repo) {
    auto l = ListSnapshots(repo);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? l->snapshots.size() : 0;
  }

  void SaveBaseline() {
    std::filesystem::remove_all(baseline_);
    std::filesystem::copy(root_, baseline_, std::filesystem::copy_options::recursive);
  }
  void ResetToBaseline() {
    std::filesystem::remove_all(root_);
    std::filesystem::copy(baseline_, root_, std::filesystem::copy_options::recursive);
    faulty_.MarkAllDurable();
  }

  // Calls `op` once without a power cut and returns how many filesystem
  // calls it made (the repository is then reset to the baseline).
  template <typename Op>
  uint64_t CountCalls(Op op) {
    ResetToBaseline();
    const uint64_t before = faulty_.calls();
    op();
    return faulty_.calls() - before;
  }

  // Runs `op` on the baseline repository, freshly opened, with the power
  // going out right after the k-th filesystem call; then the reboot.
  // `reported_done`: whether `op` reported success (it did all its calls
  // before the cut), so what it promised must have survived.
  template <typename Op>
  std::unique_ptr<Repository> LosePowerDuring(uint64_t k, Op op, bool* reported_done) {
    ResetToBaseline();
    {
      auto repo = OpenRepo(Store());
      if (!repo) return nullptr;
      faulty_.CutPowerAfter(k);
      *reported_done = op(*repo).ok();  // fails from the cut on
    }
    return Reboot();
  }

  void RestoreUnderPowerLoss(bool exchange);

  fs::FaultInjectionFileSystem faulty_;
  std::string root_, baseline_;
  int no_target_windows_ = 0;
};

TEST_F(PowerLossTest, BackupIntoALocalRepository) {
  WriteFile(src_ + "/a.sst", RandomData(300 << 10, 1));
  WriteFile(src_ + "/CURRENT", "MANIFEST-000001\n");
  Backup(SmallPacks());
  SaveBaseline();
  // The next backup adds a new file, changes one and keeps one.
  WriteFile(src_ + "/b.sst", RandomData(500 << 10, 2));
  WriteFile(src_ + "/CURRENT", "MANIFEST-000002\n");
  const auto tree = ReadTree(src_);

  const uint64_t total = CountCalls([&] {
    auto repo = OpenRepo(Store());
    ASSERT_NE(repo, nullptr);
    Backup(*repo, SmallPacks());
  });
  ASSERT_GT(total, 10u);
  RecordProperty("filesystem_calls", static_cast<int>(total));
  for (uint64_t k = 1; k <= total; ++k) {
    SCOPED_TRACE("power lost after filesystem call " + std::to_string(k) + " of " + std::to_string(total));
    bool done = false;
    auto repo = LosePowerDuring(k, [&](Repository& r) { return BackupTree(r, src_, SmallPacks()).status(); }, &done);
    ASSERT_NE(repo, nullptr);
    ExpectVerifies(*repo);
    const size_t snapshots = Snapshots(*repo);
    EXPECT_TRUE(snapshots == 1 || snapshots == 2) << snapshots;
    if (done) {
      EXPECT_EQ(snapshots, 2u) << "the backup reported success, its snapshot was lost";
    }
    // The next run completes, and what it stored restores to the source.
    auto next = BackupTree(*repo, src_, SmallPacks());
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    ExpectVerifies(*repo);
    const std::string target = dir_ + "/check";
    std::filesystem::remove_all(target);
    auto restored = RestoreSnapshot(*repo, IdHex(next->snapshot_id), target, {});
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    EXPECT_EQ(ReadTree(target), tree);
    if (HasFatalFailure()) return;
  }
}

// `exchange`: false makes the filesystem one without RENAME_EXCHANGE, so the
// restore swaps by two renames (target aside, staging in).
void PowerLossTest::RestoreUnderPowerLoss(bool exchange) {
  WriteFile(src_ + "/keep.sst", RandomData(200 << 10, 3));
  WriteFile(src_ + "/old.sst", RandomData(100 << 10, 4));
  WriteFile(src_ + "/sub/CURRENT", "MANIFEST-000001\n");
  auto old_snap = Backup(SmallPacks());
  const auto old_tree = ReadTree(src_);
  ASSERT_TRUE(fs::RemoveAll(src_ + "/old.sst").ok());
  WriteFile(src_ + "/new.sst", RandomData(300 << 10, 5));
  WriteFile(src_ + "/sub/CURRENT", "MANIFEST-000002\n");
  auto new_snap = Backup(SmallPacks());
  const auto new_tree = ReadTree(src_);

  const std::string parent = dir_ + "/restore";
  const std::string target = parent + "/db";
  ASSERT_TRUE(fs::MakeDirs(parent).ok());
  ASSERT_TRUE(RestoreSnapshot(*repo_, IdHex(old_snap.snapshot_id), target, {}).ok());
  const std::string old_copy = dir_ + "/db.old";
  std::filesystem::copy(target, old_copy, std::filesystem::copy_options::recursive);
  SaveBaseline();
  auto reset_target = [&] {
    std::filesystem::remove_all(parent);
    ASSERT_TRUE(fs::MakeDirs(parent).ok());
    std::filesystem::copy(old_copy, target, std::filesystem::copy_options::recursive);
  };
  RestoreOptions options;
  options.force = true;
  options.workers = 1;  // one order of calls, so that k names the same point each time
  options.file_system = &faulty_;
  if (!exchange) faulty_.FailOp(fs::FaultInjectionFileSystem::Op::kRenameExchange, EINVAL);

  const uint64_t total = CountCalls([&] {
    reset_target();
    auto repo = OpenRepo(Store());
    ASSERT_NE(repo, nullptr);
    auto r = RestoreSnapshot(*repo, IdHex(new_snap.snapshot_id), target, options);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_GT(r->files_reused, 0u);  // the delta path (link from the old tree) is among the calls
  });
  ASSERT_GT(total, 10u);
  RecordProperty("filesystem_calls", static_cast<int>(total));
  for (uint64_t k = 1; k <= total; ++k) {
    SCOPED_TRACE("power lost after filesystem call " + std::to_string(k) + " of " + std::to_string(total));
    reset_target();
    bool done = false;
    auto repo = LosePowerDuring(
        k, [&](Repository& r) { return RestoreSnapshot(r, IdHex(new_snap.snapshot_id), target, options).status(); },
        &done);
    ASSERT_NE(repo, nullptr);
    auto names = fs::ListDir(parent);
    ASSERT_TRUE(names.ok()) << names.status().ToString();
    if (!exchange && !fs::Exists(target)) {
      // The two renames' window: no target, the old tree set aside (kept
      // by the next restore, which then finds no target to replace).
      ++no_target_windows_;
      EXPECT_FALSE(done);
      bool aside = false;
      for (const auto& name : *names) {
        aside |= name.rfind(".db.old-", 0) == 0 && ReadTree(parent + "/" + name) == old_tree;
      }
      EXPECT_TRUE(aside) << "the target is gone and the old tree with it";
    } else {
      const auto got = ReadTree(target);
      EXPECT_TRUE(got == old_tree || got == new_tree) << "the target is neither the old tree nor the new one";
      if (done) {
        EXPECT_TRUE(got == new_tree) << "the restore reported success, the old tree came back";
      }
    }
    // Beside the target: at most scratch the next restore removes.
    for (const auto& name : *names) {
      EXPECT_TRUE(name == "db" || name.rfind(".db.restore-", 0) == 0 || name.rfind(".db.old-", 0) == 0) << name;
    }
    auto next = RestoreSnapshot(*repo, IdHex(new_snap.snapshot_id), target, options);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(ReadTree(target), new_tree);
    ExpectVerifies(*repo);
    if (HasFatalFailure()) return;
  }
}

TEST_F(PowerLossTest, RestoreIntoATargetDirectory) {
  RestoreUnderPowerLoss(true);
  EXPECT_EQ(no_target_windows_, 0);
}

// Without RENAME_EXCHANGE there is no atomic swap of two directories: a
// power loss between the two renames leaves no target, with the old tree
// beside it under ".<name>.old-*" (restore.h says so).
TEST_F(PowerLossTest, RestoreIntoATargetDirectoryWithoutRenameExchange) {
  RestoreUnderPowerLoss(false);
  EXPECT_GT(no_target_windows_, 0);
  RecordProperty("no_target_windows", no_target_windows_);
}

TEST_F(PowerLossTest, Prune) {
  // The first snapshot's packs hold only gone.sst: prune deletes them whole.
  WriteFile(src_ + "/gone.sst", RandomData(600 << 10, 6));
  Backup(SmallPacks());
  ASSERT_TRUE(fs::RemoveAll(src_ + "/gone.sst").ok());
  WriteFile(src_ + "/keep.sst", RandomData(200 << 10, 7));
  WriteFile(src_ + "/new.sst", RandomData(300 << 10, 8));
  clock_.Advance(kDay);
  auto kept = Backup(SmallPacks());
  const auto kept_tree = ReadTree(src_);
  ForgetOptions forget;
  forget.policy.keep_last = 1;
  ASSERT_TRUE(Forget(*repo_, forget).ok());
  ASSERT_EQ(Snapshots(*repo_), 1u);
  SaveBaseline();

  auto prune = [&](Repository& repo) { return Prune(repo, {}); };
  const uint64_t total = CountCalls([&] {
    auto repo = OpenRepo(Store());
    ASSERT_NE(repo, nullptr);
    auto st = prune(*repo);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    EXPECT_GT(st->packs_deleted, 0u);
  });
  ASSERT_GT(total, 10u);
  RecordProperty("filesystem_calls", static_cast<int>(total));
  for (uint64_t k = 1; k <= total; ++k) {
    SCOPED_TRACE("power lost after filesystem call " + std::to_string(k) + " of " + std::to_string(total));
    bool done = false;
    auto repo = LosePowerDuring(k, [&](Repository& r) { return prune(r).status(); }, &done);
    ASSERT_NE(repo, nullptr);
    ExpectVerifies(*repo);
    EXPECT_EQ(Snapshots(*repo), 1u);
    auto next = prune(*repo);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    if (done) {
      EXPECT_EQ(next->packs_deleted, 0u) << "the prune reported success, deleted packs came back";
    }
    ExpectVerifies(*repo);
    const std::string target = dir_ + "/check";
    std::filesystem::remove_all(target);
    ASSERT_TRUE(RestoreSnapshot(*repo, IdHex(kept.snapshot_id), target, {}).ok());
    EXPECT_EQ(ReadTree(target), kept_tree);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace ailee::repo::testing
