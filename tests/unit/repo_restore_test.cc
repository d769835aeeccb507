#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include "repo/restore.h"
#include "repo/snapshot.h"
#include "repo_test_util.h"

namespace ailee::repo::testing {
namespace {

class RestoreTest : public RepoTest {
 protected:
  void SetUp() override {
    RepoTest::SetUp();
    WriteFile(src_ + "/a.sst", RandomData(300 << 10, 1));
    WriteFile(src_ + "/b.sst", RandomData(100 << 10, 2));
    WriteFile(src_ + "/d/c.log", TextData(50 << 10, 3));
    snap_ = Backup(SmallPacks()).snapshot_id;
    target_ = dir_ + "/target";
  }
  Id snap_{};
  std::string target_;
};

TEST_F(RestoreTest, RefusesNonEmptyTargetWithoutForceAndReplacesItWithForce) {
  WriteFile(target_ + "/old-file", "old");
  auto refused = RestoreSnapshot(*repo_, "latest", target_, {});
  EXPECT_EQ(refused.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(refused.status().message().find("--force"), std::string::npos);
  EXPECT_TRUE(fs::Exists(target_ + "/old-file"));

  RestoreOptions force;
  force.force = true;
  auto r = RestoreSnapshot(*repo_, IdHex(snap_), target_, force);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadTree(target_), ReadTree(src_));
  EXPECT_EQ(*fs::ListDir(dir_), (std::vector<std::string>{"src", "target"})) << "old tree and staging removed";
}

TEST_F(RestoreTest, EmptyExistingTargetIsFine) {
  ASSERT_TRUE(fs::MakeDirs(target_).ok());
  ASSERT_TRUE(RestoreSnapshot(*repo_, "latest", target_, {}).ok());
  EXPECT_EQ(ReadTree(target_), ReadTree(src_));
}

TEST_F(RestoreTest, DeltaRestoreReusesMatchingLocalFiles) {
  ASSERT_TRUE(RestoreSnapshot(*repo_, "latest", target_, {}).ok());
  WriteFile(target_ + "/b.sst", "damaged locally");
  RestoreOptions force;
  force.force = true;
  auto r = RestoreSnapshot(*repo_, "latest", target_, force);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files_reused, 2u);  // a.sst and d/c.log
  EXPECT_EQ(r->bytes_fetched, 100u << 10);
  EXPECT_EQ(ReadTree(target_), ReadTree(src_));

  // A reusable file with other metadata is copied, not linked: a failed
  // restore must not even change the old tree's modes.
  ASSERT_EQ(::chmod((target_ + "/a.sst").c_str(), 0600), 0);
  auto again = RestoreSnapshot(*repo_, "latest", target_, force);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->files_reused, 3u);
  EXPECT_EQ(again->bytes_fetched, 0u);
  struct stat sb {};
  ASSERT_EQ(::stat((target_ + "/a.sst").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 07777, 0644u);
  EXPECT_EQ(ReadTree(target_), ReadTree(src_));
}

TEST_F(RestoreTest, DamagedDataIsNeverLeftInPlace) {
  // Flip one byte in the middle of the first pack.
  auto packs = store_->List("data/");
  std::string bytes = *store_->Get((*packs)[0].key);
  bytes[100] ^= 0x01;
  ASSERT_TRUE(store_->Put((*packs)[0].key, bytes).ok());
  auto r = RestoreSnapshot(*repo_, "latest", target_, {});
  ASSERT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  EXPECT_NE(r.status().message().find(".sst from snapshot"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("fails authentication"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find(ShortId(snap_)), std::string::npos) << r.status().ToString();
  EXPECT_EQ(*fs::ListDir(dir_), (std::vector<std::string>{"src"})) << "no target, no staging";
}

TEST_F(RestoreTest, FullDiskIsResourceExhaustedAndLeavesTheOldTarget) {
  WriteFile(target_ + "/keep-me", "old state");
  struct rlimit old_limit {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 64 << 10;  // no file may grow past 64 KiB: a "full disk"
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  RestoreOptions force;
  force.force = true;
  auto r = RestoreSnapshot(*repo_, "latest", target_, force);
  setrlimit(RLIMIT_FSIZE, &old_limit);
  signal(SIGXFSZ, old_handler);
  ASSERT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_EQ(*fs::ReadFile(target_ + "/keep-me"), "old state");
  EXPECT_EQ(*fs::ListDir(dir_), (std::vector<std::string>{"src", "target"}));
}

TEST_F(RestoreTest, NeverWritesThroughASymlinkFromTheSnapshot) {
  // A snapshot (made with the key) that pairs a symlink to the outside with
  // a file below it must not write outside the target.
  auto snap = LoadSnapshot(*repo_, snap_);
  ASSERT_TRUE(snap.ok());
  std::string outside = dir_ + "/outside";
  ASSERT_TRUE(fs::MakeDirs(outside).ok());
  FileEntry link;
  link.path = "evil";
  link.type = FileEntry::Type::kSymlink;
  link.link_target = outside;
  FileEntry file = snap->files.front().type == FileEntry::Type::kFile ? snap->files.front() : snap->files.back();
  file.path = "evil/planted";
  snap->files = {link, file};
  auto id = SaveSnapshot(*repo_, *snap);
  ASSERT_TRUE(id.ok());
  auto r = RestoreSnapshot(*repo_, IdHex(*id), target_, {});
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(fs::ListDir(outside)->empty());
  EXPECT_FALSE(fs::Exists(target_));
}

TEST_F(RestoreTest, UnknownSnapshotIsNotFound) {
  EXPECT_EQ(RestoreSnapshot(*repo_, "deadbeef", target_, {}).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ailee::repo::testing
