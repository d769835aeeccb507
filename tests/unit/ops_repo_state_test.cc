// Restoring state snapshots from the repository: what a restore may not do
// to the target (replace it with an unproven tree, create symlinks) and which
// snapshot "latest" means.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "ops/state/restore.h"
#include "base/fs.h"
#include "repo/restore.h"
#include "repo/snapshot.h"
#include "repo_test_util.h"

namespace ailee::ops {
namespace {

using repo::testing::ReadTree;
using repo::testing::WriteFile;

class RepoStateTest : public repo::testing::RepoTest {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    target_ = dir_ + "/target";
    WriteFile(target_ + "/CURRENT", "MANIFEST-000001\n");
    WriteFile(target_ + "/000007.sst", "the node's good state");
  }

  // A snapshot recorded as node `node`'s state (the tree is no database).
  std::string StateSnapshot(const std::string& node, const std::string& tree_seed) {
    WriteFile(src_ + "/CURRENT", "MANIFEST-000002\n");
    WriteFile(src_ + "/000009.sst", "state of " + node + " " + tree_seed);
    repo::BackupOptions o = SmallPacks();
    o.kind = "state";
    o.host = "machine-" + node;
    o.meta = {{"node_id", node}, {"height", 7}, {"state_root", std::string(64, 'a')}, {"block_hash", std::string(64, 'b')}};
    clock_.Advance(60000);
    return repo::IdHex(Backup(o).snapshot_id);
  }

  std::string LogsSnapshot() {
    repo::BackupOptions o = SmallPacks();
    o.kind = "logs";
    clock_.Advance(60000);
    return repo::IdHex(Backup(o).snapshot_id);
  }

  std::string target_;
};

TEST_F(RepoStateTest, ProofFailureLeavesTheTargetUntouchedAndNoStaging) {
  const auto before = ReadTree(target_);
  const std::string id = StateSnapshot("node-1", "x");  // not a database: the proof cannot pass
  StateRestoreOptions o;
  o.force = true;
  auto r = RestoreState(*repo_, id, target_, o);
  ASSERT_FALSE(r.ok()) << "an unprovable tree was reported as restored";
  EXPECT_NE(r.status().message().find(target_), std::string::npos) << r.status().ToString();
  EXPECT_EQ(ReadTree(target_), before) << "the target was replaced by a tree that failed its proof";
  EXPECT_EQ(*fs::ListDir(dir_), (std::vector<std::string>{"src", "target"})) << "staging left behind";
}

TEST_F(RepoStateTest, SymlinkInAnAuthenticStateSnapshotIsRefusedNamingIt) {
  const auto before = ReadTree(target_);
  auto snap = repo::LoadSnapshot(*repo_, *repo::ParseId(StateSnapshot("node-1", "x")));
  ASSERT_TRUE(snap.ok());
  repo::FileEntry link;
  link.path = "LOG";
  link.type = repo::FileEntry::Type::kSymlink;
  link.link_target = "/etc/passwd";
  link.mode = 0777;
  snap->files.push_back(link);
  std::sort(snap->files.begin(), snap->files.end(),
            [](const repo::FileEntry& a, const repo::FileEntry& b) { return a.path < b.path; });
  auto id = repo::SaveSnapshot(*repo_, *snap);  // made with the repository key: authentic
  ASSERT_TRUE(id.ok());

  StateRestoreOptions o;
  o.force = true;
  o.verify = false;  // not even an unproven restore may create it
  auto r = RestoreState(*repo_, repo::IdHex(*id), target_, o);
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("\"LOG\""), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("symbolic link"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(ReadTree(target_), before);
  EXPECT_EQ(*fs::ListDir(dir_), (std::vector<std::string>{"src", "target"}));

  // Into a new directory as well: nothing is created.
  auto fresh = RestoreState(*repo_, repo::IdHex(*id), dir_ + "/fresh", o);
  EXPECT_EQ(fresh.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::Exists(dir_ + "/fresh"));
}

TEST_F(RepoStateTest, LatestIsTheNewestStateSnapshotOfTheNodeNotTheNewestSnapshot) {
  const std::string n1 = StateSnapshot("node-1", "1");
  const std::string n2 = StateSnapshot("node-2", "2");
  const std::string logs = LogsSnapshot();

  auto mine = ChooseRestoreSnapshot(*repo_, "latest", {"", "node-1"});
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  EXPECT_EQ(mine->id_hex(), n1);
  auto other = ChooseRestoreSnapshot(*repo_, "latest", {"state", "node-2"});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->id_hex(), n2);

  auto none = ChooseRestoreSnapshot(*repo_, "latest", {"", "node-3"});
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("node-3"), std::string::npos) << none.status().ToString();
  auto nobody = ChooseRestoreSnapshot(*repo_, "latest", {"", ""});
  EXPECT_EQ(nobody.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nobody.status().message().find("--host"), std::string::npos) << nobody.status().ToString();

  auto logs_as_state = ChooseRestoreSnapshot(*repo_, logs, {"", "node-1"});
  EXPECT_EQ(logs_as_state.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(logs_as_state.status().message().find("ailee-cli logs restore"), std::string::npos)
      << logs_as_state.status().ToString();
  auto logs_explicit = ChooseRestoreSnapshot(*repo_, logs, {"logs", ""});
  ASSERT_TRUE(logs_explicit.ok());
  auto logs_latest = ChooseRestoreSnapshot(*repo_, "latest", {"logs", ""});
  ASSERT_TRUE(logs_latest.ok());
  EXPECT_EQ(logs_latest->id_hex(), logs);
  EXPECT_EQ(ChooseRestoreSnapshot(*repo_, n1, {"config", ""}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ChooseRestoreSnapshot(*repo_, "latest", {"tarball", ""}).status().code(), StatusCode::kInvalidArgument);

  // RestoreState itself: "latest" without a node is refused, never "anyone's".
  StateRestoreOptions o;
  o.verify = false;
  EXPECT_EQ(RestoreState(*repo_, "latest", dir_ + "/out", o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::Exists(dir_ + "/out"));
}

// Delta restore: a target file hashed when the target was indexed and then
// replaced behind the restore's back (renamed over with the same name, size,
// mode and mtime, or swapped for a symlink to such a file) before the
// restore reuses it. The restore must put the snapshot's bytes in place, a
// regular file, never the replacement: what is reused must be the very file
// that was hashed. (workers = 1 and largest-first order: the replacement
// happens while the larger file is fetched, before the smaller is reused.)
TEST_F(RepoStateTest, DeltaRestoreNeverReusesATargetFileReplacedAfterItWasHashed) {
  const std::string good(4096, 'g');
  const std::string evil(4096, 'e');
  for (const bool as_symlink : {false, true}) {
    SCOPED_TRACE(as_symlink ? "replaced by a symlink" : "replaced by a rename");
    (void)fs::RemoveAll(src_);
    (void)fs::RemoveAll(target_);
    WriteFile(src_ + "/big.sst", std::string(1 << 20, 'b'));
    WriteFile(src_ + "/small.sst", good);
    repo::BackupOptions bo = SmallPacks();
    bo.kind = "logs";
    clock_.Advance(60000);
    const std::string id = repo::IdHex(Backup(bo).snapshot_id);
    WriteFile(target_ + "/small.sst", good);  // reusable: same bytes as the snapshot's

    bool replaced = false;
    repo::RestoreOptions ro;
    ro.force = true;
    ro.workers = 1;
    ro.progress = [&](const repo::RestoreProgress&) {
      if (replaced) return;
      replaced = true;
      if (as_symlink) {
        WriteFile(dir_ + "/elsewhere", evil);
        ASSERT_EQ(::unlink((target_ + "/small.sst").c_str()), 0);
        ASSERT_EQ(::symlink((dir_ + "/elsewhere").c_str(), (target_ + "/small.sst").c_str()), 0);
      } else {
        WriteFile(target_ + "/small.sst.new", evil);
        ASSERT_EQ(::rename((target_ + "/small.sst.new").c_str(), (target_ + "/small.sst").c_str()), 0);
      }
    };
    auto r = repo::RestoreSnapshot(*repo_, id, target_, ro);
    ASSERT_TRUE(replaced);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    struct stat sb {};
    ASSERT_EQ(::lstat((target_ + "/small.sst").c_str(), &sb), 0);
    EXPECT_TRUE(S_ISREG(sb.st_mode)) << "the restored tree holds a symlink";
    auto got = fs::ReadFile(target_ + "/small.sst");
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(*got == good) << "the restore reused a file replaced after it was hashed";
    (void)fs::RemoveAll(dir_ + "/elsewhere");
  }
}

}  // namespace
}  // namespace ailee::ops
