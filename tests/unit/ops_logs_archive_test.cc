// Log archival with a FakeClock: which files are archived, local copies
// removed only past 90 days and only once stored, repository retention
// across the 7-year boundary, and restore by snapshot and by date.
#include <gtest/gtest.h>

#include <algorithm>

#include "ops/logs/archive.h"
#include "ops_config_test_util.h"
#include "repo/key_slots.h"
#include "repo/snapshot.h"

namespace ailee::ops {
namespace {

using testing::Get;
using testing::Put;

class LogsArchiveTest : public testing::OpsRepoTest {
 protected:
  void SetUp() override {
    OpsRepoTest::SetUp();
    logs_ = dir_ + "/log";
    options_.dir = logs_;
    options_.host = "node-host";
  }
  int64_t NowSec() const { return clock_.NowMillis() / 1000; }
  void PutLog(const std::string& name, const std::string& data, int64_t age_sec) {
    Put(logs_ + "/" + name, data, 0640, NowSec() - age_sec);
  }
  LogArchiveResult Archive() {
    auto r = ArchiveLogs(*repo_, options_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : LogArchiveResult{};
  }
  size_t LogSnapshots() {
    size_t n = 0;
    auto listing = repo::ListSnapshots(*repo_);
    for (const auto& s : listing->snapshots) n += s.kind == "logs";
    return n;
  }

  std::string logs_;
  LogArchiveOptions options_;
};

constexpr int64_t kDaySeconds = 86400;

TEST_F(LogsArchiveTest, RotatedNames) {
  EXPECT_TRUE(IsRotatedLogName("node.log.1"));
  EXPECT_TRUE(IsRotatedLogName("node.log.12.gz"));
  EXPECT_TRUE(IsRotatedLogName("node.log-20260101.gz"));
  EXPECT_TRUE(IsRotatedLogName("old.gz"));
  EXPECT_FALSE(IsRotatedLogName("node.log"));
  EXPECT_FALSE(IsRotatedLogName(".node.log.1"));
  EXPECT_FALSE(IsRotatedLogName("node.txt"));
  EXPECT_EQ(*ParseDurationMs("90d"), 90 * kDayMs);
  EXPECT_EQ(*ParseDurationMs("7y"), kDefaultKeepArchiveMs);
  EXPECT_FALSE(ParseDurationMs("ninety").ok());
}

TEST_F(LogsArchiveTest, NinetyDaysOnlineSevenYearsArchived) {
  PutLog("node.log", "live\n", 0);
  PutLog("audit.log", "{chain}\n", 0);
  PutLog("audit.log.lock", "", 0);
  PutLog("audit.log.head", "{head}\n", 0);
  PutLog("audit.log.1", "{old chain}\n", 30 * kDaySeconds);
  PutLog("node.log.1", "one hour old\n", 3600);
  PutLog("node.log.2.gz", "89 days old\n", 89 * kDaySeconds);
  PutLog("node.log.3.gz", "91 days old\n", 91 * kDaySeconds);

  auto first = Archive();
  // The audit log's rotated segment too (its chain continues across
  // segments); never the live file nor its sidecars.
  EXPECT_EQ(first.archived,
            (std::vector<std::string>{"audit.log.1", "node.log.1", "node.log.2.gz", "node.log.3.gz"}));
  EXPECT_EQ(first.removed_local, std::vector<std::string>{"node.log.3.gz"});
  EXPECT_FALSE(fs::Exists(logs_ + "/node.log.3.gz"));
  EXPECT_TRUE(fs::Exists(logs_ + "/node.log.2.gz"));
  EXPECT_TRUE(fs::Exists(logs_ + "/node.log"));
  EXPECT_TRUE(fs::Exists(logs_ + "/audit.log.1"));
  auto snap = repo::FindSnapshot(*repo_, first.snapshot_id);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->kind, "logs");
  for (const auto& f : snap->files) {
    EXPECT_TRUE(f.path != "audit.log" && f.path != "audit.log.lock" && f.path != "audit.log.head") << f.path;
  }
  const std::string first_id = first.snapshot_id;

  // Two days later node.log.2.gz crosses 90 days; unchanged files are not re-read.
  clock_.Advance(2 * kDayMs);
  auto second = Archive();
  EXPECT_EQ(second.removed_local, std::vector<std::string>{"node.log.2.gz"});
  EXPECT_EQ(second.stats.bytes_read, 0u);
  EXPECT_EQ(second.stats.blobs_new, 0u);
  EXPECT_TRUE(second.forgotten.empty());
  EXPECT_EQ(LogSnapshots(), 2u);

  // A file rewritten since the last run is archived again before it is removed.
  clock_.Advance(95 * kDayMs);
  Put(logs_ + "/node.log.1", "rewritten\n", 0640, NowSec() - 91 * kDaySeconds);
  auto third = Archive();
  // node.log.1 archived in this run, then removed; the audit segment after its 90 days online.
  EXPECT_EQ(third.removed_local, (std::vector<std::string>{"audit.log.1", "node.log.1"}));
  EXPECT_FALSE(fs::Exists(logs_ + "/node.log.1"));

  // Seven years after the first snapshot (less a day): everything is kept.
  clock_.Set(1767225600000 + kDefaultKeepArchiveMs - kDayMs);
  auto before = Archive();  // nothing to archive, retention only
  EXPECT_TRUE(before.snapshot_id.empty());
  EXPECT_TRUE(before.forgotten.empty());
  EXPECT_EQ(LogSnapshots(), 3u);

  // One day past seven years: only the first snapshot is forgotten.
  clock_.Set(1767225600000 + kDefaultKeepArchiveMs + kDayMs);
  auto after = Archive();
  ASSERT_EQ(after.forgotten.size(), 1u);
  EXPECT_EQ(repo::IdHex(after.forgotten[0].snapshot_id), first_id);
  EXPECT_EQ(LogSnapshots(), 2u);
}

TEST_F(LogsArchiveTest, RestoreBySnapshotAndSince) {
  PutLog("node.log.1", "newest\n", 3600);
  PutLog("node.log.2.gz", "older\n", 10 * kDaySeconds);
  auto first = Archive();
  // Rotation renames: node.log.1 now holds other content.
  clock_.Advance(kDayMs);
  PutLog("node.log.1", "newer still\n", 3600);
  auto second = Archive();

  auto by_snap = RestoreLogs(*repo_, dir_ + "/r1", {first.snapshot_id, 0, ""});
  ASSERT_TRUE(by_snap.ok()) << by_snap.status().ToString();
  EXPECT_EQ(Get(dir_ + "/r1/node.log.1"), "newest\n");
  EXPECT_EQ(Get(dir_ + "/r1/node.log.2.gz"), "older\n");

  LogRestoreOptions since;
  since.since_ms = clock_.NowMillis() - 5 * kDayMs;
  auto recent = RestoreLogs(*repo_, dir_ + "/r2", since);
  ASSERT_TRUE(recent.ok()) << recent.status().ToString();
  EXPECT_EQ(recent->files.size(), 2u);  // both node.log.1 versions, not the 10-day-old file
  EXPECT_EQ(Get(dir_ + "/r2/node.log.1"), "newer still\n");
  EXPECT_FALSE(fs::Exists(dir_ + "/r2/node.log.2.gz"));
  bool found_old = false;
  for (const auto& n : testing::Names(dir_ + "/r2")) found_old |= n.rfind("node.log.1~", 0) == 0 && Get(dir_ + "/r2/" + n) == "newest\n";
  EXPECT_TRUE(found_old);
}

// A repository shared by hosts: "latest" is this host's newest logs
// snapshot unless --host names another.
TEST_F(LogsArchiveTest, RestoreLatestTakesThisHostsLogsNotAnotherHostsNewer) {
  options_.host = repo::LocalHostname();
  PutLog("node.log.1", "this host\n", 3600);
  Archive();
  clock_.Advance(kDayMs);
  options_.host = "other-host";
  PutLog("node.log.1", "other host\n", 3600);
  Archive();

  LogRestoreOptions o;
  o.snapshot = "latest";
  auto r = RestoreLogs(*repo_, dir_ + "/r-latest", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Get(dir_ + "/r-latest/node.log.1"), "this host\n");
  o.host = "other-host";
  r = RestoreLogs(*repo_, dir_ + "/r-other", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Get(dir_ + "/r-other/node.log.1"), "other host\n");
}

}  // namespace
}  // namespace ailee::ops
