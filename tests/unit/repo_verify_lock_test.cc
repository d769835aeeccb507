// Verify and prune exclude each other through the repository lock: verify
// holds a shared lock, prune an exclusive one, so a verify never reads a
// repository halfway through a prune (and reports its packs as damage).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "repo/lock.h"
#include "repo/prune.h"
#include "repo/retention.h"
#include "repo/verify.h"
#include "repo_test_util.h"
#include "storage/local_object_store.h"

namespace ailee::repo::testing {
namespace {

class VerifyLockTest : public RepoTest {};

TEST_F(VerifyLockTest, VerifyWhilePruneHoldsItsLockFailsWithRetryLater) {
  WriteFile(src_ + "/f", RandomData(100 << 10, 1));
  Backup(SmallPacks());
  auto prune_lock = RepoLock::Acquire(store_, clock_, /*exclusive=*/true);
  ASSERT_TRUE(prune_lock.ok());
  for (bool read_data : {false, true}) {
    VerifyOptions o;
    o.read_data = read_data;
    auto r = Verify(*repo_, o);
    ASSERT_EQ(r.status().code(), StatusCode::kAborted) << "a report was produced during prune";
    EXPECT_NE(r.status().message().find("locked exclusively (prune)"), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("retry later"), std::string::npos);
  }
  EXPECT_EQ(Count("locks/"), 1u) << "verify removed its own lock again";
  ASSERT_TRUE((*prune_lock)->Release().ok());
  auto r = Verify(*repo_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(Count("locks/"), 0u) << "verify released its lock";
}

// A prune started while a verify runs (here: from inside verify's snapshot
// check, so the overlap is certain) backs off; a backup may run alongside.
TEST_F(VerifyLockTest, PruneDuringVerifyBacksOffAndBackupDoesNot) {
  WriteFile(src_ + "/f", RandomData(100 << 10, 1));
  Backup(SmallPacks());
  auto other = OpenRepo(store_);
  ASSERT_TRUE(other);
  int checks = 0;
  VerifyOptions o;
  o.read_data = true;
  o.check_snapshot = [&](const Snapshot&) {
    ++checks;
    auto pruned = Prune(*other, {});
    EXPECT_EQ(pruned.status().code(), StatusCode::kAborted) << pruned.status().ToString();
    auto backed_up = BackupTree(*other, src_, SmallPacks());
    EXPECT_TRUE(backed_up.ok()) << backed_up.status().ToString();
    return Status::Ok();
  };
  auto r = Verify(*repo_, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(checks, 1);
  EXPECT_TRUE(Prune(*repo_, {}).ok()) << "verify's lock is gone once it returned";
}

// The race itself, on a real local repository: one thread backs up, forgets
// and prunes in a loop (each prune deletes packs and rewrites the index),
// another verifies in a loop. Every verify either reports a clean
// repository or backs off with kAborted; it never reports damage.
TEST_F(VerifyLockTest, ConcurrentPruneAndVerifyNeverReportFalseDamage) {
  const std::string url = dir_ + "/repo";
  ASSERT_TRUE(InitRepo(std::make_shared<storage::LocalObjectStore>(url)));
  auto writer = OpenRepo(std::make_shared<storage::LocalObjectStore>(url));
  auto reader = OpenRepo(std::make_shared<storage::LocalObjectStore>(url));
  ASSERT_TRUE(writer && reader);

  std::atomic<bool> done{false};
  int prunes = 0, prunes_backed_off = 0;
  std::thread churn([&] {
    for (int i = 0; i < 30; ++i) {
      WriteFile(src_ + "/data.sst", RandomData(300 << 10, 100 + i));
      auto b = BackupTree(*writer, src_, SmallPacks());
      if (!b.ok() && b.status().code() != StatusCode::kAborted) ADD_FAILURE() << b.status().ToString();
      ForgetOptions f;
      f.policy.keep_last = 1;
      auto forgot = Forget(*writer, f);
      if (!forgot.ok() && forgot.status().code() != StatusCode::kAborted) ADD_FAILURE() << forgot.status().ToString();
      auto p = Prune(*writer, {});
      if (p.ok()) {
        ++prunes;
      } else if (p.status().code() == StatusCode::kAborted) {
        ++prunes_backed_off;
      } else {
        ADD_FAILURE() << p.status().ToString();
      }
    }
    done = true;
  });
  int verified = 0, verifies_backed_off = 0;
  while (!done.load()) {
    VerifyOptions o;
    o.read_data = true;
    auto r = Verify(*reader, o);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kAborted) << r.status().ToString();
      ++verifies_backed_off;
    } else {
      ++verified;
      for (const auto& p : r->problems) ADD_FAILURE() << "false damage report: " << p.ToString();
    }
    // Leave prune a window between two verifies.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  churn.join();
  RecordProperty("prunes", prunes);
  std::printf("prunes %d (backed off %d), verifies %d (backed off %d)\n", prunes, prunes_backed_off, verified,
              verifies_backed_off);
  EXPECT_GT(prunes, 0) << "prune never ran: the test did not exercise the race";
  EXPECT_GT(verified, 0);
}

}  // namespace
}  // namespace ailee::repo::testing
