// Repository locks left by killed jobs: the next job that takes a lock
// removes those of dead processes on this host, and never a live holder's
// or another host's.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/scratch.h"
#include "repo/ids.h"
#include "repo/key_slots.h"
#include "repo/lock.h"
#include "storage/memory_object_store.h"

namespace ailee::repo {
namespace {

class LockTest : public ::testing::Test {
 protected:
  // A lock object as another process would have written it.
  // `space` defaults to this process's pid space (same boot, same pid
  // namespace); "" leaves it out as older versions did.
  std::string Plant(const std::string& host, int64_t pid, uint64_t pid_start, bool exclusive = false,
                    std::string space = fs::ProcessSpaceId()) {
    std::string id = IdHex(RandomId());
    nlohmann::json j = {{"version", 1}, {"host", host}, {"pid", pid}, {"user", "op"},
                        {"time_ms", clock_.NowMillis()}, {"exclusive", exclusive}};
    if (pid_start != 0) j["pid_start"] = pid_start;
    if (!space.empty()) j["pid_space"] = space;
    EXPECT_TRUE(store_->Put(LockKey(id), j.dump()).ok());
    return id;
  }
  bool Present(const std::string& id) { return *store_->Exists(LockKey(id)); }

  // A pid whose process has exited and been reaped.
  static int64_t DeadPid() {
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return child;
  }

  FakeClock clock_{1767225600000};
  std::shared_ptr<storage::MemoryObjectStore> store_ = std::make_shared<storage::MemoryObjectStore>();
};

TEST_F(LockTest, KilledJobsLockOnThisHostIsRemovedByTheNextAcquire) {
  const std::string dead = Plant(LocalHostname(), DeadPid(), 0);
  const std::string dead_exclusive = Plant(LocalHostname(), DeadPid(), 12345, /*exclusive=*/true);
  auto lock = RepoLock::Acquire(store_, clock_, /*exclusive=*/true);
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_FALSE(Present(dead));
  EXPECT_FALSE(Present(dead_exclusive));
  ASSERT_TRUE((*lock)->Release().ok());
  EXPECT_TRUE(store_->List(std::string(kLocksPrefix))->empty()) << "locks left behind";
}

TEST_F(LockTest, LockOfAPidNowHeldByAnotherProcessIsRemoved) {
  // Our own pid, but a start time that is not ours: the owner died and the
  // kernel gave its pid to this process.
  const uint64_t ours = fs::ProcessStartTicks(::getpid());
  ASSERT_NE(ours, 0u);
  const std::string reused = Plant(LocalHostname(), ::getpid(), ours + 1);
  auto lock = RepoLock::Acquire(store_, clock_, /*exclusive=*/true);
  ASSERT_TRUE(lock.ok()) << "a reused pid's lock must not block: " << lock.status().ToString();
  EXPECT_FALSE(Present(reused));
}

TEST_F(LockTest, LiveHoldersLockIsNeverRemoved) {
  auto holder = RepoLock::Acquire(store_, clock_, /*exclusive=*/false);
  ASSERT_TRUE(holder.ok());
  // Another process of this host, alive (our parent), with and without its start time.
  const std::string parent = Plant(LocalHostname(), ::getppid(), fs::ProcessStartTicks(::getppid()));
  const std::string parent_old_format = Plant(LocalHostname(), ::getppid(), 0);
  auto second = RepoLock::Acquire(store_, clock_, /*exclusive=*/false);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(Present((*holder)->id()));
  EXPECT_TRUE(Present(parent));
  EXPECT_TRUE(Present(parent_old_format));
  // And they still exclude prune.
  auto prune = RepoLock::Acquire(store_, clock_, /*exclusive=*/true);
  EXPECT_EQ(prune.status().code(), StatusCode::kAborted);
  EXPECT_TRUE(Present((*holder)->id()));
  EXPECT_TRUE(Present(parent));
}

TEST_F(LockTest, AnotherHostsLockIsJudgedByAgeAndNeverRemovedByAcquire) {
  const std::string remote = Plant("some-other-host", DeadPid(), 1);
  auto blocked = RepoLock::Acquire(store_, clock_, /*exclusive=*/true);
  EXPECT_EQ(blocked.status().code(), StatusCode::kAborted) << "a pid of another host says nothing here";
  EXPECT_TRUE(Present(remote));
  clock_.Advance(31 * 60 * 1000);  // older than stale_after: ignored, but left for `repo unlock`
  auto lock = RepoLock::Acquire(store_, clock_, /*exclusive=*/true);
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_TRUE(Present(remote));
}

// Two containers with the same hostname (--uts=host) but their own pid
// namespaces: a pid the other one holds is not visible here, so its live
// lock must not be taken for a dead one.
TEST_F(LockTest, SameHostnameInAnotherPidSpaceIsJudgedByAgeOnly) {
  ASSERT_FALSE(fs::ProcessSpaceId().empty());
  const std::string other_ns = Plant(LocalHostname(), DeadPid(), 1, false, fs::ProcessSpaceId() + "-other-namespace");
  auto blocked = RepoLock::Acquire(store_, clock_, /*exclusive=*/true);
  EXPECT_EQ(blocked.status().code(), StatusCode::kAborted) << "a pid of another pid namespace says nothing here";
  EXPECT_TRUE(Present(other_ns));
}

TEST_F(LockTest, OwnLockRecordsItsStartTime) {
  auto lock = RepoLock::Acquire(store_, clock_, false);
  ASSERT_TRUE(lock.ok());
  auto j = nlohmann::json::parse(*store_->Get(LockKey((*lock)->id())));
  EXPECT_EQ(j["pid"].get<int64_t>(), ::getpid());
  EXPECT_EQ(j["pid_start"].get<uint64_t>(), fs::ProcessStartTicks(::getpid()));
  EXPECT_EQ(j["pid_space"].get<std::string>(), fs::ProcessSpaceId());
}

}  // namespace
}  // namespace ailee::repo
