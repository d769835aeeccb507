// Retention, prune, locks, and crash safety of backup and prune.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "repo/lock.h"
#include "repo/prune.h"
#include "repo/restore.h"
#include "repo/retention.h"
#include "repo/snapshot.h"
#include "repo/verify.h"
#include "repo_test_util.h"
#include "storage/fault_injection_object_store.h"
#include "storage/local_object_store.h"

namespace ailee::repo::testing {
namespace {

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;

class PruneTest : public RepoTest {
 protected:
  void ExpectVerifies(Repository& repo) {
    VerifyOptions o;
    o.read_data = true;
    auto r = Verify(repo, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::string all;
    for (const auto& p : r->problems) all += p.ToString() + "\n";
    EXPECT_TRUE(r->ok()) << all;
  }
};

TEST(RetentionTest, KeepsNewestPerBucketWithReasons) {
  std::vector<Snapshot> snaps;
  const int64_t start = 1767225600000;  // 2026-01-01T00:00Z, a Thursday
  // One snapshot every 6 hours for 40 days.
  for (int i = 0; i < 160; ++i) {
    Snapshot s;
    s.id = crypto::Sha256("s" + std::to_string(i));
    s.time_ms = start + i * 6 * kHourMs;
    s.kind = "state";
    s.host = "node-1";
    snaps.push_back(s);
  }
  Snapshot other = snaps[0];  // another host is judged separately
  other.id = crypto::Sha256("other");
  other.host = "node-2";
  snaps.push_back(other);

  RetentionPolicy p;
  p.keep_last = 2;
  p.keep_daily = 7;
  p.keep_monthly = 3;
  auto d = ApplyRetention(snaps, p, start + 40 * kDayMs);
  int kept = 0;
  std::map<std::string, int> reasons;
  for (const auto& x : d) {
    if (!x.keep) continue;
    ++kept;
    for (const auto& r : x.reasons) ++reasons[r];
  }
  EXPECT_EQ(reasons["last"], 3);   // 2 for node-1, 1 for node-2
  EXPECT_EQ(reasons["daily"], 8);  // 7 days of node-1, 1 of node-2
  EXPECT_EQ(reasons["monthly"], 3);  // Feb and Jan of node-1, Jan of node-2
  // newest snapshot is kept for last, daily and monthly at once
  EXPECT_EQ(d[0].reasons, (std::vector<std::string>{"last", "daily", "monthly"}));
  // 2 last (1 overlapping daily) + 7 daily + monthly Jan (oldest Jan = newest of Jan) for node-1, 1 for node-2
  // node-1: last {159,158}, daily {159,155,...,135}, monthly {159 (Feb), 123 (Jan)}: 9; node-2: 1.
  EXPECT_EQ(kept, 10);

  RetentionPolicy within;
  within.keep_within_ms = 2 * kDayMs;
  int within_kept = 0;
  for (const auto& x : ApplyRetention(snaps, within, start + 40 * kDayMs)) within_kept += x.keep;
  EXPECT_EQ(within_kept, 8);  // node-1: days 38.0 .. 39.75 at 6 h steps; node-2: none
}

TEST_F(PruneTest, ForgetUsesTheClockAndDryRunDeletesNothing) {
  WriteFile(src_ + "/f", "x");
  for (int i = 0; i < 5; ++i) {
    Backup(SmallPacks());
    clock_.Advance(kDayMs);
  }
  ForgetOptions o;
  o.policy.keep_daily = 2;
  o.dry_run = true;
  auto d = Forget(*repo_, o);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->size(), 5u);
  EXPECT_EQ(std::count_if(d->begin(), d->end(), [](const auto& x) { return x.keep; }), 2);
  EXPECT_EQ(Count("snapshots/"), 5u);
  o.dry_run = false;
  ASSERT_TRUE(Forget(*repo_, o).ok());
  EXPECT_EQ(Count("snapshots/"), 2u);
  EXPECT_EQ(Forget(*repo_, ForgetOptions{}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PruneTest, RemovesOnlyUnreferencedPacks) {
  WriteFile(src_ + "/old.sst", RandomData(400 << 10, 2));
  auto first = Backup(SmallPacks());
  ASSERT_TRUE(fs::RemoveAll(src_ + "/old.sst").ok());
  WriteFile(src_ + "/keep.sst", RandomData(400 << 10, 1));
  clock_.Advance(kHourMs);
  auto second = Backup(SmallPacks());
  size_t packs_before = Count("data/");
  ASSERT_EQ(packs_before, first.stats.packs_written + second.stats.packs_written);

  // Nothing is unreferenced yet.
  auto noop = Prune(*repo_, {});
  ASSERT_TRUE(noop.ok()) << noop.status().ToString();
  EXPECT_EQ(noop->packs_deleted, 0u);
  EXPECT_EQ(Count("data/"), packs_before);

  ASSERT_TRUE(store_->Delete(SnapshotKey(first.snapshot_id)).ok());  // forget the first
  PruneOptions dry;
  dry.dry_run = true;
  auto plan = Prune(*repo_, dry);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->packs_deleted, first.stats.packs_written);
  EXPECT_EQ(Count("data/"), packs_before);

  auto r = Prune(*repo_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->packs_deleted, first.stats.packs_written);
  EXPECT_EQ(r->bytes_deleted, first.stats.bytes_stored);
  EXPECT_EQ(Count("data/"), second.stats.packs_written);
  EXPECT_EQ(Count("index/"), 1u) << "index files rewritten into one";
  EXPECT_EQ(Count("locks/"), 0u);
  ExpectVerifies(*repo_);
  auto fresh = OpenRepo(store_);
  ExpectVerifies(*fresh);
  auto restored = RestoreSnapshot(*fresh, IdHex(second.snapshot_id), dir_ + "/out", {});
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(ReadTree(dir_ + "/out"), ReadTree(src_));
}

// A long-lived Repository (opened before another process pruned) must not
// deduplicate against blobs whose packs are gone.
TEST_F(PruneTest, BackupAfterAnotherProcessPrunedDoesNotTrustAStaleIndex) {
  WriteFile(src_ + "/a.sst", RandomData(300 << 10, 1));
  auto first = Backup(SmallPacks());
  auto long_lived = OpenRepo(store_);  // index now lists a.sst's packs
  ASSERT_TRUE(store_->Delete(SnapshotKey(first.snapshot_id)).ok());
  auto pruned = Prune(*repo_, {});
  ASSERT_TRUE(pruned.ok());
  ASSERT_GT(pruned->packs_deleted, 0u);
  auto again = BackupTree(*long_lived, src_, SmallPacks());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->stats.bytes_new, 300u << 10) << "the data is stored again";
  ExpectVerifies(*long_lived);
}

// A backup that failed before indexing its stored pack leaves that pack in
// the long-lived Repository's index alone. Another process's prune adopts
// and deletes it (nothing references it) without leaving that Repository
// short of any index file it read: its next backup must not deduplicate
// against the deleted pack.
TEST_F(PruneTest, BackupAfterAFailedOneDoesNotTrustItsUnindexedPacksOnceAnotherProcessPruned) {
  auto faulty = std::make_shared<storage::FaultInjectionObjectStore>(store_);
  auto long_lived = OpenRepo(faulty);  // no index files yet
  WriteFile(src_ + "/b.sst", RandomData(100 << 10, 2));  // one pack
  storage::FaultPlan plan;
  plan.fail_put_number = faulty->counters().puts + 3;  // the lock, the pack, then its index file
  plan.sticky = false;
  faulty->SetPlan(plan);
  ASSERT_FALSE(BackupTree(*long_lived, src_, SmallPacks()).ok());
  faulty->SetPlan({});
  ASSERT_EQ(Count("data/"), 1u);
  ASSERT_EQ(Count("index/"), 0u);
  ASSERT_EQ(long_lived->index().Packs().size(), 1u) << "the stored pack, in memory alone";

  auto pruned = Prune(*repo_, {});
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  ASSERT_EQ(pruned->packs_deleted, 1u);
  ASSERT_EQ(Count("index/"), 0u);

  auto again = BackupTree(*long_lived, src_, SmallPacks());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->stats.bytes_new, 100u << 10) << "the data is stored again";
  ExpectVerifies(*long_lived);
  auto restored = RestoreSnapshot(*OpenRepo(store_), IdHex(again->snapshot_id), dir_ + "/out", {});
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(ReadTree(dir_ + "/out"), ReadTree(src_));
}

// A backup reads the index files its Repository has not read yet, not all
// of them again: what it reads does not grow with the index files it read
// when it opened.
TEST_F(PruneTest, BackupReadsNoIndexFileItsRepositoryHasRead) {
  auto gets_of_a_backup = [&] {
    auto counting = std::make_shared<storage::FaultInjectionObjectStore>(store_);
    auto repo = OpenRepo(counting);
    const int64_t before = counting->counters().gets;
    BackupOptions o = SmallPacks();
    o.parent.clear();  // the parent's lookup reads every snapshot
    auto r = BackupTree(*repo, src_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r.ok() ? r->stats.packs_written : 1u, 0u);
    return counting->counters().gets - before;
  };
  WriteFile(src_ + "/a.sst", RandomData(100 << 10, 1));
  Backup(SmallPacks());
  const int64_t with_one = gets_of_a_backup();
  for (int i = 2; i <= 4; ++i) {
    WriteFile(src_ + "/f" + std::to_string(i), RandomData(100 << 10, i));
    Backup(SmallPacks());
  }
  ASSERT_EQ(Count("index/"), 4u);
  EXPECT_EQ(gets_of_a_backup(), with_one);
}

TEST_F(PruneTest, RefusesWhileABackupHoldsALockUntilItIsStale) {
  WriteFile(src_ + "/f", RandomData(1000, 1));
  Backup(SmallPacks());
  // A holder that stops refreshing (as a hung or dead one would): the
  // refresher runs on clock_, which the test advances past 30 minutes below.
  LockOptions never_refreshed;
  never_refreshed.refresh_every_ms = 24 * kHourMs;
  auto backup_lock = RepoLock::Acquire(store_, clock_, /*exclusive=*/false, never_refreshed);
  ASSERT_TRUE(backup_lock.ok());
  auto r = Prune(*repo_, {});
  ASSERT_EQ(r.status().code(), StatusCode::kAborted);
  EXPECT_NE(r.status().message().find("backup in progress by " + LocalHostname() + "/pid "), std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("retry later"), std::string::npos);
  EXPECT_EQ(Count("locks/"), 1u) << "prune removed its own lock again";

  // An exclusive lock stops backups too.
  auto prune_lock = RepoLock::Acquire(store_, clock_, /*exclusive=*/true);
  EXPECT_EQ(prune_lock.status().code(), StatusCode::kAborted);

  // A lock not refreshed for 30 minutes belongs to a dead process.
  clock_.Advance(31 * 60 * 1000);
  EXPECT_TRUE(Prune(*repo_, {}).ok());
  auto locks = ListLocks(*store_, clock_);
  ASSERT_EQ(locks->size(), 1u);
  EXPECT_TRUE((*locks)[0].stale);
  EXPECT_EQ(*RemoveStaleLocks(*store_, clock_), 1u);
}

TEST_F(PruneTest, LockOfADeadProcessOnThisHostIsStaleAtOnce) {
  pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  nlohmann::json lock = {{"version", 1}, {"host", LocalHostname()}, {"pid", child}, {"user", "x"},
                         {"time_ms", clock_.NowMillis()}, {"exclusive", false}};
  ASSERT_TRUE(store_->Put(LockKey(IdHex(RandomId())), lock.dump()).ok());
  ASSERT_TRUE(store_->Put(LockKey(IdHex(RandomId())), "not json").ok());
  auto locks = ListLocks(*store_, clock_);
  ASSERT_EQ(locks->size(), 2u);
  EXPECT_TRUE((*locks)[0].stale && (*locks)[1].stale);
  EXPECT_TRUE(Prune(*repo_, {}).ok()) << "a killed backup does not block prune for 30 minutes";
}

// The refresher runs on the lock's clock, the one that judges staleness:
// real time alone never refreshes, and advancing the FakeClock past a
// refresh makes exactly that refresh happen. The test waits for the refresh
// it made due (bounded), never for a guessed real-time interval.
TEST_F(PruneTest, LockIsRefreshedWhileHeld) {
  LockOptions o;  // refresh every 5 minutes, stale after 30, both on clock_
  auto lock = RepoLock::Acquire(store_, clock_, /*exclusive=*/false, o);
  ASSERT_TRUE(lock.ok());
  auto recorded = [&] {
    auto locks = ListLocks(*store_, clock_, o);
    return locks.ok() && locks->size() == 1 ? (*locks)[0].time_ms : -1;
  };
  const int64_t acquired = clock_.NowMillis();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(recorded(), acquired) << "refreshed although the lock's clock did not move";

  clock_.Advance(29 * 60 * 1000);
  const int64_t due = clock_.NowMillis();
  for (int i = 0; i < 6000 && recorded() != due; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(recorded(), due) << "no refresh within 60 s of advancing the clock past it";

  clock_.Advance(2 * 60 * 1000);  // 31 minutes after acquiring, 2 after the refresh
  auto locks = ListLocks(*store_, clock_, o);
  ASSERT_EQ(locks->size(), 1u);
  EXPECT_FALSE((*locks)[0].stale);
  EXPECT_EQ(Prune(*repo_, {}).status().code(), StatusCode::kAborted);
  ASSERT_TRUE((*lock)->Release().ok());
  EXPECT_EQ(Count("locks/"), 0u);
}

TEST_F(PruneTest, BackupBacksOffWhilePruneRuns) {
  WriteFile(src_ + "/f", "x");
  auto prune_lock = RepoLock::Acquire(store_, clock_, /*exclusive=*/true);
  ASSERT_TRUE(prune_lock.ok());
  auto r = BackupTree(*repo_, src_, SmallPacks());
  EXPECT_EQ(r.status().code(), StatusCode::kAborted) << r.status().ToString();
  EXPECT_EQ(Count("snapshots/"), 0u);
}

// Kill the backup at every store write in turn: each time the repository must
// verify, and the next backup must complete, reusing what was stored.
TEST_F(PruneTest, CrashAtAnyPointDuringBackupLeavesAValidRepository) {
  WriteFile(src_ + "/a.sst", RandomData(500 << 10, 1));
  WriteFile(src_ + "/b.log", TextData(300 << 10, 2));
  WriteFile(src_ + "/c", RandomData(10, 3));
  int64_t puts_in_clean_run = 0;
  {
    auto inner = std::make_shared<storage::MemoryObjectStore>();
    auto counting = std::make_shared<storage::FaultInjectionObjectStore>(inner);
    auto repo = InitRepo(counting);
    int64_t after_init = counting->counters().puts;
    Backup(*repo, SmallPacks());
    puts_in_clean_run = counting->counters().puts - after_init;
  }
  // Packs, index, snapshot and the lock: how many packs the parallel packers
  // close varies by a pack or so from run to run.
  ASSERT_GE(puts_in_clean_run, 4);
  for (int64_t n = 1; n <= puts_in_clean_run; ++n) {
    SCOPED_TRACE("crash at put " + std::to_string(n));
    auto inner = std::make_shared<storage::MemoryObjectStore>();
    auto faulty = std::make_shared<storage::FaultInjectionObjectStore>(inner);
    auto repo = InitRepo(faulty);
    storage::FaultPlan plan;
    plan.fail_put_number = faulty->counters().puts + n;
    faulty->SetPlan(plan);
    auto crashed = BackupTree(*repo, src_, SmallPacks());
    bool last_put = n == puts_in_clean_run;  // the lock removal after the snapshot
    if (!last_put) {
      ASSERT_FALSE(crashed.ok());
    }

    clock_.Advance(31 * 60 * 1000);  // the crashed process's lock goes stale
    auto reopened = OpenRepo(inner);
    ExpectVerifies(*reopened);
    auto rerun = BackupTree(*reopened, src_, SmallPacks());
    ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
    if (n > 2 && !last_put) {
      EXPECT_LT(rerun->stats.bytes_new, rerun->stats.bytes_total) << "reuses stored packs";
    }
    ExpectVerifies(*reopened);
    auto out = dir_ + "/out" + std::to_string(n);
    ASSERT_TRUE(RestoreSnapshot(*reopened, IdHex(rerun->snapshot_id), out, {}).ok());
    EXPECT_EQ(ReadTree(out), ReadTree(src_));
    ASSERT_TRUE(Prune(*reopened, {}).ok());
    ExpectVerifies(*reopened);
  }
}

// The real thing: a backup process on a local store killed with SIGKILL at
// several moments; its stale lock, temporaries and unindexed packs must not
// hurt, and the next run completes.
TEST_F(PruneTest, SigkillDuringBackupOnALocalStore) {
  WriteFile(src_ + "/a.sst", RandomData(1 << 20, 1));
  WriteFile(src_ + "/b.log", TextData(256 << 10, 2));
  const std::string url = dir_ + "/repo";
  ASSERT_TRUE(InitRepo(std::make_shared<storage::LocalObjectStore>(url)));
  int killed_midway = 0;
  uint64_t recovered = 0;
  // Kill when the child has stored this many new objects (packs, index files).
  for (int objects : {0, 1, 3, 7}) {
    SCOPED_TRACE("killed after " + std::to_string(objects) + " new objects");
    // 8 MiB of new data: about 33 packs, so the child is still writing
    // long after the objects it is killed at (with 2 MiB, a fast backup under
    // ASan sometimes finished between two polls of the parent).
    WriteFile(src_ + "/new-" + std::to_string(objects) + ".sst", RandomData(8 << 20, 10 + objects));
    auto count = [&] {
      auto l = storage::LocalObjectStore(url).List("");
      return l.ok() ? l->size() : 0;
    };
    const size_t before = count();
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto repo = Repository::Open(std::make_shared<storage::LocalObjectStore>(url), "correct horse");
      if (!repo.ok()) _exit(2);
      BackupOptions o = SmallPacks();
      _exit(BackupTree(**repo, src_, o).ok() ? 0 : 1);
    }
    // objects + 1: the child's lock comes first.
    for (int i = 0; i < 20000 && count() < before + static_cast<size_t>(objects) + 1; ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    kill(child, SIGKILL);
    int wstatus = 0;
    ASSERT_EQ(waitpid(child, &wstatus, 0), child);
    killed_midway += WIFSIGNALED(wstatus);
    auto repo = OpenRepo(std::make_shared<storage::LocalObjectStore>(url));
    ASSERT_TRUE(repo);
    ExpectVerifies(*repo);
    auto rerun = BackupTree(*repo, src_, SmallPacks());
    ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
    ExpectVerifies(*repo);
    recovered += rerun->stats.packs_recovered;
  }
  EXPECT_GE(killed_midway, 3);
  EXPECT_GT(recovered, 0u) << "packs stored before a kill are reused";
  auto repo = OpenRepo(std::make_shared<storage::LocalObjectStore>(url));
  ASSERT_TRUE(Prune(*repo, {}).ok());
  ExpectVerifies(*repo);
}

TEST_F(PruneTest, CrashDuringPruneLeavesAValidRepository) {
  WriteFile(src_ + "/a.sst", RandomData(500 << 10, 1));
  auto first = Backup(SmallPacks());
  ASSERT_TRUE(fs::RemoveAll(src_ + "/a.sst").ok());
  WriteFile(src_ + "/b.sst", RandomData(500 << 10, 2));
  Backup(SmallPacks());
  ASSERT_TRUE(store_->Delete(SnapshotKey(first.snapshot_id)).ok());

  for (int deletes_allowed = 0; deletes_allowed < 6; ++deletes_allowed) {
    SCOPED_TRACE("crash after " + std::to_string(deletes_allowed) + " mutations");
    // Copy the repository, then prune it with a store that dies mid-way.
    auto copy = std::make_shared<storage::MemoryObjectStore>();
    auto all = store_->List("");
    for (const auto& o : *all) ASSERT_TRUE(copy->Put(o.key, *store_->Get(o.key)).ok());
    auto faulty = std::make_shared<storage::FaultInjectionObjectStore>(copy);
    auto repo = OpenRepo(faulty);
    storage::FaultPlan plan;
    plan.fail_put_number = 2 + deletes_allowed;  // lock, index..., then deletes fail after a crash
    faulty->SetPlan(plan);
    (void)Prune(*repo, {});
    clock_.Advance(31 * 60 * 1000);
    auto reopened = OpenRepo(copy);
    ExpectVerifies(*reopened);
    auto rerun = Prune(*reopened, {});
    ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
    ExpectVerifies(*reopened);
    EXPECT_EQ(ListSnapshots(*reopened)->snapshots.size(), 1u);
  }
}

TEST_F(PruneTest, TwoConcurrentBackupsDoNotCorruptTheRepository) {
  std::string src2 = dir_ + "/src2";
  WriteFile(src_ + "/shared.sst", RandomData(400 << 10, 1));
  WriteFile(src2 + "/shared.sst", RandomData(400 << 10, 1));
  WriteFile(src_ + "/one.sst", RandomData(300 << 10, 2));
  WriteFile(src2 + "/two.sst", RandomData(300 << 10, 3));
  auto repo2 = OpenRepo(store_);
  Result<BackupResult> r1 = Status::Ok(), r2 = Status::Ok();
  std::thread t1([&] { r1 = BackupTree(*repo_, src_, SmallPacks()); });
  std::thread t2([&] { r2 = BackupTree(*repo2, src2, SmallPacks()); });
  t1.join();
  t2.join();
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  auto fresh = OpenRepo(store_);
  ExpectVerifies(*fresh);
  ASSERT_TRUE(RestoreSnapshot(*fresh, IdHex(r2->snapshot_id), dir_ + "/out", {}).ok());
  EXPECT_EQ(ReadTree(dir_ + "/out"), ReadTree(src2));
}

}  // namespace
}  // namespace ailee::repo::testing
