#include <gtest/gtest.h>
#include <sys/stat.h>

#include "repo/restore.h"
#include "repo/snapshot.h"
#include "repo_test_util.h"

namespace ailee::repo::testing {
namespace {

class BackupTest : public RepoTest {
 protected:
  void MakeTree() {
    WriteFile(src_ + "/000001.sst", RandomData(300 << 10, 1), 0644, 1700000001);
    WriteFile(src_ + "/000002.sst", RandomData(200 << 10, 2), 0644, 1700000002);
    WriteFile(src_ + "/MANIFEST-000003", TextData(150 << 10, 3), 0600, 1700000003);
    WriteFile(src_ + "/sub/dir/OPTIONS", "options=1\n", 0640, 1700000004);
    WriteFile(src_ + "/empty", "", 0644, 1700000005);
    ASSERT_TRUE(fs::MakeDirs(src_ + "/empty-dir").ok());
    ASSERT_EQ(::chmod((src_ + "/empty-dir").c_str(), 0750), 0);
    ASSERT_EQ(::symlink("000001.sst", (src_ + "/CURRENT-link").c_str()), 0);
  }
};

TEST_F(BackupTest, RoundTripRestoresContentModesMtimesAndLinks) {
  MakeTree();
  BackupOptions o = SmallPacks();
  o.tags = {"daily"};
  o.meta = {{"height", 1234}, {"state_root", "ab12"}};
  auto r = Backup(o);
  EXPECT_EQ(r.stats.files, 5u);
  EXPECT_EQ(r.stats.dirs, 3u);
  EXPECT_GT(r.stats.packs_written, 1u);

  auto snap = FindSnapshot(*repo_, "latest");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->id, r.snapshot_id);
  EXPECT_EQ(snap->meta["height"], 1234);
  EXPECT_EQ(snap->kind, "state");
  EXPECT_EQ(snap->host, "node-1");
  EXPECT_EQ(snap->tags, std::vector<std::string>{"daily"});
  EXPECT_EQ(snap->time_ms, clock_.NowMillis());
  EXPECT_TRUE(FindSnapshot(*repo_, snap->id_hex().substr(0, 6)).ok());

  std::string target = dir_ + "/restored";
  auto rs = RestoreSnapshot(*repo_, "latest", target, {});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(ReadTree(target), ReadTree(src_));
  struct stat sb {};
  ASSERT_EQ(::stat((target + "/MANIFEST-000003").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 07777, 0600u);
  EXPECT_EQ(sb.st_mtim.tv_sec, 1700000003);
  ASSERT_EQ(::stat((target + "/sub/dir/OPTIONS").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 07777, 0640u);
  ASSERT_EQ(::stat((target + "/empty-dir").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 07777, 0750u);
  char link[64] = {};
  ASSERT_GT(::readlink((target + "/CURRENT-link").c_str(), link, sizeof link), 0);
  EXPECT_STREQ(link, "000001.sst");
  // Nothing but the target is left next to it.
  EXPECT_EQ(*fs::ListDir(dir_), (std::vector<std::string>{"restored", "src"}));
}

TEST_F(BackupTest, SecondBackupOfAnUnchangedTreeStoresNoData) {
  MakeTree();
  auto first = Backup(SmallPacks());
  size_t packs = Count("data/");
  auto second = Backup(SmallPacks());  // no parent: everything is read again
  EXPECT_EQ(second.stats.blobs_new, 0u);
  EXPECT_EQ(second.stats.packs_written, 0u);
  EXPECT_EQ(second.stats.bytes_read, first.stats.bytes_total);
  EXPECT_EQ(Count("data/"), packs);
  EXPECT_EQ(Count("snapshots/"), 2u);
}

TEST_F(BackupTest, IncrementalBackupDoesNotReadUnchangedFiles) {
  MakeTree();
  auto first = Backup(SmallPacks());
  WriteFile(src_ + "/000004.sst", RandomData(100 << 10, 4), 0644, 1700000010);
  // Same size and mtime as before, different content: only a backup that
  // reads the file can notice. The incremental one must not read it.
  std::string old_sst = *fs::ReadFile(src_ + "/000002.sst");
  WriteFile(src_ + "/000002.sst", RandomData(200 << 10, 99), 0644, 1700000002);

  BackupOptions o = SmallPacks();
  o.parent = "latest";
  auto inc = Backup(o);
  EXPECT_EQ(inc.stats.files_unchanged, 5u);
  EXPECT_EQ(inc.stats.bytes_read, 100u << 10) << "only the new file is read";
  EXPECT_EQ(inc.stats.bytes_new, 100u << 10);
  auto snap = LoadSnapshot(*repo_, inc.snapshot_id);
  EXPECT_EQ(snap->parent, IdHex(first.snapshot_id));
  for (const auto& f : snap->files) {
    if (f.path == "000002.sst") {
      EXPECT_EQ(f.sha256, crypto::HashToHex(crypto::Sha256(old_sst)));
    }
  }

  o.full = true;
  auto full = Backup(o);
  EXPECT_EQ(full.stats.files_unchanged, 0u);
  EXPECT_EQ(full.stats.bytes_read, full.stats.bytes_total);
  EXPECT_EQ(full.stats.bytes_new, 200u << 10) << "full re-reads everything but stores only the changed file";
}

TEST_F(BackupTest, CompressesOnlyWhatCompresses) {
  WriteFile(src_ + "/text.log", TextData(1 << 20, 5));
  auto text = Backup(SmallPacks());
  EXPECT_LT(text.stats.bytes_stored, text.stats.bytes_new / 3);
  ASSERT_TRUE(fs::RemoveAll(src_ + "/text.log").ok());
  WriteFile(src_ + "/random.sst", RandomData(1 << 20, 6));
  auto random = Backup(SmallPacks());
  EXPECT_GE(random.stats.bytes_stored, random.stats.bytes_new);
  EXPECT_LT(random.stats.bytes_stored, random.stats.bytes_new + 4096) << "stored raw: only crypto overhead";
}

TEST_F(BackupTest, ManySmallFilesBecomeFewPacks) {
  for (int i = 0; i < 300; ++i) WriteFile(src_ + "/f" + std::to_string(i), RandomData(2000, 100 + i));
  auto r = Backup(SmallPacks());
  EXPECT_EQ(r.stats.blobs_new, 300u);
  EXPECT_LE(Count("data/"), 4u);
  EXPECT_LE(Count("index/"), 1u);
}

TEST_F(BackupTest, ProgressAndSkipPredicate) {
  MakeTree();
  BackupOptions o = SmallPacks();
  BackupProgress last;
  int calls = 0;
  o.progress = [&](const BackupProgress& p) {
    last = p;
    ++calls;
  };
  o.skip = [](const std::string& rel) { return rel == "sub" || rel == "000002.sst"; };
  auto r = Backup(o);
  EXPECT_GT(calls, 3);
  EXPECT_EQ(last.bytes_done, last.bytes_total);
  EXPECT_EQ(last.files_total, 3u);
  auto snap = LoadSnapshot(*repo_, r.snapshot_id);
  for (const auto& f : snap->files) {
    EXPECT_NE(f.path, "000002.sst");
    EXPECT_EQ(f.path.rfind("sub", 0), std::string::npos) << f.path;
  }
}

TEST_F(BackupTest, LatestParentIsOfTheSameKindAndMayNotExistYet) {
  MakeTree();
  BackupOptions o = SmallPacks();
  o.parent = "latest";
  auto first = Backup(o);  // no snapshot yet: a full backup
  EXPECT_EQ(first.stats.files_unchanged, 0u);
  o.kind = "config";
  clock_.Advance(1000);
  auto config = Backup(o);  // no "config" snapshot yet either
  EXPECT_EQ(config.stats.files_unchanged, 0u);
  EXPECT_TRUE(LoadSnapshot(*repo_, config.snapshot_id)->parent.empty());
  o.kind = "state";
  clock_.Advance(1000);
  auto second = Backup(o);
  EXPECT_EQ(LoadSnapshot(*repo_, second.snapshot_id)->parent, IdHex(first.snapshot_id));
  EXPECT_EQ(second.stats.files_unchanged, 5u);
  o.parent = "0123";
  EXPECT_EQ(BackupTree(*repo_, src_, o).status().code(), StatusCode::kNotFound);
}

TEST_F(BackupTest, MissingSourceIsNotFound) {
  auto r = BackupTree(*repo_, dir_ + "/nope", SmallPacks());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ailee::repo::testing
